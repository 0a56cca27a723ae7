package main

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

func FuzzParsePlan(f *testing.F) {
	f.Add([]byte(`{"version":1,"ceremony":"demo","threshold":2,"trustees":[{"index":1,"name":"a","recipient":"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"}]}`))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlan(b)
		if err != nil {
			return
		}
		if p.Threshold < 1 || p.Threshold > len(p.Trustees) {
			t.Fatal("accepted a bad threshold")
		}
	})
}

// FuzzParseReport: the result and report decoders never panic, and what they
// accept renders.
func FuzzParseReport(f *testing.F) {
	f.Add([]byte(`{"version":1,"result":{"styles":[],"aggregate":{}},"verification":{},"rejected_partials":[]}`))
	f.Add([]byte(`{"version":1,"result":{"styles":[{"questions":[{"yes_no":true}]}]},"statements":[{},{},{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if rf, err := parseResultFile(b); err == nil && rf.Result == nil {
			t.Fatal("nil result accepted")
		}
		r, err := parseReport(b)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		renderMarkdown(&buf, r)
		renderText(&buf, r.Result)
		if err := reportHTML.Execute(&buf, r); err != nil {
			if _, ok := err.(*template.Error); !ok {
				t.Fatal(err)
			}
		}
	})
}

// FuzzDecodeContest: the contest file decoder never panics, and what it
// accepts is a contest the count can use.
func FuzzDecodeContest(f *testing.F) {
	pub := `{"threshold":1,"election_key":"e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76","public_keys":["e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"]}`
	f.Add([]byte(`{"version":1,"manifest_hash":"` + strings.Repeat("ab", 32) + `","contest":0,"styles":1,"candidates":["a","b","c"],"min_ranked":1,"max_ranked":3,"seats":1,"rule":"ers97","trustees":` + pub + `,"ballots":["00"]}`))
	f.Add([]byte(`{"version":1,"rule":"meek","seats":5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		lc, err := decodeContest(bytes.NewReader(b))
		if err != nil {
			return
		}
		if lc.file.Seats < 1 || lc.file.Seats >= len(lc.file.Candidates) || lc.contest.Check() != nil || len(lc.ballots) != len(lc.file.Ballots) {
			t.Fatalf("accepted a contest the count cannot use: %+v", lc.file)
		}
	})
}
