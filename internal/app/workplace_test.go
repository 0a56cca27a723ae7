package app

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/unionvote/eballot/internal/election/electiontest"
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
