package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// checkCase changes one input of Check; want are the problems Check must
// return, in order, each a substring of its message.
type checkCase struct {
	name   string
	change func(rep *Report, v *verify.Result, ps *[]*threshold.Partial, issued *[]int64)
	want   []string
}

func runCheck(t *testing.T, b *ballot, cases []checkCase) {
	_, js, _ := b.signed(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := mustParse(t, js) // a fresh copy per case
			v := *b.res
			ps := append([]*threshold.Partial{}, b.partials...)
			issued := append([]int64{}, b.issued...)
			c.change(rep, &v, &ps, &issued)
			got := Check(rep, &v, ps, issued)
			ok := len(got) == len(c.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.Contains(got[i], c.want[i])
			}
			if !ok {
				t.Fatalf("Check:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
}

func tf(b bool) *bool { return &b }

// TestCheck: each check of Check names its problem when its input is
// changed, and a true report passes.
func TestCheck(t *testing.T) {
	b := load(t, "fixture-ballot")
	mh := b.rf.Result.ManifestHash
	root := b.rf.Verification.Root
	const otherHash = "00000000000000000000000000000000000000000000000000000000000000ff"
	w1 := `Workplace 1, question "strike": the report says `
	turnout := func(name string) string {
		return name + ": the report's turnout or thresholds differ from those computed from the counts"
	}
	const particulars = "the report's particulars (title, date of the ballot, legal regime or mandate) differ from those the manifest gives"
	type (
		R = Report
		V = verify.Result
		P = []*threshold.Partial
	)
	cases := []checkCase{
		{"true report", func(*R, *V, *P, *[]int64) {}, nil},
		{"issued not published", func(_ *R, _ *V, _ *P, is *[]int64) { *is = nil }, nil},
		{"issued not in the report", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Issued = nil }, nil},
		{"other trustees combined", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Trustees = []int{2, 3} }, nil},
		{"all three partials, the two first only", func(_ *R, _ *V, p *P, _ *[]int64) { *p = (*p)[:2] }, nil},
		{"scrutineer's own parts (statements, notes, rejected, date) are not checked", func(r *R, _ *V, _ *P, _ *[]int64) {
			r.Statements[1].Satisfied, r.Notes, r.Rejected, r.Date, r.Scrutineer = false, []string{"x"}, []RejectedTrust{{1, "x"}}, "2030-01-01", "X"
		}, nil},

		{"no result in the report", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result = nil },
			[]string{"there is no result in the report"}},

		// The ledger.
		{"no verification", func(_ *R, v *V, _ *P, _ *[]int64) { *v = V{} },
			[]string{"the ledger of this ballot could not be verified (no usable manifest)"}},
		{"ledger failures", func(_ *R, v *V, _ *P, _ *[]int64) {
			v.Failures = []verify.Failure{{Item: "entry", Index: 2, Reason: "bad proof"}}
		}, []string{"the ledger does not verify: entry 2: bad proof"}},
		{"many ledger failures", func(_ *R, v *V, _ *P, _ *[]int64) {
			for i := range 7 {
				v.Failures = append(v.Failures, verify.Failure{Item: "entry", Index: int64(i), Reason: "bad"})
			}
			v.More = 3
		}, []string{"entry 0: bad", "entry 1: bad", "entry 2: bad", "entry 3: bad", "entry 4: bad", "and 5 more ledger verification failures"}},
		{"ledger not closed", func(_ *R, v *V, _ *P, _ *[]int64) { v.Header.Closed = false },
			[]string{"the ledger of this ballot is not closed: a result can only be of a closed ballot"}},

		// Which ballot the report is of.
		{"election", func(r *R, _ *V, _ *P, _ *[]int64) { r.ElectionID = "other-ballot" },
			[]string{`the report is for election "other-ballot", not this ballot ("fixture-ballot")`}},
		{"election of the result", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.ElectionID = "other-ballot" },
			[]string{`the report is for election "other-ballot", not this ballot ("fixture-ballot")`, particulars}},
		{"manifest hash", func(r *R, _ *V, _ *P, _ *[]int64) { r.ManifestHash = otherHash },
			[]string{"the report is for the manifest " + otherHash + ", this ballot's manifest hash is " + mh}},
		{"manifest hash of the result", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.ManifestHash = otherHash },
			[]string{"the report is for the manifest " + otherHash + ", this ballot's manifest hash is " + mh, particulars}},
		{"root", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Root = otherHash },
			[]string{"the report verified a ledger with root " + otherHash + ", this ballot's final ledger root is " + root + " (was its export taken before the close?)"}},
		{"entries", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Entries = 13 },
			[]string{"the report verified 13 ballots, this ballot's ledger holds 14"}},
		{"ballots per workplace", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.StyleCounts = []int64{8, 6} },
			[]string{"the report's ballots per workplace [8 6] differ from the ledger's [7 7]"}},
		{"issued", func(_ *R, _ *V, _ *P, is *[]int64) { *is = []int64{9, 13} },
			[]string{"the report was verified with [9 12] authorisations issued per workplace, the service published [9 13]"}},

		// The trustees' partial decryptions.
		{"no partials", func(_ *R, _ *V, p *P, _ *[]int64) { *p = nil },
			[]string{"the partial decryptions do not decrypt the tally: tally: not enough valid partial decryptions: 0 valid, 2 needed"}},
		{"one partial", func(_ *R, _ *V, p *P, _ *[]int64) { *p = (*p)[2:] },
			[]string{"not enough valid partial decryptions: 1 valid, 2 needed"}},
		{"a partial twice", func(_ *R, _ *V, p *P, _ *[]int64) { *p = P{(*p)[0], (*p)[0]} },
			[]string{"the partial decryption of trustee 1 is wrong: second partial from the same trustee", "1 valid, 2 needed"}},
		{"a partial claiming another trustee", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[0]
			x.Trustee = 3
			*p = P{(*p)[0], (*p)[1], &x}
		}, []string{"the partial decryption of trustee 3 is wrong: DLEQ proof"}},
		{"a partial of no trustee", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[2]
			x.Trustee = 4
			*p = append(*p, &x)
		}, []string{"the partial decryption of trustee 4 is wrong: no trustee 4 in the manifest"}},
		{"a partial for another manifest", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[0]
			x.ManifestHash[0] ^= 1
			(*p)[0] = &x
		}, []string{"the partial decryption of trustee 1 is wrong: made for another manifest"}},
		{"a partial of other sums", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[1]
			x.D, x.Proofs = x.D[1:], x.Proofs[1:]
			*p = P{(*p)[0], &x}
		}, []string{"the partial decryption of trustee 2 is wrong: has 3 decryptions, the tally needs 4", "1 valid, 2 needed"}},
		{"a changed partial", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[1]
			x.D = append(x.D[:0:0], x.D...)
			x.D[0], x.D[1] = x.D[1], x.D[0]
			*p = P{(*p)[0], &x, (*p)[2]}
		}, []string{"the partial decryption of trustee 2 is wrong: DLEQ proof"}},
		{"no sums (decryption not checked)", func(r *R, v *V, _ *P, _ *[]int64) {
			v.Sums = nil
			r.Result.Styles[0].Questions[0].Yes++
		}, nil},

		// The counts.
		{"yes", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Yes = 5 },
			[]string{w1 + "Yes 5, No 2, spoilt 1, the ledger decrypts to Yes 4, No 2, spoilt 1"}},
		{"no", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].No = 1 },
			[]string{w1 + "Yes 4, No 1, spoilt 1, the ledger decrypts to Yes 4, No 2, spoilt 1"}},
		{"spoilt", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Spoilt = 0 },
			[]string{w1 + "Yes 4, No 2, spoilt 0"}},
		{"option count", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Counts[1].Count = 3 },
			[]string{w1 + "Yes 4, No 2, spoilt 1, the ledger decrypts to Yes 4, No 2, spoilt 1"}},
		{"option label", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Questions[0].Counts[0].Label = "Aye" },
			[]string{`Workplace 2, question "strike": the report says`}},
		{"aggregate yes", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.Questions[0].Yes = 9 },
			[]string{`All workplaces (aggregated), question "strike": the report says Yes 9, No 4, spoilt 2, the ledger decrypts to Yes 8, No 4, spoilt 2`}},
		{"votes cast", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].VotesCast = 8 },
			[]string{"Workplace 2: the report says 40 entitled and 8 votes cast, the ledger gives Workplace 2: 40 entitled and 7 votes cast"}},
		{"entitled", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Entitled = 14 },
			[]string{"Workplace 1: the report says 14 entitled and 7 votes cast, the ledger gives Workplace 1: 10 entitled and 7 votes cast"}},
		{"aggregate votes cast", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.VotesCast = 15 },
			[]string{"All workplaces (aggregated): the report says 50 entitled and 15 votes cast"}},
		{"workplace ID", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].ID = "workplace-9" },
			[]string{"Workplace 1: the report says 10 entitled and 7 votes cast, the ledger gives Workplace 1"}},
		{"workplaces swapped", func(r *R, _ *V, _ *P, _ *[]int64) {
			s := r.Result.Styles
			s[0], s[1] = s[1], s[0]
		}, []string{"Workplace 2: the report says 40 entitled", "Workplace 1: the report says 10 entitled"}},
		{"a workplace left out", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles = r.Result.Styles[:1] },
			[]string{"the report has 1 workplace results, the ledger 2"}},
		{"a question left out", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Questions = nil },
			[]string{"Workplace 2: the report has 0 questions, the manifest 1"}},

		// What follows from the counts.
		{"turnout", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Turnout = "50.00%" },
			[]string{turnout("Workplace 2")}},
		{"turnout threshold met", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].TurnoutMet = tf(true) },
			[]string{turnout("Workplace 2")}},
		{"turnout threshold left out", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.TurnoutMet = nil },
			[]string{turnout("All workplaces (aggregated)")}},
		{"majority", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Majority = false },
			[]string{turnout("Workplace 1")}},
		{"supported", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Questions[0].Supported = true },
			[]string{turnout("Workplace 2")}},
		{"support threshold", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].SupportMet = tf(true) },
			[]string{turnout("Workplace 1")}},
		{"workplace name", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Name = "Head office" },
			[]string{turnout("Head office")}},
		{"question text", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.Questions[0].Text = "Strike?" },
			[]string{turnout("All workplaces (aggregated)")}},

		// The particulars the manifest gives.
		{"title", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Title = "Another ballot" }, []string{particulars}},
		{"kind", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Kind = "statutory" }, []string{particulars}},
		{"date of ballot", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.DateOfBallot = "2026-12-14" }, []string{particulars}},
		{"mandate", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.MandateExpires = "2027-06-14" }, []string{particulars}},
		{"regime", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Regime.TurnoutThreshold = false }, []string{particulars}},
		{"regime notes", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Regime.Notes = nil }, []string{particulars}},
		{"scrutineer named on the voting paper", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Scrutineer = "Someone Else" }, []string{particulars}},
	}
	runCheck(t, b, cases)
}

