package auth

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// Pack codes (docs/paper.md "Pack codes", issue 18): the one-time online
// access code printed in a member's postal pack of a hybrid ballot, with
// the short URL PackURL. Entering it signs the member in for that ballot
// exactly as a texted code does (a member session, then the same blind
// authorisation as every online vote), so it links the member to their
// authorisation, never to the ballot cast. A code works once, only while
// voting is open, and every try is rate-limited per address, per member
// and globally.

// packAlphabet is Crockford's base 32: no I, L, O or U, so a code read
// off paper is typed without doubt; normalisePack maps the look-alikes.
const packAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// packLen is the code's length: 12 characters, 60 bits; with the global
// limit a guess succeeds far less than once in the life of a ballot.
const packLen = 12

// packPath is the short URL printed in the pack.
const packPath = "/p"

// ErrPackCode (400): a wrong, unknown or already used pack code.
var ErrPackCode = page.NewError("auth: invalid or used pack code", http.StatusBadRequest, "invalid_code", "auth.pack_wrong")

// BallotOpenFunc says whether members may vote in a ballot now, its
// election id and voting times (internal/election Store.VotingOpen).
type BallotOpenFunc func(ctx context.Context, ballotID int64, now time.Time) (election.VotingState, error)

// UseBallotOpen sets the rule of when a pack code works (internal/app
// always sets it; without it no pack code works).
func (s *Service) UseBallotOpen(f BallotOpenFunc) { s.ballotOpen = f }

// packCode derives the code of (ballot, member): printing a pack again
// gives the same code, and the database holds only its lookup MAC.
func (s *Service) packCode(ballotID, memberID int64) string {
	m := mac(s.packKey, "code", strconv.FormatInt(ballotID, 10), strconv.FormatInt(memberID, 10))
	var b strings.Builder
	var acc uint64
	for _, c := range m[:8] {
		acc = acc<<8 | uint64(c)
	}
	for i := 0; i < packLen; i++ {
		b.WriteByte(packAlphabet[acc>>59&31])
		acc <<= 5
	}
	return b.String()
}

func (s *Service) packLookup(code string) []byte { return mac(s.packKey, "lookup", code) }

