package verify

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzParsePublishedCounts: the counts document decoder never panics; an
// accepted document re-encodes to one accepted with the same counts. Seeds:
// the tamper corpus's counts documents.
func FuzzParsePublishedCounts(f *testing.F) {
	b, err := os.ReadFile("../testdata/tamper_v2.json")
	if err != nil {
		f.Fatal(err)
	}
	var c struct {
		Bases map[string]struct{ Counts string } `json:"bases"`
		Cases []struct {
			Inputs map[string]json.RawMessage `json:"inputs"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		f.Fatal(err)
	}
	for _, b := range c.Bases {
		f.Add([]byte(b.Counts))
	}
	for _, cs := range c.Cases {
		var s string
		if json.Unmarshal(cs.Inputs["counts"], &s) == nil {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePublishedCounts(b)
		if err != nil {
			return
		}
		re, _ := json.Marshal(p)
		q, err := ParsePublishedCounts(re)
		if err != nil || len(q.Styles) != len(p.Styles) {
			t.Fatalf("re-encoded %s: %v", re, err)
		}
	})
}
