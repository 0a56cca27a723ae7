package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Kind says which line an Item holds.
type Kind int

// Kinds of body lines.
const (
	KindCheckpoint Kind = iota + 1
	KindEntry
	KindEnd
	// KindBatch and KindPaperClose: the paper section (version 3), after
	// every entry and checkpoint, before the end.
	KindBatch
	KindPaperClose
)

// Item is one body line: exactly one of Checkpoint, Entry, End, Batch,
// PaperClose is set.
type Item struct {
	Kind       Kind
	Checkpoint *Checkpoint
	Entry      *Entry
	End        *End
	Batch      *Batch
	PaperClose *PaperClose
}

// Reader reads an export file strictly, streaming (see the package doc).
type Reader struct {
	br       *bufio.Reader
	line     int64
	header   Header
	manifest []byte
	buf      bytes.Buffer
	enc      *json.Encoder
	entries  int64
	cps      int64
	lastCP   int64
	paper    int // 0 no paper line yet, 1 batches, 2 after the paper close
	batches  int64
	done     bool
	err      error
}

// NewReader reads the header and manifest lines from r and returns a Reader
// positioned on the body. Errors are *LineError wrapping ErrFormat (or the
// I/O error).
func NewReader(r io.Reader) (*Reader, error) {
	x := &Reader{br: bufio.NewReaderSize(r, 256<<10), lastCP: -1}
	x.enc = json.NewEncoder(&x.buf)
	x.enc.SetEscapeHTML(false)
	b, err := x.next()
	if err != nil {
		return nil, err
	}
	var h headerLine
	if err := x.decode(b, &h); err != nil {
		return nil, err
	}
	if h.Type != "header" {
		return nil, x.fail("first line must be the header")
	}
	if h.Format != Format || (h.Version != Version && h.Version != PaperVersion) {
		return nil, x.fail(fmt.Sprintf("unsupported format %q version %d (want %q version %d or %d)", h.Format, h.Version, Format, Version, PaperVersion))
	}
	mh, err := decodeHash(h.ManifestHash)
	if err != nil {
		return nil, x.fail("manifest_hash: " + err.Error())
	}
	if h.TreeSize < 0 || h.TreeSize > MaxTreeSize {
		return nil, x.fail("tree_size out of range")
	}
	if h.ElectionID == "" || len(h.ElectionID) > 64 {
		return nil, x.fail("election_id must be 1–64 bytes")
	}
	x.header = Header{Version: h.Version, ElectionID: h.ElectionID, ManifestHash: mh, LogKey: h.LogKey, TreeSize: h.TreeSize, Closed: h.Closed}

	if b, err = x.next(); err != nil {
		return nil, err
	}
	var m manifestLine
	if err := x.decode(b, &m); err != nil {
		return nil, err
	}
	if m.Type != "manifest" {
		return nil, x.fail("second line must be the manifest")
	}
	if x.manifest, err = base64.StdEncoding.Strict().DecodeString(m.Manifest); err != nil || len(x.manifest) == 0 {
		return nil, x.fail("manifest is not standard padded base64")
	}
	return x, nil
}

// Header returns the header line.
func (r *Reader) Header() Header { return r.header }

// Manifest returns the manifest bytes as exported (canonical JSON; the
// verifier checks them against the header's manifest_hash).
func (r *Reader) Manifest() []byte { return r.manifest }

// Line returns the number of the last line read.
func (r *Reader) Line() int64 { return r.line }

// Next returns the next body line. After the end line it returns io.EOF
// (and checks that nothing follows). A file that stops before its end line
// is an error (io.ErrUnexpectedEOF wrapped in a *LineError).
func (r *Reader) Next() (*Item, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		if _, err := r.br.ReadByte(); err != io.EOF {
			r.line++
			r.err = r.fail("data after the end line")
			return nil, r.err
		}
		return nil, io.EOF
	}
	b, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	it, err := r.body(b)
	if err != nil {
		r.err = err
		return nil, err
	}
	return it, nil
}

