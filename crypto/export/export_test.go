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

// sample writes a small export (the bytes are not a valid election; the
// reader checks structure only).
func sample(t testing.TB) []byte {
	var buf bytes.Buffer
	w := export.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	man := []byte(`{"election_id":"demo-2026","note":"<&> \u2014"}`)
	must(w.Header(&export.Header{ElectionID: "demo-2026", ManifestHash: sha256.Sum256(man), LogKey: "eballot/demo+1a2b3c4d+AbC=", TreeSize: 3, Closed: true}))
	must(w.Manifest(man))
	must(w.Checkpoint(&export.Checkpoint{Size: 0, Note: []byte("eballot/demo-2026\n0\nroot=\n\n— eballot/demo sig\n")}))
	for i := range 3 {
		must(w.Entry(&export.Entry{Index: int64(i), Style: i % 2, Bytes: bytes.Repeat([]byte{byte(i)}, 400)}))
		if i == 1 {
			must(w.Checkpoint(&export.Checkpoint{Size: 2, Root: [32]byte{1}, Note: []byte("n<>&\"\\\n")}))
		}
	}
	must(w.Checkpoint(&export.Checkpoint{Size: 3, Root: [32]byte{2}, Note: []byte("n\n")}))
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
	b := sample(t)
	// The ledger's bytes: HTML characters and non-ASCII are not escaped.
	if !bytes.Contains(b, []byte(`"note":"n<>&\"\\\n"`)) || !bytes.Contains(b, []byte("— eballot")) {
		t.Fatalf("escaping differs from the ledger writer:\n%s", b)
	}
	if !bytes.HasPrefix(b, []byte(`{"type":"header","format":"eballot-export","version":1,"election_id":"demo-2026","manifest_hash":"`)) {
		t.Fatalf("header:\n%s", b)
	}
	got, err := readAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Fatalf("round trip differs:\n%s\n%s", got, b)
	}
}

func TestReject(t *testing.T) {
	b := sample(t)
	lines := strings.SplitAfter(string(b), "\n")
	cases := map[string]struct {
		in   string
		line int64
		want string
	}{
		"empty":            {"", 1, "file ends before the end line"},
		"no end":           {strings.Join(lines[:len(lines)-2], ""), 9, "file ends before the end line"},
		"no newline":       {string(b[:len(b)-1]), 9, "does not end with a newline"},
		"trailing":         {string(b) + "{}\n", 10, "data after the end line"},
		"space":            {strings.Replace(string(b), `"type":"entry","index":1,`, `"type":"entry", "index":1,`, 1), 5, "not in canonical form"},
		"key case":         {strings.Replace(string(b), `"index":1,`, `"Index":1,`, 1), 5, "not in canonical form"},
		"unknown field":    {strings.Replace(string(b), `"closed":true}`, `"closed":true,"x":1}`, 1), 1, "unknown field"},
		"gap":              {strings.Replace(string(b), `"index":1,`, `"index":2,`, 1), 5, "entry index 2, want 1"},
		"checkpoint place": {strings.Replace(string(b), `"size":2,`, `"size":1,`, 1), 6, "checkpoint of size 1 after 2 entries"},
		"bad base64":       {strings.Replace(string(b), `"entry":"AQEB`, `"entry":"AQE!`, 1), 5, "base64"},
		"uppercase hex":    {strings.Replace(string(b), `"root":"01`, `"root":"0A`, 1), 6, "hex"},
		"end count":        {strings.Replace(string(b), `"entries":3`, `"entries":4`, 1), 9, "end says 4 entries"},
		"version":          {strings.Replace(string(b), `"version":1`, `"version":2`, 1), 1, "unsupported format"},
		"second header":    {lines[0] + string(b), 2, "unknown field"},
		"escaped slash":    {strings.Replace(string(b), `n<>&`, `n\u003c>&`, 1), 6, "not in canonical form"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := readAll([]byte(c.in))
			var le *export.LineError
			if !errors.As(err, &le) || !errors.Is(err, export.ErrFormat) || le.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want line %d %q", err, c.line, c.want)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	b := sample(t)
	long := strings.Replace(string(b), `"entry":"AQEB`, `"entry":"`+strings.Repeat("A", export.MaxLine)+`AQEB`, 1)
	if _, err := readAll([]byte(long)); err == nil || !strings.Contains(err.Error(), "line longer than") {
		t.Fatalf("got %v", err)
	}
}

// FuzzReader: the reader never panics, and whatever it accepts the writer
// writes back byte for byte.
func FuzzReader(f *testing.F) {
	b := sample(f)
	f.Add(b)
	lines := bytes.SplitAfter(b, []byte("\n"))
	f.Add(bytes.Join(lines[:4], nil))
	f.Add([]byte(`{"type":"header"}` + "\n"))
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
