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
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
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
	reg       *register.Store // members and their register entries
	ballots   *election.Store // ballots and their styles
	kept      KeptCounts      // totals kept after the register's deletion
	secretKey []byte
	now       func() time.Time

	mu        sync.Mutex
	styles    map[styleRef]styleInfo // the styles of ballots that were open, loaded on first use
	ballotIDs map[string]int64       // election id → its ballot's id, once seen (checked at every use)
}

// styleRef names one style of one ballot (ballot ids are never reused).
type styleRef struct {
	ballot int64
	style  string
}

// styleInfo is what authorising needs of a style that does not change once
// the ballot is open (the manifest is frozen at the opening): its index in
// the manifest and its opened issuer key.
type styleInfo struct {
	idx int
	sk  *rsa.PrivateKey
}

// New returns a Service; secretKey opens the sealed issuer keys.
func New(pool *pgxpool.Pool, secretKey []byte) *Service {
	return &Service{pool: pool, reg: register.NewStore(pool, secretKey), ballots: election.NewStore(pool), secretKey: secretKey, now: time.Now, styles: map[styleRef]styleInfo{}, ballotIDs: map[string]int64{}}
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
	// The transaction is handled by hand on one connection, so that BEGIN
	// goes with the reads and COMMIT with the INSERT (pgx.Tx would send
	// COMMIT on its own); Release destroys a connection left in a
	// transaction, whatever happens.
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	rd, err := s.beginAuthorise(ctx, c, electionID, memberID)
	if err != nil {
		rollback(ctx, c)
		return nil, err
	}
	var out *Authorisation
	refused := false
	final := &pgx.Batch{} // what the transaction writes, sent with its COMMIT
	err = func() error {
		if errors.Is(rd.winErr, election.ErrNotFound) {
			return ErrUnknownBallot
		}
		if rd.winErr != nil {
			return rd.winErr
		}
		b := &rd.win
		ballotID := b.ID
		now := s.now()
		if b.Status != "open" || (b.OpensAt != nil && now.Before(*b.OpensAt)) || (b.ClosesAt != nil && !now.Before(*b.ClosesAt)) {
			return ErrNotOpen
		}
		if errors.Is(rd.entryErr, register.ErrNotOnRegister) {
			return ErrNotEntitled
		}
		if rd.entryErr != nil {
			return rd.entryErr
		}
		style := rd.entry.Style
		si, err := s.openStyle(ctx, c, electionID, ballotID, style)
		if errors.Is(err, election.ErrNotFound) {
			return ErrNotEntitled
		}
		if err != nil {
			return err
		}
		styleIdx := si.idx
		switch prev := rd.mark; {
		case prev != nil && prev.channel != "online":
			// First recorded wins (docs/paper.md): the refusal is logged.
			refused = true
			return logMark(ctx, c, ballotID, style, "online", 0, nil, "paper_recorded", now)
		case prev != nil && subtle.ConstantTimeCompare(prev.hash, bh[:]) == 1:
			out = &Authorisation{BlindSignature: prev.sig, Style: style, StyleIndex: styleIdx, Repeated: true}
			return nil
		case prev != nil:
			return ErrAlreadyAuthorised
		}
		sig, err := blind.BlindSign(si.sk, blinded)
		if errors.Is(err, blind.ErrBlindedMessage) {
			return ErrBadBlinded
		}
		if err != nil {
			// The issuer's key or a fault, not the member's request.
			return fmt.Errorf("issuance: blind signing: %w", err)
		}
		final.Queue(`INSERT INTO marked_register (ballot_id, member_id, channel, blinded_hash, blind_sig, hour)
			VALUES ($1, $2, 'online', $3, $4, date_trunc('hour', $5::timestamptz))`, ballotID, memberID, bh[:], sig, now).
			Exec(func(pgconn.CommandTag) error { return nil })
		out = &Authorisation{BlindSignature: sig, Style: style, StyleIndex: styleIdx}
		return nil
	}()
	if err == nil {
		final.Queue("commit").Exec(func(ct pgconn.CommandTag) error {
			if ct.String() == "ROLLBACK" {
				return pgx.ErrTxCommitRollback
			}
			return nil
		})
		if err = c.SendBatch(ctx, final).Close(); err != nil && len(final.QueuedQueries) > 1 {
			err = fmt.Errorf("record authorisation: %w", err)
		}
	}
	if err != nil {
		rollback(ctx, c)
		return nil, err
	}
	if refused {
		return nil, ErrPostalRecorded
	}
	return out, nil
}

