package app

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// TestRefreshNewLinkForOneMember: the union's office sends one member a
// new link (theirs ran out, or was used; the member's error page tells
// them to ask the office) by starting a campaign for that member's
// number: a number not of the union is refused beside the field; the
// member gets exactly one text, with a link that opens their page; nobody
// else gets anything; and the campaign keeps the member's internal id,
// not their member number, which no campaign page shows.
func TestRefreshNewLinkForOneMember(t *testing.T) {
	s := refreshSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "refresh-one", Members: 6, Open: true})
	target := b.MemberIDs[2]
	number := s.number(target)
	mobile := s.contact(target).Mobile
	org := s.staff("organiser", b.UnionID)
	if p := org.get("/organiser/refresh"); p.code != 200 || !strings.Contains(p.body, `id="segment-member"`) || !strings.Contains(p.body, `id="member_number"`) {
		t.Fatalf("form: %d", p.code)
	}
	form := url.Values{"segment": {"member"}, "member_number": {"NOT-A-MEMBER"}, "message_en": {"Your union: here is a new link:"},
		"message_cy": {"Eich undeb: dyma ddolen newydd:"}, "privacy_url": {"https://union.example/privacy"}, "link_days": {"7"}}
	p := org.post("/organiser/refresh/campaigns", form)
	if p.code != 400 || !strings.Contains(p.body, "Give the member number of one of your union&#39;s members.") ||
		!strings.Contains(p.body, `id="member_number" name="member_number" maxlength="64" autocomplete="off" value="NOT-A-MEMBER" aria-invalid="true"`) {
		t.Fatalf("unknown number: %d\n%.3000s", p.code, p.body)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM refresh_campaigns`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d campaigns after a refused form (%v)", n, err)
	}
	form.Set("member_number", number)
	p = org.post("/organiser/refresh/campaigns", form)
	if p.code != 200 || fact(t, p.body, "c-members") != "1" {
		t.Fatalf("campaign: %d\n%.2000s", p.code, p.body)
	}
	if strings.Contains(p.body, number) {
		t.Error("the campaign page shows the member number")
	}
	var value string
	if err := s.pool.QueryRow(ctx, `SELECT segment_value FROM refresh_campaigns WHERE union_id = $1 AND segment = 'member'`, b.UnionID).Scan(&value); err != nil {
		t.Fatal(err)
	}
	if value != strconv.FormatInt(target, 10) {
		t.Errorf("segment_value %q, want the member's id %d", value, target)
	}
	if home := org.get("/organiser/refresh"); strings.Contains(home.body, number) {
		t.Error("the campaign list shows the member number")
	}
	drain(t, s.svc)
	var to []string
	for _, x := range sentTexts(t, s) {
		if strings.Contains(x.body, "/r/") {
			to = append(to, x.to)
		}
	}
	if len(to) != 1 || to[0] != mobile {
		t.Fatalf("refresh texts to %v, want one to the member", to)
	}
	m := s.anon()
	if p := m.get(refreshLink(t, s, mobile)); p.code != 200 || !strings.Contains(p.body, fmt.Sprintf("•••••••%s", mobile[len(mobile)-3:])) {
		t.Fatalf("member page: %d\n%.1500s", p.code, p.body)
	}
}
