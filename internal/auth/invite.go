package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/sms"
)

// Invitation is what a personal link resolves to.
type Invitation struct {
	BallotID, MemberID int64
	ExpiresAt          time.Time
}

// IssueReport counts what [Service.IssueInvitations] did.
type IssueReport struct {
	Members   int // on the register
	Issued    int // new invitations this call
	SMSSent   int // texts sent this call
	NoMobile  int // members without a personal mobile (no text possible)
	SMSFailed int // sends that failed (retry by calling again)
	// EmailPending counts members with an email address: email delivery is
	// not implemented yet (docs/auth.md), the text message is the channel.
	EmailPending int
}

// inviteToken derives the personal token of (ballot, member, generation):
// 256 bits, HMAC-SHA-256 under a key derived from EBALLOT_SECRET_KEY. Only
// its SHA-256 is stored; deriving it again lets reminders embed the link
// without the database ever holding it.
func (s *Service) inviteToken(ballotID, memberID int64, gen int) string {
	return base64.RawURLEncoding.EncodeToString(mac(s.inviteKey, "invitation",
		strconv.FormatInt(ballotID, 10), strconv.FormatInt(memberID, 10), strconv.Itoa(gen)))
}

func (s *Service) inviteURL(token string) string { return s.origin + "/i/" + token }

