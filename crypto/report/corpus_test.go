package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/verify"
)

// corpusInputs is the JSON of a verifier's inputs in crypto/testdata/tamper_v2.json.
type corpusInputs struct {
	Export    *string  `json:"export"`
	ExportB64 *string  `json:"export_b64"`
	Issued    *[]int64 `json:"issued"`
	Counts    *string  `json:"counts"`
	Report    *string  `json:"report"`
	Signature *string  `json:"signature"`
	Partials  *string  `json:"partials"`
	Key       *string  `json:"key"`
	Expected  *struct {
		ElectionID   string `json:"election_id"`
		ManifestHash string `json:"manifest_hash"`
		FinalSize    *int64 `json:"final_size"`
		FinalRoot    string `json:"final_root"`
	} `json:"expected"`
}

type corpusEdit struct {
	Line int     `json:"line"`
	Op   string  `json:"op"`
	Text *string `json:"text"`
}

type corpusCase struct {
	Name        string                     `json:"name"`
	Base        string                     `json:"base"`
	Edits       []corpusEdit               `json:"edits"`
	ReportEdits []corpusEdit               `json:"report_edits"`
	Inputs      map[string]json.RawMessage `json:"inputs"`
	Expect      []string                   `json:"expect"`
	Limits      *[]string                  `json:"limits"`
}

type corpus struct {
	Checks []string                              `json:"checks"`
	Limits []string                              `json:"limits"`
	Bases  map[string]map[string]json.RawMessage `json:"bases"`
	Cases  []corpusCase                          `json:"cases"`
}

func loadCorpus(t testing.TB) *corpus {
	b, err := os.ReadFile("../testdata/tamper_v2.json")
	if err != nil {
		t.Fatalf("%v (make it with: go run ./crypto/internal/gencorpus)", err)
	}
	var c corpus
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// inputs resolves a case: its base's inputs, overridden by the case's
// (null removes), the export edited line by line.
func (c *corpus) inputs(t testing.TB, cs corpusCase) (Input, []byte) {
	m := map[string]json.RawMessage{}
	for k, v := range c.Bases[cs.Base] {
		m[k] = v
	}
	for k, v := range cs.Inputs {
		if string(v) == "null" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	raw, _ := json.Marshal(m)
	var in corpusInputs
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	var exp []byte
	switch {
	case in.ExportB64 != nil:
		exp, _ = base64.StdEncoding.DecodeString(*in.ExportB64)
	case in.Export != nil:
		exp = []byte(*in.Export)
	}
	exp = applyEdits(exp, cs.Edits)
	if in.Report != nil {
		in.Report = ptr(string(applyEdits([]byte(*in.Report), cs.ReportEdits)))
	}
	x := Input{Export: bytes.NewReader(exp)}
	if in.Issued != nil {
		x.Options.Issued = *in.Issued
	}
	if in.Counts != nil {
		x.Options.Published = []byte(*in.Counts)
	}
	if in.Report != nil {
		x.Report = []byte(*in.Report)
		if in.Signature != nil {
			x.Signature = []byte(*in.Signature)
		}
		if in.Partials != nil {
			x.Partials = []byte(*in.Partials)
		}
	}
	if in.Key != nil {
		x.Key = *in.Key
	}
	if e := in.Expected; e != nil {
		x.Options.Expected.ElectionID = e.ElectionID
		if e.ManifestHash != "" {
			b, _ := hex.DecodeString(e.ManifestHash)
			h := [32]byte(b)
			x.Options.Expected.ManifestHash = &h
		}
		if e.FinalSize != nil {
			r, _ := hex.DecodeString(e.FinalRoot)
			x.Options.Expected.Final = &receipt.Checkpoint{Size: *e.FinalSize, Root: [32]byte(r)}
		}
	}
	return x, exp
}

// TestCorpus: every case of the tamper corpus fails exactly the checks it
// names (and says exactly the limits it names); every honest election
// passes and counts as recorded. The browser verifier runs the same file
// (crypto/js/test/corpus.test.mjs).
func TestCorpus(t *testing.T) {
	c := loadCorpus(t)
	if !slices.Equal(c.Checks, verify.Checks) || !slices.Equal(c.Limits, verify.Limits) {
		t.Fatal("the corpus was made with another list of checks: go run ./crypto/internal/gencorpus")
	}
	covered := map[string]bool{}
	for _, cs := range c.Cases {
		t.Run(cs.Name, func(t *testing.T) {
			in, _ := c.inputs(t, cs)
			o, err := VerifyElection(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			got := o.Failed()
			if got == nil {
				got = []string{}
			}
			want := slices.Clone(cs.Expect)
			slices.SortFunc(want, func(a, b string) int { return slices.Index(verify.Checks, a) - slices.Index(verify.Checks, b) })
			if !slices.Equal(got, want) {
				t.Fatalf("failed checks %v, want %v\n%s", got, want, failures(o))
			}
			for _, f := range want {
				covered[f] = true
			}
			if cs.Limits != nil {
				var names []string
				for _, l := range o.Limits {
					names = append(names, l.Name)
				}
				ws := slices.Clone(*cs.Limits)
				slices.Sort(names)
				slices.Sort(ws)
				if !slices.Equal(names, ws) && !(len(names) == 0 && len(ws) == 0) {
					t.Fatalf("limits %v, want %v", names, ws)
				}
			}
		})
	}
	// Every named check has a case that fails it.
	for _, ch := range verify.Checks {
		if !covered[ch] {
			t.Errorf("no case of the corpus fails %s", ch)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// applyEdits edits a text line by line (crypto/internal/gencorpus Edit).
func applyEdits(text []byte, es []corpusEdit) []byte {
	if len(es) == 0 {
		return text
	}
	ls := strings.SplitAfter(string(text), "\n")
	ls = ls[:len(ls)-1]
	for _, e := range es {
		switch e.Op {
		case "replace":
			ls[e.Line] = *e.Text
		case "delete":
			ls = slices.Delete(ls, e.Line, e.Line+1)
		case "insert":
			ls = slices.Insert(ls, e.Line, *e.Text)
		}
	}
	return []byte(strings.Join(ls, ""))
}

func failures(o *Outcome) string {
	var s []string
	for _, f := range o.Failures {
		s = append(s, f.String())
	}
	return strings.Join(s, "\n")
}
