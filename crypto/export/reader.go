package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Kind says which line an Item holds.
type Kind int

// Kinds of body lines.
const (
	KindCheckpoint Kind = iota + 1
	KindEntry
	KindEnd
	// KindClose is the close (version 2): the ledger's signed final
	// checkpoint, in Item.Checkpoint.
	KindClose
	// KindBatch and KindPaperClose: the paper section (version 3), after
	// the close, before the end.
	KindBatch
	KindPaperClose
)

// Item is one body line: exactly one of Checkpoint, Entry, End, Batch,
// PaperClose is set.
type Item struct {
	Kind       Kind
	Checkpoint *Checkpoint // KindCheckpoint and KindClose
	Entry      *Entry
	End        *End
	Batch      *Batch
	PaperClose *PaperClose
}

// Reader reads an export file strictly, streaming (see the package doc).
type Reader struct {
	br       *bufio.Reader
	codec    codec
	line     int64
	header   Header
	manifest []byte
	entries  int64
	cps      int64
	lastCP   int64
	closed   bool // the close line was read
	paper    int  // 0 no paper line yet, 1 batches, 2 after the paper close
	batches  int64
	done     bool
	err      error
}

// NewReader reads the header and manifest lines from r and returns a Reader
// positioned on the body. Errors are *LineError wrapping ErrFormat (or the
// I/O error).
func NewReader(r io.Reader) (*Reader, error) {
	x := &Reader{br: bufio.NewReaderSize(r, 256<<10), lastCP: -1}
	b, err := x.next()
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		return nil, x.fail(CheckEncoding, "the file starts with a byte-order mark")
	}
	// The version decides how the rest is read: find it (exact member
	// names, the last of duplicates, as JSON.parse does), then decode the
	// header strictly in that version's form.
	pm, ok := probe(b)
	if !ok {
		return nil, x.fail(CheckLine, "the first line is not a JSON object")
	}
	var typ, format string
	var version float64
	_ = json.Unmarshal(pm["type"], &typ)
	if typ != "header" {
		return nil, x.fail(CheckOrder, "the first line must be the header")
	}
	if json.Unmarshal(pm["format"], &format) != nil || format != Format {
		return nil, x.fail(CheckVersion, fmt.Sprintf("format %s is not %q", pm["format"], Format))
	}
	if json.Unmarshal(pm["version"], &version) != nil || version != float64(int(version)) {
		return nil, x.fail(CheckVersion, fmt.Sprintf("export version %s is not supported (this reader knows versions %d to %d)", pm["version"], MinVersion, MaxVersion))
	}
	if x.codec = codecFor(int(version)); x.codec == nil {
		return nil, x.fail(CheckVersion, fmt.Sprintf("export version %d is not supported (this reader knows versions %d to %d)", int(version), MinVersion, MaxVersion))
	}
	var h headerLine
	if err := x.decode(b, &h); err != nil {
		return nil, err
	}
	if h.Type != "header" || h.Format != Format || h.Version != int(version) {
		return nil, x.fail(CheckLine, "the header's members are not those of a header")
	}
	mh, err := decodeHash(h.ManifestHash)
	if err != nil {
		return nil, x.fail(CheckHeader, "manifest_hash: "+err.Error())
	}
	if h.TreeSize < 0 || h.TreeSize > MaxTreeSize {
		return nil, x.fail(CheckHeader, "tree_size out of range")
	}
	if h.ElectionID == "" || len(h.ElectionID) > 64 {
		return nil, x.fail(CheckHeader, "election_id must be 1–64 bytes")
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
		return nil, x.fail(CheckOrder, "the second line must be the manifest")
	}
	raw, ok := decodeBase64([]byte(m.Manifest), MaxLine)
	if !ok || len(raw) == 0 {
		return nil, x.fail(CheckManifestEncoding, "manifest is not canonical standard padded base64 of at least one byte")
	}
	x.manifest = raw
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
			r.err = r.fail(CheckEnd, "data after the end line")
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

// lineType returns the "type" of a body line: the prefix of the canonical
// form when it matches, else a lenient look (the strict decoding follows).
func (r *Reader) lineType(b []byte) string {
	if r.header.Version == 1 {
		for _, t := range []string{"entry", "checkpoint", "end"} {
			if bytes.HasPrefix(b, []byte(`{"type":"`+t+`",`)) {
				return t
			}
		}
		return ""
	}
	if bytes.HasPrefix(b, []byte(`{"entry":"`)) {
		return "entry"
	}
	var typ string
	if m, ok := probe(b); ok {
		_ = json.Unmarshal(m["type"], &typ)
	}
	return typ
}

