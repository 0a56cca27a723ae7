package export

import (
	"testing"
)

// strictEntry decodes an entry line the strict way of the version (the
// Reader's decode).
func strictEntry(version int, b []byte) (entryHintsLine, bool) {
	if HasHints(version) {
		var e entryHintsLine
		return e, codecFor(version).decode(b, &e) == nil
	}
	var e entryLine
	if codecFor(version).decode(b, &e) != nil {
		return entryHintsLine{}, false
	}
	return entryHintsLine{Type: e.Type, Index: e.Index, Style: e.Style, Entry: e.Entry}, true
}

var entrySeeds = []string{
	`{"type":"entry","index":0,"style":0,"entry":"AAAA"}`,
	`{"type":"entry","index":123,"style":1,"entry":"q+/="}`,
	`{"type":"entry","index":-1,"style":-5,"entry":""}`,
	`{"type":"entry","index":9007199254740991,"style":1023,"entry":"QUJD"}`,
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

var entrySeedsV2 = []string{
	`{"entry":"AAAA","index":0,"style":0,"type":"entry"}`,
	`{"entry":"q+/=","index":123,"style":1,"type":"entry"}`,
	`{"entry":"","index":-1,"style":-5,"type":"entry"}`,
	`{"entry":"QUJD","index":9007199254740991,"style":1023,"type":"entry"}`,
	`{"entry":"QUJD","index":9007199254740992,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","index":01,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","index":-0,"style":0,"type":"entry"}`,
	`{"entry":"QU\u004aD","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QU<D","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","index":1,"style":0,"type":"entry","x":1}`,
	`{"entry":"QUJD","index":1, "style":0,"type":"entry"}`,
	`{"entry":"QUJD","index":1.0,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","style":0,"index":1,"type":"entry"}`,
	`{"entry":"QUJD","index":1,"style":0,"type":"entry"}}`,
	`{"entry":"QUJD","index":1,"style":0,"type":"Entry"}`,
	`{"entry":"QUJD\"","index":1,"style":0,"type":"entry"}`,
}

var entrySeedsV4 = []string{
	`{"entry":"AAAA","hints":"","index":0,"style":0,"type":"entry"}`,
	`{"entry":"q+/=","hints":"QUJD","index":123,"style":1,"type":"entry"}`,
	`{"entry":"","hints":"q+/=","index":-1,"style":-5,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AAAA","index":9007199254740991,"style":1023,"type":"entry"}`,
	`{"entry":"QUJD","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AA\u0041A","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AA<A","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AAAA","index":01,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AAAA","index":1,"style":0,"type":"entry","x":1}`,
	`{"entry":"QUJD","hints":"AAAA", "index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AAAA"","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","Hints":"AAAA","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","hints":"AAAA","hints":"AAAA","index":1,"style":0,"type":"entry"}`,
	`{"entry":"QUJD","index":1,"hints":"AAAA","style":0,"type":"entry"}`,
}

func checkFastEntry(t *testing.T, version int, line []byte) {
	r := &Reader{header: Header{Version: version}}
	idx, style, b64, h64, ok := r.fastEntry(line)
	if !ok {
		return // the strict path decides
	}
	e, sok := strictEntry(version, line)
	if !sok {
		t.Fatalf("fast path accepts %q, the strict decoder does not", line)
	}
	if e.Type != "entry" || e.Index != idx || e.Style != style || e.Entry != string(b64) || e.Hints != string(h64) {
		t.Fatalf("fast path gives (%d, %d, %q, %q), strict (%d, %d, %q, %q)", idx, style, b64, h64, e.Index, e.Style, e.Entry, e.Hints)
	}
}

func TestFastEntry(t *testing.T) {
	for version, seeds := range map[int][]string{1: entrySeeds, 2: entrySeedsV2, 4: entrySeedsV4} {
		r := &Reader{header: Header{Version: version}}
		accepted := 0
		for _, s := range seeds {
			checkFastEntry(t, version, []byte(s))
			if _, _, _, _, ok := r.fastEntry([]byte(s)); ok {
				accepted++
			}
		}
		if accepted != 4 {
			t.Fatalf("version %d: fast path accepted %d of the canonical seeds, want 4", version, accepted)
		}
	}
}

func FuzzFastEntry(f *testing.F) {
	for _, s := range entrySeeds {
		f.Add(1, []byte(s))
	}
	for _, s := range entrySeedsV2 {
		f.Add(2, []byte(s))
	}
	for _, s := range entrySeedsV4 {
		f.Add(4, []byte(s))
	}
	f.Fuzz(func(t *testing.T, version int, line []byte) {
		if version != 1 && version != 2 && version != 4 {
			return
		}
		checkFastEntry(t, version, line)
	})
}
