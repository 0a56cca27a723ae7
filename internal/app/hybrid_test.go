package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/vote/votetest"
)

// buildScrutineer builds the independent scrutineer tool into dir.
func buildScrutineer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "scrutineer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/unionvote/eballot/cmd/scrutineer").CombinedOutput(); err != nil {
		t.Fatalf("build scrutineer: %v\n%s", err, out)
	}
	return bin
}

// cast is what a test cast in one workplace ballot and channel: votes,
// and per question yes, no and spoilt (a blank yes/no answer is spoilt,
// protocol §4).
type cast struct {
	votes int64
	q     [2][3]int64
}

// hybridChoice is member i's answer to the two questions: 0 Yes, 1 No,
// 2 blank (the second the reverse of the first).
func hybridChoice(i int) [2]int {
	a := i % 3
	return [2]int{a, []int{1, 0, 2}[a]}
}

// One hybrid ballot of 200 members in 2 workplace ballots (issue 18),
// sent to everyone (the organiser's setting: a pack for every member),
// driven over HTTP as its users would: members vote online by passkey,
// or with the code printed in their pack (read from the mail-house CSV
// the scrutineer downloads), return their paper by post (logged on the
// scrutineer's returns page), or vote at a workplace box (the presiding
// officer, signed in with a passkey, marks the register by paper number
// or by membership number on their phone page and closes the box). Some
// try twice, one paper comes late: each refusal shows its reason. After
// the close the slips are counted in batches keyed by two scrutineer
// staff on the count page; the export is verified and counted by the
// independent `scrutineer` tool, and the result per workplace ballot,
// per channel and in total equals what the test cast.
func TestHybridBallotOverHTTP(t *testing.T) {
	const members = 200
	s := newCrowdSite(t) // members vote from their own phones
	ctx := context.Background()
	mobile := func(i int) string { return fmt.Sprintf("+447700%06d", 900000+i) }
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "hybrid-http", Members: members, Open: true,
		Ledger: ledger.HandOver{L: s.svc.Ledger}, PaperToEveryone: true,
		Member: func(i int) (string, string, string) { return fmt.Sprintf("Member %d", i+1), mobile(i), "" }})
	e := b.ElectionID
	ballotID := strconv.FormatInt(b.ID, 10)
	scr := s.staff("scrutineer", 0)

	// The packs: every member gets one (a hybrid ballot sent to everyone);
	// the mail-house CSV carries each member's online code.
	packs := "/scrutineer/ballots/" + ballotID + "/packs"
	scr.get(packs)
	p := scr.post(packs, url.Values{"format": {"csv"}})
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if p.code != 200 || err != nil || len(rows) != members+1 {
		t.Fatalf("packs CSV: %d, %d rows (%v)", p.code, len(rows), err)
	}
	codeOf := map[string]string{} // paper number → online code
	for _, r := range rows[1:] {
		codeOf[r[0]] = r[6]
	}

	// Workplace voting: a box per workplace ballot, a presiding officer each.
	officers, boxes := s.workplaceBoxes(b)
	atBox := func(i int, form url.Values) pageView {
		officers[i%2].get(boxes[i%2])
		return officers[i%2].post(boxes[i%2]+"/issue", form)
	}
	memberNumber := func(i int) string { return s.number(b.MemberIDs[i]) }
	returns := "/scrutineer/ballots/" + ballotID + "/postal"
	postal := func(i int) pageView {
		scr.get(returns)
		return scr.post(returns, url.Values{"paper": {s.paperNumber(b, i)}})
	}

	mj, _, err := s.svc.Ledger.Manifest(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	ballotPaper := votetest.NewPaper(t, mj)
	// voteOnline has the signed-in member i vote: the paper encrypted and
	// blinded on the phone, the authorisation asked for with the session,
	// the ballot cast without cookies.
	voteOnline := func(m *browser, i int) {
		t.Helper()
		marks := [][]int{{0, 0}, {0, 0}}
		for q, c := range hybridChoice(i) {
			if c < 2 {
				marks[q][c] = 1
			}
		}
		bb, auth := ballotPaper.Vote(t, i%2, marks, func(blinded []byte) ([]byte, error) {
			p := m.authorise(e, blinded)
			var a struct {
				BlindSignature []byte `json:"blind_signature"`
			}
			if p.code != 200 || json.Unmarshal([]byte(p.body), &a) != nil {
				return nil, fmt.Errorf("member %d authorise: %d %.300s", i, p.code, p.body)
			}
			return a.BlindSignature, nil
		})
		body := fmt.Sprintf(`{"ballot":%q,"authorisation":%q}`, base64.StdEncoding.EncodeToString(bb), base64.StdEncoding.EncodeToString(auth))
		resp, err := http.Post(s.base+"/ledger/v1/"+e+"/cast", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("member %d cast: %d", i, resp.StatusCode)
		}
	}

	// What the test casts, per workplace ballot and channel; the slips of
	// paper accepted (members), per workplace ballot and channel.
	want := map[[2]string]*cast{}
	slips := map[[2]string][]int{}
	rejected := []tally.Rejected{{}, {}}
	counted := func(i int, channel string) {
		k := [2]string{workplaceStyles[i%2], channel}
		if want[k] == nil {
			want[k] = &cast{}
		}
		want[k].votes++
		for q, c := range hybridChoice(i) {
			want[k].q[q][c]++
		}
		if channel != "online" {
			slips[k] = append(slips[k], i)
		}
	}
	mustRefuse := func(what string, p pageView, code int, reason ...string) {
		t.Helper()
		if p.code != code || !hasAll(p.text(), reason...) {
			t.Fatalf("%s: %d, want %d with %q\n%.600s", what, p.code, code, reason, p.body)
		}
	}
	// Member i is in workplace ballot i%2 and votes by the channel of
	// slot (i/2)%8; who is the k-th member of slot c in ballot st.
	who := func(c, k, st int) int { return 2*(8*k+c) + st }
	for i := range members {
		switch (i / 2) % 8 {
		case 0, 4: // online, signed in with a passkey added after a text-code sign-in
			k := s.addPasskey(s.textSignIn(b, i, mobile(i)))
			voteOnline(s.passkeySignIn(b, k), i)
			counted(i, "online")
		case 6: // online with the code printed in the pack
			m, p := s.packSignIn(codeOf[s.paperNumber(b, i)])
			if p.code != 200 {
				t.Fatalf("member %d pack code: %d", i, p.code)
			}
			voteOnline(m, i)
			counted(i, "online")
		case 1, 5: // paper returned by post
			if p := postal(i); p.code != 200 {
				t.Fatalf("member %d postal return: %d %.300s", i, p.code, p.body)
			}
			counted(i, "postal")
		case 2: // at the workplace box: by paper number, or by member lookup
			form := url.Values{"paper": {s.paperNumber(b, i)}}
			if (i/16)%2 == 1 {
				form = url.Values{"member_number": {memberNumber(i)}}
			}
			if p := atBox(i, form); p.code != 200 || !strings.Contains(p.body, "Give the member voting paper <strong>"+s.paperNumber(b, i)+"</strong>") {
				t.Fatalf("member %d at the box: %d %.600s", i, p.code, p.body)
			}
			counted(i, "workplace")
		}
	}
	// Second tries, each refused with its reason (first recorded wins).
	i := who(0, 1, 0)
	mustRefuse("at the box after voting online", atBox(i, url.Values{"paper": {s.paperNumber(b, i)}}), 409, "has already voted online", "s.230(4)(b)")
	rejected[0].VotedOnline++
	mustRefuse("by post after the pack code", postal(who(6, 1, 1)), 409, "has already been authorised to vote online")
	rejected[1].VotedOnline++
	i = who(1, 1, 0)
	mustRefuse("at the box after posting", atBox(i, url.Values{"member_number": {memberNumber(i)}}), 409, "cannot vote again", "s.230(4)(b)")
	rejected[0].SecondReturn++
	i = who(2, 1, 1)
	m, _ := s.packSignIn(codeOf[s.paperNumber(b, i)])
	if p := m.authorise(e, blinded(t, s, b.ID, b.MemberIDs[i], 1)); p.code != 409 || !strings.Contains(p.body, "postal_recorded") {
		t.Fatalf("online after the workplace box: %d %s", p.code, p.body)
	}
	// Bad input at the box, refused naming the problem; nothing logged.
	mustRefuse("a paper number not in the register", atBox(0, url.Values{"paper": {"999999"}}), 422, "There is no voting paper 999999")
	mustRefuse("a member of the other workplace ballot", atBox(0, url.Values{"paper": {s.paperNumber(b, who(3, 0, 1))}}), 409, "another workplace ballot", "s.228")
	mustRefuse("a member number not in the register", atBox(0, url.Values{"member_number": {"NOBODY"}}), 422, "No member with that number")
	// Workplace voting is for industrial action ballots only.
	other := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "hybrid-not-ia", Members: 2, Open: true})
	if _, err := s.pool.Exec(ctx, `UPDATE ballots SET kind = 'union_election' WHERE id = $1`, other.ID); err != nil { // set up as an election
		t.Fatal(err)
	}
	wp := fmt.Sprintf("/scrutineer/ballots/%d/workplace", other.ID)
	if p := scr.get(wp); !strings.Contains(p.body, "Workplace voting is for industrial action ballots only") || strings.Contains(p.body, `id="wp-open"`) {
		t.Fatalf("workplace page of an election: %d", p.code)
	}
	mustRefuse("a box in an election", scr.post(wp, url.Values{"box": {"b"}, "style": {"north-depot"}, "place": {"Hall"}, "officer": {"X"}}),
		409, "industrial action ballots only")

	// The close; a paper after it is late, at the box or by post.
	bp := "/scrutineer/ballots/" + ballotID
	scr.get(bp)
	if p := scr.post(bp+"/close", url.Values{"confirm": {e}, "reason": {"test: counting now"}}); p.code != 200 {
		t.Fatalf("close: %d %.300s", p.code, p.body)
	}
	i = who(7, 1, 1)
	mustRefuse("a paper at the box after the close", atBox(i, url.Values{"paper": {s.paperNumber(b, i)}}), 409, "The ballot closed", "s.229(1A)(b)")
	rejected[1].Late++
	mustRefuse("a late postal return", postal(who(3, 1, 0)), 409, "after the close")
	rejected[0].Late++

	// The count page: two scrutineer staff key each batch.
	keyers := []*browser{scr, s.staff("scrutineer", 0)}
	count := bp + "/paper"
	key := func(k *browser, batch string, style int, channel, box string, ms []int, papers int64) pageView {
		t.Helper()
		f := url.Values{"batch": {batch}, "style": {strconv.Itoa(style)}, "channel": {channel}, "box": {box}, "papers": {strconv.FormatInt(papers, 10)}}
		for q := range 2 {
			var n [3]int
			for _, i := range ms {
				n[hybridChoice(i)[q]]++
			}
			f.Set(fmt.Sprintf("q%d_0", q), strconv.Itoa(n[0]))
			f.Set(fmt.Sprintf("q%d_1", q), strconv.Itoa(n[1]))
			f.Set(fmt.Sprintf("q%d_blank", q), strconv.Itoa(n[2]+int(papers)-len(ms)))
			f.Set(fmt.Sprintf("q%d_spoilt", q), "0")
		}
		k.get(count)
		return k.post(count, f)
	}
	box0 := slips[[2]string{workplaceStyles[0], "workplace"}]
	mustRefuse("a batch for a box still open", key(scr, "early", 0, "workplace", "box-north-depot", box0[:1], 1), 409, "not closed")
	// Officer 0 closes their box on their page; the scrutineer closes the
	// other on theirs.
	officers[0].get(boxes[0])
	if p := officers[0].post(boxes[0]+"/close", url.Values{}); p.code != 200 || !strings.Contains(p.body, "The box is closed") {
		t.Fatalf("officer closes the box: %d %.300s", p.code, p.body)
	}
	mustRefuse("a paper in a closed box", atBox(0, url.Values{"paper": {s.paperNumber(b, who(3, 2, 0))}}), 409, "This box is closed")
	scr.get("/scrutineer/ballots/" + ballotID + "/workplace")
	boxID := strings.TrimPrefix(boxes[1], "/workplace/boxes/")
	if p := scr.post("/scrutineer/ballots/"+ballotID+"/workplace/"+boxID+"/close", url.Values{}); p.code != 200 || !strings.Contains(p.body, "The box is closed") {
		t.Fatalf("scrutineer closes the box: %d %.300s", p.code, p.body)
	}
	mustRefuse("a batch of more papers than issued in the box", key(scr, "too-many", 0, "workplace", "box-north-depot", box0, int64(len(box0)+1)),
		409, "more slips than papers", fmt.Sprintf("%d issued", len(box0)))
	n := 0
	for k, ms := range slips {
		style := 0
		if k[0] == workplaceStyles[1] {
			style = 1
		}
		box := ""
		if k[1] == "workplace" {
			box = "box-" + k[0]
		}
		for start := 0; start < len(ms); start += 10 {
			batch := ms[start:min(start+10, len(ms))]
			n++
			id := fmt.Sprintf("b%d", n)
			for j, kb := range keyers {
				p := key(kb, id, style, k[1], box, batch, int64(len(batch)))
				if p.code != 200 || !strings.Contains(p.body, `id="paper-done"`) {
					t.Fatalf("batch %s keying %d: %d %.600s", id, j+1, p.code, p.body)
				}
			}
		}
	}
	mustRefuse("a batch for a box counted in full", key(scr, "after", 0, "workplace", "box-north-depot", box0[:1], 1), 409, "is counted")
	scr.get(count)
	if p := scr.post(count+"/close", url.Values{}); p.code != 200 {
		t.Fatalf("close of the paper count: %d %.300s", p.code, p.body)
	}

	// The trustees' partial decryptions of the online totals (each
	// trustee's `scrutineer decrypt` does this from the export).
	resp, err := http.Get(s.base + "/ledger/v1/" + e + "/export")
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.Verify(ctx, resp.Body, verify.Options{})
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mh := ballotPaper.Election.ManifestHash()
	var partials []string
	for _, j := range []int{0, 2} {
		pd, err := threshold.PartialDecrypt(rand.Reader, b.Trustees, b.Shares[j], mh[:], v.Sums.Alphas())
		if err != nil {
			t.Fatal(err)
		}
		js, _ := pd.MarshalJSON()
		f := filepath.Join(dir, fmt.Sprintf("partial-%d.json", j+1))
		if err := os.WriteFile(f, js, 0o600); err != nil {
			t.Fatal(err)
		}
		partials = append(partials, f)
	}

	// The independent tool verifies the board's export and counts.
	bin := buildScrutineer(t, dir)
	board := s.base + "/ledger/v1/" + e
	if out, err := exec.Command(bin, "verify", board).CombinedOutput(); err != nil {
		t.Fatalf("scrutineer verify: %v\n%s", err, out)
	}
	resultFile := filepath.Join(dir, "result.json")
	if out, err := exec.Command(bin, append([]string{"tally", "--export", board, "--out", resultFile}, partials...)...).CombinedOutput(); err != nil {
		t.Fatalf("scrutineer tally: %v\n%s", err, out)
	}
	js, _ := os.ReadFile(resultFile)
	rf, err := report.ParseResultFile(js)
	if err != nil {
		t.Fatal(err)
	}
	res := rf.Result
	same := func(what string, votes int64, qs []tally.QuestionResult, w *cast) {
		t.Helper()
		if votes != w.votes || len(qs) != 2 {
			t.Errorf("%s: %d votes, cast %d", what, votes, w.votes)
			return
		}
		for q := range 2 {
			if got := [3]int64{qs[q].Yes, qs[q].No, qs[q].Spoilt}; got != w.q[q] {
				t.Errorf("%s question %d: yes/no/spoilt %v, cast %v", what, q+1, got, w.q[q])
			}
		}
	}
	var all cast
	allChannels := map[string]*cast{}
	for si, sr := range res.Styles {
		var total cast
		if sr.ID != workplaceStyles[si] || len(sr.Channels) != 3 {
			t.Fatalf("workplace ballot %d: %s, channels %+v", si, sr.ID, sr.Channels)
		}
		for _, ch := range sr.Channels {
			w := want[[2]string{sr.ID, ch.Channel}]
			if w == nil {
				t.Fatalf("%s: channel %q not cast (cast: %v)", sr.ID, ch.Channel, want)
			}
			same(sr.ID+" "+ch.Channel, ch.VotesCast, ch.Questions, w)
			if allChannels[ch.Channel] == nil {
				allChannels[ch.Channel] = &cast{}
			}
			for _, acc := range []*cast{&total, allChannels[ch.Channel], &all} {
				acc.votes += w.votes
				for q := range 2 {
					for c := range 3 {
						acc.q[q][c] += w.q[q][c]
					}
				}
			}
		}
		same(sr.ID+" total", sr.VotesCast, sr.Questions, &total)
		if sr.Rejected == nil || *sr.Rejected != rejected[si] {
			t.Errorf("%s rejected %+v, want %+v", sr.ID, sr.Rejected, rejected[si])
		}
	}
	same("aggregate", res.Aggregate.VotesCast, res.Aggregate.Questions, &all)
	for _, ch := range res.Aggregate.Channels {
		same("aggregate "+ch.Channel, ch.VotesCast, ch.Questions, allChannels[ch.Channel])
	}
	if all.votes < members/2 || len(res.Aggregate.Channels) != 3 {
		t.Fatalf("%d votes in all, channels %+v", all.votes, res.Aggregate.Channels)
	}
}
