package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type canonFile struct {
	Valid []struct {
		Name      string `json:"name"`
		InputHex  string `json:"input_hex"`
		Input     string `json:"input"`
		Canonical string `json:"canonical"`
		CanonHex  string `json:"canonical_hex"`
	} `json:"valid"`
	Invalid []struct {
		Name     string `json:"name"`
		InputHex string `json:"input_hex"`
		Stage    string `json:"stage"`
		Reason   string `json:"reason"`
	} `json:"invalid"`
}

type manifestFile struct {
	Manifest   json.RawMessage `json:"manifest"`
	Canonical  string          `json:"canonical"`
	Hash       string          `json:"hash"`
	Shape      []QuestionShape `json:"shape"`
	BallotSize int             `json:"ballot_size"`
	Invalid    []struct {
		Name   string `json:"name"`
		JSON   string `json:"json"`
		Reason string `json:"reason"`
	} `json:"invalid"`
	Bilingual struct {
		Manifest  json.RawMessage `json:"manifest"`
		Canonical string          `json:"canonical"`
		Hash      string          `json:"hash"`
		Invalid   []struct {
			Name   string `json:"name"`
			JSON   string `json:"json"`
			Reason string `json:"reason"`
		} `json:"invalid"`
	} `json:"bilingual"`
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalVectors(t *testing.T) {
	var f canonFile
	readJSON(t, "canonical_json_v1.json", &f)
	if len(f.Valid) == 0 || len(f.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Valid {
		in, _ := hex.DecodeString(v.InputHex)
		if string(in) != v.Input {
			t.Fatalf("%s: input/input_hex differ", v.Name)
		}
		got, err := Canonicalize(in)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if string(got) != v.Canonical || hex.EncodeToString(got) != v.CanonHex {
			t.Fatalf("%s: got %s want %s", v.Name, got, v.Canonical)
		}
		// Idempotent.
		again, err := Canonicalize(got)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("%s: not idempotent", v.Name)
		}
	}
	for _, v := range f.Invalid {
		in, _ := hex.DecodeString(v.InputHex)
		if _, err := Canonicalize(in); !errors.Is(err, ErrNotCanonicalizable) {
			t.Fatalf("%s: %v", v.Name, err)
		}
	}
}

func TestManifestVectors(t *testing.T) {
	var f manifestFile
	readJSON(t, "manifest_v1.json", &f)
	m, err := Parse(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Canonical()
	if err != nil || string(c) != f.Canonical {
		t.Fatalf("canonical differs: %v", err)
	}
	h, _ := m.Hash()
	if hex.EncodeToString(h[:]) != f.Hash {
		t.Fatal("hash")
	}
	if sum := sha256.Sum256([]byte(f.Canonical)); sum != h {
		t.Fatal("hash is not SHA-256 of canonical")
	}
	if m.BallotSize() != f.BallotSize {
		t.Fatal("ballot size")
	}
	for i, s := range m.Shape() {
		if s != f.Shape[i] {
			t.Fatal("shape")
		}
	}
	// Helpers.
	i, s, err := m.Style("south-depot")
	if err != nil || i != 1 || s.Entitled != 1287 {
		t.Fatal("style lookup", err)
	}
	if _, _, err := m.Style("nowhere"); !errors.Is(err, ErrNoStyle) {
		t.Fatal("unknown style")
	}
	if der, err := m.IssuerKey(0); err != nil || len(der) < 290 {
		t.Fatal("issuer key", err)
	}
	if _, err := m.IssuerKey(2); !errors.Is(err, ErrNoStyle) {
		t.Fatal("issuer key index")
	}
	if k, err := m.ElectionKey(); err != nil || hex.EncodeToString(k.Bytes()) != m.Trustees.ElectionKey {
		t.Fatal("election key", err)
	}
	for _, v := range f.Invalid {
		if _, err := Parse([]byte(v.JSON)); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s (%s): %v", v.Name, v.Reason, err)
		}
	}
	// Any non-canonical presentation of the same object parses to the same
	// manifest and hash.
	var generic map[string]any
	_ = json.Unmarshal(f.Manifest, &generic)
	pretty, _ := json.MarshalIndent(generic, "", "   ")
	m2, err := Parse(pretty)
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := m2.Hash(); h2 != h {
		t.Fatal("hash depends on presentation")
	}
	if _, err := Parse(append(bytes.Repeat([]byte(" "), MaxSize), f.Manifest...)); !errors.Is(err, ErrMalformed) {
		t.Fatal("size bound")
	}
}

// TestBilingualVectors: a manifest with a Welsh translation (§3.1) parses
// to the vector's hash, gives the Welsh paper, and every broken
// translation is rejected.
func TestBilingualVectors(t *testing.T) {
	var f manifestFile
	readJSON(t, "manifest_v1.json", &f)
	b := f.Bilingual
	if len(b.Invalid) < 5 {
		t.Fatal("no bilingual vectors")
	}
	m, err := Parse(b.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := m.Canonical(); string(c) != b.Canonical {
		t.Fatal("canonical differs")
	}
	if h, _ := m.Hash(); hex.EncodeToString(h[:]) != b.Hash || b.Hash == f.Hash {
		t.Fatal("hash")
	}
	if !m.Bilingual() {
		t.Fatal("not bilingual")
	}
	en, cy := m.Paper("en"), m.Paper("cy")
	if en.Lang != "en" || en.Title != m.Title || en.Questions[0].Options[0].Label != "Yes" {
		t.Fatalf("English paper %+v", en)
	}
	tr := m.Translations["cy"]
	if cy.Lang != "cy" || cy.Title != tr.Title || cy.Questions[1].Text != tr.Questions[1].Text ||
		cy.Questions[0].Options[1].Label != tr.Questions[0].Options[1].Label || cy.Questions[0].Min != m.Questions[0].Min {
		t.Fatalf("Welsh paper %+v", cy)
	}
	for k, v := range m.Texts {
		want := v
		if w, ok := tr.Texts[k]; ok {
			want = w
		}
		if cy.Texts[k] != want {
			t.Fatalf("Welsh text %s = %q, want %q", k, cy.Texts[k], want)
		}
	}
	// The paper is a copy: changing it leaves the manifest alone.
	cy.Questions[0].Options[0].Label = "x"
	if m.Questions[0].Options[0].Label != "Yes" || m.Translations["cy"].Questions[0].Options[0].Label == "x" {
		t.Fatal("Paper shares the manifest's slices")
	}
	for _, v := range b.Invalid {
		if _, err := Parse([]byte(v.JSON)); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s (%s): %v", v.Name, v.Reason, err)
		}
	}
	// Without translations a manifest is English only.
	var plain manifestFile
	readJSON(t, "manifest_v1.json", &plain)
	p, err := Parse(plain.Manifest)
	if err != nil || p.Bilingual() || p.Paper("cy").Lang != "en" {
		t.Fatal("an English manifest gives a Welsh paper", err)
	}
}

func TestHashRejectsInvalidUTF8(t *testing.T) {
	m := &Manifest{Title: "\xff"}
	if _, err := m.Hash(); err == nil {
		t.Fatal("invalid UTF-8 hashed")
	}
}

func TestSortUTF16(t *testing.T) {
	// U+FF61 < U+1F600 in code points but not in UTF-16 (D83D < FF61).
	got, err := Canonicalize([]byte("{\"\uff61\":1,\"\U0001F600\":2}"))
	if err != nil || string(got) != "{\"\U0001F600\":2,\"\uff61\":1}" {
		t.Fatalf("%s %v", got, err)
	}
}

func FuzzCanonicalize(f *testing.F) {
	var cf canonFile
	readJSON(f, "canonical_json_v1.json", &cf)
	for _, v := range cf.Valid {
		b, _ := hex.DecodeString(v.InputHex)
		f.Add(b)
	}
	for _, v := range cf.Invalid {
		b, _ := hex.DecodeString(v.InputHex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			return
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON output %q", out)
		}
	})
}

