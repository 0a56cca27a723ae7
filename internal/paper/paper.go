// Package paper counts the paper leg of a ballot (docs/paper.md): after the
// close of voting, the vote slips, separated from their numbered envelopes,
// are counted in batches per workplace ballot (s.228) and channel; two
// different scrutineer staff each key a batch's totals; when the second
// keying agrees with the first the batch is accepted and appended to the
// ledger as a signed public entry (crypto/paper); the scrutineer then
// closes the paper count, and the ledger signs the papers logged as
// returned per workplace ballot, which the scrutineer's tool compares with
// the batches.
//
// This package knows no member, no paper number and no register: it MUST
// NOT import internal/register, issuance, auth, election, vote or gotv
// (an archtest wall); the return counts come through [Returns], wired in
// internal/app. It owns the table paper_keyings.
package paper

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	cpaper "github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/web/page"
)

// Refusals, each naming the problem (catalogue keys paper.api.*). Nothing
// already accepted changes when one is returned.
var (
	// ErrBadBatch (422): the keying is malformed (batch id, channel, box,
	// negative counts, counts that do not add up to the papers).
	ErrBadBatch = page.NewError("paper: the batch is malformed", http.StatusUnprocessableEntity, "bad_batch", "paper.api.bad_batch")
	// ErrNotClosed (409): slips are counted only after the close of voting.
	ErrNotClosed = page.NewError("paper: voting has not closed: slips are counted after the close", http.StatusConflict, "count_not_open", "paper.api.count_not_open")
	// ErrCountClosed (409): the paper count is closed.
	ErrCountClosed = page.NewError("paper: the paper count is closed", http.StatusConflict, "count_closed", "paper.api.count_closed")
	// ErrAccepted (409): this batch id was already accepted.
	ErrAccepted = page.NewError("paper: this batch was already accepted", http.StatusConflict, "batch_accepted", "paper.api.batch_accepted")
	// ErrDisagree (409): the second keying differs from the first.
	ErrDisagree = page.NewError("paper: the two keyings disagree", http.StatusConflict, "keyings_disagree", "paper.api.keyings_disagree")
	// ErrExceedsReturns (409): the batch would make the papers counted
	// exceed the papers logged as returned for its workplace ballot and
	// channel.
	ErrExceedsReturns = page.NewError("paper: more papers counted than logged as returned", http.StatusConflict, "exceeds_returns", "paper.api.exceeds_returns")
	// ErrBoxOpen (409): a workplace box is counted once its presiding
	// officer (or the scrutineer) has closed it.
	ErrBoxOpen = page.NewError("paper: the workplace box is not closed", http.StatusConflict, "box_open", "paper.api.box_open")
	// ErrBoxCounted (409): the batches accepted for the workplace box
	// account for every paper issued in it: its count is closed.
	ErrBoxCounted = page.NewError("paper: the workplace box is counted in full", http.StatusConflict, "box_counted", "paper.api.box_counted")
)

// Ledger is what this package needs of the ballot ledger (internal/ledger).
type Ledger interface {
	AppendPaperBatch(ctx context.Context, electionID string, b cpaper.Batch) (seq int64, existed bool, err error)
	ClosePaper(ctx context.Context, electionID string, returns []cpaper.StyleReturns) error
	PaperState(ctx context.Context, electionID string) (votingClosed, countClosed bool, batches int64, err error)
	Manifest(ctx context.Context, electionID string) ([]byte, [32]byte, error)
}

// Returns gives the papers logged per workplace ballot (issuance's return
// log), in the manifest's style order, and a workplace box's state: its
// workplace ballot (style index; -1 when the election has no such box),
// the papers issued in it, and whether it is closed.
type Returns interface {
	ReturnCounts(ctx context.Context, electionID string) ([]cpaper.StyleReturns, error)
	WorkplaceBox(ctx context.Context, electionID, box string) (style int, issued int64, closed bool, err error)
}

// Service keys and accepts batches.
type Service struct {
	pool    *pgxpool.Pool
	ledger  Ledger
	returns Returns
}

// New returns a Service.
func New(pool *pgxpool.Pool, l Ledger, r Returns) *Service {
	return &Service{pool: pool, ledger: l, returns: r}
}

