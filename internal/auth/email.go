package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/unionvote/eballot/internal/mail"
)

// emailLease is how long a claimed invitation email is left to its sender
// before another IssueInvitations run may try it (far longer than one
// SMTP conversation, which times out after 30 s).
const emailLease = 10 * time.Minute

type invitationEmail struct {
	ballotID, memberID int64
	gen                int
	to, union, title   string
	titleCy            string // the Welsh title of a bilingual ballot, else ""
	lang               string // the member's preferred language: "en" or "cy" only that one; "" both
	closes             time.Time
	// codeByEmail: the member has no personal mobile, so the sign-in code
	// will come by email too (the body says so instead of "we will text").
	codeByEmail bool
}

// emailInvitation emails one member's personal link, at most once: the
// invitation row is claimed first (so a concurrent run skips it), marked
// sent when the server accepts it or the outcome is uncertain, and
// released for a later retry when the send fails. The address is never
// logged.
func (s *Service) emailInvitation(ctx context.Context, rep *IssueReport, in invitationEmail, employerDomains []string) {
	if employerEmail(in.to, employerDomains) {
		rep.EmailEmployer++
		return
	}
	if s.mail == nil {
		rep.EmailPending++
		return
	}
	now := s.now()
	// As for texts: no automatic retry of a permanent refusal, at most
	// maxAutoAttempts tries.
	tag, err := s.pool.Exec(ctx, `UPDATE auth_invitations SET email_claimed_at = $4, email_attempts = email_attempts + 1
		WHERE ballot_id = $1 AND member_id = $2 AND generation = $3 AND revoked_at IS NULL AND email_sent_at IS NULL
		AND (email_claimed_at IS NULL OR email_claimed_at < $5)
		AND email_attempts < $6 AND coalesce(email_error, '') NOT IN ('rejected', 'invalid_address')`,
		in.ballotID, in.memberID, in.gen, now, now.Add(-emailLease), maxAutoAttempts)
	if err != nil {
		rep.EmailFailed++
		s.log.ErrorContext(ctx, "invitation email: claim failed", "ballot_id", in.ballotID, "member_id", in.memberID, "err", err)
		return
	}
	if tag.RowsAffected() != 1 {
		return // sent already, or another run is sending it now
	}
	s.sendClaimedEmail(ctx, rep, in)
}

// sendClaimedEmail sends the email of an invitation row this run has
// claimed (email_claimed_at) and records the outcome: sent, uncertain
// (also recorded as sent) or failed (claim released, email_error says
// why). The scrutineer's resend (delivery.go) ends here too.
func (s *Service) sendClaimedEmail(ctx context.Context, rep *IssueReport, in invitationEmail) {
	bg := context.WithoutCancel(ctx)
	link := s.inviteURL(s.inviteToken(in.ballotID, in.memberID, in.gen))
	_, err := s.mail.Send(ctx, s.invitationMessage(in, link))
	var uncertainAt *time.Time
	switch {
	case err == nil:
		rep.EmailSent++
	case errors.Is(err, mail.ErrUncertain):
		rep.EmailUncertain++
		t := s.now()
		uncertainAt = &t
		s.log.WarnContext(ctx, "invitation email outcome uncertain: not sent again", "ballot_id", in.ballotID, "member_id", in.memberID, "err", err)
	default:
		rep.EmailFailed++
		s.log.WarnContext(ctx, "invitation email not sent", "ballot_id", in.ballotID, "member_id", in.memberID, "err", err)
		if _, uerr := s.pool.Exec(bg, `UPDATE auth_invitations SET email_claimed_at = NULL, email_error = $4 WHERE ballot_id = $1 AND member_id = $2 AND generation = $3`,
			in.ballotID, in.memberID, in.gen, mailErrorKind(err)); uerr != nil {
			s.log.ErrorContext(ctx, "invitation email: release failed", "ballot_id", in.ballotID, "member_id", in.memberID, "err", uerr)
		}
		return
	}
	if _, err := s.pool.Exec(bg, `UPDATE auth_invitations SET email_sent_at = $4, email_claimed_at = NULL, email_uncertain_at = $5, email_error = NULL
		WHERE ballot_id = $1 AND member_id = $2 AND generation = $3`,
		in.ballotID, in.memberID, in.gen, s.now(), uncertainAt); err != nil {
		// The claim stays: the lease keeps other runs off it for a while.
		s.log.ErrorContext(ctx, "invitation email: recording the send failed", "ballot_id", in.ballotID, "member_id", in.memberID, "err", err)
	}
}

// mailErrorKind is what auth_invitations.email_error records of a failed
// send: the sentinel, never the server's text (an uncertain send is
// recorded as sent, never as an error).
func mailErrorKind(err error) string { return mail.ErrorKind(err) }

// invitationMessage is the invitation email, one text/plain part: in the
// member's preferred language when they gave one on the register (Welsh:
// its link opens the pages in Welsh), else bilingual, English then Welsh.
func (s *Service) invitationMessage(in invitationEmail, link string) mail.Message {
	union, title := oneLine(in.union), oneLine(in.title)
	key := "auth.email_invite_body"
	if in.codeByEmail {
		key = "auth.email_invite_body_emailcode"
	}
	titleCy := title
	if in.titleCy != "" {
		titleCy = oneLine(in.titleCy)
	}
	body := func(lang, link string) string {
		t := title
		if lang == "cy" {
			t = titleCy
		}
		return strings.NewReplacer("{union}", union, "{title}", t, "{closes}", closeTime(lang, in.closes), "{link}", link).
			Replace(s.msgs.T(lang, key))
	}
	subject := func(lang string) string {
		return strings.NewReplacer("{union}", union).Replace(s.msgs.T(lang, "auth.email_invite_subject"))
	}
	switch in.lang {
	case "en":
		return mail.Message{To: in.to, Subject: subject("en"), Text: body("en", link), Language: "en"}
	case "cy":
		return mail.Message{To: in.to, Subject: subject("cy"), Text: body("cy", link+"?lang=cy"), Language: "cy"}
	}
	return mail.Message{
		To:       in.to,
		Subject:  subject("en") + " / " + subject("cy"),
		Text:     body("en", link) + "\n\n* * *\n\n" + body("cy", link+"?lang=cy"),
		Language: "en, cy",
	}
}

// oneLine replaces control characters (an organiser's title could hold a
// line break) with spaces.
func oneLine(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, v)
}

// closeTime is the close of poll in UK time, with the month in lang.
func closeTime(lang string, t time.Time) string {
	t = t.In(london)
	if lang == "cy" {
		return fmt.Sprintf("%d %s %d %s", t.Day(), page.WelshMonths[t.Month()-1], t.Year(), t.Format("15:04"))
	}
	return t.Format("2 January 2006 15:04")
}

// employerEmail reports whether addr is at one of the union's employer
// domains or a subdomain of one (the register import drops these already;
// this check also covers domains added to the list since the import).
func employerEmail(addr string, domains []string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	dom := strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		d = strings.Trim(strings.TrimPrefix(strings.TrimPrefix(d, "@"), "*."), ".")
		if d != "" && (dom == d || strings.HasSuffix(dom, "."+d)) {
			return true
		}
	}
	return false
}
