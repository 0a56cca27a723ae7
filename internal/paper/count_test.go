package paper_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	cpaper "github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/issuance/issuancetest"
	"github.com/unionvote/eballot/internal/paper"
	"github.com/unionvote/eballot/internal/vote/votetest"
)

// choice is member i's intended answer to both questions: 0 Yes, 1 No,
// 2 blank (the second question is the reverse of the first).
func choice(i int) (q1, q2 int) {
	q1 = i % 3
	return q1, []int{1, 0, 2}[q1]
}

// expected counts per style and channel.
type tallyKey struct {
	style   int
	channel string
}

type want struct {
	votes int64
	// [question][yes, no, spoilt]
	q [2][3]int64
}

func (w *want) add(i int) {
	w.votes++
	a, b := choice(i)
	w.q[0][a]++
	w.q[1][b]++
}

// A hybrid ballot of 200 members in 2 workplace ballots: some vote
// online, some return paper by post, some vote at a workplace box, some
// try two channels (first recorded wins), some return paper late. The
// slips are counted in batches keyed twice; the scrutineer's count (the
// export verified, the online totals decrypted by two trustees, the paper
// batches added) gives, per workplace ballot, per channel and in total,
// exactly what the test cast; the signed report checks against the ledger.
func TestHybridCount(t *testing.T) {
	const members = 200
	w := newWorld(t, "hybrid", members)
	ctx := context.Background()
	mj, _, err := w.led.Manifest(ctx, "hybrid")
	if err != nil {
		t.Fatal(err)
	}
	ballotPaper := votetest.NewPaper(t, mj)
	wants := map[tallyKey]*want{}
	wantOf := func(style int, ch string) *want {
		k := tallyKey{style, ch}
		if wants[k] == nil {
			wants[k] = &want{}
		}
		return wants[k]
	}
	rejected := map[int]*tally.Rejected{0: {}, 1: {}}
	var slips = map[tallyKey][]int{} // members whose paper is counted
	online := func(i int) error {
		a, b := choice(i)
		marks := [][]int{{0, 0}, {0, 0}}
		if a < 2 {
			marks[0][a] = 1
		}
		if b < 2 {
			marks[1][b] = 1
		}
		var authErr error
		bb, auth := ballotPaper.Vote(t, i%2, marks, func(blinded []byte) ([]byte, error) {
			au, err := w.iss.Authorise(ctx, "hybrid", w.b.MemberIDs[i], blinded)
			if err != nil {
				authErr = err
				return nil, err
			}
			return au.BlindSignature, nil
		})
		if authErr != nil {
			return authErr
		}
		if _, _, err := w.led.Cast(ctx, "hybrid", bb, auth); err != nil {
			t.Fatal(err)
		}
		wantOf(i%2, "online").add(i)
		return nil
	}
	boxes := []issuance.Box{issuancetest.OpenBox(t, w.b.Pool, w.iss, "hybrid", "box-0", "north-depot"),
		issuancetest.OpenBox(t, w.b.Pool, w.iss, "hybrid", "box-1", "south-depot")}
	returned := func(i int, ch string) error {
		var err error
		if ch == cpaper.ChannelWorkplace {
			err = w.iss.IssueAtBox(ctx, "presiding_officer:1", boxes[i%2], w.paperOf(t, i))
		} else {
			err = w.iss.RecordReturn(ctx, "scrutineer:1", "hybrid", ch, w.paperOf(t, i))
		}
		if err == nil {
			slips[tallyKey{i % 2, ch}] = append(slips[tallyKey{i % 2, ch}], i)
			wantOf(i%2, ch).add(i)
		}
		return err
	}
	issued := []int64{0, 0}
	for i := range members {
		switch i % 8 {
		case 0, 4, 6:
			if err := online(i); err != nil {
				t.Fatal(err)
			}
			issued[i%2]++
		case 1, 5:
			if err := returned(i, "postal"); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := returned(i, "workplace"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every pair of channels, tried twice for one member: one vote counts.
	// A second online attempt goes as far as issuance: a blinded message
	// (random: issuance refuses before signing).
	try := map[string]func(int) error{
		"online": func(i int) error {
			blinded := make([]byte, 256)
			_, _ = rand.Read(blinded)
			blinded[0] = 0
			_, err := w.iss.Authorise(ctx, "hybrid", w.b.MemberIDs[i], blinded)
			return err
		},
		"postal":    func(i int) error { return returned(i, "postal") },
		"workplace": func(i int) error { return returned(i, "workplace") },
	}
	next := 3 // members 3, 11, 19, … have not voted
	for _, first := range []string{"online", "postal", "workplace"} {
		for _, second := range []string{"online", "postal", "workplace"} {
			i := next
			next += 8
			firstTry := try[first]
			if first == "online" {
				firstTry = online
			}
			if err := firstTry(i); err != nil {
				t.Fatalf("%s first: %v", first, err)
			}
			if first == "online" {
				issued[i%2]++
			}
			for range 2 {
				err := try[second](i)
				switch {
				case err == nil:
					t.Fatalf("member %d: %s then %s: two votes", i, first, second)
				case first == "online" && second == "online" && errors.Is(err, issuance.ErrAlreadyAuthorised):
				case first == "online" && errors.Is(err, issuance.ErrAlreadyAuthorised):
					rejected[i%2].VotedOnline++
				case first != "online" && errors.Is(err, issuance.ErrPostalRecorded):
					if second != "online" {
						rejected[i%2].SecondReturn++
					}
				default:
					t.Fatalf("member %d: %s then %s: %v", i, first, second, err)
				}
			}
		}
	}
	if err := w.b.Admin.Close(ctx, "scrutineer:test", w.b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	// Late: a paper after the close is logged and excluded.
	for _, i := range []int{7, 15} {
		if err := returned(i, "postal"); !errors.Is(err, issuance.ErrLate) {
			t.Fatalf("late return: %v", err)
		}
		rejected[i%2].Late++
	}

	// A box is counted once closed; then in batches of at most 10 slips,
	// keyed by two staff.
	early := paper.Keying{BatchID: "early", Style: 0, Channel: cpaper.ChannelWorkplace, Box: "box-0", Totals: yn(1, 0, 0, 0)}
	if _, err := w.svc.Key(ctx, "scrutineer:s1", w.pb, "s1", early); !errors.Is(err, paper.ErrBoxOpen) {
		t.Fatalf("a batch for an open box: %v", err)
	}
	for _, b := range boxes {
		if err := w.iss.CloseBox(ctx, "presiding_officer:1", b); err != nil {
			t.Fatal(err)
		}
	}
	wrong := early
	wrong.Box = "box-1"
	if _, err := w.svc.Key(ctx, "scrutineer:s1", w.pb, "s1", wrong); !errors.Is(err, paper.ErrBadBatch) {
		t.Fatalf("a batch naming another workplace ballot's box: %v", err)
	}
	for k, ms := range slips {
		for start, n := 0, 0; start < len(ms); start, n = start+10, n+1 {
			batch := ms[start:min(start+10, len(ms))]
			tot := cpaper.Totals{Papers: int64(len(batch)), Questions: make([]cpaper.QuestionTotals, 2)}
			for q := range tot.Questions {
				tot.Questions[q].Options = []int64{0, 0}
			}
			for _, i := range batch {
				a, b := choice(i)
				for q, c := range []int{a, b} {
					if c == 2 {
						tot.Questions[q].Blank++
					} else {
						tot.Questions[q].Options[c]++
					}
				}
			}
			key := paper.Keying{BatchID: fmt.Sprintf("%s-%d-%d", k.channel, k.style, n), Style: k.style, Channel: k.channel, Totals: tot}
			if k.channel == cpaper.ChannelWorkplace {
				key.Box = boxes[k.style].Box
			}
			for _, keyer := range []string{"s1", "s2"} {
				if _, err := w.svc.Key(ctx, "scrutineer:"+keyer, w.pb, keyer, key); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Every paper issued in box-0 is counted: its count is closed.
	if _, err := w.svc.Key(ctx, "scrutineer:s1", w.pb, "s1", early); !errors.Is(err, paper.ErrBoxCounted) {
		t.Fatalf("a batch for a box counted in full: %v", err)
	}
	if err := w.svc.CloseCount(ctx, "scrutineer:1", w.pb); err != nil {
		t.Fatal(err)
	}

	// The scrutineer: verify the export, decrypt the online totals, add
	// the paper batches.
	var exp bytes.Buffer
	if err := w.led.Export(ctx, &exp, "hybrid", -1, nil); err != nil {
		t.Fatal(err)
	}
	v, err := verify.Verify(ctx, &exp, verify.Options{Issued: issued})
	if err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v.Failures)
	}
	alphas := v.Sums.Alphas()
	mh := ballotPaper.Election.ManifestHash()
	var ps []*threshold.Partial
	for _, j := range []int{0, 2} {
		p, err := threshold.PartialDecrypt(rand.Reader, w.b.Trustees, w.b.Shares[j], mh[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	counts, bad, err := tally.Decrypt(w.b.Trustees, v.Sums, ps)
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	counts.Paper, counts.ClosedAt = v.PaperTotals(), v.ClosedAt // the actual close, from the signed close
	res, err := tally.Compute(ballotPaper.Manifest, counts)
	if err != nil {
		t.Fatal(err)
	}
	var aggVotes int64
	for si, sr := range res.Styles {
		var total want
		if len(sr.Channels) != 3 {
			t.Fatalf("style %d: channels %+v", si, sr.Channels)
		}
		for _, ch := range sr.Channels {
			wt := wantOf(si, ch.Channel)
			check(t, fmt.Sprintf("style %d %s", si, ch.Channel), ch.VotesCast, ch.Questions, wt)
			total.votes += wt.votes
			for q := range 2 {
				for k := range 3 {
					total.q[q][k] += wt.q[q][k]
				}
			}
		}
		check(t, fmt.Sprintf("style %d total", si), sr.VotesCast, sr.Questions, &total)
		if *sr.Rejected != *rejected[si] {
			t.Errorf("style %d rejected %+v, want %+v", si, *sr.Rejected, *rejected[si])
		}
		aggVotes += total.votes
	}
	if res.Aggregate.VotesCast != aggVotes || len(res.Aggregate.Channels) != 3 {
		t.Errorf("aggregate: %d votes (want %d), channels %+v", res.Aggregate.VotesCast, aggVotes, res.Aggregate.Channels)
	}
	// The signed report is checked against the ledger, paper section
	// included; a report without the paper is refused.
	rf := &report.ResultFile{Version: 1, Result: res, Verification: report.Summary(v)}
	rf.Verification.Issued = issued
	rep := report.New(rf, "scrutineer", report.Options{Date: "2026-12-16"})
	if fs := report.Check(rep, v, ps, issued); len(fs) > 0 {
		t.Fatalf("report check: %v", fs)
	}
	rep.Verification.Paper = nil
	if fs := report.Check(rep, v, ps, issued); len(fs) == 0 {
		t.Fatal("a report that left out the paper section checked")
	} else {
		t.Log(fs)
	}
}

func check(t *testing.T, what string, votes int64, qs []tally.QuestionResult, w *want) {
	t.Helper()
	if votes != w.votes {
		t.Errorf("%s: %d votes, cast %d", what, votes, w.votes)
	}
	for q := range 2 {
		got := [3]int64{qs[q].Yes, qs[q].No, qs[q].Spoilt}
		if got != w.q[q] {
			t.Errorf("%s question %d: yes/no/spoilt %v, cast %v", what, q+1, got, w.q[q])
		}
	}
}