// FormatPackCode groups a code in fours for print: XXXX-XXXX-XXXX.
func FormatPackCode(code string) string {
	if len(code) != packLen {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}

// normalisePack is the code in canonical form (upper case, look-alikes
// mapped, spaces and dashes dropped), or "" if it cannot be one.
func normalisePack(in string) string {
	if len(in) > 40 {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(in) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(packAlphabet, byte(r)) < 0 {
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != packLen {
		return ""
	}
	return b.String()
}

// PackCode issues the pack code of a member of a ballot's register and
// returns it grouped for print (FormatPackCode); calling it again returns
// the same code. The caller (the postal packs) reads the register.
func (s *Service) PackCode(ctx context.Context, ballotID, memberID int64) (string, error) {
	code := s.packCode(ballotID, memberID)
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_pack_codes (ballot_id, member_id, lookup, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, ballotID, memberID, s.packLookup(code), s.now()); err != nil {
		return "", fmt.Errorf("pack code: %w", err)
	}
	return FormatPackCode(code), nil
}

// PackURL is the short URL printed with the code.
func (s *Service) PackURL() string { return s.origin + packPath }

type packPage struct {
	Error string // catalogue key or ""
	// ErrorText, when set, is the message itself (with a time in it).
	ErrorText string
	URL       string // the short URL, as printed
}

func (s *Service) packForm(w http.ResponseWriter, r *http.Request) {
	s.pages.Render(w, r, http.StatusOK, "auth_pack", packPage{URL: s.PackURL()})
}

// packSignin checks a pack code and, while voting is open, uses it up and
// signs the member in for the ballot, then opens the voting paper.
func (s *Service) packSignin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("pack", r, s.limits.PackIP), global("pack", s.limits.PackGlobal)); err != nil {
		s.audit(ctx, "pack_signin", "rate_limited", 0, 0, 0)
		s.fail(w, r, err, false)
		return
	}
	refuse := func(status int, key string) {
		s.pages.Render(w, r, status, "auth_pack", packPage{Error: key, URL: s.PackURL()})
	}
	ballotID, memberID, electionID, err := s.redeemPack(ctx, r.PostFormValue("code"))
	switch {
	case errors.Is(err, ErrPackCode):
		s.audit(ctx, "pack_signin", "wrong_code", memberID, 0, ballotID)
		refuse(http.StatusBadRequest, "auth.pack_wrong")
		return
	case errors.Is(err, errPackNotOpen):
		s.audit(ctx, "pack_signin", "not_open", memberID, 0, ballotID)
		s.pages.Render(w, r, http.StatusForbidden, "auth_pack", packPage{ErrorText: s.packNotOpenText(s.pages.Lang(w, r), err), URL: s.PackURL()})
		return
	case err != nil:
		s.audit(ctx, "pack_signin", outcomeOf(err), memberID, 0, ballotID)
		s.fail(w, r, err, false)
		return
	}
	if err := s.startSession(ctx, w, r, "member", memberID, 0, ballotID, "pack"); err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.audit(ctx, "signin", "ok_pack", memberID, 0, ballotID)
	http.Redirect(w, r, "/vote/"+electionID, http.StatusSeeOther)
}

// errPackNotOpen: the code is right but voting is not open (before the
// opening or after the close); the code is not used up.
var errPackNotOpen = errors.New("auth: pack code outside voting time")

// packNotOpenError is errPackNotOpen with the ballot's voting times.
type packNotOpenError struct {
	state election.VotingState
	now   time.Time
}

func (e *packNotOpenError) Error() string { return errPackNotOpen.Error() }
func (e *packNotOpenError) Unwrap() error { return errPackNotOpen }

// packNotOpenText tells a member whose code is right why it does not work
// now, in their language: before the notified opening, when voting opens
// (issue 19: nothing works before then, and the member is told when);
// after the close, when it closed; otherwise the times on their paper.
func (s *Service) packNotOpenText(lang string, err error) string {
	var e *packNotOpenError
	if errors.As(err, &e) {
		switch v := e.state; {
		case v.OpensAt != nil && e.now.Before(*v.OpensAt):
			return fmt.Sprintf(s.pages.T(lang, "auth.pack_not_yet"), page.When(lang, *v.OpensAt))
		case v.ClosesAt != nil && !e.now.Before(*v.ClosesAt):
			return fmt.Sprintf(s.pages.T(lang, "auth.pack_closed"), page.When(lang, *v.ClosesAt))
		}
	}
	return s.pages.T(lang, "auth.pack_not_open")
}

// redeemPack uses up the pack code in (ErrPackCode if it is wrong or
// used) when voting in its ballot is open (errPackNotOpen otherwise,
// the code kept) and names its ballot and member. The member's own
// limit is bumped once the code names them.
func (s *Service) redeemPack(ctx context.Context, in string) (ballotID, memberID int64, electionID string, err error) {
	code := normalisePack(in)
	if code == "" {
		return 0, 0, "", ErrPackCode
	}
	lookup := s.packLookup(code)
	var stored []byte
	var used *time.Time
	err = s.pool.QueryRow(ctx, `SELECT ballot_id, member_id, lookup, used_hour FROM auth_pack_codes WHERE lookup = $1`, lookup).
		Scan(&ballotID, &memberID, &stored, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, "", ErrPackCode
	}
	if err != nil {
		return 0, 0, "", fmt.Errorf("pack code: %w", err)
	}
	if !hmac.Equal(stored, lookup) { // the index found it; compared in constant time all the same
		return 0, 0, "", ErrPackCode
	}
	if err := s.allow(ctx, subjectLimit("pack", memberSubject(memberID), s.limits.PackMember)); err != nil {
		return ballotID, memberID, "", err
	}
	if used != nil {
		return ballotID, memberID, "", ErrPackCode
	}
	// The one call that says whether voting is open (internal/election).
	if s.ballotOpen == nil {
		return ballotID, memberID, "", errPackNotOpen
	}
	now := s.now()
	state, err := s.ballotOpen(ctx, ballotID, now)
	if err != nil {
		return ballotID, memberID, "", fmt.Errorf("pack code: %w", err)
	}
	if !state.Open {
		return ballotID, memberID, "", &packNotOpenError{state: state, now: now}
	}
	electionID = state.ElectionID
	// Single use: of two tries at once, one wins.
	tag, err := s.pool.Exec(ctx, `UPDATE auth_pack_codes SET used_hour = $2 WHERE lookup = $1 AND used_hour IS NULL`,
		lookup, now.UTC().Truncate(time.Hour))
	if err != nil {
		return ballotID, memberID, "", fmt.Errorf("pack code: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return ballotID, memberID, "", ErrPackCode
	}
	return ballotID, memberID, electionID, nil
}
