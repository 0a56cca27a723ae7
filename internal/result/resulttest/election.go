// Package resulttest makes what the result tests need: a signed election
// report (s.52) of a union election fixture's ranked contest, made with
// crypto/report's API as `scrutineer ranked report` makes it.
package resulttest

import (
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/stv"
)

// Contest is the ranked contest of an opened ballot's manifest and a
// count of it: six ranked ballots and one spoilt paper of 10 distributed,
// two shuffles, decrypted by trustees 1 and 2 (the independent person's
// where the manifest names one with a trustee).
type Contest struct {
	EC    report.ElectionContest
	Count report.ElectionCount
}

// NewContest counts the (last) ranked question of the manifest mj.
func NewContest(t testing.TB, mj []byte) *Contest {
	t.Helper()
	mf, err := manifest.Parse(mj)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := mf.Hash()
	qi := -1
	for i, q := range mf.Questions {
		if q.Ranked() {
			qi = i
		}
	}
	if qi < 0 {
		t.Fatal("resulttest: no ranked question in the manifest")
	}
	q := mf.Questions[qi]
	var names []string
	for _, o := range q.Options {
		names = append(names, o.Label)
	}
	el := &stv.Election{Candidates: len(names), Names: names, Seats: q.Seats, Lot: stv.LotFromSeed(h[:], len(names))}
	for _, prefs := range [][]int{{0, 1}, {0, 2}, {0, 1, 3}, {1, 0}, {2, 1}, {3, 2, 1}} {
		el.Ballots = append(el.Ballots, stv.Ballot{Weight: 1, Prefs: prefs})
	}
	res, err := stv.Count(stv.Rule(q.Rule), el)
	if err != nil {
		t.Fatal(err)
	}
	c := &Contest{
		EC: report.ElectionContest{ManifestHash: hex.EncodeToString(h[:]), Contest: qi, Question: q.ID, Title: q.Text},
		Count: report.ElectionCount{Candidates: names, Distributed: 10, Returned: 7,
			Spoilt: []report.SpoiltPaper{{Ballot: 4, Reason: "the ballot's proof does not verify"}}, Shuffles: 2, DecryptedBy: []int{1, 2},
			FinalList: strings.Repeat("ab", 32), Lot: el.Lot, STV: res}}
	if ip := mf.IndependentPerson; ip != nil {
		c.EC.Persons = []report.IndependentPerson{{Name: ip.Name, Trustee: ip.Trustee}}
	}
	return c
}

// Sign makes the contest's election report, changed by edit (nil: none),
// and signs it with signer.
func (c *Contest) Sign(t testing.TB, signer note.Signer, edit func(*report.ElectionContest, *report.ElectionCount)) (js, sig []byte) {
	t.Helper()
	ec, count := c.EC, c.Count
	ec.Persons = append([]report.IndependentPerson{}, ec.Persons...)
	count.DecryptedBy = append([]int{}, count.DecryptedBy...)
	if edit != nil {
		edit(&ec, &count)
	}
	rep := report.NewElection(ec, count, signer.Name(), report.ElectionOptions{Scrutineer: "Ballot Scrutineers Ltd", Date: "2027-01-12"})
	js, sig, err := report.SignElection(rep, signer)
	if err != nil {
		t.Fatal(err)
	}
	return js, sig
}
