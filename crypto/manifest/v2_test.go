package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestManifestV2Vectors(t *testing.T) {
	var f manifestFile
	readJSON(t, "manifest_v2.json", &f)
	m, err := Parse(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Canonical()
	if err != nil || string(c) != f.Canonical {
		t.Fatalf("canonical differs: %v", err)
	}
	h, _ := m.Hash()
	if hex.EncodeToString(h[:]) != f.Hash || sha256.Sum256(c) != h {
		t.Fatal("hash")
	}
	if m.Version != Version2 || !m.HasRanked() || m.BallotSize() != f.BallotSize {
		t.Fatal("version, ranked or ballot size")
	}
	for i, s := range m.Shape() {
		if s != f.Shape[i] {
			t.Fatalf("shape %d: %+v, want %+v", i, s, f.Shape[i])
		}
	}
	q := m.Questions[1]
	if !q.Ranked() || q.Seats != 2 || q.Rule != "ers97" || m.Questions[0].Ranked() {
		t.Fatalf("ranked question: %+v", q)
	}
	// The ranked part's size is crypto/ranked's (§9.1 formula).
	n := len(q.Options)
	want := 39 + 128*n + 128*(2*n-q.Min-(n-q.Max)) + 256*(n-1) + 8 + 32*(5*n+9)
	if RankedSize(n, q.Min, q.Max) != want {
		t.Fatalf("ranked size %d, §9.1 says %d", RankedSize(n, q.Min, q.Max), want)
	}
	// The Welsh paper keeps the ids and the addresses, with Welsh labels.
	cy := m.Paper("cy")
	for i, pq := range cy.Questions {
		for j, o := range pq.Options {
			mo := m.Questions[i].Options[j]
			if o.ID != mo.ID || o.Address != mo.Address || o.Address == "" || o.Label == mo.Label {
				t.Fatalf("cy paper option %d.%d: %+v", i, j, o)
			}
		}
		if pq.Method != m.Questions[i].Method || pq.Seats != m.Questions[i].Seats {
			t.Fatal("cy paper changes the method")
		}
	}
	if m.Questions[0].Options[0].Label == cy.Questions[0].Options[0].Label {
		t.Fatal("Paper wrote into the manifest")
	}
	for _, v := range f.Invalid {
		if _, err := Parse([]byte(v.JSON)); err == nil {
			t.Errorf("%s accepted (%s)", v.Name, v.Reason)
		} else if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v is neither invalid nor malformed", v.Name, err)
		}
	}
}

// A version-1 manifest hashes exactly as before version 2: no version-2
// field appears in its canonical form, and the committed hash reproduces.
func TestManifestV1Unchanged(t *testing.T) {
	var f manifestFile
	readJSON(t, "manifest_v1.json", &f)
	m, err := Parse(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := m.Canonical()
	for _, k := range []string{`"method"`, `"seats"`, `"rule"`, `"address"`, `"ranked"`} {
		if strings.Contains(string(c), k) {
			t.Fatalf("version-1 canonical form has %s", k)
		}
	}
	if m.HasRanked() || m.BallotSize() != f.BallotSize {
		t.Fatal("version-1 ballot size changed")
	}
	h, _ := m.Hash()
	if hex.EncodeToString(h[:]) != f.Hash {
		t.Fatal("version-1 hash changed")
	}
}

// Each version-2 rule, one field at a time, on the Go type.
func TestManifestV2Rules(t *testing.T) {
	var f manifestFile
	readJSON(t, "manifest_v2.json", &f)
	base, err := Parse(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		mod         func(m *Manifest)
	}{
		{"meek is a rule", "", func(m *Manifest) { m.Questions[1].Rule = "meek" }},
		{"one seat", "", func(m *Manifest) { m.Questions[1].Seats = 1 }},
		{"version 2 without version-2 fields", "", func(m *Manifest) {
			m.Questions = m.Questions[:1]
			m.Questions[0].Options = []Option{{ID: "a", Label: "A"}, {ID: "b", Label: "B"}}
			m.Translations = nil
		}},
		{"ranked in version 1", "questions[1].method", func(m *Manifest) {
			m.Version = Version
			for i := range m.Questions {
				for j := range m.Questions[i].Options {
					m.Questions[i].Options[j].Address = ""
				}
			}
		}},
		{"address in version 1", "questions[0].options[0].address", func(m *Manifest) {
			m.Version = Version
			m.Questions = m.Questions[:1]
			m.Translations = nil
		}},
		{"ranked kind", "questions[1].method", func(m *Manifest) { m.Kind = "recognition" }},
		{"seats too many", "questions[1].seats", func(m *Manifest) { m.Questions[1].Seats = 5 }},
		{"seats negative", "questions[1].seats", func(m *Manifest) { m.Questions[1].Seats = -1 }},
		{"rule unknown", "questions[1].rule", func(m *Manifest) { m.Questions[1].Rule = "wigm" }},
		{"choose with seats", "questions[0]", func(m *Manifest) { m.Questions[0].Seats = 1 }},
		{"method unknown", "questions[0].method", func(m *Manifest) { m.Questions[0].Method = "approval" }},
		{"compact below 2^24 entitled", "", func(m *Manifest) {
			compact(m)
			m.Styles[0].Entitled = CompactBase - 1
		}},
		{"compact with 2^24 entitled", "questions[0].method", func(m *Manifest) {
			compact(m)
			m.Styles[len(m.Styles)-1].Entitled = CompactBase
		}},
		{"address not hex", "questions[1].options[2].address", func(m *Manifest) {
			m.Questions[1].Options[2].Address = strings.Repeat("g", 64)
		}},
		{"address in translation", "translations.cy.questions[0].options[0].address", func(m *Manifest) {
			m.Translations["cy"].Questions[0].Options[0].Address = m.Questions[0].Options[0].Address
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(f.Manifest) // a fresh copy
			if err != nil {
				t.Fatal(err)
			}
			tc.mod(m)
			err = m.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				c, err := m.Canonical()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Parse(c); err != nil {
					t.Fatalf("canonical form does not parse: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
		})
	}
	if err := base.Validate(); err != nil {
		t.Fatal("base changed", err)
	}
}

// compact makes m's first question a compact yes/no question (protocol 7).
func compact(m *Manifest) {
	q := &m.Questions[0]
	q.Method, q.Max, q.Min = MethodCompact, 1, 0
	q.Options = q.Options[:2]
	if t, ok := m.Translations["cy"]; ok {
		t.Questions[0].Options = t.Questions[0].Options[:2]
		m.Translations["cy"] = t
	}
}
