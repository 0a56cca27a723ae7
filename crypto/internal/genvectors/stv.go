package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/unionvote/eballot/crypto/stv"
)

// stv_v1.json: every reference election of crypto/testdata/stv (the BLT
// files and the random elections of random-references.json) with the
// results crypto/stv counts for it under both rules (protocol §9.7). Another
// implementation (crypto/js/src/stv.mjs) must reproduce every result
// exactly: each stage's votes, states, quota, exhausted and remainder
// values, transfers, elections, exclusions and notes.

type stvElection struct {
	Candidates int      `json:"candidates"`
	Names      []string `json:"names"`
	Seats      int      `json:"seats"`
	Withdrawn  []int    `json:"withdrawn"`
	Lot        []int    `json:"lot"`
	Ballots    [][]any  `json:"ballots"` // [weight, [preferences]]
}

type stvCase struct {
	Name     string          `json:"name"`
	Election stvElection     `json:"election"`
	ERS97    json.RawMessage `json:"ers97"`
	Meek     json.RawMessage `json:"meek"`
}

func stvElectionOf(e *stv.Election) stvElection {
	out := stvElection{Candidates: e.Candidates, Names: e.Names, Seats: e.Seats,
		Withdrawn: append([]int{}, e.Withdrawn...), Lot: e.Lot}
	for _, b := range e.Ballots {
		out.Ballots = append(out.Ballots, []any{b.Weight, append([]int{}, b.Prefs...)})
	}
	return out
}

func marshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	must(enc.Encode(v))
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// genSTV writes dir/stv_v1.json (one case a line: the file is large).
func genSTV(dir string) {
	var elections []struct {
		name string
		e    *stv.Election
	}
	for _, pattern := range []string{"stv/droop/*.blt", "stv/ers97/*.blt"} {
		files, err := filepath.Glob(filepath.Join(dir, pattern))
		must(err)
		slices.Sort(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			must(err)
			e, _, err := stv.ParseBLT(data)
			must(err)
			rel, _ := filepath.Rel(filepath.Join(dir, "stv"), f)
			elections = append(elections, struct {
				name string
				e    *stv.Election
			}{filepath.ToSlash(rel), e})
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "stv", "random-references.json"))
	must(err)
	var refs struct {
		Elections []struct {
			Candidates int                 `json:"candidates"`
			Seats      int                 `json:"seats"`
			Ballots    [][]json.RawMessage `json:"ballots"`
		} `json:"elections"`
	}
	must(json.Unmarshal(data, &refs))
	for i, r := range refs.Elections {
		e := &stv.Election{Candidates: r.Candidates, Seats: r.Seats}
		for c := range r.Candidates {
			e.Names = append(e.Names, fmt.Sprintf("C%d", c+1))
		}
		for _, b := range r.Ballots {
			var w int
			var prefs []int
			must(json.Unmarshal(b[0], &w))
			must(json.Unmarshal(b[1], &prefs))
			e.Ballots = append(e.Ballots, stv.Ballot{Weight: w, Prefs: prefs})
		}
		elections = append(elections, struct {
			name string
			e    *stv.Election
		}{fmt.Sprintf("random-references.json #%d", i), e})
	}
	var buf bytes.Buffer
	buf.WriteString(`{"description":"crypto/stv counts of every reference election in crypto/testdata/stv under both rules (protocol §9.7); see crypto/testdata/README.md","cases":[` + "\n")
	first := true
	for _, el := range elections {
		ers, err := stv.Count(stv.ERS97, el.e)
		must(err)
		meek, err := stv.Count(stv.Meek, el.e)
		must(err)
		c := stvCase{Name: el.name, Election: stvElectionOf(el.e), ERS97: marshalNoEscape(ers), Meek: marshalNoEscape(meek)}
		if !first {
			buf.WriteString(",\n")
		}
		first = false
		buf.Write(marshalNoEscape(c))
	}
	// The lot order from a seed (protocol §9.7) for a few seeds and sizes.
	type lotCase struct {
		Seed       string `json:"seed"`
		Candidates int    `json:"candidates"`
		Lot        []int  `json:"lot"`
	}
	var lots []lotCase
	for i, n := range []int{2, 5, 10, 64} {
		seed := sha256.Sum256([]byte(fmt.Sprintf("eballot-vectors/stv_v1/lot/%d", i)))
		lots = append(lots, lotCase{Seed: hex.EncodeToString(seed[:]), Candidates: n, Lot: stv.LotFromSeed(seed[:], n)})
	}
	lots = append(lots, lotCase{Seed: "", Candidates: 4, Lot: stv.LotFromSeed(nil, 4)})
	buf.WriteString("\n],\"lots\":")
	buf.Write(marshalNoEscape(lots))
	buf.WriteString("}\n")
	path := filepath.Join(dir, "stv_v1.json")
	must(os.WriteFile(path, buf.Bytes(), 0o644))
	fmt.Println("wrote", path)
}
