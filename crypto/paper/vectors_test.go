package paper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
	"github.com/unionvote/eballot/crypto/manifest"
)

type vectorFailure struct {
	Check string `json:"check"`
	Seq   int64  `json:"seq"`
	Style int    `json:"style"`
}

type vectorFile struct {
	Description string `json:"description"`
	Manifest    string `json:"manifest"`
	Cases       []struct {
		Name  string `json:"name"`
		Lines []struct {
			Kind  string `json:"kind"`
			Bytes string `json:"bytes"`
			Note  string `json:"note"`
		} `json:"lines"`
		Failures []vectorFailure `json:"failures"`
		Counted  int64           `json:"counted"`
		Closed   bool            `json:"closed"`
		Sums     []struct {
			Style   int             `json:"style"`
			Channel string          `json:"channel"`
			Totals  json.RawMessage `json:"totals"`
		} `json:"sums"`
	} `json:"cases"`
}

// The shared vector crypto/testdata/paper_v1.json (also run by the
// JavaScript verifier): every case gives the named failures and sums.
func TestVectors(t *testing.T) {
	var v vectorFile
	vectortest.Load(t, "paper_v1.json", &v)
	m, err := manifest.Parse([]byte(v.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) < 10 {
		t.Fatalf("%d cases", len(v.Cases))
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			ctr, err := NewCounter(m)
			if err != nil {
				t.Fatal(err)
			}
			var got []vectorFailure
			for _, l := range c.Lines {
				raw, err := base64.StdEncoding.DecodeString(l.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				var fs []Failure
				if l.Kind == "batch" {
					fs = ctr.Batch(raw, []byte(l.Note))
				} else {
					fs = ctr.Close(raw, []byte(l.Note))
				}
				for _, f := range fs {
					got = append(got, vectorFailure{f.Check, f.Seq, f.Style})
				}
			}
			closed, fs := ctr.Finish()
			for _, f := range fs {
				got = append(got, vectorFailure{f.Check, f.Seq, f.Style})
			}
			if !slices.Equal(got, c.Failures) && !(len(got) == 0 && len(c.Failures) == 0) {
				t.Fatalf("failures %v, want %v", got, c.Failures)
			}
			if closed != c.Closed || ctr.Counted != c.Counted {
				t.Fatalf("closed %v counted %d, want %v %d", closed, ctr.Counted, c.Closed, c.Counted)
			}
			for _, s := range c.Sums {
				var want bytes.Buffer
				if err := json.Compact(&want, s.Totals); err != nil {
					t.Fatal(err)
				}
				gotJ, _ := json.Marshal(ctr.Sums(s.Style, s.Channel))
				if string(gotJ) != want.String() {
					t.Fatalf("sums %d/%s: %s, want %s", s.Style, s.Channel, gotJ, want.String())
				}
			}
		})
	}
}
