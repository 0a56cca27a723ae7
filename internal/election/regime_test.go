package election

import (
	"strings"
	"testing"
	"time"
)

func TestRegimeByOpeningDay(t *testing.T) {
	for _, tc := range []struct {
		at   string
		want string
	}{
		{"2025-06-01T12:00:00Z", "tua16"},
		{"2026-02-17T23:30:00Z", "tua16"}, // 23:30 UTC = 23:30 GMT on the 17th
		{"2026-02-18T00:00:00Z", "era25"},
		{"2026-11-23T10:00:00Z", "era25"},
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		r, err := RegimeFor(at)
		if err != nil || r.ID != tc.want {
			t.Errorf("%s: got %q %v, want %s", tc.at, r.ID, err, tc.want)
		}
	}
	if _, err := RegimeFor(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a 2010 ballot has no regime")
	}
}

// The rules that changed with ERA25 (statutory.md §0–1) differ by regime.
func TestRegimeRules(t *testing.T) {
	old, _ := RegimeByID("tua16")
	cur, _ := RegimeByID("era25")
	if !old.IPSSupportThreshold || cur.IPSSupportThreshold {
		t.Error("40% important-public-services threshold: TUA16 yes, ERA25 no")
	}
	if old.MandateMonths != 6 || cur.MandateMonths != 12 {
		t.Error("mandate: 6 months under TUA16, 12 under ERA25 (s.234)")
	}
	if old.ActionNoticeDays != 14 || cur.ActionNoticeDays != 10 {
		t.Error("s.234A notice: 14 days under TUA16, 10 under ERA25")
	}
	if !old.ExtraPaperContent || cur.ExtraPaperContent {
		t.Error("s.229(2B)-(2D) content: required under TUA16 only")
	}
	// s.229(4) is rendered verbatim from the versioned text.
	if !strings.Contains(old.Texts["s229_4"].Text, "fewer than twelve weeks") || strings.Contains(cur.Texts["s229_4"].Text, "twelve weeks") {
		t.Error("s.229(4) statement text per regime")
	}
	for _, r := range Regimes() {
		if r.Texts["s229_4"].Text == "" || r.NoticeDays != 7 || r.SamplePaperDays != 3 {
			t.Errorf("regime %s incomplete", r.ID)
		}
	}
	exp := cur.MandateExpiry(time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC))
	if exp.Format("2006-01-02") != "2027-03-30" { // 12 months beginning with 31 March 2026
		t.Errorf("mandate expiry %v", exp)
	}
}

// The regime as the signed manifest states it carries the law's figures
// (statutory.md §1): the 50% turnout test of s.226(2)(a)(iia) under both
// regimes (its repeal is not yet commenced), mandates of 6 (TUA16 s.9) and
// 12 months (ERA25) for industrial action, none for other ballots.
func TestRegimeInManifest(t *testing.T) {
	for _, tc := range []struct {
		id, kind string
		turnout  bool
		months   int
	}{
		{"tua16", "industrial_action", true, 6},
		{"era25", "industrial_action", true, 12},
		{"era25", "union_election", false, 0},
	} {
		r, err := RegimeByID(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Manifest(tc.kind)
		if m.ID != tc.id || m.TurnoutThreshold != tc.turnout || m.SupportThreshold || m.MandateMonths != tc.months || m.CodeOfPractice == "" || m.Name != r.Name {
			t.Errorf("%s %s: %+v", tc.id, tc.kind, m)
		}
	}
}