func (r *Reader) body(b []byte) (*Item, error) {
	paperLine := bytes.HasPrefix(b, []byte(`{"type":"batch",`)) || bytes.HasPrefix(b, []byte(`{"type":"paper_close",`))
	if r.paper > 0 && !paperLine && !bytes.HasPrefix(b, []byte(`{"type":"end",`)) {
		return nil, r.fail("only paper lines and the end may follow a paper line")
	}
	switch {
	case paperLine:
		return r.paperLine(b)
	case bytes.HasPrefix(b, []byte(`{"type":"entry",`)):
		var e entryLine
		var b64 []byte
		if idx, style, enc, ok := fastEntry(b); ok {
			// The exact canonical form: the same values as the strict
			// decoder would give (see fastEntry); skip its round trip.
			e.Index, e.Style, b64 = idx, style, enc
		} else {
			if err := r.decode(b, &e); err != nil {
				return nil, err
			}
			b64 = []byte(e.Entry)
		}
		if e.Index != r.entries {
			return nil, r.fail(fmt.Sprintf("entry index %d, want %d (entries must be in order without gaps)", e.Index, r.entries))
		}
		if e.Index >= r.header.TreeSize {
			return nil, r.fail(fmt.Sprintf("entry %d beyond tree_size %d", e.Index, r.header.TreeSize))
		}
		if e.Style < 0 || e.Style >= MaxStyles {
			return nil, r.fail(fmt.Sprintf("entry %d: style %d out of range", e.Index, e.Style))
		}
		if base64.StdEncoding.DecodedLen(len(b64)) > MaxEntry+2 {
			return nil, r.fail(fmt.Sprintf("entry %d: longer than %d bytes", e.Index, MaxEntry))
		}
		raw := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
		n, err := base64.StdEncoding.Strict().Decode(raw, b64)
		if raw = raw[:n]; err != nil || len(raw) > MaxEntry {
			return nil, r.fail(fmt.Sprintf("entry %d: not standard padded base64 of at most %d bytes", e.Index, MaxEntry))
		}
		r.entries++
		return &Item{Kind: KindEntry, Entry: &Entry{Index: e.Index, Style: e.Style, Bytes: raw}}, nil
	case bytes.HasPrefix(b, []byte(`{"type":"checkpoint",`)):
		var c checkpointLine
		if err := r.decode(b, &c); err != nil {
			return nil, err
		}
		if c.Size != r.entries {
			return nil, r.fail(fmt.Sprintf("checkpoint of size %d after %d entries (a checkpoint must follow its last entry)", c.Size, r.entries))
		}
		if c.Size <= r.lastCP {
			return nil, r.fail(fmt.Sprintf("checkpoint of size %d repeated", c.Size))
		}
		root, err := decodeHash(c.Root)
		if err != nil {
			return nil, r.fail(fmt.Sprintf("checkpoint %d: root: %s", c.Size, err))
		}
		if len(c.Note) == 0 || len(c.Note) > MaxNote {
			return nil, r.fail(fmt.Sprintf("checkpoint %d: note must be 1–%d bytes", c.Size, MaxNote))
		}
		r.lastCP = c.Size
		r.cps++
		return &Item{Kind: KindCheckpoint, Checkpoint: &Checkpoint{Size: c.Size, Root: root, Note: []byte(c.Note)}}, nil
	case bytes.HasPrefix(b, []byte(`{"type":"end",`)):
		var e endLine
		if err := r.decode(b, &e); err != nil {
			return nil, err
		}
		if e.Entries != r.entries || r.entries != r.header.TreeSize {
			return nil, r.fail(fmt.Sprintf("end says %d entries; the file has %d and the header %d", e.Entries, r.entries, r.header.TreeSize))
		}
		if e.Checkpoints != r.cps {
			return nil, r.fail(fmt.Sprintf("end says %d checkpoints; the file has %d", e.Checkpoints, r.cps))
		}
		if len(e.StyleCounts) > MaxStyles {
			return nil, r.fail("too many style_counts")
		}
		root, err := decodeHash(e.Root)
		if err != nil {
			return nil, r.fail("end root: " + err.Error())
		}
		r.done = true
		return &Item{Kind: KindEnd, End: &End{Entries: e.Entries, Checkpoints: e.Checkpoints, StyleCounts: e.StyleCounts, Root: root}}, nil
	default:
		return nil, r.fail(`line is not a checkpoint, entry, batch, paper_close or end ({"type":… first)`)
	}
}

// paperLine reads a batch or paper_close line: version 3 only, in a closed
// export, after every entry; batches before the close of the paper count.
func (r *Reader) paperLine(b []byte) (*Item, error) {
	if r.header.Version != PaperVersion || !r.header.Closed {
		return nil, r.fail(fmt.Sprintf("paper lines need a closed export of version %d", PaperVersion))
	}
	if r.entries != r.header.TreeSize {
		return nil, r.fail("paper lines come after every entry")
	}
	if r.paper == 2 {
		return nil, r.fail("nothing but the end follows the paper close")
	}
	decode := func(b64, note string) ([]byte, []byte, error) {
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(raw) == 0 || len(raw) > MaxPaper {
			return nil, nil, r.fail(fmt.Sprintf("paper line: not standard padded base64 of 1 to %d bytes", MaxPaper))
		}
		if len(note) == 0 || len(note) > MaxNote {
			return nil, nil, r.fail(fmt.Sprintf("paper line: note must be 1–%d bytes", MaxNote))
		}
		return raw, []byte(note), nil
	}
	if bytes.HasPrefix(b, []byte(`{"type":"batch",`)) {
		var l batchLine
		if err := r.decode(b, &l); err != nil {
			return nil, err
		}
		raw, note, err := decode(l.Batch, l.Note)
		if err != nil {
			return nil, err
		}
		r.paper = 1
		r.batches++
		return &Item{Kind: KindBatch, Batch: &Batch{Bytes: raw, Note: note}}, nil
	}
	var l paperCloseLine
	if err := r.decode(b, &l); err != nil {
		return nil, err
	}
	raw, note, err := decode(l.Close, l.Note)
	if err != nil {
		return nil, err
	}
	r.paper = 2
	return &Item{Kind: KindPaperClose, PaperClose: &PaperClose{Bytes: raw, Note: note}}, nil
}

