package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/paper"
)

// The paper section of the ledger (docs/paper.md, docs/protocol.md §10):
// signed batch entries, chained, appended after the close of voting, and
// the signed close of the paper count. Like every ledger table they are
// append-only and name no member.

// Refusals of the paper section.
var (
	// ErrCountNotOpen (409): paper batches are counted only after the close
	// of voting (s.230(4): no running count while members can still vote).
	ErrCountNotOpen = &Error{Code: "paper_count_not_open", Status: http.StatusConflict}
	// ErrPaperClosed (409): the paper count is closed; no batch is added.
	ErrPaperClosed = &Error{Code: "paper_count_closed", Status: http.StatusConflict}
	// ErrBatchConflict (409): a batch with this id was appended with other
	// totals.
	ErrBatchConflict = &Error{Code: "paper_batch_conflict", Status: http.StatusConflict}
	// ErrBadBatch (400): the batch does not fit the ballot (style, questions,
	// options, counts that do not add up, keyings that disagree).
	ErrBadBatch = &Error{Code: "paper_batch_invalid", Status: http.StatusBadRequest}
)

// PaperEntry is one signed entry of the paper section.
type PaperEntry struct {
	Body   []byte // canonical JSON of a paper.Batch or paper.Close
	Signed []byte // the ledger's signed note over it
}

func (l *Ledger) paperTx(ctx context.Context, electionID string, fn func(pgx.Tx, *election) error) error {
	e, err := l.election(ctx, electionID)
	if err != nil {
		return err
	}
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, lockSQL, lockKey(electionID)); err != nil {
		return unavailable(err)
	}
	var closed, paperClosed bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_closures WHERE election_id = $1),
		EXISTS (SELECT 1 FROM ledger_paper_closes WHERE election_id = $1)`, electionID).Scan(&closed, &paperClosed); err != nil {
		return unavailable(err)
	}
	if !closed {
		return reject(ErrCountNotOpen, "voting has not closed")
	}
	if paperClosed {
		return reject(ErrPaperClosed, "the paper count of this ballot is closed")
	}
	if err := fn(tx, e); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// lastBatch returns the number of batches and the hash of the last one.
func lastBatch(ctx context.Context, tx pgx.Tx, electionID string) (n int64, head string, err error) {
	var body []byte
	err = tx.QueryRow(ctx, `SELECT seq, body FROM ledger_paper_batches WHERE election_id = $1 ORDER BY seq DESC LIMIT 1`, electionID).Scan(&n, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, paper.ZeroHash, nil
	}
	if err != nil {
		return 0, "", unavailable(err)
	}
	return n + 1, paper.Hash(body), nil
}

// AppendPaperBatch appends an accepted batch (both keyings, which must
// agree, by two different keyers) to the election's paper section: it
// sets the batch's election, sequence number and link to the previous
// batch, signs it with the ledger's note key and stores it. Appending a
// batch id again with the same content returns its sequence number
// (existed); with other content it fails with ErrBatchConflict.
func (l *Ledger) AppendPaperBatch(ctx context.Context, electionID string, b paper.Batch) (seq int64, existed bool, err error) {
	err = l.paperTx(ctx, electionID, func(tx pgx.Tx, e *election) error {
		m, err := manifest.Parse(e.spec.canonical)
		if err != nil {
			return fmt.Errorf("ledger: stored manifest: %w", err)
		}
		if b.Style < 0 || b.Style >= len(m.Styles) {
			return reject(ErrBadBatch, fmt.Sprintf("style %d is not a workplace ballot of this ballot", b.Style))
		}
		if len(b.Keyings) != 2 || b.Keyings[0].Keyer == b.Keyings[1].Keyer {
			return reject(ErrBadBatch, "a batch needs two keyings by different people")
		}
		if d := paper.Difference(b.Keyings[0].Totals, b.Keyings[1].Totals); d != "" {
			return reject(ErrBadBatch, "the two keyings disagree: "+d)
		}
		if err := paper.CheckTotals(m, b.Keyings[0].Totals); err != nil {
			return reject(ErrBadBatch, err.Error())
		}
		var old []byte
		err = tx.QueryRow(ctx, `SELECT seq, body FROM ledger_paper_batches WHERE election_id = $1 AND batch_id = $2`, electionID, b.BatchID).Scan(&seq, &old)
		if err == nil {
			prev, perr := paper.ParseBatch(old)
			if perr != nil {
				return fmt.Errorf("ledger: stored batch %d: %w", seq, perr)
			}
			b.ElectionID, b.Seq, b.Prev = electionID, prev.Seq, prev.Prev
			again, merr := b.Marshal()
			if merr != nil || !bytes.Equal(again, old) {
				return reject(ErrBatchConflict, fmt.Sprintf("batch %q was already counted with other totals", b.BatchID))
			}
			existed = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return unavailable(err)
		}
		n, head, err := lastBatch(ctx, tx, electionID)
		if err != nil {
			return err
		}
		b.ElectionID, b.Seq, b.Prev = electionID, n, head
		raw, signed, err := paper.SignBatch(e.signer, &b)
		if err != nil {
			return reject(ErrBadBatch, err.Error())
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_paper_batches (election_id, seq, batch_id, body, signed) VALUES ($1, $2, $3, $4, $5)`,
			electionID, n, b.BatchID, raw, string(signed)); err != nil {
			return unavailable(err)
		}
		seq = n
		return nil
	})
	if err == nil && !existed {
		l.log.InfoContext(ctx, "ledger: paper batch appended", "election", electionID, "seq", seq)
	}
	return seq, existed, err
}

