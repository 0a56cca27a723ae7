package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log"

	"github.com/unionvote/eballot/crypto/manifest"
)

// ---- manifest version 2 (ranked questions, election addresses) ----

type manifest2File struct {
	Description string                   `json:"description"`
	Manifest    json.RawMessage          `json:"manifest"`
	Canonical   string                   `json:"canonical"`
	Hash        string                   `json:"hash"`
	Shape       []manifest.QuestionShape `json:"shape"`
	BallotSize  int                      `json:"ballot_size"`
	Invalid     []manifestInvalid        `json:"invalid"`
}

// addressHash stands in for the SHA-256 of a candidate's election address
// (s.48): the vectors only exercise the field's format.
func addressHash(name string) string {
	h := sha256.Sum256([]byte("eballot test vectors / election address / " + name))
	return hex.EncodeToString(h[:])
}

// testManifest2 is a union election (version 2) on the keys of m: a choose
// question with election addresses, and a ranked (STV) question of five
// candidates for two seats, with a Welsh translation.
func testManifest2(m *manifest.Manifest) *manifest.Manifest {
	cand := func(ids ...string) []manifest.Option {
		var os []manifest.Option
		for _, id := range ids {
			os = append(os, manifest.Option{ID: id, Label: "Candidate " + id, Address: addressHash(id)})
		}
		return os
	}
	labels := func(os []manifest.Option, prefix string) []manifest.Option {
		var out []manifest.Option
		for _, o := range os {
			out = append(out, manifest.Option{ID: o.ID, Label: prefix + o.ID})
		}
		return out
	}
	w := &manifest.Manifest{
		Version:    manifest.Version2,
		ElectionID: "unite-2027-executive",
		Kind:       "union_election",
		Title:      "Election of the general secretary and executive — 2027",
		OpensAt:    "2027-03-01T09:00:00Z",
		ClosesAt:   "2027-03-22T17:00:00Z",
		Texts:      map[string]string{"scrutineer": "Electoral Reform Services", "independent_person": "Electoral Reform Services"},
		Questions: []manifest.Question{
			{ID: "general-secretary", Text: "Vote for one candidate for general secretary.", Min: 0, Max: 1,
				Options: cand("ahmed", "brown", "cole")},
			{ID: "executive", Text: "Number the candidates in the order of your choice (1, 2, 3 …) for two seats on the executive.",
				Min: 1, Max: 5, Method: manifest.MethodRanked, Seats: 2, Rule: "ers97",
				Options: cand("davies", "evans", "fox", "green", "hughes")},
		},
		Styles:   m.Styles[:1],
		Trustees: m.Trustees,
		LogKey:   m.LogKey,
	}
	w.Translations = map[string]manifest.Translation{"cy": {
		Title: "Ethol yr ysgrifennydd cyffredinol a'r pwyllgor gwaith — 2027",
		Texts: map[string]string{},
		Questions: []manifest.TranslatedQuestion{
			{ID: "general-secretary", Text: "Pleidleisiwch dros un ymgeisydd.", Options: labels(w.Questions[0].Options, "Ymgeisydd ")},
			{ID: "executive", Text: "Rhifwch yr ymgeiswyr yn nhrefn eich dewis.", Options: labels(w.Questions[1].Options, "Ymgeisydd ")},
		},
	}}
	must(w.Validate())
	return w
}

