package tally

import (
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
)

func testManifest(texts map[string]string) *manifest.Manifest {
	return &manifest.Manifest{Version: 1, ElectionID: "t", Kind: "industrial_action", Title: "T",
		OpensAt: "2026-12-01T09:00:00Z", ClosesAt: "2026-12-15T23:30:00Z", Texts: texts,
		Questions: []manifest.Question{{ID: "strike", Text: "Strike?", Min: 0, Max: 1, Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}}},
		Styles:    []manifest.Style{{ID: "a", Name: "A", Entitled: 100}, {ID: "b", Name: "B", Entitled: 10}}}
}

func TestCompute(t *testing.T) {
	c := &Counts{Positions: []Position{{0, 0, 0}, {0, 0, 1}}, Values: []uint64{40, 9}, Ballots: []int64{50, 0}}
	cases := []struct {
		name    string
		texts   map[string]string
		turnout bool
		support *bool
		mandate string
		note    string
	}{
		{"no regime", map[string]string{}, true, nil, "2027-12-14", "treated as applying"},
		{"era25", map[string]string{"legal_regime": "TULRCA 1992 as amended by the Employment Rights Act 2025 (from 18 February 2026)"}, true, nil, "2027-12-14", "ERA 2025"},
		{"tua16 ips", map[string]string{"legal_regime": "TULRCA 1992 as amended by the Trade Union Act 2016", "important_public_services": "true"}, true, ptr(true), "2027-06-14", "TUA 2016"},
		{"turnout repealed", map[string]string{"legal_regime": "x", "turnout_threshold": "false"}, false, nil, "2027-12-14", "turnout_threshold = false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compute(testManifest(tc.texts), c)
			if err != nil {
				t.Fatal(err)
			}
			a := r.Styles[0]
			q := a.Questions[0]
			if a.VotesCast != 50 || q.Yes != 40 || q.No != 9 || q.Spoilt != 1 || a.Turnout != "50.00%" {
				t.Fatalf("%+v", a)
			}
			if (a.TurnoutMet != nil) != tc.turnout || (a.TurnoutMet != nil && !*a.TurnoutMet) {
				t.Fatalf("turnout met %v", a.TurnoutMet)
			}
			if (q.SupportMet == nil) != (tc.support == nil) || (q.SupportMet != nil && *q.SupportMet != *tc.support) {
				t.Fatalf("support %v", q.SupportMet)
			}
			if r.DateOfBallot != "2026-12-15" || r.MandateExpires != tc.mandate {
				t.Fatalf("dates %s %s", r.DateOfBallot, r.MandateExpires)
			}
			if !strings.Contains(strings.Join(r.Regime.Notes, "|"), tc.note) {
				t.Fatalf("notes %v", r.Regime.Notes)
			}
			if b := r.Styles[1]; b.VotesCast != 0 || b.Turnout != "0.00%" || (b.TurnoutMet != nil && *b.TurnoutMet) {
				t.Fatalf("empty style %+v", b)
			}
			if r.Aggregate.VotesCast != 50 || r.Aggregate.Entitled != 110 || r.Aggregate.Questions[0].Spoilt != 1 || (r.Aggregate.TurnoutMet != nil && *r.Aggregate.TurnoutMet) {
				t.Fatalf("aggregate %+v", r.Aggregate)
			}
		})
	}
}

func ptr(b bool) *bool { return &b }