func FuzzParse(f *testing.F) {
	var mf manifestFile
	readJSON(f, "manifest_v1.json", &mf)
	f.Add([]byte(mf.Manifest))
	f.Add([]byte(mf.Bilingual.Manifest))
	var m2 manifestFile
	readJSON(f, "manifest_v2.json", &m2)
	f.Add([]byte(m2.Manifest))
	for _, v := range m2.Invalid {
		f.Add([]byte(v.JSON))
	}
	for _, v := range append(mf.Invalid, mf.Bilingual.Invalid...) {
		if len(v.JSON) < 8192 {
			f.Add([]byte(v.JSON))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in)
		if err != nil {
			return
		}
		c, err := m.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(c)
		if err != nil {
			t.Fatal(err)
		}
		h1, _ := m.Hash()
		h2, _ := m2.Hash()
		if h1 != h2 {
			t.Fatal("hash unstable")
		}
	})
}

func BenchmarkCanonicalManifest(b *testing.B) {
	var mf manifestFile
	readJSON(b, "manifest_v1.json", &mf)
	m, err := Parse(mf.Manifest)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Hash(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	var mf manifestFile
	readJSON(b, "manifest_v1.json", &mf)
	b.SetBytes(int64(len(mf.Manifest)))
	for b.Loop() {
		if _, err := Canonicalize(mf.Manifest); err != nil {
			b.Fatal(err)
		}
	}
}