// ClosePaper closes the paper count: it signs and stores a paper.Close
// with the number of batches, the last batch's hash and returns (one per
// style, in the manifest's order). No batch is accepted afterwards.
func (l *Ledger) ClosePaper(ctx context.Context, electionID string, returns []paper.StyleReturns) error {
	return l.paperTx(ctx, electionID, func(tx pgx.Tx, e *election) error {
		if len(returns) != e.spec.styles {
			return reject(ErrBadBatch, fmt.Sprintf("%d styles of returns for %d workplace ballots", len(returns), e.spec.styles))
		}
		n, head, err := lastBatch(ctx, tx, electionID)
		if err != nil {
			return err
		}
		raw, signed, err := paper.SignClose(e.signer, &paper.Close{Batches: n, ElectionID: electionID, Head: head, Styles: returns})
		if err != nil {
			return reject(ErrBadBatch, err.Error())
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_paper_closes (election_id, batches, body, signed) VALUES ($1, $2, $3, $4)`,
			electionID, n, raw, string(signed)); err != nil {
			return unavailable(err)
		}
		return nil
	})
}

// Paper returns the election's paper section: the batches in order and
// the close (nil while the count is open).
func (l *Ledger) Paper(ctx context.Context, electionID string) (batches []PaperEntry, closed *PaperEntry, err error) {
	rows, err := l.pool.Query(ctx, `SELECT body, signed FROM ledger_paper_batches WHERE election_id = $1 ORDER BY seq`, electionID)
	if err != nil {
		return nil, nil, unavailable(err)
	}
	batches, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (PaperEntry, error) {
		var p PaperEntry
		var s string
		err := r.Scan(&p.Body, &s)
		p.Signed = []byte(s)
		return p, err
	})
	if err != nil {
		return nil, nil, unavailable(err)
	}
	var c PaperEntry
	var s string
	err = l.pool.QueryRow(ctx, `SELECT body, signed FROM ledger_paper_closes WHERE election_id = $1`, electionID).Scan(&c.Body, &s)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return batches, nil, nil
	case err != nil:
		return nil, nil, unavailable(err)
	}
	c.Signed = []byte(s)
	return batches, &c, nil
}

// PaperState says whether voting is closed (batches may be counted) and
// whether the paper count is closed (no batch is accepted any more), with
// the number of batches appended.
func (l *Ledger) PaperState(ctx context.Context, electionID string) (votingClosed, countClosed bool, batches int64, err error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return false, false, 0, err
	}
	err = l.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_closures WHERE election_id = $1),
		EXISTS (SELECT 1 FROM ledger_paper_closes WHERE election_id = $1),
		(SELECT count(*) FROM ledger_paper_batches WHERE election_id = $1)`, electionID).Scan(&votingClosed, &countClosed, &batches)
	if err != nil {
		return false, false, 0, unavailable(err)
	}
	return votingClosed, countClosed, batches, nil
}
