package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// workplaceStyles are electiontest's workplace ballots, in the order of
// its members (member i is in workplaceStyles[i%2]).
var workplaceStyles = []string{"north-depot", "south-depot"}

// workplaceBoxes has the scrutineer open a workplace box for each
// workplace ballot of b on the workplace page, each with a new presiding
// officer who enrols a passkey from the link the page shows and signs in
// with it; it returns the officers' browsers and their box pages, in the
// order of workplaceStyles.
func (s *site) workplaceBoxes(b *electiontest.Ballot) (officers []*browser, boxes []string) {
	t := s.t
	t.Helper()
	scr := s.staff("scrutineer", 0)
	page := fmt.Sprintf("/scrutineer/ballots/%d/workplace", b.ID)
	for i, style := range workplaceStyles {
		scr.get(page)
		p := scr.post(page, url.Values{"box": {fmt.Sprintf("box-%s", style)}, "style": {style}, "place": {fmt.Sprintf("Canteen %d", i+1)},
			"officer": {fmt.Sprintf("Officer %d", i+1)}})
		m := regexp.MustCompile(`<code id="enrol-link">([^<]+)</code>`).FindStringSubmatch(p.body)
		if p.code != 200 || m == nil {
			t.Fatalf("open a box for %s: %d %.600s", style, p.code, p.body)
		}
		officer := s.enrolStaff(m[1])
		home := officer.get("/workplace")
		box := regexp.MustCompile(`href="(/workplace/boxes/[0-9]+)"`).FindStringSubmatch(home.body)
		if home.code != 200 || box == nil {
			t.Fatalf("presiding officer's boxes: %d %.600s", home.code, home.body)
		}
		officers, boxes = append(officers, officer), append(boxes, box[1])
	}
	return officers, boxes
}

// enrolStaff follows a staff member's one-time enrolment link, registers
// a passkey on a virtual authenticator and signs in with it.
func (s *site) enrolStaff(link string) *browser {
	t := s.t
	t.Helper()
	st := &browser{webtest.NewBrowser(t, s.base, 30*time.Second)}
	json := func(path, body string) pageView {
		return st.do(mustRequest(t, http.MethodPost, s.base+path, body, st.CSRF))
	}
	st.get(link)
	if p := view(st.PostForm(link, url.Values{"csrf": {st.CSRF}})); p.code != http.StatusSeeOther {
		t.Fatalf("enrolment link: %d %.300s", p.code, p.body)
	}
	st.get("/staff/enrol")
	r := json("/staff/passkey/register/begin", "{}")
	ao, err := virtualwebauthn.ParseAttestationOptions(r.body)
	if r.code != 200 || err != nil {
		t.Fatalf("staff passkey begin: %d %v", r.code, err)
	}
	cred := ecCredential(t)
	authn := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
	if r := json("/staff/passkey/register/finish", virtualwebauthn.CreateAttestationResponse(s.rp(), authn, cred, *ao)); r.code != 200 {
		t.Fatalf("staff passkey registration: %d %s", r.code, r.body)
	}
	authn.AddCredential(cred)
	st.get("/staff/signin")
	r = json("/staff/passkey/login/begin", "{}")
	po, err := virtualwebauthn.ParseAssertionOptions(r.body)
	if r.code != 200 || err != nil {
		t.Fatalf("staff sign-in begin: %d %v", r.code, err)
	}
	cred.Counter++
	if r := json("/staff/passkey/login/finish", virtualwebauthn.CreateAssertionResponse(s.rp(), authn, cred, *po)); r.code != 200 {
		t.Fatalf("staff sign-in: %d %s", r.code, r.body)
	}
	return st
}

// hasAll reports whether body holds every one of want.
func hasAll(body string, want ...string) bool {
	for _, w := range want {
		if !strings.Contains(body, w) {
			return false
		}
	}
	return true
}

// TestOfficerAccountsEndWithTheirBallot: a presiding officer's account
// exists for one workplace session. The service disables it once the
// officer's box and ballot have both closed: its session ends and the
// officer pages turn it away. An officer whose box is still open after
// the close keeps the account until the box is closed.
func TestOfficerAccountsEndWithTheirBallot(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "officers-end", Members: 4, Open: true,
		Ledger: ledger.HandOver{L: s.svc.Ledger}})
	officers, boxes := s.workplaceBoxes(b)
	sweep := func() {
		t.Helper()
		if err := sweepOfficers(ctx, s.svc, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	disabled := func() int {
		t.Helper()
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM staff WHERE role = 'presiding_officer' AND disabled_at IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	works := func(i int) bool {
		p := officers[i].get("/workplace")
		return p.code == 200 && strings.Contains(p.body, boxes[i])
	}

	// Officer 0 closes their box while the ballot is open: kept.
	sweep()
	officers[0].get(boxes[0])
	if p := officers[0].post(boxes[0]+"/close", url.Values{}); p.code != 200 || !strings.Contains(p.body, "The box is closed") {
		t.Fatalf("officer closes the box: %d %.300s", p.code, p.body)
	}
	sweep()
	if n := disabled(); n != 0 || !works(0) || !works(1) {
		t.Fatalf("before the close: %d disabled, officer pages %v %v", n, works(0), works(1))
	}

	// The ballot closes: officer 0's work is over, officer 1 must still
	// close their box.
	scr := s.staff("scrutineer", 0)
	bp := fmt.Sprintf("/scrutineer/ballots/%d", b.ID)
	scr.get(bp)
	if p := scr.post(bp+"/close", url.Values{"confirm": {b.ElectionID}, "reason": {"test: counting now"}}); p.code != 200 {
		t.Fatalf("close: %d %.300s", p.code, p.body)
	}
	sweep()
	sweep() // a second pass changes nothing
	if n := disabled(); n != 1 || works(0) || !works(1) {
		t.Fatalf("after the close: %d disabled, officer pages %v %v (want only officer 1's)", n, works(0), works(1))
	}
	officers[1].get(boxes[1])
	if p := officers[1].post(boxes[1]+"/close", url.Values{}); p.code != 200 || !strings.Contains(p.body, "The box is closed") {
		t.Fatalf("officer 1 closes the box after the ballot: %d %.300s", p.code, p.body)
	}
	sweep()
	if n := disabled(); n != 2 || works(1) {
		t.Fatalf("after both boxes closed: %d disabled, officer 1's page %v", n, works(1))
	}
	var events int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM auth_events WHERE event = 'staff_disabled'`).Scan(&events); err != nil || events != 2 {
		t.Fatalf("%d staff_disabled events (%v)", events, err)
	}
}
