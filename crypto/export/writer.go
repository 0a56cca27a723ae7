package export

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/internal/par"
	"github.com/unionvote/eballot/crypto/manifest"
)

// Writer writes an export file line by line. It enforces the order of
// lines (header, manifest, checkpoints and entries interleaved, the close
// of a closed version 2 export, end) so that what it writes is always
// readable by Reader. Call End last; it flushes but does not close the
// underlying writer.
type Writer struct {
	bw      *bufio.Writer
	codec   codec
	state   int // 0 header, 1 manifest, 2 body, 3 closed, 4 ended, 5 batches, 6 paper closed
	closes  bool
	version int
	entries int64
	lastCP  int64
	size    int64
	el      *ballot.Election // versions 4 and 5: for the hints (nil: manifest invalid)
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), lastCP: -1}
}

func (w *Writer) put(v any) error {
	b, err := w.codec.encode(v)
	if err != nil {
		return err
	}
	if _, err := w.bw.Write(b); err != nil {
		return err
	}
	return w.bw.WriteByte('\n')
}

// Header writes the header line; it must come first. h.Version 0 means
// [Version]; 1 writes the version 1 format (no close line: for elections
// closed before version 2, whose close was never signed).
func (w *Writer) Header(h *Header) error {
	if w.state != 0 {
		return errors.New("export: header out of order")
	}
	v := h.Version
	if v == 0 {
		v = Version
	}
	if w.codec = codecFor(v); w.codec == nil {
		return errors.New("export: unknown version")
	}
	w.state = 1
	w.size = h.TreeSize
	w.version = v
	w.closes = h.Closed && w.codec.closes()
	return w.put(h.line(v))
}

// Manifest writes the manifest line (the canonical manifest JSON bytes).
func (w *Writer) Manifest(canonical []byte) error {
	if w.state != 1 {
		return errors.New("export: manifest out of order")
	}
	w.state = 2
	if HasHints(w.version) {
		if m, err := manifest.Parse(canonical); err == nil {
			w.el, _ = ballot.NewElection(m)
		}
	}
	return w.put(manifestLine{"manifest", base64.StdEncoding.EncodeToString(canonical)})
}

// Checkpoint writes a checkpoint line; its size must be the number of
// entries written so far.
func (w *Writer) Checkpoint(c *Checkpoint) error {
	if w.state != 2 || c.Size != w.entries || c.Size <= w.lastCP {
		return errors.New("export: checkpoint out of order")
	}
	w.lastCP = c.Size
	return w.put(c.line("checkpoint"))
}

// Entry writes the next entry line; its index must be the number of entries
// written so far. In versions 4 and 5 it computes e.Hints when nil (see
// [Writer.Prepare]); in versions 1 to 3 e.Hints must be nil.
func (w *Writer) Entry(e *Entry) error {
	if w.state != 2 || e.Index != w.entries {
		return errors.New("export: entry out of order")
	}
	if !HasHints(w.version) && e.Hints != nil {
		return errors.New("export: hints in an export of a version without them")
	}
	if HasHints(w.version) && e.Hints == nil {
		e.Hints = w.hints(e.Bytes)
	}
	w.entries++
	return w.put(e.line(w.version))
}

// Prepare computes the hints of entries that have none, on all cores,
// ahead of [Writer.Entry] (which would compute them one by one): about 5
// CPU-µs per group element. It does nothing in versions 1 to 3 and must
// follow [Writer.Manifest].
func (w *Writer) Prepare(es []*Entry) {
	if !HasHints(w.version) {
		return
	}
	par.For(len(es), func(i int) {
		if es[i].Hints == nil {
			es[i].Hints = w.hints(es[i].Bytes)
		}
	})
}

// hints returns the decompression hints of an entry's ballot
// (docs/protocol.md §4.5), or none (empty) when the entry has no ballot
// that decodes — a verifier fails such an entry on its ballot
// (entry.ballot) whatever its hints.
func (w *Writer) hints(entry []byte) []byte {
	const head = 32 + 288 // T ‖ authorisation
	if w.el == nil || len(entry) <= head {
		return []byte{}
	}
	h, err := w.el.Hints(entry[head:])
	if err != nil {
		return []byte{}
	}
	return h
}

// Close writes the close line of a closed version 2 export: the ledger's
// signed final checkpoint (text ending in "closed"), after every entry and
// checkpoint.
func (w *Writer) Close(c *Checkpoint) error {
	if w.state != 2 || !w.closes || c.Size != w.size || w.entries != w.size {
		return errors.New("export: close out of order (only a closed version 2 export, after every entry)")
	}
	w.state = 3
	return w.put(c.line("close"))
}

// Batch writes a paper batch line: a closed version 3 export, after the
// close and before the paper close.
func (w *Writer) Batch(b *Batch) error {
	if (w.state != 3 && w.state != 5) || !HasPaper(w.version) {
		return errors.New("export: batch out of order (a closed version 3 or 5 export, after the close)")
	}
	w.state = 5
	return w.put(batchLine{"batch", base64.StdEncoding.EncodeToString(b.Bytes), string(b.Note)})
}

// PaperClose writes the close of the paper count, after the batches.
func (w *Writer) PaperClose(c *PaperClose) error {
	if (w.state != 3 && w.state != 5) || !HasPaper(w.version) {
		return errors.New("export: paper close out of order (a closed version 3 or 5 export, after the close and the batches)")
	}
	w.state = 6
	return w.put(paperCloseLine{"paper_close", base64.StdEncoding.EncodeToString(c.Bytes), string(c.Note)})
}

// End writes the end line and flushes.
func (w *Writer) End(e *End) error {
	if w.state != 2 && w.state != 3 && w.state != 5 && w.state != 6 || w.closes && w.state == 2 {
		return errors.New("export: end out of order (a closed version 2 export needs its close first)")
	}
	w.state = 4
	if err := w.put(e.line()); err != nil {
		return err
	}
	return w.bw.Flush()
}