// paperLine reads a batch or paper_close line: version 3 only, in a closed
// export, after the close; batches before the close of the paper count.
func (r *Reader) paperLine(b []byte) (*Item, error) {
	if !HasPaper(r.header.Version) {
		return nil, r.fail(CheckLine, fmt.Sprintf("a paper line in an export of version %d (paper lines are versions %d and %d)", r.header.Version, Version3, PaperVersion))
	}
	if !r.closed {
		return nil, r.fail(CheckOrder, "paper lines come after the close")
	}
	if r.paper == 2 {
		return nil, r.fail(CheckOrder, "only the end line may follow the paper close")
	}
	decode := func(b64, note string) ([]byte, []byte, error) {
		raw, ok := decodeBase64([]byte(b64), MaxPaper)
		if !ok || len(raw) == 0 {
			return nil, nil, r.fail(CheckPaperEncoding, fmt.Sprintf("paper line: not canonical standard padded base64 of 1 to %d bytes", MaxPaper))
		}
		if len(note) == 0 || len(note) > MaxNote {
			return nil, nil, r.fail(CheckPaperEncoding, fmt.Sprintf("paper line: note must be 1–%d bytes", MaxNote))
		}
		return raw, []byte(note), nil
	}
	var typ string
	if m, ok := probe(b); ok {
		_ = json.Unmarshal(m["type"], &typ)
	}
	if typ == "batch" {
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

// probe decodes a line as a JSON object with exact member names (the last
// of duplicate members wins): enough to dispatch on; the strict decoding of
// the line's version follows. ok is false when the line is not an object.
func probe(b []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func (r *Reader) body(b []byte) (*Item, error) {
	typ := r.lineType(b)
	paperLine := typ == "batch" || typ == "paper_close"
	if r.closed && typ != "end" && !(paperLine && HasPaper(r.header.Version)) {
		return nil, r.fail(CheckOrder, "only the end line may follow the close (and, in versions 3 and 5, paper lines)")
	}
	switch typ {
	case "batch", "paper_close":
		return r.paperLine(b)
	case "entry":
		var e entryHintsLine
		var b64, h64 []byte
		if idx, style, enc, hints, ok := r.fastEntry(b); ok {
			// The exact canonical form: the same values as the strict
			// decoder would give (see fastEntry); skip its round trip.
			e.Index, e.Style, b64, h64 = idx, style, enc, hints
		} else {
			if HasHints(r.header.Version) {
				if err := r.decode(b, &e); err != nil {
					return nil, err
				}
			} else {
				var l entryLine
				if err := r.decode(b, &l); err != nil {
					return nil, err
				}
				e.Type, e.Index, e.Style, e.Entry = l.Type, l.Index, l.Style, l.Entry
			}
			if e.Type != "entry" {
				return nil, r.fail(CheckLine, "not an entry line")
			}
			b64, h64 = []byte(e.Entry), []byte(e.Hints)
		}
		if e.Index != r.entries {
			return nil, r.fail(CheckOrder, fmt.Sprintf("entry index %d, want %d (entries must be in order without gaps)", e.Index, r.entries))
		}
		if e.Index >= r.header.TreeSize {
			return nil, r.fail(CheckOrder, fmt.Sprintf("entry %d beyond tree_size %d", e.Index, r.header.TreeSize))
		}
		if e.Style < 0 || e.Style >= MaxStyles {
			return nil, r.fail(CheckEntryEncoding, fmt.Sprintf("entry %d: style %d out of range", e.Index, e.Style))
		}
		raw, ok := decodeBase64(b64, MaxEntry)
		if !ok {
			return nil, r.fail(CheckEntryEncoding, fmt.Sprintf("entry %d: not canonical standard padded base64 of at most %d bytes", e.Index, MaxEntry))
		}
		var hints []byte
		if HasHints(r.header.Version) {
			// At most one 32-byte hint per 32 bytes of entry.
			if hints, ok = decodeBase64(h64, MaxEntry); !ok {
				return nil, r.fail(CheckEntryEncoding, fmt.Sprintf("entry %d: hints not canonical standard padded base64 of at most %d bytes", e.Index, MaxEntry))
			}
			if hints == nil {
				hints = []byte{}
			}
		}
		r.entries++
		return &Item{Kind: KindEntry, Entry: &Entry{Index: e.Index, Style: e.Style, Bytes: raw, Hints: hints}}, nil
	case "checkpoint", "close":
		var c checkpointLine
		if err := r.decode(b, &c); err != nil {
			return nil, err
		}
		kind, what := KindCheckpoint, "checkpoint"
		if c.Type == "close" {
			kind, what = KindClose, "close"
			switch {
			case !r.codec.closes():
				return nil, r.fail(CheckLine, "a close line in an export of version 1")
			case !r.header.Closed:
				return nil, r.fail(CheckOrder, "a close line in an export whose header says it is not closed")
			case r.entries != r.header.TreeSize || c.Size != r.entries:
				return nil, r.fail(CheckOrder, fmt.Sprintf("the close (size %d) must come after all %d entries and cover them", c.Size, r.header.TreeSize))
			}
		} else {
			if c.Size != r.entries {
				return nil, r.fail(CheckOrder, fmt.Sprintf("checkpoint of size %d after %d entries (a checkpoint must follow its last entry)", c.Size, r.entries))
			}
			if c.Size <= r.lastCP {
				return nil, r.fail(CheckOrder, fmt.Sprintf("checkpoint of size %d repeated", c.Size))
			}
		}
		root, err := decodeHash(c.Root)
		if err != nil {
			return nil, r.fail(CheckCheckpointEncoding, fmt.Sprintf("%s %d: root: %s", what, c.Size, err))
		}
		if len(c.Note) == 0 || len(c.Note) > MaxNote {
			return nil, r.fail(CheckCheckpointEncoding, fmt.Sprintf("%s %d: note must be 1–%d bytes", what, c.Size, MaxNote))
		}
		if kind == KindClose {
			r.closed = true
		} else {
			r.lastCP = c.Size
			r.cps++
		}
		return &Item{Kind: kind, Checkpoint: &Checkpoint{Size: c.Size, Root: root, Note: []byte(c.Note)}}, nil
	case "end":
		var e endLine
		if err := r.decode(b, &e); err != nil {
			return nil, err
		}
		if r.codec.closes() && r.header.Closed && !r.closed {
			return nil, r.fail(CheckOrder, "the header says closed but there is no close line before the end")
		}
		if e.Entries != r.entries || r.entries != r.header.TreeSize {
			return nil, r.fail(CheckEndTotals, fmt.Sprintf("end says %d entries; the file has %d and the header %d", e.Entries, r.entries, r.header.TreeSize))
		}
		if e.Checkpoints != r.cps {
			return nil, r.fail(CheckEndTotals, fmt.Sprintf("end says %d checkpoints; the file has %d", e.Checkpoints, r.cps))
		}
		if len(e.StyleCounts) > MaxStyles {
			return nil, r.fail(CheckEndEncoding, "too many style_counts")
		}
		for _, n := range e.StyleCounts {
			if n < 0 {
				return nil, r.fail(CheckEndEncoding, "a negative style count")
			}
		}
		root, err := decodeHash(e.Root)
		if err != nil {
			return nil, r.fail(CheckEndEncoding, "end root: "+err.Error())
		}
		r.done = true
		return &Item{Kind: KindEnd, End: &End{Entries: e.Entries, Checkpoints: e.Checkpoints, StyleCounts: e.StyleCounts, Root: root}}, nil
	case "header", "manifest":
		return nil, r.fail(CheckOrder, "a second "+typ+" line")
	default:
		if err := r.decode(b, &struct{}{}); err != nil {
			return nil, err
		}
		return nil, r.fail(CheckLine, `the line is not a checkpoint, entry, close, batch, paper_close or end`)
	}
}

// next returns the next line without its "\n".
func (r *Reader) next() ([]byte, error) {
	r.line++
	var acc []byte
	for {
		b, err := r.br.ReadSlice('\n')
		if err == nil && acc == nil {
			return r.valid(b[:len(b)-1])
		}
		acc = append(acc, b...)
		if len(acc) > MaxLine+1 {
			return nil, r.fail(CheckEncoding, fmt.Sprintf("line longer than %d bytes", MaxLine))
		}
		switch {
		case err == nil:
			return r.valid(acc[:len(acc)-1])
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(acc) == 0:
			return nil, &LineError{Line: r.line, Check: CheckEnd, Err: fmt.Errorf("%w: file ends before the end line: %w", ErrFormat, io.ErrUnexpectedEOF)}
		case err == io.EOF:
			return nil, r.fail(CheckEncoding, "last line does not end with a newline (truncated file?)")
		default:
			return nil, &LineError{Line: r.line, Check: CheckEncoding, Err: fmt.Errorf("read export: %w", err)}
		}
	}
}

// valid checks that a line is UTF-8 (before any JSON decoding, which would
// replace invalid bytes rather than reject them).
func (r *Reader) valid(b []byte) ([]byte, error) {
	if !utf8.Valid(b) {
		return nil, r.fail(CheckEncoding, "the line is not UTF-8")
	}
	return b, nil
}

// decode decodes line b into v strictly in the file's version.
func (r *Reader) decode(b []byte, v any) error {
	if err := r.codec.decode(b, v); err != nil {
		return r.fail(CheckLine, err.Error())
	}
	return nil
}

func (r *Reader) fail(check, msg string) error {
	return &LineError{Line: r.line, Check: check, Err: fmt.Errorf("%w: %s", ErrFormat, msg)}
}

// fastEntry recognises an entry line that is exactly in the canonical form
// of the file's version — version 2 {"entry":"B","index":I,"style":S,
// "type":"entry"}, version 4 {"entry":"B","hints":"H","index":I,…},
// version 1 {"type":"entry","index":I,"style":S,"entry":"B"} — with I and S
// canonical decimal integers (no sign other than '-', no leading zeros, in
// range) and B and H made of base64 alphabet characters only. Such a line
// decodes strictly to (I, S, B, H) and re-encodes to itself, so the strict
// decoder would accept it with the same values; anything else (ok false)
// goes through the strict decoder, which gives the same result and the
// same error messages.
func (r *Reader) fastEntry(b []byte) (index int64, style int, b64, h64 []byte, ok bool) {
	if r.header.Version == 1 {
		index, style, b64, ok = fastEntryV1(b)
		return index, style, b64, nil, ok
	}
	const (
		p1 = `{"entry":"`
		ph = `","hints":"`
		p2 = `","index":`
		p3 = `,"style":`
		p4 = `,"type":"entry"}`
	)
	str := func(b []byte) ([]byte, []byte, bool) {
		q := bytes.IndexByte(b, '"')
		if q < 0 || !base64Alphabet(b[:q]) {
			return nil, nil, false
		}
		return b[:q], b[q:], true
	}
	if !bytes.HasPrefix(b, []byte(p1)) {
		return 0, 0, nil, nil, false
	}
	if b64, b, ok = str(b[len(p1):]); !ok {
		return 0, 0, nil, nil, false
	}
	if HasHints(r.header.Version) {
		if !bytes.HasPrefix(b, []byte(ph)) {
			return 0, 0, nil, nil, false
		}
		if h64, b, ok = str(b[len(ph):]); !ok {
			return 0, 0, nil, nil, false
		}
	}
	if !bytes.HasPrefix(b, []byte(p2)) {
		return 0, 0, nil, nil, false
	}
	index, b, ok = canonicalInt(b[len(p2):])
	if !ok || !bytes.HasPrefix(b, []byte(p3)) {
		return 0, 0, nil, nil, false
	}
	s, b, ok := canonicalInt(b[len(p3):])
	if !ok || s != int64(int(s)) || string(b) != p4 || !safe(index) || !safe(s) {
		return 0, 0, nil, nil, false
	}
	return index, int(s), b64, h64, true
}

// safe: |n| < 2^53, what canonical JSON (and JavaScript) represents.
func safe(n int64) bool { return n < 1<<53 && n > -(1<<53) }

func base64Alphabet(b []byte) bool {
	for _, c := range b {
		if !isBase64[c] {
			return false
		}
	}
	return true
}

// isBase64 marks the bytes of the standard base64 alphabet and '='.
var isBase64 = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()

func fastEntryV1(b []byte) (index int64, style int, b64 []byte, ok bool) {
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
	if !ok || s != int64(int(s)) || !bytes.HasPrefix(b, []byte(p3)) || !safe(index) || !safe(s) {
		return 0, 0, nil, false
	}
	b = b[len(p3):]
	if len(b) < len(p4) || string(b[len(b)-len(p4):]) != p4 {
		return 0, 0, nil, false
	}
	b64 = b[:len(b)-len(p4)]
	if !base64Alphabet(b64) {
		return 0, 0, nil, false
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
