// Package issuance gives each entitled member exactly one anonymous
// authorisation to cast (docs/protocol.md §5): it blind-signs the member's
// blinded tracker with the ballot style's issuer key and records the
// authorisation in the marked register in the same transaction.
//
// The marked register says who has been authorised (or has a postal vote
// recorded), never how anyone voted; the issuer never sees the tracker, so
// nothing stored links a member to a ballot. This package MUST NOT import
// internal/ledger (docs/architecture.md).
package issuance

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/sealed"
	"github.com/unionvote/eballot/internal/web/page"
)

// Errors, with their answers to the member (internal/web/page writes them;
// messages in English and Welsh, catalogue keys issue.api.*).
var (
	// ErrUnknownBallot (404): no such ballot.
	ErrUnknownBallot = page.NewError("issuance: no such ballot", http.StatusNotFound, "unknown_ballot", "issue.api.unknown_ballot")
	// ErrNotEntitled (403): the member is not on the ballot's register.
	ErrNotEntitled = page.NewError("issuance: you are not on the register of this ballot", http.StatusForbidden, "not_entitled", "issue.api.not_entitled")
	// ErrNotOpen (403): the ballot is not open for voting.
	ErrNotOpen = page.NewError("issuance: the ballot is not open for voting", http.StatusForbidden, "not_open", "issue.api.not_open")
	// ErrAlreadyAuthorised (409): the member already has an authorisation
	// for another blinded message (s.230(4)(b): one vote per member).
	ErrAlreadyAuthorised = page.NewError("issuance: an authorisation to vote was already issued to you for this ballot", http.StatusConflict, "already_authorised", "issue.api.already_authorised")
	// ErrPostalRecorded (409): a postal vote is recorded for the member.
	ErrPostalRecorded = page.NewError("issuance: a postal vote is already recorded for you in this ballot", http.StatusConflict, "postal_recorded", "issue.api.postal_recorded")
	// ErrLate (409): the paper was logged after the close of the ballot: it
	// is excluded from the count (s.229(1A)(b): the date by which it must
	// be returned) and counted as late.
	ErrLate = page.NewError("issuance: the ballot is closed: a paper returned after the close is excluded", http.StatusConflict, "late_return", "issue.api.late_return")
	// ErrNoWorkplace (409): workplace voting is for industrial action
	// ballots only (the 2026 Order); other ballots have no workplace box.
	ErrNoWorkplace = page.NewError("issuance: workplace voting is for industrial action ballots only", http.StatusConflict, "no_workplace", "issue.api.no_workplace")
	// ErrBadBlinded (400): the blinded message is not one the issuer signs.
	ErrBadBlinded = page.NewError("issuance: the blinded message is malformed", http.StatusBadRequest, "bad_blinded", "issue.api.bad_blinded")
)

// Service issues authorisations.
type Service struct {
	pool      *pgxpool.Pool
	secretKey []byte
	now       func() time.Time

	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey // election/style → issuer key
}

// New returns a Service; secretKey opens the sealed issuer keys.
func New(pool *pgxpool.Pool, secretKey []byte) *Service {
	return &Service{pool: pool, secretKey: secretKey, now: time.Now, keys: map[string]*rsa.PrivateKey{}}
}

// SetClock replaces the service's clock (tests of the statutory timeline;
// serve keeps time.Now).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Authorisation is issuance's answer: the blind signature for the member's
// style.
type Authorisation struct {
	BlindSignature []byte
	Style          string
	StyleIndex     int
	Repeated       bool // the same blinded message was signed before (safe retry)
}

