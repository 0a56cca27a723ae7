package election

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/tally"
)

// TestRegimeLaw: for a ballot opening in each of the three regimes of
// statutory.md §5 F42 — before 18 February 2026 (TUA16), from 18 February
// 2026 (ERA25 "phase one") until the e-ballot order commences, and after
// it — the regime the service applies gives the law's figures, written
// here literally from ../shared/design/statutory.md (not read from
// legal/regimes.json): the thresholds, the s.226A periods, the s.229(4)
// statement, the s.234 mandate, the s.234A notice and the voting methods
// permitted, and the signed result (crypto/tally) applies the same
// thresholds and mandate. The commencement day is not fixed in statute
// (EBALLOT_EVOTING_COMMENCEMENT); the test loads the table with 1 August
// 2026, the day the sources expected.
//
// NOT covered: the 40% test of s.226(2B) is never stated as applying in a
// manifest (the service does not record whether a ballot is of workers in
// important public services).
func TestRegimeLaw(t *testing.T) {
	const s2294TUA16 = "If you take part in a strike or other industrial action, you may be in breach of your contract of employment. However, if you are dismissed for taking part in a strike or other industrial action which is called officially and is otherwise lawful, the dismissal will be unfair if it takes place fewer than twelve weeks after you started taking part in the action, and depending on the circumstances may be unfair if it takes place later."
	tab, err := LoadRegimes(regimesJSON, "2026-08-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		opens string // the opening day (Europe/London decides the day)
		// The law's figures.
		turnout    bool     // s.226(2)(a)(iia): at least 50% of those entitled vote
		ips40      bool     // s.226(2B): Yes ≥ 40% of entitled, important public services
		extraPaper bool     // s.229(2B)–(2D): dispute summary, ASOS types, period
		counts     bool     // s.226A(2)(c) (TUA16 text): numbers per category and workplace
		notice     int      // s.226A(1)(a): notice ≥ 7th day before the opening day
		sample     int      // s.226A(1)(b): sample paper ≥ 3rd day before
		mandate    int      // s.234: months beginning with the date of the ballot
		action     int      // s.234A: days' notice of industrial action
		statement  string   // s.229(4), verbatim ("" when the text must drop the 12-week limit)
		methods    []string // s.230(2); as modified by the e-ballot order
		code       string   // the Code of Practice in force (statutory.md §4: 2017 Code until 17 Feb 2026)
		// A ballot whose last voting day is 31 March: the mandate's last day.
		ballotDay, lastMandateDay string
	}{
		{name: "TUA16 (opened before 18 Feb 2026)", opens: "2026-02-17T23:30:00Z",
			turnout: true, ips40: true, extraPaper: true, counts: true, notice: 7, sample: 3, mandate: 6, action: 14, statement: s2294TUA16, methods: []string{"postal"}, code: "Industrial Action Ballots and Notice to Employers (2017)",
			ballotDay: "2026-03-31", lastMandateDay: "2026-09-30"},
		{name: "ERA25 (opened from 18 Feb 2026, before e-ballot commencement)", opens: "2026-02-18T00:00:00Z",
			turnout: true, ips40: false, extraPaper: false, notice: 7, sample: 3, mandate: 12, action: 10, methods: []string{"postal"}, code: "Industrial Action Ballots and Notice to Employers (2026",
			ballotDay: "2026-03-31", lastMandateDay: "2027-03-30"},
		{name: "ERA25, a ballot ending on the eve of commencement", opens: "2026-07-17T09:00:00Z",
			turnout: true, ips40: false, extraPaper: false, notice: 7, sample: 3, mandate: 12, action: 10, methods: []string{"postal"}, code: "Industrial Action Ballots and Notice to Employers (2026",
			ballotDay: "2026-07-31", lastMandateDay: "2027-07-30"},
		{name: "ERA25, the last minute before e-ballot commencement", opens: "2026-07-31T22:59:59Z", // 23:59:59 BST
			turnout: true, ips40: false, extraPaper: false, notice: 7, sample: 3, mandate: 12, action: 10, methods: []string{"postal"}, code: "Industrial Action Ballots and Notice to Employers (2026",
			ballotDay: "2026-08-14", lastMandateDay: "2027-08-13"},
		{name: "from e-ballot commencement (turnout threshold repealed)", opens: "2026-07-31T23:00:00Z", // midnight BST, 1 August
			turnout: false, ips40: false, extraPaper: false, notice: 7, sample: 3, mandate: 12, action: 10,
			methods: []string{"postal", "electronic", "hybrid", "workplace"}, code: "Electronic and Workplace Balloting",
			ballotDay: "2026-08-14", lastMandateDay: "2027-08-13"},
		{name: "after commencement, a ballot ending 28 February before a leap year", opens: "2027-01-10T09:00:00Z",
			turnout: false, ips40: false, extraPaper: false, notice: 7, sample: 3, mandate: 12, action: 10,
			methods: []string{"postal", "electronic", "hybrid", "workplace"}, code: "Electronic and Workplace Balloting",
			ballotDay: "2027-02-28", lastMandateDay: "2028-02-27"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tc.opens)
			r, err := tab.For(at)
			if err != nil {
				t.Fatal(err)
			}
			if r.TurnoutThreshold != tc.turnout || r.IPSSupportThreshold != tc.ips40 || r.ExtraPaperContent != tc.extraPaper {
				t.Errorf("%s: thresholds/content turnout %v, 40%% %v, s.229(2B) %v; the law: %v, %v, %v", r.ID,
					r.TurnoutThreshold, r.IPSSupportThreshold, r.ExtraPaperContent, tc.turnout, tc.ips40, tc.extraPaper)
			}
			if r.NoticeCounts != tc.counts {
				t.Errorf("%s: s.226A notice with numbers per category and workplace %v; the law: %v", r.ID, r.NoticeCounts, tc.counts)
			}
			if r.NoticeDays != tc.notice || r.SamplePaperDays != tc.sample || r.MandateMonths != tc.mandate || r.ActionNoticeDays != tc.action {
				t.Errorf("%s: periods notice %d, sample %d, mandate %d months, s.234A %d days; the law: %d, %d, %d, %d", r.ID,
					r.NoticeDays, r.SamplePaperDays, r.MandateMonths, r.ActionNoticeDays, tc.notice, tc.sample, tc.mandate, tc.action)
			}
			if !strings.Contains(r.CodeOfPractice, tc.code) || r.Manifest("industrial_action").CodeOfPractice != r.CodeOfPractice {
				t.Errorf("%s: Code of Practice %q, the one in force: %q", r.ID, r.CodeOfPractice, tc.code)
			}
			if got := r.Kinds["industrial_action"].Methods; !slices.Equal(got, tc.methods) {
				t.Errorf("%s: industrial action may be voted by %v; the law: %v", r.ID, got, tc.methods)
			}
			// Elections and political fund ballots: never the workplace
			// method, and electronic only from commencement; no thresholds
			// and no mandate in their manifests (s.226, s.234 are Part V).
			for _, k := range []string{"union_election", "political_fund", "merger"} {
				got, want := r.Kinds[k].Methods, slices.DeleteFunc(slices.Clone(tc.methods), func(m string) bool { return m == "workplace" })
				if !slices.Equal(got, want) {
					t.Errorf("%s: a %s may be voted by %v; the law: %v", r.ID, k, got, want)
				}
				if m := r.Manifest(k); m.TurnoutThreshold || m.SupportThreshold || m.MandateMonths != 0 {
					t.Errorf("%s: a %s's manifest states thresholds or a mandate: %+v", r.ID, k, m)
				}
			}
			st := r.Texts["s229_4"]
			switch {
			case tc.statement != "" && (st.Text != tc.statement || !st.Verified):
				t.Errorf("%s: s.229(4) is %q (verified %v), the statute's text is %q", r.ID, st.Text, st.Verified, tc.statement)
			case tc.statement == "" && (st.Text == "" || st.Text == s2294TUA16):
				// ERA25 removed the 12-week limit on unfair dismissal
				// protection; the new wording is unverified (it blocks
				// opening until the scrutineer confirms it).
				t.Errorf("%s: s.229(4) still gives the 12-week limit ERA25 removed: %q", r.ID, st.Text)
			}
			day, _ := time.ParseInLocation("2006-01-02", tc.ballotDay, london)
			if got := r.MandateExpiry(day).Format("2006-01-02"); got != tc.lastMandateDay {
				t.Errorf("%s: mandate from %s ends %s, the law: at the end of %s", r.ID, tc.ballotDay, got, tc.lastMandateDay)
			}

			// The signed result applies the same: its mandate from a ballot
			// closing on that day, and the 50% turnout test (spoilt papers
			// count as voting, s.297A): 5 of 10 entitled voting meets it, 4
			// do not.
			m := lawManifest(t, r, tc.ballotDay)
			for _, votes := range []int64{4, 5} {
				res, err := tally.Compute(m, &tally.Counts{Ballots: []int64{votes}, Positions: []tally.Position{{Style: 0, Question: 0, Option: 0}, {Style: 0, Question: 0, Option: 1}},
					Values: []uint64{uint64(votes - 1), 0}, Trustees: []int{1, 2}})
				if err != nil {
					t.Fatal(err)
				}
				s := res.Aggregate
				met := s.TurnoutMet != nil && *s.TurnoutMet
				if tc.turnout && (s.TurnoutMet == nil || met != (votes == 5)) || !tc.turnout && s.TurnoutMet != nil {
					t.Errorf("%s: %d of 10 voting: turnout test %v", r.ID, votes, s.TurnoutMet)
				}
				if res.Regime.SupportThreshold || s.Questions[0].SupportMet != nil {
					t.Errorf("%s: the 40%% test is applied: %+v", r.ID, res.Regime)
				}
				if res.DateOfBallot != tc.ballotDay || res.MandateExpires != tc.lastMandateDay {
					t.Errorf("%s: signed result: date of the ballot %s, mandate to %s; the law: %s, %s", r.ID, res.DateOfBallot, res.MandateExpires, tc.ballotDay, tc.lastMandateDay)
				}
			}
		})
	}
}

// lawManifest is a one-workplace, one-question industrial action manifest
// under r, closing at noon on the given day.
func lawManifest(t *testing.T, r Regime, day string) *manifest.Manifest {
	t.Helper()
	d, _ := time.ParseInLocation("2006-01-02", day, london)
	closes := d.Add(12 * time.Hour).UTC()
	return &manifest.Manifest{ElectionID: "law", Kind: "industrial_action", Title: "Law",
		OpensAt: closes.AddDate(0, 0, -14).Format(manifest.TimeFormat), ClosesAt: closes.Format(manifest.TimeFormat),
		Regime: r.Manifest("industrial_action"),
		Styles: []manifest.Style{{ID: "w", Name: "Workplace", Entitled: 10}},
		Questions: []manifest.Question{{ID: "strike", Text: "Strike?", Max: 1,
			Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}}}}
}
