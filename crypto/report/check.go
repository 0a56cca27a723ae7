package report

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// Check compares a (signature-checked) report with the ballot it claims to
// be the result of: v is the verification of that ballot's closed ledger
// (crypto/verify, run with the authorisations issued when known), partials
// the trustees' partial decryptions published with the report, and issued
// the authorisations issued per style published by the service (nil when
// not known). It returns every discrepancy, each a sentence naming what
// differs, the ledger's own failures first; none means the signed counts
// are exactly the decryption of this ledger's valid ballots. (Checks gives
// the same with the name of each check.)
func Check(rep *Report, v *verify.Result, partials []*threshold.Partial, issued []int64) []string {
	var out []string
	if v != nil && v.Manifest != nil && !v.OK() {
		for i, f := range v.Failures {
			if i == 5 {
				out = append(out, fmt.Sprintf("and %d more ledger verification failures", int64(len(v.Failures)-5)+v.More))
				break
			}
			out = append(out, "the ledger does not verify: "+f.String())
		}
	}
	for _, f := range Checks(rep, v, partials, issued, "") {
		out = append(out, f.Reason)
	}
	return out
}

// Checks runs the checks of a signed report against its ballot
// (docs/protocol.md §8.2, result.* and partial.*, after result.key,
// result.signature and result.decode which Open makes): v, partials and
// issued are as for Check; keyName is the name of the key the report was
// opened with ("" to skip check result.signer). It returns every failure,
// named.
func Checks(rep *Report, v *verify.Result, partials []*threshold.Partial, issued []int64, keyName string) []verify.Failure {
	c := &checker{rep: rep, v: v}
	c.run(partials, issued, keyName)
	return c.out
}

func (c *checker) run(partials []*threshold.Partial, issued []int64, keyName string) {
	rep, v := c.rep, c.v
	if v == nil || v.Manifest == nil || v.Election == nil {
		c.fail(verify.CheckResultLedger, "the ledger of this ballot could not be verified (no usable manifest)")
		return
	}
	if rep == nil || rep.Result == nil {
		c.fail(verify.CheckResultDecode, "there is no result in the report")
		return
	}
	if keyName != "" && rep.SignedBy != keyName {
		c.fail(verify.CheckResultSigner, fmt.Sprintf("the report says it is signed by %q, it is signed by %q", rep.SignedBy, keyName))
	}
	c.statements()
	// The report names its ballot twice (its own fields and its result's):
	// the message names the one that differs.
	for _, id := range []string{rep.ElectionID, rep.Result.ElectionID} {
		if id != v.Header.ElectionID {
			c.fail(verify.CheckResultElection, fmt.Sprintf("the report is for election %q, not this ballot (%q)", id, v.Header.ElectionID))
			break
		}
	}
	mh := v.Election.ManifestHash()
	h := hex.EncodeToString(mh[:])
	for _, m := range []string{rep.ManifestHash, rep.Result.ManifestHash} {
		if m != h {
			c.fail(verify.CheckResultManifest, fmt.Sprintf("the report is for the manifest %s, this ballot's manifest hash is %s", m, h))
			break
		}
	}
	c.ledger()
	if issued != nil && rep.Verification.Issued != nil && !slices.Equal(rep.Verification.Issued, issued) {
		c.fail(verify.CheckResultIssued, fmt.Sprintf("the report was verified with %v authorisations issued per workplace, the service published %v", rep.Verification.Issued, issued))
	}
	if v.Sums == nil {
		return
	}
	pub, err := tally.TrusteeKey(v.Manifest)
	if err != nil {
		c.fail(verify.CheckManifestTrustees, fmt.Sprintf("the manifest's trustees' key: %v", err))
		return
	}
	good, bad := tally.CheckPartials(pub, v.Sums, partials)
	for _, b := range bad {
		c.failItem(b.Check, "partial", int64(b.File), fmt.Sprintf("the partial decryption of trustee %d is wrong: %v", b.Trustee, b.Err))
	}
	k := tally.Needed(pub, v.Sums)
	if len(good) < k {
		c.failItem(verify.CheckPartialThreshold, "partial", -1, fmt.Sprintf("the partial decryptions do not decrypt the tally: %v: %d valid, %d needed", tally.ErrNotEnough, len(good), k))
		return
	}
	set := c.trustees(good, k)
	counts, err := tally.Combine(pub, v.Sums, set)
	if err != nil {
		c.fail(verify.CheckResultCounts, fmt.Sprintf("the partial decryptions do not decrypt the tally: %v", err))
		return
	}
	counts.Paper = v.PaperTotals()
	counts.ClosedAt = v.ClosedAt
	got, err := tally.Compute(v.Manifest, counts)
	if err != nil {
		c.fail(verify.CheckResultCounts, fmt.Sprintf("count: %v", err))
		return
	}
	c.counts = counts
	c.compare(rep.Result, got)
}