// next returns the next line without its "\n".
func (r *Reader) next() ([]byte, error) {
	r.line++
	var acc []byte
	for {
		b, err := r.br.ReadSlice('\n')
		if err == nil && acc == nil {
			return b[:len(b)-1], nil
		}
		acc = append(acc, b...)
		if len(acc) > MaxLine+1 {
			return nil, r.fail(fmt.Sprintf("line longer than %d bytes", MaxLine))
		}
		switch {
		case err == nil:
			return acc[:len(acc)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(acc) == 0:
			return nil, &LineError{Line: r.line, Err: fmt.Errorf("%w: file ends before the end line: %w", ErrFormat, io.ErrUnexpectedEOF)}
		case err == io.EOF:
			return nil, r.fail("last line does not end with a newline (truncated file?)")
		default:
			return nil, &LineError{Line: r.line, Err: fmt.Errorf("read export: %w", err)}
		}
	}
}

// decode decodes line b into v strictly and checks that v re-encodes to b.
func (r *Reader) decode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return r.fail("invalid JSON: " + err.Error())
	}
	r.buf.Reset()
	if err := r.enc.Encode(v); err != nil {
		return r.fail("re-encode: " + err.Error())
	}
	enc := r.buf.Bytes()
	if !bytes.Equal(enc[:len(enc)-1], b) {
		return r.fail("line is not in canonical form (field names, order, spacing or escapes differ from the format)")
	}
	return nil
}

func (r *Reader) fail(msg string) error {
	return &LineError{Line: r.line, Err: fmt.Errorf("%w: %s", ErrFormat, msg)}
}

// fastEntry recognises an entry line that is exactly in the writer's
// canonical form {"type":"entry","index":I,"style":S,"entry":"B"} with I
// and S canonical decimal integers (no sign other than '-', no leading
// zeros, in range) and B made of base64 alphabet characters only. Such a
// line decodes strictly to (I, S, B) and re-encodes to itself, so the
// strict decoder would accept it with the same values; anything else
// (ok false) goes through the strict decoder, which gives the same
// result and the same error messages as before.
func fastEntry(b []byte) (index int64, style int, b64 []byte, ok bool) {
	const (
		p1 = `{"type":"entry","index":`
		p2 = `,"style":`
		p3 = `,"entry":"`
		p4 = `"}`
	)
	if !bytes.HasPrefix(b, []byte(p1)) {
		return 0, 0, nil, false
	}
	b = b[len(p1):]
	index, b, ok = canonicalInt(b)
	if !ok || !bytes.HasPrefix(b, []byte(p2)) {
		return 0, 0, nil, false
	}
	b = b[len(p2):]
	s, b, ok := canonicalInt(b)
	if !ok || s != int64(int(s)) || !bytes.HasPrefix(b, []byte(p3)) {
		return 0, 0, nil, false
	}
	b = b[len(p3):]
	if len(b) < len(p4) || string(b[len(b)-len(p4):]) != p4 {
		return 0, 0, nil, false
	}
	b64 = b[:len(b)-len(p4)]
	for _, c := range b64 {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return 0, 0, nil, false
		}
	}
	return index, int(s), b64, true
}

// canonicalInt parses a leading JSON integer as encoding/json writes an
// int64 (strconv.AppendInt form) and returns the rest of b.
func canonicalInt(b []byte) (int64, []byte, bool) {
	n := 0
	if n < len(b) && b[n] == '-' {
		n++
	}
	d := n
	for n < len(b) && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	if n == d || n-d > 19 {
		return 0, nil, false
	}
	v, err := strconv.ParseInt(string(b[:n]), 10, 64)
	if err != nil || string(strconv.AppendInt(nil, v, 10)) != string(b[:n]) {
		return 0, nil, false
	}
	return v, b[n:], true
}