// Ballot names a ballot: its id (for the audit log) and its election id
// (for the ledger).
type Ballot struct {
	ID         int64
	ElectionID string
}

// Keying is what one scrutineer keys for a batch.
type Keying struct {
	BatchID string
	Style   int    // the workplace ballot (style index)
	Channel string // cpaper.ChannelPostal or ChannelWorkplace
	Box     string // the workplace box, "" for postal
	Totals  cpaper.Totals
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (k *Keying) check() error {
	if !idRE.MatchString(k.BatchID) {
		return fmt.Errorf("%w: the batch id must be 1 to 64 letters, digits, '.', '_' or '-'", ErrBadBatch)
	}
	switch k.Channel {
	case cpaper.ChannelPostal:
		if k.Box != "" {
			return fmt.Errorf("%w: a postal batch has no box", ErrBadBatch)
		}
	case cpaper.ChannelWorkplace:
		if !idRE.MatchString(k.Box) {
			return fmt.Errorf("%w: a workplace batch names its box", ErrBadBatch)
		}
	default:
		return fmt.Errorf("%w: unknown channel %q", ErrBadBatch, k.Channel)
	}
	if k.Style < 0 || k.Style >= 1<<16 {
		return fmt.Errorf("%w: no such workplace ballot", ErrBadBatch)
	}
	b := cpaper.Batch{BatchID: k.BatchID, Box: k.Box, Channel: k.Channel, ElectionID: "x", Prev: cpaper.ZeroHash, Style: k.Style,
		Keyings: []cpaper.Keying{{Keyer: "a", Totals: k.Totals}, {Keyer: "b", Totals: k.Totals}}}
	if _, err := b.Marshal(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	if q := k.Totals.Sum(); q >= 0 {
		return fmt.Errorf("%w: question %d's counts do not add up to the %d papers", ErrBadBatch, q+1, k.Totals.Papers)
	}
	return nil
}

// Outcome says what a keying did.
type Outcome struct {
	// Accepted: this was the second, agreeing keying; the batch is in the
	// ledger at Seq. Otherwise the keying waits for a second keyer.
	Accepted bool
	Seq      int64
}

func lockKey(electionID string) string { return "eballot-paper/" + electionID }

// Key records keyer's keying of a batch. The first keying of a batch
// waits (the same keyer may key it again, replacing their own); a keying
// by a different keyer must equal it, and then the batch is accepted:
// checked against the papers logged as returned, appended to the ledger
// and audited. actor is the audit log's actor.
func (s *Service) Key(ctx context.Context, actor string, b Ballot, keyer string, k Keying) (Outcome, error) {
	electionID := b.ElectionID
	if err := k.check(); err != nil {
		return Outcome{}, err
	}
	if !idRE.MatchString(keyer) {
		return Outcome{}, fmt.Errorf("%w: keyer id", ErrBadBatch)
	}
	votingClosed, countClosed, _, err := s.ledger.PaperState(ctx, electionID)
	if err != nil {
		return Outcome{}, err
	}
	if !votingClosed {
		return Outcome{}, ErrNotClosed
	}
	if countClosed {
		return Outcome{}, ErrCountClosed
	}
	if err := s.checkBox(ctx, electionID, k); err != nil {
		return Outcome{}, err
	}
	totals, err := json.Marshal(k.Totals)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, lockKey(electionID)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT keyer, style, channel, box, totals, seq FROM paper_keyings
			WHERE election_id = $1 AND batch_id = $2 ORDER BY keyed_at`, electionID, k.BatchID)
		if err != nil {
			return err
		}
		type row struct {
			keyer, channel, box string
			style               int
			totals              []byte
			seq                 *int64
		}
		prev, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.keyer, &x.style, &x.channel, &x.box, &x.totals, &x.seq)
			return x, err
		})
		if err != nil {
			return err
		}
		var first *row
		for i := range prev {
			if prev[i].seq != nil {
				return fmt.Errorf("%w: batch %q is batch %d of the ledger", ErrAccepted, k.BatchID, *prev[i].seq)
			}
			if prev[i].keyer != keyer {
				first = &prev[i]
			}
		}
		if first == nil {
			// The first keying (or its keyer keying it again).
			_, err := tx.Exec(ctx, `INSERT INTO paper_keyings (election_id, batch_id, keyer, style, channel, box, totals)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (election_id, batch_id, keyer) DO UPDATE SET style = $4, channel = $5, box = $6, totals = $7, keyed_at = now()`,
				electionID, k.BatchID, keyer, k.Style, k.Channel, k.Box, totals)
			if err != nil {
				return err
			}
			return audit.Append(ctx, tx, actor, "paper.keyed", &b.ID, map[string]any{"batch": k.BatchID, "keyer": keyer})
		}
		var ft cpaper.Totals
		if err := json.Unmarshal(first.totals, &ft); err != nil {
			return fmt.Errorf("read keying: %w", err)
		}
		switch {
		case first.style != k.Style:
			return fmt.Errorf("%w: workplace ballot %d and %d", ErrDisagree, first.style+1, k.Style+1)
		case first.channel != k.Channel || first.box != k.Box:
			return fmt.Errorf("%w: channel or box %s/%s and %s/%s", ErrDisagree, first.channel, first.box, k.Channel, k.Box)
		}
		if d := cpaper.Difference(ft, k.Totals); d != "" {
			return fmt.Errorf("%w: %s", ErrDisagree, d)
		}
		if err := s.checkReturns(ctx, tx, electionID, k); err != nil {
			return err
		}
		if err := s.checkBox(ctx, electionID, k); err != nil {
			return err
		}
		seq, _, err := s.ledger.AppendPaperBatch(ctx, electionID, cpaper.Batch{BatchID: k.BatchID, Box: k.Box, Channel: k.Channel, Style: k.Style,
			Keyings: []cpaper.Keying{{Keyer: first.keyer, Totals: ft}, {Keyer: keyer, Totals: k.Totals}}})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO paper_keyings (election_id, batch_id, keyer, style, channel, box, totals, seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (election_id, batch_id, keyer) DO UPDATE SET totals = $7, seq = $8, keyed_at = now()`,
			electionID, k.BatchID, keyer, k.Style, k.Channel, k.Box, totals, seq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE paper_keyings SET seq = $3 WHERE election_id = $1 AND batch_id = $2`, electionID, k.BatchID, seq); err != nil {
			return err
		}
		out = Outcome{Accepted: true, Seq: seq}
		return audit.Append(ctx, tx, actor, "paper.accepted", &b.ID, map[string]any{"batch": k.BatchID, "seq": seq})
	})
	return out, err
}

// checkReturns refuses a batch that would make the papers counted for its
// workplace ballot and channel exceed the papers logged as returned.
func (s *Service) checkReturns(ctx context.Context, tx pgx.Tx, electionID string, k Keying) error {
	rs, err := s.returns.ReturnCounts(ctx, electionID)
	if err != nil {
		return err
	}
	if k.Style >= len(rs) {
		return fmt.Errorf("%w: no workplace ballot %d", ErrBadBatch, k.Style+1)
	}
	logged := rs[k.Style].Postal
	if k.Channel == cpaper.ChannelWorkplace {
		logged = rs[k.Style].Workplace
	}
	var counted int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(sum(papers), 0) FROM (SELECT DISTINCT ON (batch_id) (totals->>'papers')::bigint AS papers
		FROM paper_keyings WHERE election_id = $1 AND style = $2 AND channel = $3 AND seq IS NOT NULL) accepted`,
		electionID, k.Style, k.Channel).Scan(&counted); err != nil {
		return err
	}
	if counted+k.Totals.Papers > logged {
		return fmt.Errorf("%w: %d %s papers already counted and %d in this batch, %d logged as returned for workplace ballot %q",
			ErrExceedsReturns, counted, k.Channel, k.Totals.Papers, logged, rs[k.Style].Style)
	}
	return nil
}

// checkBox refuses a workplace batch for a box the election does not
// have, of another workplace ballot, not yet closed, or whose count is
// closed (its accepted batches account for every paper issued in it), and
// one that would make the papers counted from the box exceed the papers
// issued in it. Called at each keying (checked again at acceptance under
// the election's lock, by checkReturns).
func (s *Service) checkBox(ctx context.Context, electionID string, k Keying) error {
	if k.Channel != cpaper.ChannelWorkplace {
		return nil
	}
	style, issued, closed, err := s.returns.WorkplaceBox(ctx, electionID, k.Box)
	switch {
	case err != nil:
		return err
	case style < 0:
		return fmt.Errorf("%w: no workplace box %q in this ballot", ErrBadBatch, k.Box)
	case style != k.Style:
		return fmt.Errorf("%w: box %q is in workplace ballot %d, not %d", ErrBadBatch, k.Box, style+1, k.Style+1)
	case !closed:
		return fmt.Errorf("%w: box %q", ErrBoxOpen, k.Box)
	}
	var counted int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(papers), 0) FROM (SELECT DISTINCT ON (batch_id) (totals->>'papers')::bigint AS papers
		FROM paper_keyings WHERE election_id = $1 AND channel = 'workplace' AND box = $2 AND seq IS NOT NULL AND batch_id <> $3) accepted`,
		electionID, k.Box, k.BatchID).Scan(&counted); err != nil {
		return fmt.Errorf("count box: %w", err)
	}
	if counted >= issued {
		return fmt.Errorf("%w: box %q: %d papers issued, %d counted", ErrBoxCounted, k.Box, issued, counted)
	}
	if counted+k.Totals.Papers > issued {
		return fmt.Errorf("%w: %d papers already counted from box %q and %d in this batch, %d issued in it",
			ErrExceedsReturns, counted, k.Box, k.Totals.Papers, issued)
	}
	return nil
}

// Waiting is a batch keyed once, waiting for its second keying.
type Waiting struct {
	BatchID, Keyer, Channel, Box string
	Style                        int
	Papers                       int64
}

// Accepted is a batch in the ledger.
type Accepted struct {
	Seq                     int64
	BatchID, Channel, Box   string
	Style                   int
	Papers                  int64
	FirstKeyer, SecondKeyer string
}

// Batches lists the batches keyed once and those accepted, for the count page.
func (s *Service) Batches(ctx context.Context, electionID string) (waiting []Waiting, accepted []Accepted, err error) {
	rows, err := s.pool.Query(ctx, `SELECT batch_id, keyer, channel, box, style, (totals->>'papers')::bigint, seq
		FROM paper_keyings WHERE election_id = $1 ORDER BY coalesce(seq, 9223372036854775807), batch_id, keyed_at`, electionID)
	if err != nil {
		return nil, nil, fmt.Errorf("list batches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w Waiting
		var seq *int64
		if err := rows.Scan(&w.BatchID, &w.Keyer, &w.Channel, &w.Box, &w.Style, &w.Papers, &seq); err != nil {
			return nil, nil, fmt.Errorf("list batches: %w", err)
		}
		if seq == nil {
			waiting = append(waiting, w)
			continue
		}
		if n := len(accepted); n > 0 && accepted[n-1].Seq == *seq {
			accepted[n-1].SecondKeyer = w.Keyer
			continue
		}
		accepted = append(accepted, Accepted{Seq: *seq, BatchID: w.BatchID, Channel: w.Channel, Box: w.Box, Style: w.Style, Papers: w.Papers, FirstKeyer: w.Keyer})
	}
	return waiting, accepted, rows.Err()
}

// CloseCount closes the paper count: the ledger signs the papers logged per
// workplace ballot, and no batch is accepted afterwards. Keyings still
// waiting for a second keyer are refused: they must be agreed or the
// count cannot close.
func (s *Service) CloseCount(ctx context.Context, actor string, b Ballot) error {
	electionID := b.ElectionID
	var waiting int
	if err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT batch_id) FROM paper_keyings WHERE election_id = $1
		AND batch_id NOT IN (SELECT batch_id FROM paper_keyings WHERE election_id = $1 AND seq IS NOT NULL)`, electionID).Scan(&waiting); err != nil {
		return err
	}
	if waiting > 0 {
		return fmt.Errorf("%w: %d batches keyed once wait for a second keying", ErrWaiting, waiting)
	}
	rs, err := s.returns.ReturnCounts(ctx, electionID)
	if err != nil {
		return err
	}
	if err := s.ledger.ClosePaper(ctx, electionID, rs); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return audit.Append(ctx, tx, actor, "paper.count_closed", &b.ID, nil)
	})
}

// ErrWaiting (409): the count cannot close while a batch waits for its
// second keying.
var ErrWaiting = page.NewError("paper: a batch keyed once waits for a second keying", http.StatusConflict, "keying_waiting", "paper.api.keying_waiting")
