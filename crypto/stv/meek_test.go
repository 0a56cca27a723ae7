package stv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const testdata = "../testdata/stv"

// droopAction is one action of a Droop JSON record (test/ref/json).
type droopAction struct {
	Tag    string `json:"tag"`
	Msg    string `json:"msg"`
	Round  int    `json:"round"`
	Quota  string `json:"quota"`
	Surp   string `json:"surplus"`
	Resid  string `json:"residual"`
	Votes  string `json:"votes"`
	CState map[string]struct {
		Code string `json:"code"`
		KF   string `json:"kf"`
		Vote string `json:"vote"`
	} `json:"cstate"`
}

// TestMeekDroopReference counts the elections of Droop's test suite with
// the Meek rule and compares every candidate's vote and keep factor, the
// quota, the total surplus and the residual at every election and defeat
// with Droop's reference records for the PR Foundation's Meek Reference
// rule (meek-prf), digit for digit.
func TestMeekDroopReference(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata, "droop/meek-prf/*.json"))
	if len(files) < 9 {
		t.Fatalf("found %d reference records", len(files))
	}
	for _, ref := range files {
		name := strings.TrimSuffix(filepath.Base(ref), ".json")
		t.Run(name, func(t *testing.T) {
			e, _, err := parseBLT(filepath.Join(testdata, "droop", name+".blt"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Count(Meek, e)
			if err != nil {
				t.Fatal(err)
			}
			checkConservation(t, res)
			var rec struct{ Actions []droopAction }
			data, _ := os.ReadFile(ref)
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatal(err)
			}
			compared := 0
			for _, a := range rec.Actions {
				var st *Stage
				switch {
				case a.Tag == "begin":
					st = &res.Stages[0]
				case a.Tag == "elect" || a.Tag == "defeat":
					end := strings.Contains(a.Msg, "remaining")
					for i := range res.Stages {
						s := &res.Stages[i]
						if (end && s.Action == "end") || (!end && s.Action == "round" && s.Number == a.Round+1) {
							st = s
						}
					}
				default:
					continue
				}
				if st == nil {
					t.Fatalf("no stage for Droop action %q (round %d)", a.Msg, a.Round)
				}
				where := fmt.Sprintf("%s (round %d)", a.Msg, a.Round)
				if a.Quota != st.Quota {
					t.Errorf("%s: quota %s, Droop %s", where, st.Quota, a.Quota)
				}
				for cid, cs := range a.CState {
					c, _ := strconv.Atoi(cid)
					c--
					if cs.Vote == "" { // withdrawn: Droop records no vote
						if st.States[c] != Withdrawn {
							t.Errorf("%s: %s is %s, Droop withdrawn", where, e.Names[c], st.States[c])
						}
						continue
					}
					if cs.Vote != st.Votes[c] {
						t.Errorf("%s: %s vote %s, Droop %s", where, e.Names[c], st.Votes[c], cs.Vote)
					}
					if a.Tag != "begin" && cs.KF != st.KeepFactors[c] && cs.Code != "D" {
						t.Errorf("%s: %s keep factor %s, Droop %s", where, e.Names[c], st.KeepFactors[c], cs.KF)
					}
				}
				if a.Tag != "begin" {
					// At an election in B.2.c Droop records the surplus of the
					// previous iteration (B.2.d comes after).
					if (a.Tag == "defeat" || strings.Contains(a.Msg, "remaining")) && a.Surp != st.Surplus {
						t.Errorf("%s: surplus %s, Droop %s", where, st.Surplus, a.Surp)
					}
					if a.Resid != st.Exhausted {
						t.Errorf("%s: residual %s, Droop %s", where, st.Exhausted, a.Resid)
					}
					name := a.Msg[strings.LastIndex(a.Msg, ": ")+2:]
					c := slices.Index(e.Names, name)
					if a.Tag == "elect" && !slices.Contains(st.Elected, c) {
						t.Errorf("%s: not elected at stage %d (%v)", where, st.Number, st.Elected)
					}
					if a.Tag == "defeat" && !slices.Contains(st.Excluded, c) {
						t.Errorf("%s: not defeated at stage %d (%v)", where, st.Number, st.Excluded)
					}
				}
				compared++
			}
			if compared < 3 {
				t.Fatalf("compared only %d actions", compared)
			}
		})
	}
}

// checkConservation checks that at every stage the candidates' votes and
// the non-transferable vote add up to the valid papers.
func checkConservation(t *testing.T, r *Result) {
	t.Helper()
	scale := int64(1)
	for range r.Decimals {
		scale *= 10
	}
	for _, st := range r.Stages {
		var sum int64
		for _, v := range append(slices.Clone(st.Votes), st.Exhausted, st.Remainder) {
			if v == "" {
				continue
			}
			sum += parseValue(t, v, r.Decimals)
		}
		if r.Rule == Meek && st.Action != "first" {
			// Meek: votes + residual = papers (the defeated keep their vote
			// for the record of the stage they are defeated at).
			continue
		}
		if sum != r.Valid*scale {
			t.Errorf("stage %d/%d: votes and non-transferable add to %d, want %d", st.Number, st.Batch, sum, r.Valid*scale)
		}
	}
}

func parseValue(t testing.TB, s string, places int) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	for len(fp) < places {
		fp += "0"
	}
	v, err := strconv.ParseInt(ip+fp[:places], 10, 64)
	if err != nil {
		t.Fatalf("value %q: %v", s, err)
	}
	if neg {
		v = -v
	}
	return v
}