// rollback ends the transaction left open on c, if any (a failed
// ROLLBACK leaves it open: Release then destroys the connection).
func rollback(ctx context.Context, c *pgxpool.Conn) {
	if c.Conn().PgConn().TxStatus() != 'I' {
		_, _ = c.Exec(context.WithoutCancel(ctx), "rollback")
	}
}

// authReads are the rows Authorise decides on, read at the start of its
// transaction: the ballot's window, the member's register entry (locked:
// one member's requests serialise on it) and their mark in the marked
// register (nil: none).
type authReads struct {
	win      election.Window
	winErr   error // election.ErrNotFound: no such ballot
	entry    register.Entry
	entryErr error // register.ErrNotOnRegister
	mark     *priorMark
}

// priorMark is a member's row of the marked register.
type priorMark struct {
	channel   string
	hash, sig []byte
}

// queueReads queues the reads of the register entry (locked) and the
// marked register into b.
func (s *Service) queueReads(b *pgx.Batch, rd *authReads, ballotID, memberID int64) {
	s.reg.QueueLockEntry(b, ballotID, memberID, &rd.entry, &rd.entryErr)
	b.Queue(`SELECT channel, blinded_hash, blind_sig FROM marked_register WHERE ballot_id = $1 AND member_id = $2`, ballotID, memberID).
		QueryRow(func(row pgx.Row) error {
			var m priorMark
			err := row.Scan(&m.channel, &m.hash, &m.sig)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			rd.mark = &m
			return nil
		})
}

// beginAuthorise begins Authorise's transaction on c and makes its reads.
// Once the election's ballot id is known (it never changes), BEGIN and the
// three reads go to PostgreSQL in one batch, one round trip; if the ballot
// read in it is not that ballot any more, it is rolled back and done again
// as on first use: BEGIN with the ballot's window, then the other two
// reads. On error the transaction may be open (the caller rolls back).
func (s *Service) beginAuthorise(ctx context.Context, c *pgxpool.Conn, electionID string, memberID int64) (*authReads, error) {
	s.mu.Lock()
	ballotID, known := s.ballotIDs[electionID]
	s.mu.Unlock()
	if known {
		rd := &authReads{}
		b := &pgx.Batch{}
		b.Queue("begin")
		s.ballots.QueueWindow(b, electionID, &rd.win, &rd.winErr)
		s.queueReads(b, rd, ballotID, memberID)
		if err := c.SendBatch(ctx, b).Close(); err != nil {
			return nil, err
		}
		if rd.winErr == nil && rd.win.ID == ballotID {
			return rd, nil
		}
		rollback(ctx, c)
		s.mu.Lock()
		delete(s.ballotIDs, electionID)
		s.mu.Unlock()
	}
	rd := &authReads{}
	b := &pgx.Batch{}
	b.Queue("begin")
	s.ballots.QueueWindow(b, electionID, &rd.win, &rd.winErr)
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if rd.winErr != nil {
		return rd, nil
	}
	b = &pgx.Batch{}
	s.queueReads(b, rd, rd.win.ID, memberID)
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ballotIDs[electionID] = rd.win.ID
	s.mu.Unlock()
	return rd, nil
}

