package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// writePaper writes a closed export of one entry with a paper section.
func writePaper(t *testing.T, version int) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	steps := []error{
		w.Header(&Header{Version: version, ElectionID: "e", LogKey: "k", TreeSize: 1, Closed: true}),
		w.Manifest([]byte("{}")),
		w.Checkpoint(&Checkpoint{Size: 0, Note: []byte("n")}),
		w.Entry(&Entry{Index: 0, Bytes: []byte("x")}),
		w.Checkpoint(&Checkpoint{Size: 1, Note: []byte("n")}),
		w.Close(&Checkpoint{Size: 1, Note: []byte("c")}),
		w.Batch(&Batch{Bytes: []byte(`{"b":1}`), Note: []byte("signed")}),
		w.Batch(&Batch{Bytes: []byte(`{"b":2}`), Note: []byte("signed")}),
		w.PaperClose(&PaperClose{Bytes: []byte(`{"c":1}`), Note: []byte("signed")}),
		w.End(&End{Entries: 1, Checkpoints: 2, StyleCounts: []int64{1}}),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func readAll(s string) (kinds []Kind, err error) {
	r, err := NewReader(strings.NewReader(s))
	if err != nil {
		return nil, err
	}
	for {
		it, err := r.Next()
		if err == io.EOF {
			return kinds, nil
		}
		if err != nil {
			return kinds, err
		}
		kinds = append(kinds, it.Kind)
	}
}

func TestPaperSection(t *testing.T) {
	for _, v := range []int{Version3, PaperVersion} {
		testPaperSection(t, v)
	}
}

func testPaperSection(t *testing.T, version int) {
	good := writePaper(t, version)
	kinds, err := readAll(good)
	want := []Kind{KindCheckpoint, KindEntry, KindCheckpoint, KindClose, KindBatch, KindBatch, KindPaperClose, KindEnd}
	if err != nil || !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v, %v", kinds, err)
	}
	lines := strings.SplitAfter(good, "\n")
	// lines: 0 header, 1 manifest, 2 cp0, 3 entry, 4 cp1, 5 close, 6 batch, 7 batch, 8 paper close, 9 end, 10 "".
	j := func(is ...int) string {
		var out []string
		for _, i := range is {
			out = append(out, lines[i])
		}
		return strings.Join(out, "")
	}
	bad := map[string]string{
		"without paper":        strings.Replace(good, fmt.Sprintf(`"version":%d`, version), fmt.Sprintf(`"version":%d`, version-1), 1),
		"not closed":           strings.Replace(good, `"closed":true`, `"closed":false`, 1),
		"batch before entries": j(0, 1, 2, 6, 3, 4, 5, 7, 8, 9),
		"batch before close":   j(0, 1, 2, 3, 4, 6, 5, 7, 8, 9),
		"checkpoint after":     j(0, 1, 2, 3, 5, 6, 4, 7, 8, 9),
		"batch after close":    j(0, 1, 2, 3, 4, 5, 6, 8, 7, 9),
		"two closes":           j(0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9),
		"extra member":         strings.Replace(good, `"type":"batch"}`, `"type":"batch","x":1}`, 1),
		"bad base64":           strings.Replace(good, `"batch":"eyJiIjoxfQ=="`, `"batch":"eyJiIjoxfQ"`, 1),
		"empty note":           strings.Replace(good, `"note":"signed"`, `"note":""`, 1),
	}
	for name, s := range bad {
		if s == good {
			t.Fatalf("version %d, %s: no change", version, name)
		}
		if _, err := readAll(s); !errors.Is(err, ErrFormat) {
			t.Errorf("version %d, %s: %v", version, name, err)
		}
	}
	// The writer refuses paper lines in a version 2 export, or before the
	// close.
	var buf bytes.Buffer
	w2 := NewWriter(&buf)
	_ = w2.Header(&Header{ElectionID: "e", TreeSize: 0, Closed: true})
	_ = w2.Manifest([]byte("{}"))
	_ = w2.Close(&Checkpoint{Size: 0, Note: []byte("c")})
	if err := w2.Batch(&Batch{Bytes: []byte("{}"), Note: []byte("n")}); err == nil {
		t.Fatal("a batch in a version 2 export")
	}
	w3 := NewWriter(&buf)
	_ = w3.Header(&Header{Version: version, ElectionID: "e", TreeSize: 0, Closed: true})
	_ = w3.Manifest([]byte("{}"))
	if err := w3.Batch(&Batch{Bytes: []byte("{}"), Note: []byte("n")}); err == nil {
		t.Fatal("a batch before the close")
	}
}