type checker struct {
	rep    *Report
	v      *verify.Result
	out    []verify.Failure
	counts *tally.Counts // the decrypted counts, when the partials allowed it
}

func (c *checker) fail(check, reason string) { c.failItem(check, "result", -1, reason) }

func (c *checker) failItem(check, item string, index int64, reason string) {
	c.out = append(c.out, verify.Failure{Check: check, Item: item, Index: index, Reason: reason})
}

// statements: the document and the three s.231B(1) statements are those
// `scrutineer report` writes; a statement is satisfied exactly when it has
// no particulars, and statement (a) is not satisfied when the
// verification found failures.
func (c *checker) statements() {
	r := c.rep
	if r.Document != Document {
		c.fail(verify.CheckResultStatements, fmt.Sprintf("the document is %q, not %q", r.Document, Document))
	}
	for i, s := range r.Statements {
		want := statementTexts[i]
		if s.Clause != want[0] || s.Text != want[1] {
			c.fail(verify.CheckResultStatements, fmt.Sprintf("statement %d is not the text of %s", i+1, want[0]))
			continue
		}
		if s.Satisfied != (len(s.Particulars) == 0) {
			c.fail(verify.CheckResultStatements, fmt.Sprintf("%s: satisfied is %v with %d particulars", s.Clause, s.Satisfied, len(s.Particulars)))
		}
	}
	if (len(r.Verification.Failures) > 0 || r.Verification.More > 0) && len(r.Statements) > 0 && r.Statements[0].Satisfied {
		c.fail(verify.CheckResultStatements, "the verification found failures, yet the report says s.231B(1)(a) is satisfied")
	}
}

// ledger: the report verified this ledger, final and closed.
func (c *checker) ledger() {
	r, v := c.rep, c.v
	if !v.Header.Closed {
		c.fail(verify.CheckResultFinal, "the ledger of this ballot is not closed: a result can only be of a closed ballot")
	}
	if f := r.Verification.FinalCheckpoint; f != nil {
		close := ""
		if v.Close != nil {
			close = string(v.Close.Note)
		}
		if *f != close {
			c.fail(verify.CheckResultFinal, "the report's final checkpoint is not this ledger's signed close (was its export taken from another or a cut-back ledger?)")
		}
	}
	if root := hex.EncodeToString(v.Root[:]); r.Verification.Root != root {
		c.fail(verify.CheckResultLedger, fmt.Sprintf("the report verified a ledger with root %s, this ballot's final ledger root is %s (was its export taken before the close?)", r.Verification.Root, root))
	}
	if r.Verification.Entries != v.Entries {
		c.fail(verify.CheckResultLedger, fmt.Sprintf("the report verified %d ballots, this ballot's ledger holds %d", r.Verification.Entries, v.Entries))
	}
	if r.Verification.Checkpoints != v.Checkpoints {
		c.fail(verify.CheckResultLedger, fmt.Sprintf("the report verified %d checkpoints, this ballot's ledger has %d", r.Verification.Checkpoints, v.Checkpoints))
	}
	if !slices.Equal(r.Verification.StyleCounts, v.StyleCounts) {
		c.fail(verify.CheckResultLedger, fmt.Sprintf("the report's ballots per workplace %v differ from the ledger's %v", r.Verification.StyleCounts, v.StyleCounts))
	}
	if got := Summary(v).Paper; show(r.Verification.Paper) != show(got) {
		c.fail(verify.CheckResultLedger, fmt.Sprintf("the report verified the paper section %s, this ballot's ledger has %s", paperText(r.Verification.Paper), paperText(got)))
	}
	if clean := len(r.Verification.Failures) == 0 && r.Verification.More == 0; clean != v.OK() {
		c.fail(verify.CheckResultLedger, fmt.Sprintf("the report's verification found %d failures, this verification %d", int64(len(r.Verification.Failures))+r.Verification.More, int64(len(v.Failures))+v.More))
	}
}

