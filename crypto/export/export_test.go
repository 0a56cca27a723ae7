package export_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/export"
)

// sample writes a small export of the given version (the bytes are not a
// valid election; the reader checks structure only).
func sample(t testing.TB, version int) []byte {
	var buf bytes.Buffer
	w := export.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	man := []byte(`{"election_id":"demo-2026","note":"<&> \u2014"}`)
	must(w.Header(&export.Header{Version: version, ElectionID: "demo-2026", ManifestHash: sha256.Sum256(man), LogKey: "eballot/demo+1a2b3c4d+AbC=", TreeSize: 3, Closed: true}))
	must(w.Manifest(man))
	must(w.Checkpoint(&export.Checkpoint{Size: 0, Note: []byte("eballot/demo-2026\n0\nroot=\n\n— eballot/demo sig\n")}))
	for i := range 3 {
		must(w.Entry(&export.Entry{Index: int64(i), Style: i % 2, Bytes: bytes.Repeat([]byte{byte(i)}, 400)}))
		if i == 1 {
			must(w.Checkpoint(&export.Checkpoint{Size: 2, Root: [32]byte{1}, Note: []byte("n<>&\"\\\n\u2028")}))
		}
	}
	must(w.Checkpoint(&export.Checkpoint{Size: 3, Root: [32]byte{2}, Note: []byte("n\n")}))
	if version != 1 {
		must(w.Close(&export.Checkpoint{Size: 3, Root: [32]byte{2}, Note: []byte("c\n")}))
	}
	must(w.End(&export.End{Entries: 3, Checkpoints: 3, StyleCounts: []int64{2, 1}, Root: [32]byte{2}}))
	return buf.Bytes()
}

// readAll reads an export and writes it back with the Writer.
func readAll(b []byte) ([]byte, error) {
	r, err := export.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := export.NewWriter(&buf)
	h := r.Header()
	if err := w.Header(&h); err != nil {
		return nil, err
	}
	if err := w.Manifest(r.Manifest()); err != nil {
		return nil, err
	}
	for {
		it, err := r.Next()
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		switch it.Kind {
		case export.KindCheckpoint:
			err = w.Checkpoint(it.Checkpoint)
		case export.KindClose:
			err = w.Close(it.Checkpoint)
		case export.KindEntry:
			err = w.Entry(it.Entry)
		case export.KindEnd:
			err = w.End(it.End)
		}
		if err != nil {
			return nil, err
		}
	}
}

func TestRoundTrip(t *testing.T) {
	b := sample(t, 0)
	// Version 4: canonical JSON (protocol §3): keys sorted, HTML characters,
	// U+2028 and non-ASCII literal.
	if !bytes.Contains(b, []byte(`{"note":"n<>&\"\\\n`+"\u2028"+`","root":"01`)) || !bytes.Contains(b, []byte("— eballot")) {
		t.Fatalf("not canonical JSON:\n%s", b)
	}
	if !bytes.HasPrefix(b, []byte(`{"closed":true,"election_id":"demo-2026","format":"eballot-export","log_key":"eballot/demo+1a2b3c4d+AbC=","manifest_hash":"`)) ||
		!bytes.Contains(b, []byte(`"tree_size":3,"type":"header","version":4}`)) {
		t.Fatalf("header:\n%s", b)
	}
	if !bytes.Contains(b, []byte(`{"note":"c\n","root":"02`)) || !bytes.Contains(b, []byte(`"size":3,"type":"close"}`+"\n"+`{"checkpoints":3,"entries":3,`)) {
		t.Fatalf("close:\n%s", b)
	}
	// Version 1, as written before version 2: encoding/json, members in
	// order, U+2028 escaped.
	b1 := sample(t, 1)
	if !bytes.HasPrefix(b1, []byte(`{"type":"header","format":"eballot-export","version":1,"election_id":"demo-2026","manifest_hash":"`)) ||
		!bytes.Contains(b1, []byte(`"note":"n<>&\"\\\n\u2028"`)) || bytes.Contains(b1, []byte(`"close"`)) {
		t.Fatalf("version 1:\n%s", b1)
	}
	// Entry lines carry their hints (none here: the bytes are no ballot);
	// version 2's do not.
	if !bytes.Contains(b, []byte(`"hints":"","index":1,`)) {
		t.Fatalf("version 4 entry without hints:\n%s", b)
	}
	b2 := sample(t, export.Version2)
	if bytes.Contains(b2, []byte(`"hints"`)) || !bytes.Contains(b2, []byte(`"version":2}`)) {
		t.Fatalf("version 2:\n%s", b2)
	}
	for _, in := range [][]byte{b, b1, b2} {
		got, err := readAll(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("round trip differs:\n%s\n%s", got, in)
		}
	}
}

