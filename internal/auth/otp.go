package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/sms"
)

// One-time code rules (docs/auth.md).
const (
	codeTTL          = 10 * time.Minute
	codeMaxAttempts  = 5
	codeSendsPerHour = 3
)

// newCode draws 6 decimal digits uniformly (crypto/rand.Int rejects
// out-of-range samples: no modulo bias).
func (s *Service) newCode() (string, error) {
	n, err := rand.Int(s.rand, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("new code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func (s *Service) codeMAC(salt []byte, subject, purpose, code string) []byte {
	return mac(s.otpKey, string(salt), subject, purpose, code)
}

// sendCode creates a new code for subject (superseding older ones) and
// sends it to d: a text (channelSMS) or an email (channelEmail); d.to ==
// "" sends nothing, silently (callers answer the same either way). At
// most codeSendsPerHour codes per subject in any hour, whatever the
// channel. uncertain reports a code handed to the provider without an
// answer (it may arrive; it is not sent again, and it counts as a send).
// A provider that is down (nothing sent) is an error; a refusal of the
// number or address (opted out, invalid, rejected) is logged and answered
// as if sent.
func (s *Service) sendCode(ctx context.Context, subject, purpose string, d codeDest) (uncertain bool, err error) {
	now := s.now()
	if err := s.codeQuota(ctx, subject); err != nil {
		return false, err
	}
	code, err := s.newCode()
	if err != nil {
		return false, err
	}
	channel := d.channel
	if channel != channelEmail {
		channel = channelSMS
	}
	salt := s.randBytes(16)
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_otp_codes (subject, purpose, salt, mac, created_at, expires_at, channel) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		subject, purpose, salt, s.codeMAC(salt, subject, purpose, code), now, now.Add(codeTTL), channel); err != nil {
		return false, fmt.Errorf("send code: %w", err)
	}
	if d.to == "" {
		return false, nil
	}
	// Nothing was sent (provider or mail server down): the code is
	// withdrawn so that it neither works nor counts towards the member's
	// codes an hour, and the member is asked to try again shortly.
	notSent := func(err error) (bool, error) {
		if _, derr := s.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM auth_otp_codes WHERE subject = $1 AND salt = $2`, subject, salt); derr != nil {
			s.log.ErrorContext(ctx, "code not sent: withdrawing it failed", "err", derr)
		}
		return false, fmt.Errorf("send code: %w: %w", ErrCodeNotSent, err)
	}
	if channel == channelEmail {
		uncertain, err := s.emailCode(ctx, d, code)
		if err != nil {
			return notSent(err)
		}
		return uncertain, nil
	}
	_, err = s.sms.Send(ctx, sms.Message{To: d.to, Body: s.codeText(code, d.lang), StatusCallback: s.smsCB})
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, sms.ErrUncertain): // before ErrUnavailable, which it also matches
		s.log.WarnContext(ctx, "code text outcome uncertain: not sent again", "err", err)
		return true, nil
	case errors.Is(err, sms.ErrUnavailable):
		return notSent(err)
	}
	s.log.WarnContext(ctx, "code text refused by provider", "err", err) // opted out / invalid: answer as if sent
	return false, nil
}

// codeQuota is the per-subject limit on codes sent (codeSendsPerHour in
// any hour, whatever the channel): a *RateLimitError when it is reached.
// It writes nothing, so callers check it before any write of their own
// (a rate-limited sign-in leaves no pending session).
func (s *Service) codeQuota(ctx context.Context, subject string) error {
	now := s.now()
	var n int
	var oldest *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM auth_otp_codes WHERE subject = $1 AND created_at > $2`,
		subject, now.Add(-time.Hour)).Scan(&n, &oldest); err != nil {
		return fmt.Errorf("send code: %w", err)
	}
	if n >= codeSendsPerHour && oldest != nil {
		return &RateLimitError{RetryAfter: oldest.Add(time.Hour).Sub(now), Key: "otp_send:subject"}
	}
	return nil
}

// emailCode emails code to d.to (the address is never logged).
func (s *Service) emailCode(ctx context.Context, d codeDest, code string) (bool, error) {
	if s.mail == nil {
		return false, nil
	}
	_, err := s.mail.Send(ctx, s.codeEmail(d.to, code, d.lang, d.contact))
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, mail.ErrUncertain):
		s.log.WarnContext(ctx, "code email outcome uncertain: not sent again", "err", err)
		return true, nil
	case errors.Is(err, mail.ErrRejected), errors.Is(err, mail.ErrInvalidMessage):
		s.log.WarnContext(ctx, "code email refused", "err", err) // unknown mailbox, bad address: answer as if sent
		return false, nil
	}
	// Unreachable server, TLS or authentication failure, a store that
	// failed: nothing was sent.
	return false, fmt.Errorf("send code: %w", err)
}

