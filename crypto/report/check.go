package report

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

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
// differs; none means the signed counts are exactly the decryption of this
// ledger's valid ballots.
func Check(rep *Report, v *verify.Result, partials []*threshold.Partial, issued []int64) []string {
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	if v == nil || v.Manifest == nil || v.Election == nil {
		return []string{"the ledger of this ballot could not be verified (no usable manifest)"}
	}
	if rep == nil || rep.Result == nil {
		return []string{"there is no result in the report"}
	}
	if !v.OK() {
		for i, f := range v.Failures {
			if i == 5 {
				add("and %d more ledger verification failures", int64(len(v.Failures)-5)+v.More)
				break
			}
			add("the ledger does not verify: %s", f)
		}
	}
	if !v.Header.Closed {
		add("the ledger of this ballot is not closed: a result can only be of a closed ballot")
	}
	// The report names its ballot twice (its own fields and its result's):
	// the message names the one that differs.
	for _, id := range []string{rep.ElectionID, rep.Result.ElectionID} {
		if id != v.Header.ElectionID {
			add("the report is for election %q, not this ballot (%q)", id, v.Header.ElectionID)
			break
		}
	}
	mh := v.Election.ManifestHash()
	h := hex.EncodeToString(mh[:])
	for _, m := range []string{rep.ManifestHash, rep.Result.ManifestHash} {
		if m != h {
			add("the report is for the manifest %s, this ballot's manifest hash is %s", m, h)
			break
		}
	}
	if root := hex.EncodeToString(v.Root[:]); rep.Verification.Root != root {
		add("the report verified a ledger with root %s, this ballot's final ledger root is %s (was its export taken before the close?)", rep.Verification.Root, root)
	}
	if rep.Verification.Entries != v.Entries {
		add("the report verified %d ballots, this ballot's ledger holds %d", rep.Verification.Entries, v.Entries)
	}
	if !slices.Equal(rep.Verification.StyleCounts, v.StyleCounts) {
		add("the report's ballots per workplace %v differ from the ledger's %v", rep.Verification.StyleCounts, v.StyleCounts)
	}
	if got := Summary(v).Paper; !sameJSON(rep.Verification.Paper, got) {
		add("the report verified the paper section %s, this ballot's ledger has %s", paperText(rep.Verification.Paper), paperText(got))
	}
	if issued != nil && rep.Verification.Issued != nil && !slices.Equal(rep.Verification.Issued, issued) {
		add("the report was verified with %v authorisations issued per workplace, the service published %v", rep.Verification.Issued, issued)
	}
	if v.Sums == nil {
		return out
	}
	pub, err := tally.TrusteeKey(v.Manifest)
	if err != nil {
		add("the manifest's trustees' key: %v", err)
		return out
	}
	counts, bad, err := tally.Decrypt(pub, v.Sums, partials)
	for _, b := range bad {
		add("the partial decryption of trustee %d is wrong: %v", b.Trustee, b.Err)
	}
	if err != nil {
		add("the partial decryptions do not decrypt the tally: %v", err)
		return out
	}
	counts.Paper = v.PaperTotals()
	got, err := tally.Compute(v.Manifest, counts)
	if err != nil {
		add("count: %v", err)
		return out
	}
	return append(out, compare(rep.Result, got)...)
}

// compare names every difference between the signed result and the result
// recomputed from the ledger.
func compare(signed, got *tally.Result) []string {
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	all := func(r *tally.Result) []tally.StyleResult {
		return append(append([]tally.StyleResult{}, r.Styles...), r.Aggregate)
	}
	ss, gs := all(signed), all(got)
	if len(ss) != len(gs) {
		add("the report has %d workplace results, the ledger %d", len(ss)-1, len(gs)-1)
		return out
	}
	for i, s := range ss {
		g := gs[i]
		if s.ID != g.ID || s.Entitled != g.Entitled || s.VotesCast != g.VotesCast {
			add("%s: the report says %d entitled and %d votes cast, the ledger gives %s: %d entitled and %d votes cast", s.Name, s.Entitled, s.VotesCast, g.Name, g.Entitled, g.VotesCast)
			continue
		}
		if len(s.Questions) != len(g.Questions) {
			add("%s: the report has %d questions, the manifest %d", s.Name, len(s.Questions), len(g.Questions))
			continue
		}
		for j, q := range s.Questions {
			gq := g.Questions[j]
			if !sameJSON(q.Counts, gq.Counts) || q.Yes != gq.Yes || q.No != gq.No || q.Spoilt != gq.Spoilt {
				add("%s, question %q: the report says %s, the ledger decrypts to %s", s.Name, q.ID, countText(q), countText(gq))
			}
		}
		if !sameJSON(s.Channels, g.Channels) || !sameJSON(s.Rejected, g.Rejected) {
			add("%s: the report's count per channel (online, postal, workplace) or its rejected papers differ from the ledger's paper section", s.Name)
		}
		if len(out) == 0 && !sameJSON(s, g) {
			add("%s: the report's turnout or thresholds differ from those computed from the counts", s.Name)
		}
	}
	if len(out) > 0 {
		return out
	}
	// Everything else (dates, regime, mandate, texts) must be what the
	// manifest gives; the trustees combined may differ.
	a, b := *signed, *got
	a.Trustees, b.Trustees = nil, nil
	if !sameJSON(a, b) {
		add("the report's particulars (title, date of the ballot, legal regime or mandate) differ from those the manifest gives")
	}
	return out
}

func paperText(p *PaperSection) string {
	if p == nil {
		return "(none)"
	}
	return fmt.Sprintf("(%d batches ending %.12s…)", p.Batches, p.Head)
}

func countText(q tally.QuestionResult) string {
	if q.YesNo {
		return fmt.Sprintf("Yes %d, No %d, spoilt %d", q.Yes, q.No, q.Spoilt)
	}
	s := ""
	for i, o := range q.Counts {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", o.Label, o.Count)
	}
	return s
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
