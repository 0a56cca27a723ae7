package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Writer writes an export file line by line. It enforces the order of
// lines (header, manifest, checkpoints and entries interleaved, end) so that
// what it writes is always readable by Reader. Call Close to write nothing
// more; Close does not close the underlying writer.
type Writer struct {
	bw      *bufio.Writer
	buf     bytes.Buffer
	enc     *json.Encoder
	state   int // 0 header, 1 manifest, 2 body, 3 ended, 4 batches, 5 paper closed
	version int
	entries int64
	lastCP  int64
	size    int64
	closed  bool
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	x := &Writer{bw: bufio.NewWriterSize(w, 64<<10), lastCP: -1}
	x.enc = json.NewEncoder(&x.buf)
	x.enc.SetEscapeHTML(false)
	return x
}

func (w *Writer) put(v any) error {
	w.buf.Reset()
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("encode line: %w", err)
	}
	_, err := w.bw.Write(w.buf.Bytes())
	return err
}

// Header writes the header line; it must come first.
func (w *Writer) Header(h *Header) error {
	if w.state != 0 {
		return errors.New("export: header out of order")
	}
	w.state = 1
	w.size = h.TreeSize
	w.version = h.Version
	w.closed = h.Closed
	return w.put(h.line())
}

// Manifest writes the manifest line (the canonical manifest JSON bytes).
func (w *Writer) Manifest(canonical []byte) error {
	if w.state != 1 {
		return errors.New("export: manifest out of order")
	}
	w.state = 2
	return w.put(manifestLine{"manifest", base64.StdEncoding.EncodeToString(canonical)})
}

// Checkpoint writes a checkpoint line; its size must be the number of
// entries written so far.
func (w *Writer) Checkpoint(c *Checkpoint) error {
	if w.state != 2 || c.Size != w.entries || c.Size <= w.lastCP {
		return errors.New("export: checkpoint out of order")
	}
	w.lastCP = c.Size
	return w.put(c.line())
}

// Entry writes the next entry line; its index must be the number of entries
// written so far.
func (w *Writer) Entry(e *Entry) error {
	if w.state != 2 || e.Index != w.entries {
		return errors.New("export: entry out of order")
	}
	w.entries++
	return w.put(e.line())
}

// Batch writes a paper batch line: version 3, closed, after every entry.
func (w *Writer) Batch(b *Batch) error {
	if (w.state != 2 && w.state != 4) || w.entries != w.size || w.version != PaperVersion || !w.closed {
		return errors.New("export: batch out of order (a closed version 3 export, after every entry)")
	}
	w.state = 4
	return w.put(batchLine{"batch", base64.StdEncoding.EncodeToString(b.Bytes), string(b.Note)})
}

// PaperClose writes the close of the paper count, after the batches.
func (w *Writer) PaperClose(c *PaperClose) error {
	if (w.state != 2 && w.state != 4) || w.entries != w.size || w.version != PaperVersion || !w.closed {
		return errors.New("export: paper close out of order (a closed version 3 export, after every entry and batch)")
	}
	w.state = 5
	return w.put(paperCloseLine{"paper_close", base64.StdEncoding.EncodeToString(c.Bytes), string(c.Note)})
}

// End writes the end line and flushes.
func (w *Writer) End(e *End) error {
	if w.state != 2 && w.state != 4 && w.state != 5 {
		return errors.New("export: end out of order")
	}
	w.state = 3
	if err := w.put(e.line()); err != nil {
		return err
	}
	return w.bw.Flush()
}
