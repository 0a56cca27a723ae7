package ledger

import (
	"context"
	"fmt"
	"io"

	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/receipt"
)

// ExportSize returns the tree size an export would cover: the final size of
// a closed election, or for an open one the given checkpoint size (size < 0:
// the latest checkpoint). It fails with ErrNotFound when no checkpoint of
// that size was published.
func (l *Ledger) ExportSize(ctx context.Context, electionID string, size int64) (n int64, closed bool, err error) {
	st, err := l.Status(ctx, electionID)
	if err != nil {
		return 0, false, err
	}
	if size < 0 {
		if st.Closed {
			if err := l.pool.QueryRow(ctx, `SELECT size FROM ledger_closures WHERE election_id = $1`, electionID).Scan(&size); err != nil {
				return 0, false, unavailable(err)
			}
		} else {
			size = st.Size
		}
	}
	if _, err := checkpointAt(ctx, l.pool, electionID, size); err != nil {
		return 0, false, err
	}
	return size, st.Closed, nil
}

// Export writes the election's export file (docs/export-format.md, written
// by crypto/export's Writer, the one implementation of the format) for the
// tree of the given size (see [Ledger.ExportSize]; size < 0 for the final or
// latest one; the final export of a closed election carries its paper
// section) to w, streaming: memory stays bounded whatever the size.
// progress, if not nil, is called after every page written (e.g. to extend
// an HTTP write deadline).
func (l *Ledger) Export(ctx context.Context, w io.Writer, electionID string, size int64, progress func()) error {
	n, closed, err := l.ExportSize(ctx, electionID, size)
	if err != nil {
		return err
	}
	e, err := l.election(ctx, electionID)
	if err != nil {
		return err
	}
	// The file's bytes are crypto/export's (docs/export-format.md): version
	// 4 (the signed close of a closed election, and decompression hints on
	// every entry, docs/protocol.md §4.5), version 1 for one closed before
	// version 2 (no signed close exists). The final export of a closed
	// election carries the paper section, if any: version 5 (version 4 and
	// the paper section, docs/protocol.md §10).
	var closeSigned []byte
	var batches []PaperEntry
	var paperClose *PaperEntry
	if closed {
		if closeSigned, err = closeNote(ctx, l.pool, electionID); err != nil {
			return err
		}
	}
	h := &export.Header{ElectionID: electionID, ManifestHash: e.spec.hash, LogKey: e.spec.logKey, TreeSize: n, Closed: closed}
	if closed && size < 0 {
		if batches, paperClose, err = l.Paper(ctx, electionID); err != nil {
			return err
		}
		if len(batches) > 0 || paperClose != nil {
			if closeSigned == nil {
				return fmt.Errorf("write export: election %s has a paper section but no signed close", electionID)
			}
			h.Version = export.PaperVersion
		}
	}
	if closed && closeSigned == nil {
		h.Version = 1
	}
	xw := export.NewWriter(w)
	if err := xw.Header(h); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	if err := xw.Manifest(e.spec.canonical); err != nil {
		return fmt.Errorf("write export: %w", err)
	}

	var (
		tb      receipt.TreeBuilder
		counts  = make([]int64, e.spec.styles)
		ncp     int64
		cps     []*SignedCheckpoint
		cpFrom  int64
		cpDone  bool
		nextIdx int64
	)
	// nextCheckpoints writes every checkpoint of size tb.Size().
	flushCheckpoints := func() error {
		for {
			if len(cps) == 0 && !cpDone {
				page, err := l.Checkpoints(ctx, electionID, cpFrom, 1000)
				if err != nil {
					return err
				}
				if len(page) < 1000 {
					cpDone = true
				}
				if len(page) > 0 {
					cpFrom = page[len(page)-1].Size + 1
				}
				cps = page
			}
			if len(cps) == 0 || cps[0].Size > tb.Size() || cps[0].Size > n {
				return nil
			}
			c := cps[0]
			cps = cps[1:]
			if c.Size < tb.Size() {
				continue // cannot happen: sizes are visited in order
			}
			if c.Root != tb.Root() {
				return fmt.Errorf("ledger: export: checkpoint %d does not match the entries (run Audit)", c.Size)
			}
			if err := xw.Checkpoint(&export.Checkpoint{Size: c.Size, Root: c.Root, Note: c.Signed}); err != nil {
				return fmt.Errorf("write export: %w", err)
			}
			ncp++
		}
	}
	if err := flushCheckpoints(); err != nil {
		return err
	}
	for nextIdx < n {
		page, err := l.entries(ctx, electionID, nextIdx, min(nextIdx+MaxRange, n))
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("ledger: export: entry %d missing", nextIdx)
		}
		// The hints of the page's ballots, on all cores (≈ 5 CPU-µs per
		// group element).
		xes := make([]*export.Entry, len(page))
		for i, en := range page {
			xes[i] = &export.Entry{Index: en.Index, Style: en.Style, Bytes: en.Bytes}
		}
		xw.Prepare(xes)
		for i, en := range page {
			if en.Index != nextIdx {
				return fmt.Errorf("ledger: export: entry %d missing", nextIdx)
			}
			if en.Style >= 0 && en.Style < len(counts) {
				counts[en.Style]++
			}
			tb.Append(en.Bytes)
			if err := xw.Entry(xes[i]); err != nil {
				return fmt.Errorf("write export: %w", err)
			}
			nextIdx++
			if err := flushCheckpoints(); err != nil {
				return err
			}
		}
		if progress != nil {
			progress()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if closeSigned != nil {
		if err := xw.Close(&export.Checkpoint{Size: n, Root: tb.Root(), Note: closeSigned}); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
	}
	for _, b := range batches {
		if err := xw.Batch(&export.Batch{Bytes: b.Body, Note: b.Signed}); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
	}
	if paperClose != nil {
		if err := xw.PaperClose(&export.PaperClose{Bytes: paperClose.Body, Note: paperClose.Signed}); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
	}
	if err := xw.End(&export.End{Entries: n, Checkpoints: ncp, StyleCounts: counts, Root: tb.Root()}); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	return nil
}