// logMark appends one line to the return log (mark_log): a paper logged or
// a second mark refused, by channel, with its outcome; paper is 0 for the
// online channel; box is the workplace box (nil for the other channels).
func logMark(ctx context.Context, tx register.Querier, ballotID int64, style, channel string, paper int, box *int64, outcome string, now time.Time) error {
	var num *int
	if paper > 0 {
		num = &paper
	}
	if _, err := tx.Exec(ctx, `INSERT INTO mark_log (ballot_id, style, channel, paper_number, box_id, outcome, hour)
		VALUES ($1, $2, $3, $4, $5, $6, date_trunc('hour', $7::timestamptz))`, ballotID, style, channel, num, box, outcome, now); err != nil {
		return fmt.Errorf("log mark: %w", err)
	}
	return nil
}

// openStyle is the style's index and opened issuer key, read from the
// ballot's store (in tx) on first use and kept: the ballot is open (the
// caller checked its window), so neither changes any more. An unknown
// style is [election.ErrNotFound].
func (s *Service) openStyle(ctx context.Context, tx register.Querier, electionID string, ballotID int64, style string) (styleInfo, error) {
	ref := styleRef{ballotID, style}
	s.mu.Lock()
	si, ok := s.styles[ref]
	s.mu.Unlock()
	if ok {
		return si, nil
	}
	idx, err := s.ballots.StyleIndex(ctx, tx, ballotID, style)
	if err != nil {
		return si, err
	}
	sealedKey, err := s.ballots.SealedIssuerKey(ctx, tx, ballotID, style)
	if err != nil {
		return si, fmt.Errorf("issuer key: %w", err)
	}
	der, err := sealed.Open(s.secretKey, sealedKey, election.IssuerKeyAD(electionID, style))
	if err != nil {
		return si, fmt.Errorf("issuer key: %w", err)
	}
	sk, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return si, fmt.Errorf("issuer key: %w", err)
	}
	sk.Precompute()
	si = styleInfo{idx: idx, sk: sk}
	s.mu.Lock()
	s.styles[ref] = si
	s.mu.Unlock()
	return si, nil
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
	b, err := s.ballots.Window(ctx, nil, electionID)
	if errors.Is(err, election.ErrNotFound) {
		return Mark{}, nil
	}
	if err != nil {
		return Mark{}, err
	}
	err = s.pool.QueryRow(ctx, `SELECT channel, hour FROM marked_register WHERE ballot_id = $1 AND member_id = $2`, b.ID, memberID).
		Scan(&m.Channel, &m.Hour)
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

// RecordReturn logs a postal paper by its number (an envelope returned
// by post) and marks the register; a workplace paper is issued at its
// box ([Service.IssueAtBox]), so that the papers counted from a box are
// bounded by the papers issued in it. The one-vote rule is "first
// recorded wins" (docs/paper.md): every paper is logged in mark_log with
// its outcome, and a refused one must be set aside unopened. Errors:
// ErrNotEntitled when the number is not in the ballot (not logged),
// ErrNotOpen before the opening, ErrLate after the close (logged "late",
// excluded: s.229(1A)(b)), ErrAlreadyAuthorised when the member voted
// online (logged "voted_online"), ErrPostalRecorded when a paper mark
// exists (logged "second_return").
func (s *Service) RecordReturn(ctx context.Context, actor, electionID, channel string, paperNumber int) error {
	if channel != "postal" {
		return fmt.Errorf("issuance: record return: channel %q: a workplace paper is issued at its box", channel)
	}
	return s.mark(ctx, actor, electionID, channel, paperNumber, 0)
}

