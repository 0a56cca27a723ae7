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
// texts it to mobile ("" sends nothing, silently: callers answer the same
// either way). At most codeSendsPerHour codes per subject in any hour.
func (s *Service) sendCode(ctx context.Context, subject, purpose, mobile string) error {
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
	code, err := s.newCode()
	if err != nil {
		return err
	}
	salt := s.randBytes(16)
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_otp_codes (subject, purpose, salt, mac, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		subject, purpose, salt, s.codeMAC(salt, subject, purpose, code), now, now.Add(codeTTL)); err != nil {
		return fmt.Errorf("send code: %w", err)
	}
	if mobile == "" {
		return nil
	}
	// The last line lets phones offer the code for this site only (WebOTP
	// / origin-bound one-time codes).
	body := fmt.Sprintf("%s is your union e-ballot code. It expires in 10 minutes. Never share it.\n\n@%s #%s", code, s.public.Hostname(), code)
	if _, err := s.sms.Send(ctx, sms.Message{To: mobile, Body: body, StatusCallback: s.smsCB}); err != nil {
		if errors.Is(err, sms.ErrUnavailable) {
			return fmt.Errorf("send code: %w", err)
		}
		s.log.WarnContext(ctx, "code text refused by provider", "err", err) // opted out / invalid: answer as if sent
	}
	return nil
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
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var id int64
	var salt, want []byte
	var expires time.Time
	var attempts int
	var used, locked *time.Time
	err = tx.QueryRow(ctx, `SELECT id, salt, mac, expires_at, attempts, used_at, locked_at FROM auth_otp_codes
		WHERE subject = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE`, subject, purpose).
		Scan(&id, &salt, &want, &expires, &attempts, &used, &locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	switch {
	case locked != nil:
		return ErrCodeLocked
	case used != nil || !expires.After(now):
		return ErrInvalidCode
	}
	c := normaliseCode(code)
	got := s.codeMAC(salt, subject, purpose, c)
	if c != "" && subtle.ConstantTimeCompare(got, want) == 1 {
		if _, err := tx.Exec(ctx, `UPDATE auth_otp_codes SET used_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("verify code: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("verify code: %w", err)
		}
		return nil
	}
	attempts++
	var lockAt *time.Time
	if attempts >= codeMaxAttempts {
		lockAt = &now
	}
	if _, err := tx.Exec(ctx, `UPDATE auth_otp_codes SET attempts = $2, locked_at = $3 WHERE id = $1`, id, attempts, lockAt); err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	if lockAt != nil {
		return ErrCodeLocked
	}
	return ErrInvalidCode
}

// memberSubject and staffSubject name a subject in codes, passkeys and
// ceremonies.
func memberSubject(id int64) string { return fmt.Sprintf("m%d", id) }
func staffSubject(id int64) string  { return fmt.Sprintf("s%d", id) }

// SendMemberCode texts a sign-in code to the member's mobile on record.
// It answers nil whether or not the member has a mobile (callers show
// the same page either way); *RateLimitError after 3 codes in an hour.
func (s *Service) SendMemberCode(ctx context.Context, memberID int64) error {
	var mobile *string
	err := s.pool.QueryRow(ctx, `SELECT mobile FROM members WHERE id = $1`, memberID).Scan(&mobile)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("send code: %w", err)
	}
	m := ""
	if mobile != nil {
		m = *mobile
	}
	return s.sendCode(ctx, memberSubject(memberID), "signin", m)
}

// VerifyMemberCode checks a member's sign-in code: nil, ErrInvalidCode or
// ErrCodeLocked.
func (s *Service) VerifyMemberCode(ctx context.Context, memberID int64, code string) error {
	return s.verifyCode(ctx, memberSubject(memberID), "signin", code)
}
