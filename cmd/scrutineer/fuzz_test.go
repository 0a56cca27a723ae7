package main

import (
	"bytes"
	"html/template"
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