func manifest2Vectors(m *manifest.Manifest) manifest2File {
	w := testManifest2(m)
	c, err := w.Canonical()
	must(err)
	h, err := w.Hash()
	must(err)
	f := manifest2File{
		Description: "docs/protocol.md §3 (manifest version 2). manifest: a union_election with a choose question whose options carry election addresses (SHA-256 hex, s.48) and a ranked (STV) question (method, seats, rule), with a Welsh translation, on the keys of manifest_v1.json (its election_secret_key applies); canonical, hash, shape and ballot_size as in manifest_v1.json (ballot_size: the version 2 ballot of §4.2). invalid: manifest JSON texts that Parse MUST reject, with the reason.",
		Manifest:    c, Canonical: string(c), Hash: hex.EncodeToString(h[:]),
		Shape: w.Shape(), BallotSize: w.BallotSize(),
	}
	mut := func(name, reason string, fn func(o map[string]any)) {
		var o map[string]any
		must(json.Unmarshal(c, &o))
		fn(o)
		b, err := json.Marshal(o)
		must(err)
		f.Invalid = append(f.Invalid, manifestInvalid{name, string(b), reason})
	}
	q := func(o map[string]any, i int) map[string]any { return o["questions"].([]any)[i].(map[string]any) }
	opt := func(o map[string]any, i, j int) map[string]any { return q(o, i)["options"].([]any)[j].(map[string]any) }
	mut("version 1 with a ranked question", "method needs version 2", func(o map[string]any) {
		o["version"] = 1
		for i := range 2 {
			for j := range len(q(o, i)["options"].([]any)) {
				delete(opt(o, i, j), "address")
			}
		}
	})
	mut("version 1 with an address", "address needs version 2", func(o map[string]any) {
		o["version"] = 1
		o["questions"] = o["questions"].([]any)[:1]
		tq := o["translations"].(map[string]any)["cy"].(map[string]any)
		tq["questions"] = tq["questions"].([]any)[:1]
	})
	mut("version 3", "version is 1 or 2", func(o map[string]any) { o["version"] = 3 })
	mut("unknown method", "method is absent or ranked", func(o map[string]any) { q(o, 1)["method"] = "approval" })
	mut("empty method", "method is omitted when absent, never empty", func(o map[string]any) { q(o, 0)["method"] = "" })
	mut("ranked in another kind", "ranked questions are for union_election only", func(o map[string]any) { o["kind"] = "other" })
	mut("no seats", "a ranked question has seats", func(o map[string]any) { delete(q(o, 1), "seats") })
	mut("zero seats", "seats is omitted when absent, never 0", func(o map[string]any) { q(o, 1)["seats"] = 0 })
	mut("seats for every candidate", "seats < candidates", func(o map[string]any) { q(o, 1)["seats"] = 5 })
	mut("no rule", "a ranked question has a rule", func(o map[string]any) { delete(q(o, 1), "rule") })
	mut("unknown rule", "rule is ers97 or meek", func(o map[string]any) { q(o, 1)["rule"] = "scottish" })
	mut("seats on a choose question", "seats and rule are for ranked questions", func(o map[string]any) { q(o, 0)["seats"] = 1 })
	mut("rule on a choose question", "seats and rule are for ranked questions", func(o map[string]any) { q(o, 0)["rule"] = "meek" })
	mut("ranked max above candidates", "max ≤ candidates", func(o map[string]any) { q(o, 1)["max"] = 6 })
	mut("uppercase address", "address is lowercase hex", func(o map[string]any) {
		opt(o, 0, 0)["address"] = "AB" + opt(o, 0, 0)["address"].(string)[2:]
	})
	mut("short address", "address is 64 hex digits", func(o map[string]any) {
		opt(o, 0, 0)["address"] = opt(o, 0, 0)["address"].(string)[2:]
	})
	mut("empty address", "address is omitted when absent, never empty", func(o map[string]any) { opt(o, 1, 0)["address"] = "" })
	mut("address in a translation", "addresses are in the manifest's options only", func(o map[string]any) {
		tq := o["translations"].(map[string]any)["cy"].(map[string]any)["questions"].([]any)[0].(map[string]any)
		tq["options"].([]any)[0].(map[string]any)["address"] = opt(o, 0, 0)["address"]
	})
	for _, iv := range f.Invalid {
		if _, err := manifest.Parse([]byte(iv.JSON)); err == nil {
			log.Fatalf("manifest v2 %q accepted", iv.Name)
		}
	}
	if _, err := manifest.Parse(c); err != nil {
		log.Fatal(err)
	}
	return f
}