// TestCheckOtherBallot: the true report of another ballot, and that
// ballot's partial decryptions, are refused for this ballot.
func TestCheckOtherBallot(t *testing.T) {
	b, o := load(t, "fixture-ballot"), load(t, "other-ballot")
	_, js, sig := o.signed(t)
	rep, err := Open(js, sig, testVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if probs := Check(rep, o.res, o.partials, o.issued); len(probs) != 0 {
		t.Fatalf("the other ballot's own check: %q", probs)
	}
	got := Check(rep, b.res, b.partials, b.issued)
	want := []string{
		`the report is for election "other-ballot", not this ballot ("fixture-ballot")`,
		fmt.Sprintf("the report is for the manifest %s, this ballot's manifest hash is %s", o.rf.Result.ManifestHash, b.rf.Result.ManifestHash),
		fmt.Sprintf("the report verified a ledger with root %s, this ballot's final ledger root is %s", o.rf.Verification.Root, b.rf.Verification.Root),
		// The counts happen to be equal (the same fixture votes): only the
		// particulars differ.
		"the report's particulars",
	}
	if len(got) != len(want) {
		t.Fatalf("Check: %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: %q, want %q", i, got[i], want[i])
		}
	}
	// This ballot's report with the other ballot's partials.
	mine := mustParse(t, func() []byte { _, js, _ := b.signed(t); return js }())
	got = Check(mine, b.res, o.partials, b.issued)
	if len(got) != 4 || !strings.Contains(got[0], "trustee 1 is wrong: made for another manifest") ||
		!strings.Contains(got[1], "trustee 2 is wrong: made for another manifest") || !strings.Contains(got[2], "trustee 3 is wrong: made for another manifest") ||
		!strings.Contains(got[3], "the partial decryptions do not decrypt the tally: tally: not enough valid partial decryptions: 0 valid, 2 needed") {
		t.Fatalf("other ballot's partials: %q", got)
	}
}