func TestWriterOrder(t *testing.T) {
	var buf bytes.Buffer
	w := export.NewWriter(&buf)
	if err := w.Header(&export.Header{Version: 6}); err == nil {
		t.Fatal("wrote an unknown version")
	}
	w = export.NewWriter(&buf)
	_ = w.Header(&export.Header{Version: export.Version2, TreeSize: 1})
	_ = w.Manifest([]byte("{}"))
	if err := w.Entry(&export.Entry{Index: 0, Bytes: []byte{1}, Hints: []byte{}}); err == nil {
		t.Fatal("hints in a version 2 export")
	}
	w = export.NewWriter(&buf)
	_ = w.Header(&export.Header{TreeSize: 1, Closed: true})
	_ = w.Manifest([]byte("{}"))
	if err := w.Close(&export.Checkpoint{Size: 1}); err == nil {
		t.Fatal("close before the entries")
	}
	_ = w.Entry(&export.Entry{Index: 0, Bytes: []byte{1}})
	if err := w.End(&export.End{}); err == nil {
		t.Fatal("closed export ended without its close")
	}
	w = export.NewWriter(&buf)
	_ = w.Header(&export.Header{TreeSize: 0, Closed: false})
	_ = w.Manifest([]byte("{}"))
	if err := w.Close(&export.Checkpoint{Size: 0}); err == nil {
		t.Fatal("close in an open export")
	}
}

