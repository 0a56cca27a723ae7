package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// checkCase changes one input of Check; want are the problems Check must
// return, in order, each "<check name>: <substring of its message>" (the
// ledger's own failures, which Check lists first, with the check "ledger").
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
			var got []string
			for _, m := range Check(rep, &v, ps, issued) {
				if strings.HasPrefix(m, "the ledger does not verify") || strings.HasPrefix(m, "and ") {
					got = append(got, "ledger: "+m)
				}
			}
			for _, f := range Checks(rep, &v, ps, issued, "scrutineer.test") {
				got = append(got, f.Check+": "+f.Reason)
			}
			ok := len(got) == len(c.want)
			for i := 0; ok && i < len(got); i++ {
				name, sub, _ := strings.Cut(c.want[i], ": ")
				ok = strings.HasPrefix(got[i], name+": ") && strings.Contains(got[i], sub)
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
	const (
		counts      = "result.counts: "
		derived     = "result.derived: "
		particulars = "result.particulars: "
		trustees    = "result.trustees: "
		statements  = "result.statements: "
	)
	type (
		R = Report
		V = verify.Result
		P = []*threshold.Partial
	)
	cases := []checkCase{
		{"true report", func(*R, *V, *P, *[]int64) {}, nil},
		{"issued not published", func(_ *R, _ *V, _ *P, is *[]int64) { *is = nil }, nil},
		{"issued not in the report", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Issued = nil }, nil},
		{"other trustees combined (both with valid partials)", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Trustees = []int{2, 3} }, nil},
		{"all three partials, the two first only", func(_ *R, _ *V, p *P, _ *[]int64) { *p = (*p)[:2] }, nil},
		{"the scrutineer's own parts (notes, date, name, particulars with satisfied false) are not checked", func(r *R, _ *V, _ *P, _ *[]int64) {
			r.Statements[1].Satisfied, r.Statements[1].Particulars = false, []string{"x"}
			r.Notes, r.Date, r.Scrutineer = []string{"x"}, "2030-01-01", "X"
		}, nil},

		{"no result in the report", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result = nil },
			[]string{"result.decode: there is no result in the report"}},

		// The statements.
		{"satisfied without particulars", func(r *R, _ *V, _ *P, _ *[]int64) { r.Statements[1].Satisfied = false },
			[]string{statements + "s.231B(1)(b): satisfied is false with 0 particulars"}},
		{"particulars yet satisfied", func(r *R, _ *V, _ *P, _ *[]int64) { r.Statements[2].Particulars = []string{"x"} },
			[]string{statements + "s.231B(1)(c): satisfied is true with 1 particulars"}},
		{"statement text", func(r *R, _ *V, _ *P, _ *[]int64) { r.Statements[0].Text = "All fine." },
			[]string{statements + "statement 1 is not the text of s.231B(1)(a)"}},
		{"document", func(r *R, _ *V, _ *P, _ *[]int64) { r.Document = "Result" }, []string{statements + "the document is \"Result\""}},
		{"signed by another name", func(r *R, _ *V, _ *P, _ *[]int64) { r.SignedBy = "someone" },
			[]string{`result.signer: the report says it is signed by "someone", it is signed by "scrutineer.test"`}},

		// The ledger.
		{"no verification", func(_ *R, v *V, _ *P, _ *[]int64) { *v = V{} },
			[]string{"result.ledger: the ledger of this ballot could not be verified (no usable manifest)"}},
		{"ledger failures", func(_ *R, v *V, _ *P, _ *[]int64) {
			v.Failures = []verify.Failure{{Check: verify.CheckEntryProof, Item: "entry", Index: 2, Reason: "bad proof"}}
		}, []string{"ledger: the ledger does not verify: [entry.proof] entry 2: bad proof", "result.ledger: the report's verification found 0 failures, this verification 1"}},
		{"many ledger failures", func(_ *R, v *V, _ *P, _ *[]int64) {
			for i := range 7 {
				v.Failures = append(v.Failures, verify.Failure{Check: verify.CheckEntryProof, Item: "entry", Index: int64(i), Reason: "bad"})
			}
			v.More = 3
		}, []string{"ledger: entry 0: bad", "ledger: entry 1: bad", "ledger: entry 2: bad", "ledger: entry 3: bad", "ledger: entry 4: bad", "ledger: and 5 more ledger verification failures",
			"result.ledger: found 0 failures, this verification 10"}},
		{"failures in the report", func(r *R, _ *V, _ *P, _ *[]int64) {
			r.Verification.Failures = []verify.Failure{{Item: "entry", Index: 1, Reason: "x"}}
		}, []string{statements + "the verification found failures, yet the report says s.231B(1)(a) is satisfied", "result.ledger: found 1 failures, this verification 0"}},
		{"ledger not closed", func(_ *R, v *V, _ *P, _ *[]int64) { v.Header.Closed = false },
			[]string{"result.final: the ledger of this ballot is not closed: a result can only be of a closed ballot"}},
		{"another final checkpoint", func(r *R, _ *V, _ *P, _ *[]int64) { f := "x"; r.Verification.FinalCheckpoint = &f },
			[]string{"result.final: the report's final checkpoint is not this ledger's signed close"}},

		// Which ballot the report is of.
		{"election", func(r *R, _ *V, _ *P, _ *[]int64) { r.ElectionID = "other-ballot" },
			[]string{`result.election: the report is for election "other-ballot", not this ballot ("fixture-ballot")`}},
		{"election of the result", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.ElectionID = "other-ballot" },
			[]string{`result.election: the report is for election "other-ballot", not this ballot ("fixture-ballot")`}},
		{"manifest hash", func(r *R, _ *V, _ *P, _ *[]int64) { r.ManifestHash = otherHash },
			[]string{"result.manifest: the report is for the manifest " + otherHash + ", this ballot's manifest hash is " + mh}},
		{"manifest hash of the result", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.ManifestHash = otherHash },
			[]string{"result.manifest: the report is for the manifest " + otherHash + ", this ballot's manifest hash is " + mh}},
		{"root", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Root = otherHash },
			[]string{"result.ledger: the report verified a ledger with root " + otherHash + ", this ballot's final ledger root is " + root + " (was its export taken before the close?)"}},
		{"entries", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Entries = 13 },
			[]string{"result.ledger: the report verified 13 ballots, this ballot's ledger holds 14"}},
		{"checkpoints", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.Checkpoints++ },
			[]string{"result.ledger: checkpoints"}},
		{"ballots per workplace", func(r *R, _ *V, _ *P, _ *[]int64) { r.Verification.StyleCounts = []int64{8, 6} },
			[]string{"result.ledger: the report's ballots per workplace [8 6] differ from the ledger's [7 7]"}},
		{"issued", func(_ *R, _ *V, _ *P, is *[]int64) { *is = []int64{9, 13} },
			[]string{"result.issued: the report was verified with [9 12] authorisations issued per workplace, the service published [9 13]"}},

		// The trustees' partial decryptions.
		{"no partials", func(_ *R, _ *V, p *P, _ *[]int64) { *p = nil },
			[]string{"partials.threshold: not enough valid partial decryptions: 0 valid, 2 needed"}},
		{"one partial", func(_ *R, _ *V, p *P, _ *[]int64) { *p = (*p)[2:] },
			[]string{"partials.threshold: not enough valid partial decryptions: 1 valid, 2 needed"}},
		{"a partial twice", func(_ *R, _ *V, p *P, _ *[]int64) { *p = P{(*p)[0], (*p)[0]} },
			[]string{"partial.trustee: the partial decryption of trustee 1 is wrong: second partial from the same trustee", "partials.threshold: 1 valid, 2 needed"}},
		{"a partial claiming another trustee", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[0]
			x.Trustee = 3
			*p = P{(*p)[0], (*p)[1], &x}
		}, []string{"partial.proof: the partial decryption of trustee 3 is wrong: DLEQ proof"}},
		{"a partial of no trustee", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[2]
			x.Trustee = 4
			*p = append(*p, &x)
		}, []string{"partial.trustee: the partial decryption of trustee 4 is wrong: no trustee 4 in the manifest"}},
		{"a partial for another manifest", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[0]
			x.ManifestHash[0] ^= 1
			(*p)[0] = &x
		}, []string{"partial.manifest: the partial decryption of trustee 1 is wrong: made for another manifest", trustees + "no valid published partial of trustee 1"}},
		{"a partial of other sums", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[1]
			x.D, x.Proofs = x.D[1:], x.Proofs[1:]
			*p = P{(*p)[0], &x}
		}, []string{"partial.count: the partial decryption of trustee 2 is wrong: has 3 decryptions, the tally needs 4", "partials.threshold: 1 valid, 2 needed"}},
		{"a changed partial", func(_ *R, _ *V, p *P, _ *[]int64) {
			x := *(*p)[1]
			x.D = append(x.D[:0:0], x.D...)
			x.D[0], x.D[1] = x.D[1], x.D[0]
			*p = P{(*p)[0], &x, (*p)[2]}
		}, []string{"partial.proof: the partial decryption of trustee 2 is wrong: DLEQ proof", trustees + "no valid published partial of trustee 2"}},
		{"no sums (decryption not checked)", func(r *R, v *V, _ *P, _ *[]int64) {
			v.Sums = nil
			r.Result.Styles[0].Questions[0].Yes++
		}, nil},

		// The trustees the report says were combined.
		{"a trustee without a partial", func(_ *R, _ *V, p *P, _ *[]int64) { *p = P{(*p)[1], (*p)[2]} },
			[]string{trustees + "no valid published partial of trustee 1"}},
		{"one trustee", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Trustees = []int{1} },
			[]string{trustees + "the report names 1 trustees as combined, the tally combines 2"}},
		{"a trustee twice", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Trustees = []int{1, 1} }, []string{trustees + "names trustee 1 twice"}},
		{"a combined trustee rejected", func(r *R, _ *V, _ *P, _ *[]int64) { r.Rejected = []RejectedTrust{{1, "x"}} },
			[]string{trustees + "trustee 1 both as combined and as rejected"}},

		// The counts.
		{"yes", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Yes = 5 },
			[]string{counts + "styles[0].questions[0].yes: the report says 5, the ledger and the manifest give 4"}},
		{"no", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].No = 1 },
			[]string{counts + "styles[0].questions[0].no: the report says 1"}},
		{"option count", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Counts[1].Count = 3 },
			[]string{counts + "styles[0].questions[0].options[1].count: the report says 3, the ledger and the manifest give 2"}},
		{"aggregate yes", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.Questions[0].Yes = 9 },
			[]string{counts + "aggregate.questions[0].yes: the report says 9, the ledger and the manifest give 8"}},
		{"votes cast", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].VotesCast = 8 },
			[]string{counts + "styles[1].votes_cast: the report says 8, the ledger and the manifest give 7"}},
		{"aggregate votes cast", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.VotesCast = 15 },
			[]string{counts + "aggregate.votes_cast: the report says 15"}},

		// What follows from the counts.
		{"spoilt", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Spoilt = 0 },
			[]string{derived + "styles[0].questions[0].spoilt: the report says 0, the ledger and the manifest give 1"}},
		{"turnout", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Turnout = "50.00%" },
			[]string{derived + `styles[1].turnout: the report says "50.00%", the ledger and the manifest give "17.50%"`}},
		{"turnout threshold met", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].TurnoutMet = tf(true) },
			[]string{derived + "styles[1].turnout_threshold_met: the report says true, the ledger and the manifest give false"}},
		{"turnout threshold left out", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.TurnoutMet = nil },
			[]string{derived + "aggregate.turnout_threshold_met: the report says nothing"}},
		{"majority", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].Majority = false },
			[]string{derived + "styles[0].questions[0].majority_yes: the report says false, the ledger and the manifest give true"}},
		{"supported", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Questions[0].Supported = true },
			[]string{derived + "styles[1].questions[0].supported"}},
		{"support threshold", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Questions[0].SupportMet = tf(true) },
			[]string{derived + "styles[0].questions[0].support_threshold_met: the report says true, the ledger and the manifest give nothing"}},

		// The particulars the manifest gives.
		{"entitled", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Entitled = 14 },
			[]string{particulars + "styles[0].entitled: the report says 14, the ledger and the manifest give 10"}},
		{"option label", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Questions[0].Counts[0].Label = "Aye" },
			[]string{particulars + `styles[1].questions[0].options[0].label: the report says "Aye"`}},
		{"workplace ID", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].ID = "workplace-9" },
			[]string{particulars + "styles[0].id"}},
		{"workplaces swapped", func(r *R, _ *V, _ *P, _ *[]int64) {
			s := r.Result.Styles
			s[0], s[1] = s[1], s[0]
		}, []string{particulars + "styles[0].entitled", particulars + "styles[0].id", particulars + "styles[0].name", derived + "styles[0].questions[0].supported",
			derived + "styles[0].turnout", derived + "styles[0].turnout_threshold_met", particulars + "styles[1].entitled", particulars + "styles[1].id",
			particulars + "styles[1].name", derived + "styles[1].questions[0].supported", derived + "styles[1].turnout", derived + "styles[1].turnout_threshold_met"}},
		{"a workplace left out", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles = r.Result.Styles[:1] },
			[]string{particulars + "styles: the report says"}},
		{"a question left out", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[1].Questions = nil },
			[]string{particulars + "styles[1].questions: the report says nothing"}},
		{"workplace name", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Styles[0].Name = "Head office" },
			[]string{particulars + `styles[0].name: the report says "Head office"`}},
		{"question text", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Aggregate.Questions[0].Text = "Strike?" },
			[]string{particulars + "aggregate.questions[0].text"}},
		{"title", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Title = "Another ballot" }, []string{particulars + `title: the report says "Another ballot"`}},
		{"kind", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Kind = "statutory" }, []string{particulars + "kind"}},
		{"date of ballot", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.DateOfBallot = "2026-12-14" }, []string{particulars + "date_of_ballot"}},
		{"mandate", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.MandateExpires = "2027-06-14" }, []string{particulars + "mandate_expires"}},
		{"regime", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Regime.TurnoutThreshold = false }, []string{particulars + "regime.turnout_threshold"}},
		{"regime notes", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Regime.Notes = nil }, []string{particulars + "regime.notes"}},
		{"scrutineer named on the voting paper", func(r *R, _ *V, _ *P, _ *[]int64) { r.Result.Scrutineer = "Someone Else" }, []string{particulars + "scrutineer"}},
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
		"the report's final checkpoint is not this ledger's signed close",
		fmt.Sprintf("the report verified a ledger with root %s, this ballot's final ledger root is %s", o.rf.Verification.Root, b.rf.Verification.Root),
		// The counts happen to be equal (the same fixture votes): only the
		// particulars differ (the election's id is the only one).
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