// Authorise blind-signs blinded for member in election. The same blinded
// message again returns the same signature; any other is refused while an
// authorisation exists. Concurrent calls for one member are serialised by
// a row lock on the member's register entry.
func (s *Service) Authorise(ctx context.Context, electionID string, memberID int64, blinded []byte) (*Authorisation, error) {
	if len(blinded) != blind.ModulusBits/8 {
		return nil, ErrBadBlinded
	}
	bh := sha256.Sum256(blinded)
	var out *Authorisation
	refused := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ballotID int64
		var status string
		var opensAt, closesAt *time.Time
		err := tx.QueryRow(ctx, `SELECT id, status, opens_at, closes_at FROM ballots WHERE election_id = $1`, electionID).
			Scan(&ballotID, &status, &opensAt, &closesAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUnknownBallot
		}
		if err != nil {
			return err
		}
		now := s.now()
		if status != "open" || (opensAt != nil && now.Before(*opensAt)) || (closesAt != nil && !now.Before(*closesAt)) {
			return ErrNotOpen
		}
		var style string
		var styleIdx int
		err = tx.QueryRow(ctx, `SELECT r.style, st.idx FROM register_entries r
			JOIN ballot_styles st ON st.ballot_id = r.ballot_id AND st.style = r.style
			WHERE r.ballot_id = $1 AND r.member_id = $2 FOR UPDATE OF r`, ballotID, memberID).Scan(&style, &styleIdx)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotEntitled
		}
		if err != nil {
			return err
		}
		var channel string
		var prevHash, prevSig []byte
		err = tx.QueryRow(ctx, `SELECT channel, blinded_hash, blind_sig FROM marked_register WHERE ballot_id = $1 AND member_id = $2`,
			ballotID, memberID).Scan(&channel, &prevHash, &prevSig)
		switch {
		case err == nil && channel != "online":
			// First recorded wins (docs/paper.md): the refusal is logged.
			refused = true
			return logMark(ctx, tx, ballotID, style, "online", 0, "paper_recorded", now)
		case err == nil && subtle.ConstantTimeCompare(prevHash, bh[:]) == 1:
			out = &Authorisation{BlindSignature: prevSig, Style: style, StyleIndex: styleIdx, Repeated: true}
			return nil
		case err == nil:
			return ErrAlreadyAuthorised
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		sk, err := s.issuerKey(ctx, tx, electionID, ballotID, style)
		if err != nil {
			return err
		}
		sig, err := blind.BlindSign(sk, blinded)
		if errors.Is(err, blind.ErrBlindedMessage) {
			return ErrBadBlinded
		}
		if err != nil {
			// The issuer's key or a fault, not the member's request.
			return fmt.Errorf("issuance: blind signing: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, blinded_hash, blind_sig, hour)
			VALUES ($1, $2, 'online', $3, $4, date_trunc('hour', $5::timestamptz))`, ballotID, memberID, bh[:], sig, now); err != nil {
			return fmt.Errorf("record authorisation: %w", err)
		}
		out = &Authorisation{BlindSignature: sig, Style: style, StyleIndex: styleIdx}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refused {
		return nil, ErrPostalRecorded
	}
	return out, nil
}

// logMark appends one line to the return log (mark_log): a paper logged or
// a second mark refused, by channel, with its outcome; paper is 0 for the
// online channel.
func logMark(ctx context.Context, tx pgx.Tx, ballotID int64, style, channel string, paper int, outcome string, now time.Time) error {
	var num *int
	if paper > 0 {
		num = &paper
	}
	if _, err := tx.Exec(ctx, `INSERT INTO mark_log (ballot_id, style, channel, paper_number, outcome, hour)
		VALUES ($1, $2, $3, $4, $5, date_trunc('hour', $6::timestamptz))`, ballotID, style, channel, num, outcome, now); err != nil {
		return fmt.Errorf("log mark: %w", err)
	}
	return nil
}

func (s *Service) issuerKey(ctx context.Context, tx pgx.Tx, electionID string, ballotID int64, style string) (*rsa.PrivateKey, error) {
	k := electionID + "/" + style
	s.mu.Lock()
	sk := s.keys[k]
	s.mu.Unlock()
	if sk != nil {
		return sk, nil
	}
	var sealedKey []byte
	if err := tx.QueryRow(ctx, `SELECT issuer_private FROM ballot_styles WHERE ballot_id = $1 AND style = $2`, ballotID, style).Scan(&sealedKey); err != nil {
		return nil, fmt.Errorf("issuer key: %w", err)
	}
	der, err := sealed.Open(s.secretKey, sealedKey, election.IssuerKeyAD(electionID, style))
	if err != nil {
		return nil, fmt.Errorf("issuer key: %w", err)
	}
	sk, err = x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("issuer key: %w", err)
	}
	sk.Precompute()
	s.mu.Lock()
	s.keys[k] = sk
	s.mu.Unlock()
	return sk, nil
}

// Mark is what the marked register holds for a member: whether and when
// (to the hour) an authorisation or a postal vote was recorded in their
// name. Members see it on their own page, so a vote cast in their name by
// someone else is noticed.
type Mark struct {
	Recorded bool
	Channel  string // "online" or "postal"
	Hour     time.Time
}

// MarkFor returns the member's mark in a ballot.
func (s *Service) MarkFor(ctx context.Context, electionID string, memberID int64) (Mark, error) {
	var m Mark
	err := s.pool.QueryRow(ctx, `SELECT mr.channel, mr.hour FROM marked_register mr JOIN ballots b ON b.id = mr.ballot_id
		WHERE b.election_id = $1 AND mr.member_id = $2`, electionID, memberID).Scan(&m.Channel, &m.Hour)
	if errors.Is(err, pgx.ErrNoRows) {
		return Mark{}, nil
	}
	if err != nil {
		return Mark{}, err
	}
	m.Recorded = true
	return m, nil
}

// RecordPostal records, for the scrutineer, a postal voting paper returned
// under paperNumber (hybrid ballots, s.230(2) as modified): RecordReturn
// for the postal channel.
func (s *Service) RecordPostal(ctx context.Context, actor, electionID string, paperNumber int) error {
	return s.RecordReturn(ctx, actor, electionID, "postal", paperNumber)
}

// RecordReturn logs a paper by its number for a channel ("postal": an
// envelope returned by post; "workplace": a paper issued at a workplace
// box) and marks the register. The one-vote rule is "first recorded
// wins" (docs/paper.md): every paper is logged in mark_log with its
// outcome, and a refused one must be set aside unopened. Errors:
// ErrNotEntitled when the number is not in the ballot (not logged),
// ErrNoWorkplace for a workplace paper in a ballot not for industrial
// action,
// ErrNotOpen before the opening, ErrLate after the close (logged "late",
// excluded: s.229(1A)(b)), ErrAlreadyAuthorised when the member voted
// online (logged "voted_online"), ErrPostalRecorded when a paper mark
// exists (logged "second_return").
func (s *Service) RecordReturn(ctx context.Context, actor, electionID, channel string, paperNumber int) error {
	if channel != "postal" && channel != "workplace" {
		return fmt.Errorf("issuance: record return: unknown channel %q", channel)
	}
	var refusal error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ballotID, memberID int64
		var status, style, kind string
		var closesAt *time.Time
		err := tx.QueryRow(ctx, `SELECT b.id, b.status, b.kind, b.closes_at, r.member_id, r.style FROM ballots b
			JOIN register_entries r ON r.ballot_id = b.id WHERE b.election_id = $1 AND r.paper_number = $2 FOR UPDATE OF r`,
			electionID, paperNumber).Scan(&ballotID, &status, &kind, &closesAt, &memberID, &style)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no voting paper %d in this ballot", ErrNotEntitled, paperNumber)
		}
		if err != nil {
			return err
		}
		if channel == "workplace" && kind != "industrial_action" {
			return ErrNoWorkplace
		}
		now := s.now()
		switch {
		case status == "closed" || status == "published" || (status == "open" && closesAt != nil && !now.Before(*closesAt)):
			refusal = ErrLate
			return logMark(ctx, tx, ballotID, style, channel, paperNumber, "late", now)
		case status != "open":
			return ErrNotOpen
		}
		tag, err := tx.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, hour)
			VALUES ($1, $2, $3, date_trunc('hour', $4::timestamptz)) ON CONFLICT DO NOTHING`, ballotID, memberID, channel, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// Say which channel got there first.
			var first string
			if err := tx.QueryRow(ctx, `SELECT channel FROM marked_register WHERE ballot_id = $1 AND member_id = $2`,
				ballotID, memberID).Scan(&first); err != nil {
				return err
			}
			if first == "online" {
				refusal = ErrAlreadyAuthorised
				return logMark(ctx, tx, ballotID, style, channel, paperNumber, "voted_online", now)
			}
			refusal = ErrPostalRecorded
			return logMark(ctx, tx, ballotID, style, channel, paperNumber, "second_return", now)
		}
		if err := logMark(ctx, tx, ballotID, style, channel, paperNumber, "accepted", now); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "marked_register."+channel, &ballotID, map[string]int{"paper_number": paperNumber})
	})
	if err != nil {
		return err
	}
	return refusal
}

