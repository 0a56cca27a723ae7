package export

import (
	"bytes"
	"encoding/json"
	"testing"
)

// strictEntry decodes an entry line the strict way (the Reader's decode:
// no unknown fields, and the value must re-encode to the same bytes).
func strictEntry(b []byte) (entryLine, bool) {
	var e entryLine
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if d.Decode(&e) != nil {
		return e, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(e) != nil || !bytes.Equal(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), b) {
		return e, false
	}
	return e, true
}

var entrySeeds = []string{
	`{"type":"entry","index":0,"style":0,"entry":"AAAA"}`,
	`{"type":"entry","index":123,"style":1,"entry":"q+/="}`,
	`{"type":"entry","index":-1,"style":-5,"entry":""}`,
	`{"type":"entry","index":9223372036854775807,"style":1023,"entry":"QUJD"}`,
	`{"type":"entry","index":9223372036854775808,"style":0,"entry":"QUJD"}`,
	`{"type":"entry","index":01,"style":0,"entry":"QUJD"}`,
	`{"type":"entry","index":-0,"style":0,"entry":"QUJD"}`,
	`{"type":"entry","index":1,"style":0,"entry":"QU\u004aD"}`,
	`{"type":"entry","index":1,"style":0,"entry":"QU<D"}`,
	`{"type":"entry","index":1,"style":0,"entry":"QUJD","x":1}`,
	`{"type":"entry","index":1, "style":0,"entry":"QUJD"}`,
	`{"type":"entry","index":1.0,"style":0,"entry":"QUJD"}`,
	`{"type":"entry","index":1e2,"style":0,"entry":"QUJD"}`,
	`{"type":"entry","style":0,"index":1,"entry":"QUJD"}`,
	`{"type":"entry","index":1,"style":0,"entry":"QUJD"}}`,
	`{"type":"entry","index":1,"style":0,"entry":"QUJD`,
	`{"type":"entry","index":1,"style":0,"entry":"QUJD\""}`,
}

func checkFastEntry(t *testing.T, line []byte) {
	idx, style, b64, ok := fastEntry(line)
	if !ok {
		return // the strict path decides
	}
	e, sok := strictEntry(line)
	if !sok {
		t.Fatalf("fast path accepts %q, the strict decoder does not", line)
	}
	if e.Type != "entry" || e.Index != idx || e.Style != style || e.Entry != string(b64) {
		t.Fatalf("fast path gives (%d, %d, %q), strict (%d, %d, %q)", idx, style, b64, e.Index, e.Style, e.Entry)
	}
}

func TestFastEntry(t *testing.T) {
	accepted := 0
	for _, s := range entrySeeds {
		checkFastEntry(t, []byte(s))
		if _, _, _, ok := fastEntry([]byte(s)); ok {
			accepted++
		}
	}
	if accepted != 4 {
		t.Fatalf("fast path accepted %d of the canonical seeds, want 4", accepted)
	}
}

func FuzzFastEntry(f *testing.F) {
	for _, s := range entrySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkFastEntry(t, line) })
}
