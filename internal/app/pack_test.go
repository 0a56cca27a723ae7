package app

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
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
	if _, err := s.pool.Exec(ctx, `UPDATE ballots SET closes_at = now() - interval '1 minute' WHERE id = $1`, b.ID); err != nil {
		t.Fatal(err)
	}
	m3 := s.anon()
	m3.get("/p")
	if p := m3.post("/p", url.Values{"code": {other}}); p.code != 403 || !strings.Contains(p.body, "Voting is not open") {
		t.Fatalf("after the close: %d", p.code)
	}
	var used bool
	s.pool.QueryRow(ctx, `SELECT used_hour IS NOT NULL FROM auth_pack_codes WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[1]).Scan(&used)
	if used {
		t.Fatal("a code tried after the close was used up")
	}
}
