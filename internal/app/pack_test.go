package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// anon is a browser with no session (a member holding a postal pack).
func (s *site) anon() *browser {
	return &browser{webtest.NewBrowser(s.t, s.base, 30*time.Second)}
}

// A pack code signs the member in once, while voting is open, and opens
// the voting paper; a wrong code, a used code and a code after the close
// are refused with a message, in English and Welsh.
func TestPackCodeSignin(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "pack-codes", Members: 3, Open: true})
	code, err := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[0])
	if again != code || len(code) != 14 {
		t.Fatalf("pack code %q, then %q", code, again)
	}
	m := s.anon()
	if p := m.get("/p?lang=cy"); p.code != 200 || !strings.Contains(p.body, "Pleidleisio ar-lein") {
		t.Fatalf("pack form (cy): %d", p.code)
	}
	if p := m.post("/p", url.Values{"code": {"0000-0000-0000"}}); p.code != 400 || !strings.Contains(p.body, "Gwiriwch ef yn erbyn eich papur") {
		t.Fatalf("wrong code: %d", p.code)
	}
	m = s.anon()
	m.get("/p")
	// Lower case, spaces: as typed off paper.
	p := m.post("/p", url.Values{"code": {strings.ToLower(strings.ReplaceAll(code, "-", " "))}})
	if p.code != 200 || !strings.Contains(p.body, `id="paper"`) {
		t.Fatalf("pack sign-in: %d %.300s", p.code, p.body)
	}
	m2 := s.anon()
	m2.get("/p")
	if p := m2.post("/p", url.Values{"code": {code}}); p.code != 400 || !strings.Contains(p.body, "used already") {
		t.Fatalf("second use: %d", p.code)
	}
	// After the close: refused, and the code is not used up.
	other, _ := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[1])
	var closed time.Time
	if err := s.pool.QueryRow(ctx, `UPDATE ballots SET closes_at = date_trunc('minute', now()) - interval '1 minute' WHERE id = $1 RETURNING closes_at`, b.ID).Scan(&closed); err != nil {
		t.Fatal(err)
	}
	m3 := s.anon()
	m3.get("/p")
	if p := m3.post("/p", url.Values{"code": {other}}); p.code != 403 || !strings.Contains(p.body, "Voting is not open: it closed on "+page.When("en", closed)+" (UK time).") {
		t.Fatalf("after the close: %d %.600s", p.code, p.body)
	}
	var used bool
	s.pool.QueryRow(ctx, `SELECT used_hour IS NOT NULL FROM auth_pack_codes WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[1]).Scan(&used)
	if used {
		t.Fatal("a code tried after the close was used up")
	}
}

// authorise asks for the signed-in member's authorisation as the voting
// page's script does (JSON, the page's CSRF token in the header).
func (b *browser) authorise(electionID string, blinded []byte) pageView {
	b.T.Helper()
	body := fmt.Sprintf(`{"blinded":%q}`, base64.StdEncoding.EncodeToString(blinded))
	req, _ := http.NewRequest(http.MethodPost, b.Base+"/vote/"+electionID+"/authorise", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.CSRF)
	return b.do(req)
}

// One vote per member across channels with a pack code (docs/paper.md,
// first recorded wins): a member who voted online with their pack code
// has their posted paper and a paper at a workplace box refused as "voted
// online"; a member whose paper was logged first signs in with the code
// but cannot be authorised online (409 postal_recorded); the marked
// register holds one mark each, and the return log says why each other
// try was refused.
func TestPackCodeOneVote(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "pack-one-vote", Members: 4, Open: true})
	paper := func(i int) string {
		var n int
		s.pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[i]).Scan(&n)
		return fmt.Sprint(n)
	}
	// signIn enters member i's pack code: it opens their voting page (the
	// paper, or what is recorded for them).
	signIn := func(i int, want string) *browser {
		code, err := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		m := s.anon()
		m.get("/p")
		if p := m.post("/p", url.Values{"code": {code}}); p.code != 200 || !strings.Contains(p.body, want) {
			t.Fatalf("member %d pack sign-in: %d", i, p.code)
		}
		return m
	}
	scr := s.staff("scrutineer", 0)
	postal := fmt.Sprintf("/scrutineer/ballots/%d/postal", b.ID)
	scr.get(postal)

	// Member 0: pack code online first, then post, then a workplace box.
	m0 := signIn(0, `id="paper"`)
	if p := m0.authorise(b.ElectionID, blinded(t, s, b.ID, b.MemberIDs[0], 1)); p.code != 200 {
		t.Fatalf("pack-code member authorised: %d %s", p.code, p.body)
	}
	for _, ch := range []string{"postal", "workplace"} {
		if p := scr.post(postal, url.Values{"paper": {paper(0)}, "channel": {ch}}); p.code != 409 || !strings.Contains(p.body, "has already been authorised to vote online") {
			t.Errorf("%s paper after the pack-code vote: %d", ch, p.code)
		}
	}
	// Member 1: paper by post first, then the pack code online.
	if p := scr.post(postal, url.Values{"paper": {paper(1)}, "channel": {"postal"}}); p.code != 200 {
		t.Fatalf("postal return: %d", p.code)
	}
	m1 := signIn(1, `id="marked"`) // the page says the postal vote is recorded; the script is not offered
	if p := m1.authorise(b.ElectionID, blinded(t, s, b.ID, b.MemberIDs[1], 1)); p.code != 409 || !strings.Contains(p.body, "postal_recorded") {
		t.Errorf("pack-code vote after the postal return: %d %s", p.code, p.body)
	}
	// Member 2: a workplace paper first, then the pack code online.
	if p := scr.post(postal, url.Values{"paper": {paper(2)}, "channel": {"workplace"}}); p.code != 200 {
		t.Fatalf("workplace paper: %d", p.code)
	}
	m2 := signIn(2, `id="marked"`)
	if p := m2.authorise(b.ElectionID, blinded(t, s, b.ID, b.MemberIDs[2], 1)); p.code != 409 {
		t.Errorf("pack-code vote after the workplace paper: %d %s", p.code, p.body)
	}
	var marks, online, papers int
	s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE channel = 'online'), count(*) FILTER (WHERE channel <> 'online')
		FROM marked_register WHERE ballot_id = $1`, b.ID).Scan(&marks, &online, &papers)
	if marks != 3 || online != 1 || papers != 2 {
		t.Fatalf("marked register: %d marks (%d online, %d paper), want 3 (1, 2)", marks, online, papers)
	}
	var log []string
	rows, _ := s.pool.Query(ctx, `SELECT channel || ':' || outcome FROM mark_log WHERE ballot_id = $1 ORDER BY id`, b.ID)
	for rows.Next() {
		var l string
		rows.Scan(&l)
		log = append(log, l)
	}
	rows.Close()
	if got := strings.Join(log, " "); got != "postal:voted_online workplace:voted_online postal:accepted online:paper_recorded workplace:accepted online:paper_recorded" {
		t.Errorf("return log: %s", got)
	}
}
