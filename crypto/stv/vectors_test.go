package stv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

// sharedVectors is crypto/testdata/stv_v1.json (written by
// crypto/internal/genvectors): the elections of crypto/testdata/stv with
// the Go counts under both rules, which crypto/js/src/stv.mjs must
// reproduce exactly (crypto/js/test/stv.test.mjs).
type sharedVectors struct {
	Description string `json:"description"`
	Cases       []struct {
		Name     string `json:"name"`
		Election struct {
			Candidates int      `json:"candidates"`
			Names      []string `json:"names"`
			Seats      int      `json:"seats"`
			Withdrawn  []int    `json:"withdrawn"`
			Lot        []int    `json:"lot"`
			Ballots    [][]any  `json:"ballots"`
		} `json:"election"`
		ERS97 json.RawMessage `json:"ers97"`
		Meek  json.RawMessage `json:"meek"`
	} `json:"cases"`
	Lots []struct {
		Seed       string `json:"seed"`
		Candidates int    `json:"candidates"`
		Lot        []int  `json:"lot"`
	} `json:"lots"`
}

// TestSharedVectors checks that stv_v1.json holds every reference
// election of crypto/testdata/stv and that Go's counts of them are still
// the recorded ones (else: go run ./crypto/internal/genvectors, and say in
// the commit why the count changed).
func TestSharedVectors(t *testing.T) {
	var v sharedVectors
	vectortest.Load(t, "stv_v1.json", &v)
	var want []string
	for _, pattern := range []string{"droop/*.blt", "ers97/*.blt"} {
		files, err := filepath.Glob(filepath.Join(testdata, pattern))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(files)
		for _, f := range files {
			rel, _ := filepath.Rel(testdata, f)
			want = append(want, filepath.ToSlash(rel))
		}
	}
	data, err := os.ReadFile(filepath.Join(testdata, "random-references.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs struct {
		Elections []json.RawMessage `json:"elections"`
	}
	if err := json.Unmarshal(data, &refs); err != nil {
		t.Fatal(err)
	}
	for i := range refs.Elections {
		want = append(want, fmt.Sprintf("random-references.json #%d", i))
	}
	var got []string
	for _, c := range v.Cases {
		got = append(got, c.Name)
	}
	if !slices.Equal(got, want) || len(want) < 150 {
		t.Fatalf("stv_v1.json covers %d elections, crypto/testdata/stv has %d: regenerate with go run ./crypto/internal/genvectors", len(got), len(want))
	}
	if len(v.Lots) == 0 {
		t.Fatal("no lot cases")
	}
	for _, l := range v.Lots {
		if got := LotFromSeed(vectortest.Unhex(t, l.Seed), l.Candidates); !slices.Equal(got, l.Lot) {
			t.Errorf("lot of seed %q: %v, recorded %v", l.Seed, got, l.Lot)
		}
	}
	for _, c := range v.Cases {
		e := &Election{Candidates: c.Election.Candidates, Names: c.Election.Names, Seats: c.Election.Seats,
			Withdrawn: c.Election.Withdrawn, Lot: c.Election.Lot}
		for _, b := range c.Election.Ballots {
			var prefs []int
			for _, p := range b[1].([]any) {
				prefs = append(prefs, int(p.(float64)))
			}
			e.Ballots = append(e.Ballots, Ballot{Weight: int(b[0].(float64)), Prefs: prefs})
		}
		for rule, rec := range map[Rule]json.RawMessage{ERS97: c.ERS97, Meek: c.Meek} {
			res, err := Count(rule, e)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, rule, err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimRight(buf.Bytes(), "\n"), rec) {
				t.Errorf("%s %s: the count differs from stv_v1.json (regenerate with go run ./crypto/internal/genvectors and say why)", c.Name, rule)
			}
		}
	}
}