// normaliseCode keeps digits only if the input is 6 digits once spaces
// and dashes are removed; "" otherwise.
func normaliseCode(in string) string {
	if len(in) > 32 {
		return ""
	}
	c := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, in)
	if len(c) != 6 {
		return ""
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return ""
		}
	}
	return c
}

// verifyCode checks code against subject's latest code for purpose. A
// wrong or malformed code counts as an attempt; after codeMaxAttempts the
// code is locked. The comparison is constant-time.
func (s *Service) verifyCode(ctx context.Context, subject, purpose, code string) error {
	_, err := s.verifyCodeChannel(ctx, subject, purpose, code)
	return err
}

// verifyCodeChannel is verifyCode that also says which channel the
// accepted code went by.
func (s *Service) verifyCodeChannel(ctx context.Context, subject, purpose, code string) (string, error) {
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("verify code: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var id int64
	var salt, want []byte
	var expires time.Time
	var attempts int
	var used, locked *time.Time
	var channel string
	err = tx.QueryRow(ctx, `SELECT id, salt, mac, expires_at, attempts, used_at, locked_at, channel FROM auth_otp_codes
		WHERE subject = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE`, subject, purpose).
		Scan(&id, &salt, &want, &expires, &attempts, &used, &locked, &channel)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrInvalidCode
	}
	if err != nil {
		return "", fmt.Errorf("verify code: %w", err)
	}
	switch {
	case locked != nil:
		return "", ErrCodeLocked
	case used != nil || !expires.After(now):
		return "", ErrInvalidCode
	}
	c := normaliseCode(code)
	got := s.codeMAC(salt, subject, purpose, c)
	if c != "" && subtle.ConstantTimeCompare(got, want) == 1 {
		if _, err := tx.Exec(ctx, `UPDATE auth_otp_codes SET used_at = $2 WHERE id = $1`, id, now); err != nil {
			return "", fmt.Errorf("verify code: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return "", fmt.Errorf("verify code: %w", err)
		}
		return channel, nil
	}
	attempts++
	var lockAt *time.Time
	if attempts >= codeMaxAttempts {
		lockAt = &now
	}
	if _, err := tx.Exec(ctx, `UPDATE auth_otp_codes SET attempts = $2, locked_at = $3 WHERE id = $1`, id, attempts, lockAt); err != nil {
		return "", fmt.Errorf("verify code: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("verify code: %w", err)
	}
	if lockAt != nil {
		return "", ErrCodeLocked
	}
	return "", ErrInvalidCode
}

// memberSubject and staffSubject name a subject in codes, passkeys and
// ceremonies.
func memberSubject(id int64) string { return fmt.Sprintf("m%d", id) }
func staffSubject(id int64) string  { return fmt.Sprintf("s%d", id) }

// SendMemberCode sends a sign-in code to the member's current contacts
// (a text to a personal mobile, else an email to a personal address; see
// [Service.SendMemberCodeFor] for a ballot's frozen contacts). It answers
// nil whether or not the member has a contact (callers show the same page
// either way); *RateLimitError after 3 codes in an hour.
func (s *Service) SendMemberCode(ctx context.Context, memberID int64) error {
	_, err := s.SendSigninCode(ctx, 0, memberID, "en")
	return err
}

// SendSigninCode sends a member's sign-in code to their contacts as frozen
// for ballotID (0: their current contacts): by text to a personal mobile,
// or by email to a personal address when they have no usable mobile, in
// lang ("cy" or "en", the language of the page). The answer says what the
// page may show: the masked address of an email, and whether the send is
// uncertain. *RateLimitError after 3 codes in an hour, whatever the
// channel.
func (s *Service) SendSigninCode(ctx context.Context, ballotID, memberID int64, lang string) (CodeDelivery, error) {
	d, err := s.memberDest(ctx, ballotID, memberID, lang)
	if err != nil {
		return CodeDelivery{}, fmt.Errorf("send code: %w", err)
	}
	uncertain, err := s.sendCode(ctx, memberSubject(memberID), "signin", d)
	if err != nil {
		return CodeDelivery{}, err
	}
	return d.delivery(uncertain), nil
}

// VerifyMemberCode checks a member's sign-in code: nil, ErrInvalidCode or
// ErrCodeLocked.
func (s *Service) VerifyMemberCode(ctx context.Context, memberID int64, code string) error {
	return s.verifyCode(ctx, memberSubject(memberID), "signin", code)
}
