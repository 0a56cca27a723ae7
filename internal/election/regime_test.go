package election

import (
	"encoding/json"
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

// TestRegimeTableRefused: a regime table with a gap, an overlap, an
// unknown field or a missing rule is refused at load, naming the rule; the
// table shipped loads with and without a commencement day.
func TestRegimeTableRefused(t *testing.T) {
	var base map[string]any
	if err := json.Unmarshal(regimesJSON, &base); err != nil {
		t.Fatal(err)
	}
	regime := func(f map[string]any, id string) map[string]any {
		for _, r := range f["regimes"].([]any) {
			if r := r.(map[string]any); r["id"] == id {
				return r
			}
		}
		t.Fatalf("no regime %s", id)
		return nil
	}
	for _, tc := range []struct {
		name, commencement string
		edit               func(f map[string]any)
		want               string // in the error
	}{
		{"unknown field", "", func(f map[string]any) { regime(f, "era25")["turnout_percent"] = 50 }, `unknown field "turnout_percent"`},
		{"unknown top-level field", "", func(f map[string]any) { f["regimez"] = []any{} }, `unknown field "regimez"`},
		{"a gap between regimes", "", func(f map[string]any) { regime(f, "tua16")["effective_until"] = "2026-02-10" },
			`a gap: no regime covers the opening days from 2026-02-10 to before 2026-02-18`},
		{"an overlap", "", func(f map[string]any) { regime(f, "tua16")["effective_until"] = "2026-03-01" },
			`an overlap: regimes "tua16" and "era25" both cover 2026-02-18`},
		{"a gap at the end", "2026-08-01", func(f map[string]any) { regime(f, "evote")["effective_until"] = "2030-01-01" },
			`a gap: no regime covers an opening day from 2030-01-01`},
		{"commencement before ERA25", "2026-01-01", func(map[string]any) {}, `regime "era25" ends (2026-01-01) on or before it starts (2026-02-18)`},
		{"commencement not a date", "August 2026", func(map[string]any) {}, `commencement "August 2026" is not a date`},
		{"a kind with no rule", "", func(f map[string]any) { delete(regime(f, "era25")["kinds"].(map[string]any), "political_fund") },
			`kind "political_fund" needs its law and permitted voting methods`},
		{"an unknown method", "", func(f map[string]any) {
			regime(f, "era25")["kinds"].(map[string]any)["union_election"].(map[string]any)["methods"] = []any{"carrier pigeon"}
		}, `unknown voting method "carrier pigeon"`},
		{"a mandate for an election", "", func(f map[string]any) {
			regime(f, "tua16")["kinds"].(map[string]any)["union_election"].(map[string]any)["mandate"] = true
		}, `industrial action only`},
		{"a rule for a refused kind", "", func(f map[string]any) {
			regime(f, "tua16")["kinds"].(map[string]any)["recognition"] = map[string]any{"law": "x", "methods": []any{"postal"}}
		}, `kind "recognition" is refused and has a rule`},
		{"no s.234A period", "", func(f map[string]any) { delete(regime(f, "era25"), "action_notice_days") }, `s.234A notice period`},
		{"a regime twice", "", func(f map[string]any) { regime(f, "evote")["id"] = "era25" }, `regime "era25" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f map[string]any
			_ = json.Unmarshal(regimesJSON, &f) // a fresh copy to edit
			tc.edit(f)
			data, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadRegimes(data, tc.commencement)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	for _, c := range []string{"", "2026-08-01"} {
		if _, err := LoadRegimes(regimesJSON, c); err != nil {
			t.Errorf("the shipped table with commencement %q: %v", c, err)
		}
	}
}

// TestRegimeCommencement: while EBALLOT_EVOTING_COMMENCEMENT is unset the
// ERA25 regime goes on (the turnout threshold still applies); once set,
// ballots opening from that day (Europe/London) follow the regime from
// commencement, and ballots opened earlier keep theirs (by id).
func TestRegimeCommencement(t *testing.T) {
	off, err := LoadRegimes(regimesJSON, "")
	if err != nil {
		t.Fatal(err)
	}
	on, err := LoadRegimes(regimesJSON, "2026-09-14")
	if err != nil {
		t.Fatal(err)
	}
	late := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	if r, err := off.For(late); err != nil || r.ID != "era25" || !r.TurnoutThreshold {
		t.Errorf("not commenced: a 2030 ballot follows %q (%v)", r.ID, err)
	}
	if r, err := off.ByID("evote"); err != nil || r.TurnoutThreshold {
		t.Errorf("the regime from commencement is known by id even before it is in force: %v", err)
	}
	for at, want := range map[string]string{"2026-09-13T22:59:59Z": "era25", "2026-09-13T23:00:00Z": "evote", "2030-01-01T09:00:00Z": "evote"} {
		ts, _ := time.Parse(time.RFC3339, at)
		if r, err := on.For(ts); err != nil || r.ID != want {
			t.Errorf("commenced 14 Sep 2026: a ballot opening %s follows %q (%v), want %s", at, r.ID, err, want)
		}
	}
	if _, ok := on.Refused("recognition"); !ok {
		t.Error("CAC recognition ballots are not refused")
	}
	if _, ok := on.Refused("political_fund"); ok {
		t.Error("political fund ballots are refused")
	}
}