// mark logs a paper by its number for a channel and marks the register;
// boxID is the workplace box (0 for postal), locked for the transaction
// so that a paper is never issued in a box being closed.
func (s *Service) mark(ctx context.Context, actor, electionID, channel string, paperNumber int, boxID int64) error {
	var refusal error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b, err := s.ballots.Window(ctx, tx, electionID)
		if errors.Is(err, election.ErrNotFound) {
			return fmt.Errorf("%w: no voting paper %d in this ballot", ErrNotEntitled, paperNumber)
		}
		if err != nil {
			return err
		}
		ballotID, status, kind, closesAt := b.ID, b.Status, b.Kind, b.ClosesAt
		if channel == "workplace" && kind != "industrial_action" {
			return ErrNoWorkplace
		}
		var box *int64
		boxStyle := ""
		if boxID != 0 {
			box = &boxID
			var closed *time.Time
			err := tx.QueryRow(ctx, `SELECT style, closed_at FROM workplace_boxes WHERE id = $1 AND ballot_id = $2 FOR UPDATE`,
				boxID, ballotID).Scan(&boxStyle, &closed)
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNoBox
			}
			if err != nil {
				return fmt.Errorf("lock box: %w", err)
			}
			if closed != nil {
				return ErrBoxClosed
			}
		}
		memberID, style, err := s.reg.LockPaper(ctx, tx, ballotID, paperNumber)
		if errors.Is(err, register.ErrNotOnRegister) {
			return fmt.Errorf("%w: no voting paper %d in this ballot", ErrNotEntitled, paperNumber)
		}
		if err != nil {
			return err
		}
		if box != nil && style != boxStyle {
			return ErrOtherWorkplace
		}
		now := s.now()
		switch {
		case status == "closed" || status == "published" || (status == "open" && closesAt != nil && !now.Before(*closesAt)):
			refusal = ErrLate
			return logMark(ctx, tx, ballotID, style, channel, paperNumber, box, "late", now)
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
				return logMark(ctx, tx, ballotID, style, channel, paperNumber, box, "voted_online", now)
			}
			refusal = ErrPostalRecorded
			return logMark(ctx, tx, ballotID, style, channel, paperNumber, box, "second_return", now)
		}
		if err := logMark(ctx, tx, ballotID, style, channel, paperNumber, box, "accepted", now); err != nil {
			return err
		}
		detail := map[string]int64{"paper_number": int64(paperNumber)}
		if box != nil {
			detail["box"] = *box
		}
		return audit.Append(ctx, tx, actor, "marked_register."+channel, &ballotID, detail)
	})
	if err != nil {
		return err
	}
	return refusal
}

// snapshot is a read-only transaction whose reads all see one moment:
// totals read from several owners' tables add up.
var snapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// markedMembers lists the members on the ballot's marked register per
// channel ("online", "postal", "workplace"), and (key "replaced") those
// whose online authorisation was replaced.
func markedMembers(ctx context.Context, tx pgx.Tx, ballotID int64) (map[string][]int64, error) {
	rows, err := tx.Query(ctx, `SELECT channel, member_id FROM marked_register WHERE ballot_id = $1
		UNION ALL SELECT 'replaced', member_id FROM replaced_authorisations WHERE ballot_id = $1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("read marked register: %w", err)
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var channel string
		var id int64
		if err := rows.Scan(&channel, &id); err != nil {
			return nil, fmt.Errorf("read marked register: %w", err)
		}
		out[channel] = append(out[channel], id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read marked register: %w", err)
	}
	return out, nil
}

// ReturnCounts are the return log's totals per style, in the manifest's
// order, as the close of the paper count publishes them (crypto/paper):
// papers accepted by post and at workplace boxes (the marked register),
// and papers refused as late, voted online or second returns.
func (s *Service) ReturnCounts(ctx context.Context, electionID string) ([]paper.StyleReturns, error) {
	var out []paper.StyleReturns
	err := pgx.BeginTxFunc(ctx, s.pool, snapshot, func(tx pgx.Tx) error {
		b, err := s.ballots.Window(ctx, tx, electionID)
		if errors.Is(err, election.ErrNotFound) {
			return ErrUnknownBallot
		}
		if err != nil {
			return err
		}
		order, err := s.ballots.StyleOrder(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		if len(order) == 0 {
			return ErrUnknownBallot
		}
		marked, err := markedMembers(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		postal, err := s.reg.CountByStyle(ctx, tx, b.ID, marked["postal"])
		if err != nil {
			return err
		}
		workplace, err := s.reg.CountByStyle(ctx, tx, b.ID, marked["workplace"])
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT style, count(*) FILTER (WHERE outcome = 'late'),
			count(*) FILTER (WHERE outcome = 'voted_online'), count(*) FILTER (WHERE outcome = 'second_return')
			FROM mark_log WHERE ballot_id = $1 AND channel <> 'online' GROUP BY style`, b.ID)
		if err != nil {
			return err
		}
		refused, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (paper.StyleReturns, error) {
			var c paper.StyleReturns
			err := r.Scan(&c.Style, &c.Late, &c.VotedOnline, &c.SecondReturn)
			return c, err
		})
		if err != nil {
			return err
		}
		by := map[string]paper.StyleReturns{}
		for _, c := range refused {
			by[c.Style] = c
		}
		for _, st := range order {
			c := by[st]
			c.Style, c.Postal, c.Workplace = st, int64(postal[st]), int64(workplace[st])
			out = append(out, c)
		}
		return nil
	})
	if errors.Is(err, ErrUnknownBallot) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("count returns: %w", err)
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

