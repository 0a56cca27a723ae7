package tally

import (
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
)

func testManifest(reg *manifest.Regime) *manifest.Manifest {
	return &manifest.Manifest{Version: 1, ElectionID: "t", Kind: "industrial_action", Title: "T",
		OpensAt: "2026-12-01T09:00:00Z", ClosesAt: "2026-12-15T23:30:00Z", Texts: map[string]string{}, Regime: reg,
		Questions: []manifest.Question{{ID: "strike", Text: "Strike?", Min: 0, Max: 1, Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}}},
		Styles:    []manifest.Style{{ID: "a", Name: "A", Entitled: 100}, {ID: "b", Name: "B", Entitled: 10}}}
}

// The result applies the manifest's signed regime fields, whatever the
// regime is called: the thresholds and mandate follow the booleans and the
// months, never the name.
func TestComputeAppliesRegimeFields(t *testing.T) {
	c := &Counts{Positions: []Position{{0, 0, 0}, {0, 0, 1}}, Values: []uint64{40, 9}, Ballots: []int64{50, 0}}
	cases := []struct {
		name    string
		reg     manifest.Regime
		turnout bool
		support *bool
		mandate string
	}{
		// A name that says ERA 2025 with TUA16's fields gets TUA16's rules.
		{"tua16 ips", manifest.Regime{ID: "x", Name: "Employment Rights Act 2025", TurnoutThreshold: true, SupportThreshold: true, MandateMonths: 6, CodeOfPractice: "C"}, true, ptr(true), "2027-06-14"},
		{"era25", manifest.Regime{ID: "y", Name: "Trade Union Act 2016", TurnoutThreshold: true, MandateMonths: 12, CodeOfPractice: "C"}, true, nil, "2027-12-14"},
		{"turnout repealed", manifest.Regime{ID: "z", Name: "z", MandateMonths: 12, CodeOfPractice: "C"}, false, nil, "2027-12-14"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compute(testManifest(&tc.reg), c)
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
			if r.Regime.Name != tc.reg.Name || r.Regime.MandateMonths != tc.reg.MandateMonths || !strings.Contains(strings.Join(r.Regime.Notes, "|"), "regime "+tc.reg.ID+" (signed in the manifest)") {
				t.Fatalf("regime %+v", r.Regime)
			}
			if b := r.Styles[1]; b.VotesCast != 0 || b.Turnout != "0.00%" || (b.TurnoutMet != nil && *b.TurnoutMet) {
				t.Fatalf("empty style %+v", b)
			}
			if r.Aggregate.VotesCast != 50 || r.Aggregate.Entitled != 110 || r.Aggregate.Questions[0].Spoilt != 1 || (r.Aggregate.TurnoutMet != nil && *r.Aggregate.TurnoutMet) {
				t.Fatalf("aggregate %+v", r.Aggregate)
			}
		})
	}
	// An industrial action ballot with no regime is not counted under an
	// assumed one.
	if _, err := Compute(testManifest(nil), c); err == nil {
		t.Fatal("industrial action ballot without a regime computed")
	}
	other := testManifest(nil)
	other.Kind = "union_election"
	if r, err := Compute(other, c); err != nil || r.Styles[0].TurnoutMet != nil || r.MandateExpires != "" {
		t.Fatalf("union election: %v %+v", err, r)
	}
}

func ptr(b bool) *bool { return &b }
