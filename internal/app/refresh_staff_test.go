package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// TestRefreshStaffCorrection drives an organiser's correction of a
// member's contacts through the real router, session and CSRF check: the
// member is found by number (masked details, their source and last check),
// an unknown number and another union's organiser get "no such member", a
// malformed email changes nothing and says why beside the field; a new
// mobile and email are saved with source "staff", verified now, audited
// under the organiser's name; the old mobile gets the notice through the
// outbox; and the union's file, older than the correction, does not
// overwrite it.
func TestRefreshStaffCorrection(t *testing.T) {
	s := refreshSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "refresh-staff", Members: 3, Open: true})
	org := s.staff("organiser", b.UnionID)
	const number, oldMobile, newMobile = "M000001", "+447700900000", "+447911123458"
	var cur string
	cur = s.contact(b.MemberIDs[0]).Mobile
	if cur != oldMobile {
		t.Fatalf("member 0's mobile is %s, the test expects %s", cur, oldMobile)
	}

	if p := org.get("/organiser/refresh"); p.code != 200 || !strings.Contains(p.body, `href="/organiser/refresh/member"`) {
		t.Fatalf("no link to the staff correction: %d", p.code)
	}
	if p := org.get("/organiser/refresh/member?number=X999"); p.code != 404 || !strings.Contains(p.body, `id="number-error"`) {
		t.Fatalf("unknown member: %d", p.code)
	}
	// The other union has one member (M000001), not member M000003.
	other := s.staff("organiser", electiontest.New(t, s.pool, electiontest.Options{ElectionID: "refresh-staff-other", Members: 1}).UnionID)
	if p := other.get("/organiser/refresh/member?number=M000003"); p.code != 404 || strings.Contains(p.body, `id="correct"`) {
		t.Fatalf("another union's organiser finds the member: %d", p.code)
	}
	p := org.get("/organiser/refresh/member?number=" + number)
	if p.code != 200 || !strings.Contains(p.body, "•••••••000") || strings.Contains(p.body, oldMobile) || !strings.Contains(p.body, `id="correct"`) {
		t.Fatalf("member found: %d (masked mobile expected)\n%.2000s", p.code, p.body)
	}
	if p := org.post("/organiser/refresh/member", url.Values{"csrf": {"wrong"}, "number": {number}, "mobile": {newMobile}}); p.code != 403 {
		t.Fatalf("correction without the CSRF token: %d", p.code)
	}
	p = org.post("/organiser/refresh/member", url.Values{"number": {number}, "mobile": {newMobile}, "email": {"not-an-address"}})
	if p.code != 400 || !strings.Contains(p.body, `id="email-error"`) {
		t.Fatalf("malformed email: %d\n%.2000s", p.code, p.body)
	}
	cur = s.contact(b.MemberIDs[0]).Mobile
	if cur != oldMobile {
		t.Fatalf("a refused correction changed the mobile: %s", cur)
	}
	p = org.post("/organiser/refresh/member", url.Values{"number": {number}, "mobile": {"07911 123458"}, "email": {"pat@home.example"}})
	if p.code != 200 || !strings.Contains(p.body, `id="saved"`) || !strings.Contains(p.body, "Union staff") {
		t.Fatalf("correction: %d\n%.3000s", p.code, p.body)
	}
	var email, source string
	var verified *time.Time
	cur, email = s.contact(b.MemberIDs[0]).Mobile, s.contact(b.MemberIDs[0]).Email
	s.pool.QueryRow(ctx, `SELECT source, verified_at FROM member_contact_fields WHERE member_id = $1 AND field = 'mobile'`, b.MemberIDs[0]).
		Scan(&source, &verified)
	if cur != newMobile || email != "pat@home.example" || source != "staff" || verified == nil {
		t.Fatalf("after the correction: mobile %s, email %s, source %s, verified %v", cur, email, source, verified)
	}
	var actor, detail string
	if err := s.pool.QueryRow(ctx, `SELECT actor, detail FROM audit_log WHERE action = 'member.contacts' ORDER BY seq DESC LIMIT 1`).
		Scan(&actor, &detail); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(actor, "organiser:") || !strings.Contains(detail, `"source":"staff"`) || strings.Contains(detail, newMobile) {
		t.Fatalf("audit: %s %s", actor, detail)
	}
	drain(t, s.svc)
	if n := countTexts(t, s, oldMobile, "was changed"); n != 1 {
		t.Fatalf("%d notices to the old mobile, want 1", n)
	}

	// The union's file, written before the correction, keeps it.
	yesterday := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	p = org.upload("/organiser/refresh/import", "file", "union.csv",
		fmt.Sprintf("member_number,mobile,email,updated_at\n%s,07700 900000,,%s\n", number, yesterday))
	if p.code != 200 || !strings.Contains(p.body, "Imported: 0 changed, 1 kept") {
		t.Fatalf("import: %d\n%.2000s", p.code, p.body)
	}
	cur = s.contact(b.MemberIDs[0]).Mobile
	if cur != newMobile {
		t.Fatalf("the union's older file overwrote the staff correction: %s", cur)
	}
}
