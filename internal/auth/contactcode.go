package auth

import (
	"fmt"
	"net/http"
)

// Codes that verify a member's new mobile or email before it replaces the
// old one (contact refresh: internal/refresh, docs/contact-refresh.md).
// They are sign-in codes in all but purpose ("contact"): six digits, ten
// minutes, locked after five wrong tries, at most three codes an hour per
// member whatever the purpose (shared with sign-in codes), and the
// sign-in steps' per-address and global limits on sending and checking.
// The code goes to the NEW contact: receiving it proves the member holds
// it.

// SendContactCode sends a code to to, a new mobile (channel "sms", E.164)
// or email address (channel "email") the member entered, in lang. The
// latest code of the member is the one that counts: a new one retires the
// previous. Errors: *RateLimitError, ErrCodeNotSent (provider down).
func (s *Service) SendContactCode(r *http.Request, memberID int64, channel, to, lang string) error {
	ctx := r.Context()
	if channel != channelSMS && channel != channelEmail {
		return fmt.Errorf("send contact code: channel %q", channel)
	}
	if err := s.allow(ctx, s.ipLimit("otp_send", r, s.limits.OTPSendIP), global("otp_send", s.limits.OTPSendGlobal)); err != nil {
		return err
	}
	if _, err := s.sendCode(ctx, memberSubject(memberID), "contact", codeDest{channel: channel, to: to, lang: lang, contact: true}); err != nil {
		return err
	}
	s.audit(ctx, "contact_code", "sent", memberID, 0, 0)
	return nil
}

// CheckContactCode says whether a contact code could be sent to the
// member now (the per-address and global send limits, and the member's
// codes an hour), without counting a try: *RateLimitError when not. The
// caller checks it before it writes what the code will verify, so that a
// rate-limited try writes nothing (issue 21: no database write before a
// rate limit has passed); [Service.SendContactCode] then counts the try.
func (s *Service) CheckContactCode(r *http.Request, memberID int64) error {
	ctx := r.Context()
	if err := s.peek(ctx, s.ipLimit("otp_send", r, s.limits.OTPSendIP), global("otp_send", s.limits.OTPSendGlobal)); err != nil {
		return err
	}
	return s.codeQuota(ctx, memberSubject(memberID))
}

// VerifyContactCode checks the code the member typed against their latest
// contact code: nil, ErrInvalidCode, ErrCodeLocked or *RateLimitError
// (constant-time comparison; every try counts).
func (s *Service) VerifyContactCode(r *http.Request, memberID int64, code string) error {
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("otp_verify", r, s.limits.OTPVerifyIP), global("otp_verify", s.limits.OTPVerifyGlobal),
		subjectLimit("otp_verify", memberSubject(memberID), s.limits.OTPVerifyMember)); err != nil {
		s.audit(ctx, "contact_verify", "rate_limited", memberID, 0, 0)
		return err
	}
	err := s.verifyCode(ctx, memberSubject(memberID), "contact", code)
	outcome := "ok"
	if err != nil {
		outcome = "wrong"
	}
	s.audit(ctx, "contact_verify", outcome, memberID, 0, 0)
	return err
}

// LimitLink applies the per-address and global limits of opening a
// personal link (an invitation's) to another personal link: a contact
// refresh link. *RateLimitError when over.
func (s *Service) LimitLink(r *http.Request) error {
	return s.allow(r.Context(), s.ipLimit("invite", r, s.limits.InviteIP), global("invite", s.limits.InviteGlobal))
}
