package export

import (
	"bytes"
	"errors"
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
	good := writePaper(t, PaperVersion)
	kinds, err := readAll(good)
	want := []Kind{KindCheckpoint, KindEntry, KindCheckpoint, KindBatch, KindBatch, KindPaperClose, KindEnd}
	if err != nil || !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v, %v", kinds, err)
	}
	lines := strings.SplitAfter(good, "\n")
	// lines: 0 header, 1 manifest, 2 cp0, 3 entry, 4 cp1, 5 batch, 6 batch, 7 close, 8 end, 9 "".
	bad := map[string]string{
		"version 1 with paper": strings.Replace(good, `"version":3`, `"version":1`, 1),
		"not closed":           strings.Replace(good, `"closed":true`, `"closed":false`, 1),
		"batch before entries": strings.Join([]string{lines[0], lines[1], lines[2], lines[5], lines[3], lines[4], lines[6], lines[7], lines[8]}, ""),
		"checkpoint after":     strings.Join([]string{lines[0], lines[1], lines[2], lines[3], lines[5], lines[4], lines[6], lines[7], lines[8]}, ""),
		"batch after close":    strings.Join([]string{lines[0], lines[1], lines[2], lines[3], lines[4], lines[5], lines[7], lines[6], lines[8]}, ""),
		"two closes":           strings.Join([]string{lines[0], lines[1], lines[2], lines[3], lines[4], lines[5], lines[7], lines[7], lines[8]}, ""),
		"extra member":         strings.Replace(good, `{"type":"batch",`, `{"type":"batch","x":1,`, 1),
		"bad base64":           strings.Replace(good, `"batch":"eyJiIjoxfQ=="`, `"batch":"eyJiIjoxfQ"`, 1),
		"empty note":           strings.Replace(good, `"note":"signed"`, `"note":""`, 1),
	}
	for name, s := range bad {
		if s == good {
			t.Fatalf("%s: no change", name)
		}
		if _, err := readAll(s); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The writer refuses paper lines in a version 1 or open export.
	var buf bytes.Buffer
	w1 := NewWriter(&buf)
	_ = w1.Header(&Header{ElectionID: "e", TreeSize: 0, Closed: true})
	_ = w1.Manifest([]byte("{}"))
	if err := w1.Batch(&Batch{Bytes: []byte("{}"), Note: []byte("n")}); err == nil {
		t.Fatal("a batch in a version 1 export")
	}
}