// ReturnCounts are the return log's totals per style, in the manifest's
// order, as the close of the paper count publishes them (crypto/paper):
// papers accepted by post and at workplace boxes (the marked register),
// and papers refused as late, voted online or second returns.
func (s *Service) ReturnCounts(ctx context.Context, electionID string) ([]paper.StyleReturns, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT st.style,
		       (SELECT count(*) FROM marked_register mr JOIN register_entries r ON r.ballot_id = mr.ballot_id AND r.member_id = mr.member_id
		         WHERE mr.ballot_id = b.id AND r.style = st.style AND mr.channel = 'postal'),
		       (SELECT count(*) FROM marked_register mr JOIN register_entries r ON r.ballot_id = mr.ballot_id AND r.member_id = mr.member_id
		         WHERE mr.ballot_id = b.id AND r.style = st.style AND mr.channel = 'workplace'),
		       count(ml.id) FILTER (WHERE ml.outcome = 'late'),
		       count(ml.id) FILTER (WHERE ml.outcome = 'voted_online'),
		       count(ml.id) FILTER (WHERE ml.outcome = 'second_return')
		FROM ballots b JOIN ballot_styles st ON st.ballot_id = b.id
		LEFT JOIN mark_log ml ON ml.ballot_id = b.id AND ml.style = st.style AND ml.channel <> 'online'
		WHERE b.election_id = $1 GROUP BY b.id, st.style, st.idx ORDER BY st.idx`, electionID)
	if err != nil {
		return nil, fmt.Errorf("count returns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (paper.StyleReturns, error) {
		var c paper.StyleReturns
		err := r.Scan(&c.Style, &c.Postal, &c.Workplace, &c.Late, &c.VotedOnline, &c.SecondReturn)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count returns: %w", err)
	}
	if len(out) == 0 {
		return nil, ErrUnknownBallot
	}
	return out, nil
}

// Counts are the marked register's totals for a ballot style.
type Counts struct {
	Style            string
	Entitled, Online int
	Postal           int // paper marks: returned by post or issued at a workplace box
	Replaced         int // authorisations replaced after an approved request
}

// CountsFor returns the marked register's totals per style, for the
// scrutineer's check "ballots ≤ authorisations issued ≤ entitled". Once
// the ballot's personal data is deleted after the retention period
// (internal/retention), the totals kept then (retention_counts) are
// returned instead.
func (s *Service) CountsFor(ctx context.Context, electionID string) ([]Counts, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT r.style, count(*),
		       count(*) FILTER (WHERE mr.channel = 'online'),
		       count(*) FILTER (WHERE mr.channel IN ('postal', 'workplace')),
		       (SELECT count(*) FROM replaced_authorisations ra JOIN register_entries r2
		          ON r2.ballot_id = ra.ballot_id AND r2.member_id = ra.member_id
		        WHERE ra.ballot_id = b.id AND r2.style = r.style)
		FROM ballots b JOIN register_entries r ON r.ballot_id = b.id
		LEFT JOIN marked_register mr ON mr.ballot_id = r.ballot_id AND mr.member_id = r.member_id
		WHERE b.election_id = $1 GROUP BY b.id, r.style
		UNION ALL
		SELECT rc.style, rc.entitled, rc.online, rc.postal, rc.replaced
		FROM ballots b JOIN retention_counts rc ON rc.ballot_id = b.id
		WHERE b.election_id = $1 AND NOT EXISTS (SELECT 1 FROM register_entries r WHERE r.ballot_id = b.id)
		ORDER BY 1`, electionID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Counts, error) {
		var c Counts
		err := r.Scan(&c.Style, &c.Entitled, &c.Online, &c.Postal, &c.Replaced)
		return c, err
	})
}

