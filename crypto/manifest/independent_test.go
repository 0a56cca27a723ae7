package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var updateIndependent = flag.Bool("update-independent", false, "rewrite ../testdata/manifest_independent_v1.json from manifest_v2.json")

// independentFile is crypto/testdata/manifest_independent_v1.json: the
// union election of manifest_v2.json naming its s.51A independent person
// and the trustee whose share the count needs (protocol 7), and manifests
// that must be refused. Go (here) and JavaScript
// (crypto/js/test/vectors.test.mjs) read it.
type independentFile struct {
	Description string            `json:"description"`
	Manifest    json.RawMessage   `json:"manifest"`
	Canonical   string            `json:"canonical"`
	Hash        string            `json:"hash"`
	Invalid     []manifestInvalid `json:"invalid"`
}

type manifestInvalid struct {
	Name   string `json:"name"`
	JSON   string `json:"json"`
	Reason string `json:"reason"`
}

// makeIndependentFile builds the vector from manifest_v2.json.
func makeIndependentFile(t *testing.T) []byte {
	var v2 manifestFile
	readJSON(t, "manifest_v2.json", &v2)
	m, err := Parse(v2.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	m.IndependentPerson = &IndependentPerson{Name: "Ruth Jones, Independent Counts Ltd", Trustee: 2}
	c, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	h, _ := m.Hash()
	f := independentFile{
		Description: "docs/protocol.md §3, independent_person (protocol 7): the union election of manifest_v2.json naming the independent person appointed under TULRCA s.51A and the trustee whose key share the count needs (2). canonical and hash as in manifest_v2.json. invalid: manifest JSON texts that Parse MUST reject, with the reason.",
		Manifest:    c, Canonical: string(c), Hash: hex.EncodeToString(h[:])}
	mut := func(name, reason string, fn func(o map[string]any)) {
		var o map[string]any
		if err := json.Unmarshal(c, &o); err != nil {
			t.Fatal(err)
		}
		fn(o)
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		f.Invalid = append(f.Invalid, manifestInvalid{name, string(b), reason})
	}
	ip := func(o map[string]any) map[string]any { return o["independent_person"].(map[string]any) }
	mut("null", "omitted when absent, never null", func(o map[string]any) { o["independent_person"] = nil })
	mut("empty name", "name is 1–512 bytes", func(o map[string]any) { ip(o)["name"] = "" })
	mut("long name", "name is 1–512 bytes", func(o map[string]any) { ip(o)["name"] = strings.Repeat("x", 513) })
	mut("no trustee", "trustee is required (0: their share is not required)", func(o map[string]any) { delete(ip(o), "trustee") })
	mut("trustee beyond the trustees", "trustee ≤ len(trustees.public_keys)", func(o map[string]any) { ip(o)["trustee"] = 4 })
	mut("negative trustee", "trustee ≥ 0", func(o map[string]any) { ip(o)["trustee"] = -1 })
	mut("trustee as text", "trustee is an integer", func(o map[string]any) { ip(o)["trustee"] = "2" })
	mut("unknown member", "no other member", func(o map[string]any) { ip(o)["organisation"] = "Independent Counts Ltd" })
	mut("industrial action", "no independent person for Part V ballots", func(o map[string]any) {
		// Without the ranked question (union_election only) and with a regime.
		o["kind"] = "industrial_action"
		o["questions"] = o["questions"].([]any)[:1]
		tr := o["translations"].(map[string]any)["cy"].(map[string]any)
		tr["questions"] = tr["questions"].([]any)[:1]
		o["regime"] = map[string]any{"id": "tulrca-2016", "name": "TULRCA 1992 as amended 2016", "turnout_threshold": true,
			"support_threshold": false, "mandate_months": 6, "code_of_practice": "2017"}
	})
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestIndependentPersonVectors: the manifest with independent_person
// parses, re-encodes to its canonical form and hash (which differ from
// the same manifest without it), names the required trustee, and every
// invalid one is refused as invalid or malformed.
func TestIndependentPersonVectors(t *testing.T) {
	want := makeIndependentFile(t)
	const path = "../testdata/manifest_independent_v1.json"
	if *updateIndependent {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what this code makes (run with -update-independent if on purpose)", path)
	}
	var f independentFile
	readJSON(t, "manifest_independent_v1.json", &f)
	m, err := Parse(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := m.Canonical()
	h, _ := m.Hash()
	if string(c) != f.Canonical || hex.EncodeToString(h[:]) != f.Hash {
		t.Fatal("canonical form or hash differs")
	}
	if m.RequiredTrustee() != 2 || m.IndependentPerson.Name != "Ruth Jones, Independent Counts Ltd" {
		t.Fatalf("independent person: %+v", m.IndependentPerson)
	}
	var v2 manifestFile
	readJSON(t, "manifest_v2.json", &v2)
	if f.Hash == v2.Hash {
		t.Fatal("the independent person is not bound in the hash")
	}
	if m2, _ := Parse(v2.Manifest); m2.RequiredTrustee() != 0 || m2.IndependentPerson != nil {
		t.Fatal("a manifest without independent_person requires a trustee")
	}
	for _, iv := range f.Invalid {
		_, err := Parse([]byte(iv.JSON))
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s (%s): %v", iv.Name, iv.Reason, err)
		}
	}
}