// IssueInvitations gives every member on the ballot's frozen register a
// personal link expiring at the ballot's close, and texts it to those not
// yet texted. It is idempotent: calling it again issues nothing twice and
// only retries texts that failed. The election module calls it at open.
// Texts go out one by one: for a large register call it from a background
// job (it can be re-run after an interruption).
func (s *Service) IssueInvitations(ctx context.Context, ballotID int64) (IssueReport, error) {
	var rep IssueReport
	var title, unionName, status string
	var closes *time.Time
	var workPhones []string
	err := s.pool.QueryRow(ctx, `SELECT b.title, b.status, b.closes_at, u.name, u.work_phone_numbers FROM ballots b JOIN unions u ON u.id = b.union_id WHERE b.id = $1`,
		ballotID).Scan(&title, &status, &closes, &unionName, &workPhones)
	if errors.Is(err, pgx.ErrNoRows) {
		return rep, fmt.Errorf("issue invitations: ballot %d: %w", ballotID, ErrInvalidLink)
	}
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	now := s.now()
	if closes == nil || !closes.After(now) {
		return rep, fmt.Errorf("issue invitations: ballot %d has no close time in the future", ballotID)
	}
	type row struct {
		memberID      int64
		mobile        *string
		email         *string
		hasInvite     bool
		gen           int
		textedAlready bool
	}
	rows, err := s.pool.Query(ctx, `SELECT m.id, m.mobile, m.email, i.token_hash IS NOT NULL, coalesce(i.generation, 1), i.sms_sent_at IS NOT NULL
		FROM register_entries re JOIN members m ON m.id = re.member_id
		LEFT JOIN LATERAL (SELECT token_hash, generation, sms_sent_at FROM auth_invitations
			WHERE ballot_id = re.ballot_id AND member_id = re.member_id AND revoked_at IS NULL ORDER BY generation DESC LIMIT 1) i ON true
		WHERE re.ballot_id = $1 ORDER BY m.id`, ballotID)
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.memberID, &x.mobile, &x.email, &x.hasInvite, &x.gen, &x.textedAlready)
		return x, err
	})
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	rep.Members = len(list)
	b := &pgx.Batch{}
	for _, x := range list {
		if !x.hasInvite {
			tok := s.inviteToken(ballotID, x.memberID, x.gen)
			b.Queue(`INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, sha([]byte(tok)), ballotID, x.memberID, x.gen, now, *closes)
			rep.Issued++
		}
	}
	if b.Len() > 0 {
		if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
			return rep, fmt.Errorf("issue invitations: %w", err)
		}
	}
	closeText := closes.In(london).Format("2 Jan 2006 15:04")
	for _, x := range list {
		if x.email != nil && *x.email != "" {
			rep.EmailPending++
		}
		if x.mobile == nil || *x.mobile == "" || contains(workPhones, *x.mobile) {
			rep.NoMobile++
			continue
		}
		if x.textedAlready {
			continue
		}
		link := s.inviteURL(s.inviteToken(ballotID, x.memberID, x.gen))
		body := fmt.Sprintf("%s: your personal link to vote in %q (closes %s): %s\nDo not share it: it is yours alone.", unionName, title, closeText, link)
		if _, err := s.sms.Send(ctx, sms.Message{To: *x.mobile, Body: body, StatusCallback: s.smsCB}); err != nil {
			rep.SMSFailed++
			s.log.WarnContext(ctx, "invitation text not sent", "ballot_id", ballotID, "member_id", x.memberID, "err", err)
			continue
		}
		if _, err := s.pool.Exec(ctx, `UPDATE auth_invitations SET sms_sent_at = $4 WHERE ballot_id = $1 AND member_id = $2 AND generation = $3`,
			ballotID, x.memberID, x.gen, now); err != nil {
			return rep, fmt.Errorf("issue invitations: %w", err)
		}
		rep.SMSSent++
	}
	s.log.InfoContext(ctx, "invitations issued", "ballot_id", ballotID, "members", rep.Members, "issued", rep.Issued,
		"sms_sent", rep.SMSSent, "no_mobile", rep.NoMobile, "sms_failed", rep.SMSFailed)
	return rep, nil
}

// InvitationURL returns the member's personal link for the ballot, for
// reminders (internal/gotv) to embed, issuing it (without a text) if the
// ballot is open and the member on its register but not yet invited.
// ErrInvalidLink otherwise (not on the register, revoked, or expired).
func (s *Service) InvitationURL(ctx context.Context, ballotID, memberID int64) (string, error) {
	var gen int
	err := s.pool.QueryRow(ctx, `SELECT generation FROM auth_invitations WHERE ballot_id = $1 AND member_id = $2
		AND revoked_at IS NULL AND expires_at > $3 ORDER BY generation DESC LIMIT 1`, ballotID, memberID, s.now()).Scan(&gen)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.issueOne(ctx, ballotID, memberID)
	}
	if err != nil {
		return "", fmt.Errorf("invitation url: %w", err)
	}
	return s.inviteURL(s.inviteToken(ballotID, memberID, gen)), nil
}

// issueOne issues (without texting) the first invitation of a member on
// the register of an open ballot that has none yet; ErrInvalidLink
// otherwise (not on the register, ballot not open, or link revoked or
// expired).
func (s *Service) issueOne(ctx context.Context, ballotID, memberID int64) (string, error) {
	now := s.now()
	tok := s.inviteToken(ballotID, memberID, 1)
	tag, err := s.pool.Exec(ctx, `INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at)
		SELECT $1, re.ballot_id, re.member_id, 1, $4, b.closes_at FROM register_entries re JOIN ballots b ON b.id = re.ballot_id
		WHERE re.ballot_id = $2 AND re.member_id = $3 AND b.status = 'open' AND b.closes_at > $4
		AND NOT EXISTS (SELECT 1 FROM auth_invitations WHERE ballot_id = $2 AND member_id = $3)`, sha([]byte(tok)), ballotID, memberID, now)
	if err != nil {
		return "", fmt.Errorf("invitation url: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return "", ErrInvalidLink
	}
	return s.inviteURL(tok), nil
}

// RevokeInvitation invalidates the member's current link (e.g. a lost
// phone) and issues a new one, returned (not sent).
func (s *Service) RevokeInvitation(ctx context.Context, ballotID, memberID int64) (string, error) {
	now := s.now()
	var gen int
	var expires time.Time
	err := s.pool.QueryRow(ctx, `UPDATE auth_invitations SET revoked_at = $3 WHERE ballot_id = $1 AND member_id = $2 AND revoked_at IS NULL
		RETURNING generation, expires_at`, ballotID, memberID, now).Scan(&gen, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrInvalidLink
	}
	if err != nil {
		return "", fmt.Errorf("revoke invitation: %w", err)
	}
	tok := s.inviteToken(ballotID, memberID, gen+1)
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, sha([]byte(tok)), ballotID, memberID, gen+1, now, expires); err != nil {
		return "", fmt.Errorf("revoke invitation: %w", err)
	}
	return s.inviteURL(tok), nil
}

// validToken checks the shape of a token (43 base64url characters) before
// any database work.
func validToken(tok string) bool { return validCookieValue(tok) }

// ResolveInvitation maps a personal token to its member and ballot.
// ErrInvalidLink for anything else: malformed, unknown, revoked, expired,
// or a ballot that is not open.
func (s *Service) ResolveInvitation(ctx context.Context, token string) (Invitation, error) {
	if !validToken(token) {
		return Invitation{}, ErrInvalidLink
	}
	var inv Invitation
	err := s.pool.QueryRow(ctx, `SELECT i.ballot_id, i.member_id, i.expires_at FROM auth_invitations i JOIN ballots b ON b.id = i.ballot_id
		WHERE i.token_hash = $1 AND i.revoked_at IS NULL AND i.expires_at > $2 AND b.status = 'open'`,
		sha([]byte(token)), s.now()).Scan(&inv.BallotID, &inv.MemberID, &inv.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invitation{}, ErrInvalidLink
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("resolve invitation: %w", err)
	}
	return inv, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}()
