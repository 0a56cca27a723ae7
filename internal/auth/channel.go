package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Channels a one-time code goes by (auth_otp_codes.channel).
const (
	channelSMS   = "sms"
	channelEmail = "email"
)

// codeDest is where one code goes: a mobile (channelSMS) or an email
// address (channelEmail); to == "" sends nothing (callers answer the same
// either way). lang is the language of the page the member asked from.
type codeDest struct {
	channel, to, lang string
	// contact: the code verifies a new contact (contactcode.go), not a
	// sign-in; the email says so.
	contact bool
}

// CodeDelivery tells the pages how a member's sign-in code was sent.
type CodeDelivery struct {
	// Email is the masked address (a•••@example.org) when the code goes
	// by email; "" when it goes by text — or nowhere: the text pages say
	// the same whether or not the member has a mobile.
	Email string
	// Uncertain: the code was handed to the provider but no answer came
	// back (sms.ErrUncertain, mail.ErrUncertain). It may arrive; it is not
	// sent again automatically, and it counts as one send.
	Uncertain bool
}

// memberDest chooses where a member's sign-in code goes, from the
// contacts frozen for ballotID (the ballot of the invitation), or the
// member's current contacts without a ballot or ContactsFunc. Never from
// anything the browser sends.
//
// A personal mobile wins: the code is texted (a member with both gets a
// text, never both). A member whose only personal contact is an email gets
// the code by email, if a mail sender is configured. A union work phone or
// an email at one of the union's employer domains is not a personal
// contact and is never used.
func (s *Service) memberDest(ctx context.Context, ballotID, memberID int64, lang string) (codeDest, error) {
	d := codeDest{channel: channelSMS, lang: lang}
	m, err := s.reg.Details(ctx, memberID)
	if errors.Is(err, register.ErrNoMember) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("code destination: %w", err)
	}
	policy, err := s.ballots.UnionPolicy(ctx, m.UnionID)
	if errors.Is(err, election.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("code destination: %w", err)
	}
	workPhones, employerDomains := policy.WorkPhoneNumbers, policy.EmployerEmailDomains
	mob, em := m.Mobile, m.Email
	if ballotID != 0 && s.contacts != nil {
		m, err := s.contacts(ctx, ballotID, []int64{memberID})
		if err != nil {
			return d, fmt.Errorf("code destination: %w", err)
		}
		mob, em = m[memberID].Mobile, m[memberID].Email
	}
	switch {
	case mob != "" && !contains(workPhones, mob):
		d.to = mob
	case em != "" && s.mail != nil && !employerEmail(em, employerDomains):
		d.channel, d.to = channelEmail, em
	}
	return d, nil
}

// delivery is what the pages may show of d.
func (d codeDest) delivery(uncertain bool) CodeDelivery {
	cd := CodeDelivery{Uncertain: uncertain}
	if d.channel == channelEmail {
		cd.Email = page.MaskEmail(d.to)
	}
	return cd
}

// codeEmail is the sign-in code by email: in the language of the page the
// member asked from, then the other one (one text/plain part).
func (s *Service) codeEmail(to, code, lang string, contact bool) mail.Message {
	subject, bodyKey := "auth.email_code_subject", "auth.email_code_body"
	if contact {
		subject, bodyKey = "auth.email_contact_subject", "auth.email_contact_body"
	}
	first, second := "en", "cy"
	if lang == "cy" {
		first, second = "cy", "en"
	}
	body := func(l string) string {
		return strings.ReplaceAll(s.msgs.T(l, bodyKey), "{code}", code)
	}
	return mail.Message{
		To:       to,
		Subject:  s.msgs.T(first, subject) + " / " + s.msgs.T(second, subject),
		Text:     body(first) + "\n\n* * *\n\n" + body(second),
		Language: first + ", " + second,
	}
}

// codeText is the sign-in code by SMS, in the language of the page the
// member asked from (Welsh or English, one GSM-7 part: the Welsh wording
// avoids letters outside the GSM alphabet). The last line lets phones
// offer the code for this site only (WebOTP / origin-bound one-time
// codes).
func (s *Service) codeText(code, lang string) string {
	if lang != "cy" {
		lang = "en"
	}
	return strings.ReplaceAll(s.msgs.T(lang, "auth.sms_code"), "{code}", code) + "\n\n@" + s.public.Hostname() + " #" + code
}