// PublicCounts is CountsFor in the manifest's style order, with whether the
// ballot is closed (or its result published).
func (s *Service) PublicCounts(ctx context.Context, electionID string) ([]Counts, bool, error) {
	var status string
	if err := s.pool.QueryRow(ctx, `SELECT status FROM ballots WHERE election_id = $1`, electionID).Scan(&status); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, ErrUnknownBallot
		}
		return nil, false, err
	}
	cs, err := s.CountsFor(ctx, electionID)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.pool.Query(ctx, `SELECT st.style FROM ballot_styles st JOIN ballots b ON b.id = st.ballot_id
		WHERE b.election_id = $1 ORDER BY st.idx`, electionID)
	if err != nil {
		return nil, false, err
	}
	order, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, false, err
	}
	by := map[string]Counts{}
	for _, c := range cs {
		by[c.Style] = c
	}
	out := make([]Counts, 0, len(order))
	for _, st := range order {
		c := by[st]
		c.Style = st
		out = append(out, c)
	}
	return out, status == "closed" || status == "published", nil
}

// Marked lists the members of the ballot who are on its marked register
// (an authorisation issued or a postal vote recorded).
func (s *Service) Marked(ctx context.Context, ballotID int64) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT member_id FROM marked_register WHERE ballot_id = $1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("read marked register: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read marked register: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
