package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/unionvote/eballot/crypto/receipt"
)

// ExportFormat names the export file format (docs/export-format.md).
const ExportFormat = "eballot-export"

// ExportVersion is the version of the export format.
const ExportVersion = 1

// Export lines (docs/export-format.md). Field order is fixed by the struct
// order.
type (
	exportHeader struct {
		Type         string `json:"type"`
		Format       string `json:"format"`
		Version      int    `json:"version"`
		ElectionID   string `json:"election_id"`
		ManifestHash string `json:"manifest_hash"`
		LogKey       string `json:"log_key"`
		TreeSize     int64  `json:"tree_size"`
		Closed       bool   `json:"closed"`
	}
	exportManifest struct {
		Type     string `json:"type"`
		Manifest string `json:"manifest"`
	}
	exportCheckpoint struct {
		Type string `json:"type"`
		Size int64  `json:"size"`
		Root string `json:"root"`
		Note string `json:"note"`
	}
	exportEntry struct {
		Type  string `json:"type"`
		Index int64  `json:"index"`
		Style int    `json:"style"`
		Entry string `json:"entry"`
	}
	exportEnd struct {
		Type        string  `json:"type"`
		Entries     int64   `json:"entries"`
		Checkpoints int64   `json:"checkpoints"`
		StyleCounts []int64 `json:"style_counts"`
		Root        string  `json:"root"`
	}
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

// Export writes the election's export file (docs/export-format.md) for the
// tree of the given size (see [Ledger.ExportSize]; size < 0 for the final or
// latest one) to w, streaming: memory stays bounded whatever the size.
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
	bw := bufio.NewWriterSize(w, 64<<10)
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	put := func(v any) error {
		line.Reset()
		if err := enc.Encode(v); err != nil { // Encode ends the line with "\n"
			return err
		}
		_, err := bw.Write(line.Bytes())
		return err
	}
	if err := put(exportHeader{"header", ExportFormat, ExportVersion, electionID, hex.EncodeToString(e.spec.hash[:]), e.spec.logKey, n, closed}); err != nil {
		return err
	}
	if err := put(exportManifest{"manifest", base64.StdEncoding.EncodeToString(e.spec.canonical)}); err != nil {
		return err
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
			if err := put(exportCheckpoint{"checkpoint", c.Size, hex.EncodeToString(c.Root[:]), string(c.Signed)}); err != nil {
				return err
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
		for _, en := range page {
			if en.Index != nextIdx {
				return fmt.Errorf("ledger: export: entry %d missing", nextIdx)
			}
			if en.Style >= 0 && en.Style < len(counts) {
				counts[en.Style]++
			}
			tb.Append(en.Bytes)
			if err := put(exportEntry{"entry", en.Index, en.Style, base64.StdEncoding.EncodeToString(en.Bytes)}); err != nil {
				return err
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
	root := tb.Root()
	if err := put(exportEnd{"end", n, ncp, counts, hex.EncodeToString(root[:])}); err != nil {
		return err
	}
	return bw.Flush()
}
