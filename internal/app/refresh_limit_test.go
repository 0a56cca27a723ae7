package app

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// TestRateLimitedCorrectionWritesNothing: no database write before a
// rate limit has passed (issue 21). A member whose codes an hour are used
// up corrects their mobile (and their address) on their contact-refresh
// page: the page says to wait, and neither the new mobile waiting for its
// code (refresh_pending) nor the address is written.
func TestRateLimitedCorrectionWritesNothing(t *testing.T) {
	s := refreshSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "refresh-limit", Members: 3, Open: true})
	target := b.MemberIDs[1]
	lines, err := s.svc.Register.Lines(ctx, b.ID, target)
	if err != nil || len(lines) != 1 {
		t.Fatalf("member's line: %v %v", lines, err)
	}
	number, mobile := lines[0].Number, lines[0].Mobile
	org := s.staff("organiser", b.UnionID)
	org.get("/organiser/refresh")
	form := url.Values{"segment": {"member"}, "member_number": {number}, "message_en": {"Your union: please check your details:"},
		"message_cy": {"Eich undeb: gwiriwch eich manylion:"}, "privacy_url": {"https://union.example/privacy"}, "link_days": {"7"}}
	if p := org.post("/organiser/refresh/campaigns", form); p.code != 200 {
		t.Fatalf("campaign: %d\n%.2000s", p.code, p.body)
	}
	drain(t, s.svc)
	m := s.anon()
	link := refreshLink(t, s, mobile)
	if p := m.get(link); p.code != 200 {
		t.Fatalf("member page: %d", p.code)
	}
	pending := func() (n int, sealed []byte) {
		t.Helper()
		if err := s.pool.QueryRow(ctx, `SELECT count(*), (SELECT sealed FROM refresh_pending WHERE member_id = $1 LIMIT 1) FROM refresh_pending WHERE member_id = $1`, target).Scan(&n, &sealed); err != nil {
			t.Fatal(err)
		}
		return n, sealed
	}
	// Three codes an hour (shared with sign-in): three new numbers, each
	// waiting for its code.
	for i := range 3 {
		p := m.post(link+"/correct", url.Values{"mobile": {fmt.Sprintf("07911 12345%d", i)}})
		if p.code != 200 || !strings.Contains(p.body, `id="code"`) {
			t.Fatalf("new mobile %d: %d\n%.1500s", i, p.code, p.body)
		}
	}
	n0, sealed0 := pending()
	if n0 != 1 || sealed0 == nil {
		t.Fatalf("%d pending rows after three corrections", n0)
	}
	p := m.post(link+"/correct", url.Values{"mobile": {"07911 123459"}, "address": {"9 Rate Row\nCardiff"}, "postcode": {"CF10 9ZZ"}})
	if p.code != 429 {
		t.Fatalf("fourth new mobile within the hour: %d, want 429\n%.1500s", p.code, p.body)
	}
	if n, sealed := pending(); n != n0 || !bytes.Equal(sealed, sealed0) {
		t.Errorf("the rate-limited correction wrote its new mobile (%d pending rows, changed: %v)", n, !bytes.Equal(sealed, sealed0))
	}
	if d, err := s.svc.Register.Details(ctx, target); err != nil || d.Address != "" {
		t.Errorf("the rate-limited correction changed the address: %q %v", d.Address, err)
	}
}