func TestReject(t *testing.T) {
	b := string(sample(t, 0))
	b1 := string(sample(t, 1))
	b2 := string(sample(t, export.Version2))
	lines := strings.SplitAfter(b, "\n")
	cases := map[string]struct {
		in    string
		line  int64
		check string
		want  string
	}{
		"empty":             {"", 1, export.CheckEnd, "file ends before the end line"},
		"no end":            {strings.Join(lines[:len(lines)-2], ""), 10, export.CheckEnd, "file ends before the end line"},
		"no newline":        {b[:len(b)-1], 10, export.CheckEncoding, "does not end with a newline"},
		"bom":               {"\ufeff" + b, 1, export.CheckEncoding, "byte-order mark"},
		"not utf-8":         {strings.Replace(b, "\u2028", "\xff", 1), 6, export.CheckEncoding, "not UTF-8"},
		"trailing":          {b + "{}\n", 11, export.CheckEnd, "data after the end line"},
		"space":             {strings.Replace(b, `"index":1,`, `"index": 1,`, 1), 5, export.CheckLine, "canonical"},
		"key order":         {strings.Replace(b, `{"closed":true,"election_id":"demo-2026",`, `{"election_id":"demo-2026","closed":true,`, 1), 1, export.CheckLine, "canonical"},
		"key case":          {strings.Replace(b, `"index":1,`, `"Index":1,`, 1), 5, export.CheckLine, "canonical"},
		"duplicate key":     {strings.Replace(b, `"index":1,`, `"index":1,"index":1,`, 1), 5, export.CheckLine, "duplicate"},
		"unknown field":     {strings.Replace(b, `"version":4}`, `"version":4,"zz":1}`, 1), 1, export.CheckLine, "unknown field"},
		"v4 no hints":       {strings.Replace(b, `"hints":"",`, ``, 1), 4, export.CheckLine, "members"},
		"v4 bad hints":      {strings.Replace(b, `"hints":"","index":1`, `"hints":"AA=","index":1`, 1), 5, export.CheckEntryEncoding, "hints not canonical"},
		"v2 with hints":     {strings.Replace(b2, `"index":1,`, `"hints":"","index":1,`, 1), 5, export.CheckLine, "unknown field"},
		"v2 as v4":          {strings.Replace(b2, `"version":2}`, `"version":4}`, 1), 4, export.CheckLine, "members"},
		"missing field":     {strings.Replace(b, `"closed":true,`, ``, 1), 1, export.CheckLine, "members"},
		"gap":               {strings.Replace(b, `"index":1,`, `"index":2,`, 1), 5, export.CheckOrder, "entry index 2, want 1"},
		"checkpoint place":  {strings.Replace(b, `"size":2,`, `"size":1,`, 1), 6, export.CheckOrder, "checkpoint of size 1 after 2 entries"},
		"bad base64":        {strings.Replace(b, `{"entry":"AQEB`, `{"entry":"AQE!`, 1), 5, export.CheckEntryEncoding, "base64"},
		"base64 newline":    {strings.Replace(b, `{"entry":"AQEB`, `{"entry":"AQEB\n`, 1), 5, export.CheckEntryEncoding, "base64"},
		"uppercase hex":     {strings.Replace(b, `"root":"01`, `"root":"0A`, 1), 6, export.CheckCheckpointEncoding, "hex"},
		"end count":         {strings.Replace(b, `"entries":3`, `"entries":4`, 1), 10, export.CheckEndTotals, "end says 4 entries"},
		"version":           {strings.Replace(b, `"version":4`, `"version":6`, 1), 1, export.CheckVersion, "export version 6 is not supported"},
		"format":            {strings.Replace(b, `"eballot-export"`, `"eballot-exporT"`, 1), 1, export.CheckVersion, "format"},
		"second header":     {lines[0] + b, 2, export.CheckLine, "unknown field"},
		"header twice":      {strings.Replace(b, lines[2], lines[2]+lines[0], 1), 4, export.CheckOrder, "second header"},
		"no close":          {strings.Replace(b, lines[8], "", 1), 9, export.CheckOrder, "no close line"},
		"open with close":   {strings.Replace(b, `"closed":true`, `"closed":false`, 1), 9, export.CheckOrder, "not closed"},
		"close twice":       {strings.Replace(b, lines[8], lines[8]+lines[8], 1), 10, export.CheckOrder, "only the end line may follow the close"},
		"entry after close": {strings.Replace(b, lines[8], lines[8]+lines[4], 1), 10, export.CheckOrder, "only the end line"},
		"negative count":    {strings.Replace(b, `"style_counts":[2,1]`, `"style_counts":[-2,1]`, 1), 10, export.CheckEndEncoding, "negative"},
		"v1 space":          {strings.Replace(b1, `"type":"entry","index":1,`, `"type":"entry", "index":1,`, 1), 5, export.CheckLine, "not in canonical form"},
		"v1 key case":       {strings.Replace(b1, `"index":1,`, `"Index":1,`, 1), 5, export.CheckLine, "not in canonical form"},
		"v1 close":          {strings.Replace(b1, `{"type":"end"`, `{"type":"close","size":3,"root":"`+strings.Repeat("0", 64)+`","note":"c\n"}`+"\n"+`{"type":"end"`, 1), 9, export.CheckLine, "unknown field"},
		"v1 escaped":        {strings.Replace(b1, `n<>&`, `n\u003c>&`, 1), 6, export.CheckLine, "not in canonical form"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := readAll([]byte(c.in))
			var le *export.LineError
			if !errors.As(err, &le) || !errors.Is(err, export.ErrFormat) || le.Line != c.line || le.Check != c.check || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (check %v), want line %d %s %q", err, le, c.line, c.check, c.want)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	b := sample(t, 0)
	long := strings.Replace(string(b), `"entry":"AQEB`, `"entry":"`+strings.Repeat("A", export.MaxLine)+`AQEB`, 1)
	if _, err := readAll([]byte(long)); err == nil || !strings.Contains(err.Error(), "line longer than") {
		t.Fatalf("got %v", err)
	}
}

// FuzzReader: the reader never panics, and whatever it accepts the writer
// writes back byte for byte.
func FuzzReader(f *testing.F) {
	for _, v := range []int{1, 2, 4} {
		b := sample(f, v)
		f.Add(b)
		lines := bytes.SplitAfter(b, []byte("\n"))
		f.Add(bytes.Join(lines[:4], nil))
	}
	f.Add([]byte(`{"type":"header"}` + "\n"))
	f.Add([]byte("\ufeff" + `{"format":"eballot-export","type":"header","version":2}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := readAll(in)
		if err != nil {
			return
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("accepted input does not round-trip:\n%q\n%q", in, got)
		}
	})
}