// trustees checks the report's list of the trustees whose partials were
// combined: exactly the number needed, distinct, each with a valid
// published partial and none named as rejected. It returns the partials to
// decrypt with: those of the report's trustees when the list is right, else
// the first valid ones.
func (c *checker) trustees(good []*threshold.Partial, k int) []*threshold.Partial {
	ts := c.rep.Result.Trustees
	var set []*threshold.Partial
	problem := ""
	for _, t := range ts {
		i := slices.IndexFunc(good, func(p *threshold.Partial) bool { return p.Trustee == t })
		switch {
		case i < 0:
			problem = fmt.Sprintf("the report says trustee %d's partial decryption was combined, but there is no valid published partial of trustee %d", t, t)
		case slices.Contains(set, good[i]):
			problem = fmt.Sprintf("the report names trustee %d twice", t)
		default:
			set = append(set, good[i])
		}
	}
	for _, x := range c.rep.Rejected {
		if slices.Contains(ts, x.Trustee) {
			problem = fmt.Sprintf("the report names trustee %d both as combined and as rejected", x.Trustee)
		}
	}
	if problem == "" && len(ts) != k {
		problem = fmt.Sprintf("the report names %d trustees as combined, the tally combines %d", len(ts), k)
	}
	if problem != "" {
		c.fail(verify.CheckResultTrustees, problem)
		return good[:k]
	}
	return set
}

// fieldCheck is the check of docs/protocol.md §8.2 that a member of the
// result belongs to: the counts, what follows from them (turnout,
// thresholds, spoilt, majorities), or the particulars the manifest gives.
func fieldCheck(key string) string {
	switch key {
	case "votes_cast", "count", "yes", "no",
		// The count per channel and the papers rejected (a ballot with a
		// paper section): the ledger's paper section gives them.
		"channels", "channel", "paper_rejected", "voted_online", "second_return", "late":
		return verify.CheckResultCounts
	case "turnout", "turnout_threshold_met", "spoilt", "majority_yes", "support_threshold_met", "supported", "yes_no":
		return verify.CheckResultDerived
	}
	return verify.CheckResultParticulars
}

// compare names every difference between the signed result and the result
// recomputed from the ledger (tally.Compute of the decrypted counts),
// member by member of their JSON form, each under the check of its member.
// The election id, manifest hash and trustees are checked on their own.
func (c *checker) compare(signed, got *tally.Result) {
	var a, b map[string]any
	if toTree(signed, &a) != nil || toTree(got, &b) != nil {
		c.fail(verify.CheckResultParticulars, "the result cannot be compared")
		return
	}
	for _, k := range []string{"election_id", "manifest_hash", "trustees"} {
		delete(a, k)
		delete(b, k)
	}
	diffTree(nil, a, b, func(path []string, key string, x, y any) {
		c.fail(fieldCheck(key), fmt.Sprintf("%s: the report says %s, the ledger and the manifest give %s", strings.Join(path, "."), show(x), show(y)))
	})
}

func toTree(v any, out *map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func paperText(p *PaperSection) string {
	if p == nil {
		return "(none)"
	}
	return fmt.Sprintf("(%d batches ending %.12s…)", p.Batches, p.Head)
}

func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// diffTree calls f for every leaf (or every subtree of another shape) that
// differs between x and y, with its path and the key it is under.
func diffTree(path []string, x, y any, f func(path []string, key string, x, y any)) {
	key := ""
	if len(path) > 0 {
		key = path[len(path)-1]
		if i := strings.IndexByte(key, '['); i >= 0 {
			key = key[:i]
		}
	}
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok {
			f(path, key, x, y)
			return
		}
		keys := map[string]bool{}
		for k := range xv {
			keys[k] = true
		}
		for k := range yv {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			diffTree(append(slices.Clip(path), k), xv[k], yv[k], f)
		}
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			f(path, key, x, y)
			return
		}
		for i := range xv {
			p := slices.Clone(path)
			p[len(p)-1] = fmt.Sprintf("%s[%d]", p[len(p)-1], i)
			diffTree(p, xv[i], yv[i], f)
		}
	default:
		if show(x) != show(y) {
			f(path, key, x, y)
		}
	}
}

// statementTexts are the clause and text of the three s.231B(1)
// statements, as New writes them.
var statementTexts = [3][2]string{
	{"s.231B(1)(a)", "There are no reasonable grounds for believing that there was any contravention of a requirement imposed by or under any enactment in relation to the ballot."},
	{"s.231B(1)(b)", "The arrangements made with respect to the production, storage, distribution, return or other handling of the voting papers used in the ballot, and the arrangements for the counting of the votes, included all such security arrangements as were reasonably practicable for the purpose of minimising the risk that any unfairness or malpractice might occur."},
	{"s.231B(1)(c)", "The scrutineer has been able to carry out the scrutineer's functions without such interference as would make it reasonable for any person to call the scrutineer's independence in relation to the union into question."},
}