// KeptCounts gives the totals per style kept when a ballot's register was
// deleted after the retention period (internal/retention keeps them).
type KeptCounts interface {
	StyleCounts(ctx context.Context, ballotID int64) ([]Counts, error)
}

// UseKeptCounts makes CountsFor answer from k once a ballot's register is
// deleted (without it: no totals).
func (s *Service) UseKeptCounts(k KeptCounts) { s.kept = k }

// CountsFor returns the marked register's totals per style, for the
// scrutineer's check "ballots ≤ authorisations issued ≤ entitled". Once
// the ballot's personal data is deleted after the retention period
// (internal/retention), the totals kept then ([Service.UseKeptCounts])
// are returned instead.
func (s *Service) CountsFor(ctx context.Context, electionID string) ([]Counts, error) {
	out := []Counts{}
	err := pgx.BeginTxFunc(ctx, s.pool, snapshot, func(tx pgx.Tx) error {
		b, err := s.ballots.Window(ctx, tx, electionID)
		if errors.Is(err, election.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		entitled, err := s.reg.EntitledByStyle(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		if len(entitled) == 0 {
			if s.kept == nil {
				return nil
			}
			kept, err := s.kept.StyleCounts(ctx, b.ID)
			if err != nil {
				return err
			}
			out = append(out, kept...)
			sort.Slice(out, func(i, j int) bool { return out[i].Style < out[j].Style })
			return nil
		}
		marked, err := markedMembers(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		online, err := s.reg.CountByStyle(ctx, tx, b.ID, marked["online"])
		if err != nil {
			return err
		}
		postal, err := s.reg.CountByStyle(ctx, tx, b.ID, append(marked["postal"], marked["workplace"]...))
		if err != nil {
			return err
		}
		replaced, err := s.reg.CountByStyle(ctx, tx, b.ID, marked["replaced"])
		if err != nil {
			return err
		}
		for st, n := range entitled {
			out = append(out, Counts{Style: st, Entitled: n, Online: online[st], Postal: postal[st], Replaced: replaced[st]})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Style < out[j].Style })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PublicCounts is CountsFor in the manifest's style order, with whether the
// ballot is closed (or its result published).
func (s *Service) PublicCounts(ctx context.Context, electionID string) ([]Counts, bool, error) {
	b, err := s.ballots.Window(ctx, nil, electionID)
	if errors.Is(err, election.ErrNotFound) {
		return nil, false, ErrUnknownBallot
	}
	if err != nil {
		return nil, false, err
	}
	cs, err := s.CountsFor(ctx, electionID)
	if err != nil {
		return nil, false, err
	}
	order, err := s.ballots.StyleOrder(ctx, nil, b.ID)
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
	return out, b.Status == "closed" || b.Status == "published", nil
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
