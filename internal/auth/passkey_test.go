package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/unionvote/eballot/internal/auth"
)

// memberWithPasskey signs member 0 in by SMS, registers a passkey, and
// returns it with a fresh browser (signed out).
func memberWithPasskey(t *testing.T, e *env) (*authenticator, *browser) {
	t.Helper()
	b := e.browser()
	b.signInSMS(0)
	a, r := b.registerPasskey("/auth/passkey", "/auth/passkey/register")
	want(t, r, 200, "register finish")
	if redirectOf(t, r) != "/me" {
		t.Fatalf("redirect %s", r.body)
	}
	if ev := e.events("passkey_register"); len(ev) != 1 || ev[0].Outcome != "ok" {
		t.Fatalf("audit %+v", ev)
	}
	return a, e.browser()
}

func TestPasskeyRegisterAndLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := memberWithPasskey(t, e)
	want(t, b.get("/me"), 303, "fresh browser")
	pre := b.Cookie("eb_pre")
	body, csrf := b.assertion(a, "/auth/signin", "/auth/passkey/login")
	a.cred.Counter = 0
	r := b.postJSON("/auth/passkey/login/finish", csrf, body)
	want(t, r, 200, "login finish")
	if redirectOf(t, r) != "/me" {
		t.Fatalf("redirect %s", r.body)
	}
	sid := b.Cookie("eb_session")
	if sid == "" || sid == pre {
		t.Fatal("no new session")
	}
	r = b.get("/me")
	want(t, r, 200, "/me after passkey")
	if !strings.Contains(r.body, "Member 0") {
		t.Fatal("wrong member")
	}
	// The invitation landing now offers the passkey.
	if r := b.get(e.inviteLink(0)); !strings.Contains(r.body, "/auth/signin") {
		t.Fatal("landing does not offer the passkey")
	}
	// Second login with an increasing counter.
	b2 := e.browser()
	a.cred.Counter = 0
	body, csrf = b2.assertion(a, "/auth/signin", "/auth/passkey/login")
	want(t, b2.postJSON("/auth/passkey/login/finish", csrf, body), 200, "second login (counter 0 stays 0)")
}

func TestPasskeyReplayRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := memberWithPasskey(t, e)
	a.cred.Counter = 3
	body, csrf := b.assertion(a, "/auth/signin", "/auth/passkey/login")
	r := b.postJSON("/auth/passkey/login/finish", csrf, body)
	want(t, r, 200, "first use")
	// Same assertion again, same browser (the ceremony was deleted on use).
	csrf2 := csrfOf(t, b.get("/me").body)
	want(t, b.postJSON("/auth/passkey/login/finish", csrf2, body), 400, "replay, same browser")
	// Same assertion against a new ceremony (different challenge).
	c := e.browser()
	_, csrf3 := c.assertion(a, "/auth/signin", "/auth/passkey/login")
	want(t, c.postJSON("/auth/passkey/login/finish", csrf3, body), 400, "replay, new ceremony")
}

func TestPasskeyWrongOriginOrRPID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, _ := memberWithPasskey(t, e)
	for _, tc := range []struct {
		name string
		rp   virtualwebauthn.RelyingParty
	}{
		{"wrong origin", virtualwebauthn.RelyingParty{Name: "x", ID: e.host, Origin: "https://evil.example"}},
		{"wrong RP ID", virtualwebauthn.RelyingParty{Name: "x", ID: "evil.example", Origin: e.base}},
	} {
		b := e.browser()
		bad := *a
		bad.rp = tc.rp
		body, csrf := b.assertion(&bad, "/auth/signin", "/auth/passkey/login")
		want(t, b.postJSON("/auth/passkey/login/finish", csrf, body), 400, tc.name)
		want(t, b.get("/me"), 303, tc.name+": not signed in")
	}
	// Registration with a wrong origin is refused too.
	b := e.browser()
	b.signInSMS(1)
	r := b.get("/auth/passkey")
	csrf := csrfOf(t, r.body)
	r = b.postJSON("/auth/passkey/register/begin", csrf, "{}")
	ao, err := virtualwebauthn.ParseAttestationOptions(r.body)
	if err != nil {
		t.Fatal(err)
	}
	au := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
	body := virtualwebauthn.CreateAttestationResponse(virtualwebauthn.RelyingParty{Name: "x", ID: e.host, Origin: "https://evil.example"}, au, virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2), *ao)
	want(t, b.postJSON("/auth/passkey/register/finish", csrf, body), 400, "registration from wrong origin")
}

func TestPasskeyUserVerificationRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := memberWithPasskey(t, e)
	a.auth.Options.UserNotVerified = true
	body, csrf := b.assertion(a, "/auth/signin", "/auth/passkey/login")
	want(t, b.postJSON("/auth/passkey/login/finish", csrf, body), 400, "no user verification")
}

func TestSignCountRegressionBlocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := memberWithPasskey(t, e)
	a.cred.Counter = 5
	body, csrf := b.assertion(a, "/auth/signin", "/auth/passkey/login")
	want(t, b.postJSON("/auth/passkey/login/finish", csrf, body), 200, "counter 5")
	c := e.browser()
	a.cred.Counter = 3
	body, csrf = c.assertion(a, "/auth/signin", "/auth/passkey/login")
	r := c.postJSON("/auth/passkey/login/finish", csrf, body)
	want(t, r, 403, "counter 3 after 5")
	want(t, c.get("/me"), 303, "not signed in after regression")
	found := false
	for _, ev := range e.events("passkey_login") {
		if ev.Outcome == "clone_warning" && ev.MemberID == e.members[0] {
			found = true
		}
	}
	if !found {
		t.Fatalf("regression not audited: %+v", e.events("passkey_login"))
	}
	var warnings int
	if err := e.pool.QueryRow(context.Background(), `SELECT clone_warnings FROM auth_webauthn_credentials`).Scan(&warnings); err != nil || warnings != 1 {
		t.Fatalf("clone_warnings %d %v", warnings, err)
	}
	// Equal counter (not zero) is a regression too.
	d := e.browser()
	a.cred.Counter = 5
	body, csrf = d.assertion(a, "/auth/signin", "/auth/passkey/login")
	want(t, d.postJSON("/auth/passkey/login/finish", csrf, body), 403, "counter 5 again")
}

func TestStaffPasskeyAndRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	org, link, err := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: e.unionID, Name: "Olive Organiser", Mobile: "+447700900500"})
	if err != nil {
		t.Fatal(err)
	}
	scr, _, err := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleScrutineer, Name: "Sam Scrutineer"})
	if err != nil {
		t.Fatal(err)
	}
	// Enrolment: the link page needs a POST (link scanners do not use it).
	b := e.browser()
	r := b.get(link)
	want(t, r, 200, "enrol landing")
	want(t, b.postForm(link, map[string][]string{"csrf": {csrfOf(t, r.body)}}), 303, "enrol redeem")
	a, r := b.registerPasskey("/staff/enrol", "/staff/passkey/register")
	if r.code != 200 {
		t.Log(e.logs.String())
	}
	want(t, r, 200, "staff register")
	if redirectOf(t, r) != "/staff/signin" {
		t.Fatalf("redirect %s", r.body)
	}
	// The link is single use.
	b2 := e.browser()
	r = b2.get(link)
	want(t, b2.postForm(link, map[string][]string{"csrf": {csrfOf(t, r.body)}}), 404, "enrol link reused")

	// Staff sign-in with the passkey; a member passkey endpoint refuses it.
	m := e.browser()
	body, csrf := m.assertion(a, "/auth/signin", "/auth/passkey/login")
	want(t, m.postJSON("/auth/passkey/login/finish", csrf, body), 400, "staff passkey on member sign-in")
	s := e.browser()
	a.cred.Counter = 1
	body, csrf = s.assertion(a, "/staff/signin", "/staff/passkey/login")
	r = s.postJSON("/staff/passkey/login/finish", csrf, body)
	want(t, r, 200, "staff login")
	if sc := strings.Join(r.h.Values("Set-Cookie"), "\n"); !strings.Contains(sc, "eb_session=") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("staff session cookie: %s", sc)
	}
	r = s.get("/staff")
	want(t, r, 200, "staff home")
	if !strings.Contains(r.body, "Olive Organiser") {
		t.Fatal("staff home")
	}
	// A member session is not staff.
	mb := e.browser()
	mb.signInSMS(0)
	want(t, mb.get("/staff"), 303, "member on /staff")

	// Recovery: code to the organiser's phone, then approval by another.
	if err := e.svc.StartStaffRecovery(ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	code := codeRE.FindStringSubmatch(e.fake.LastBodyTo("+447700900500"))
	if code == nil {
		t.Fatal("no recovery code texted")
	}
	if _, err := e.svc.ConfirmStaffRecovery(ctx, org.ID, wrongCode(code[1])); err == nil {
		t.Fatal("wrong recovery code accepted")
	}
	rid, err := e.svc.ConfirmStaffRecovery(ctx, org.ID, code[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ApproveStaffRecovery(ctx, rid, org); err != auth.ErrNotAllowed {
		t.Fatalf("self-approval: %v", err)
	}
	other, _, _ := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: e.unionID, Name: "Otto"})
	var u2 int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO unions (slug, name) VALUES ('other', 'Other') RETURNING id`).Scan(&u2); err != nil {
		t.Fatal(err)
	}
	stranger, _, _ := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: u2, Name: "Stranger"})
	if _, err := e.svc.ApproveStaffRecovery(ctx, rid, stranger); err != auth.ErrNotAllowed {
		t.Fatalf("other union's organiser approved: %v", err)
	}
	_ = other
	newLink, err := e.svc.ApproveStaffRecovery(ctx, rid, scr)
	if err != nil || !strings.Contains(newLink, "/staff/enrol/") {
		t.Fatalf("approve: %q %v", newLink, err)
	}
	if !strings.Contains(e.fake.LastBodyTo("+447700900500"), newLink) {
		t.Fatal("enrolment link not texted to the requester")
	}
	if _, err := e.svc.ApproveStaffRecovery(ctx, rid, scr); err == nil {
		t.Fatal("approved twice")
	}
	// The old passkey and session are gone.
	want(t, s.get("/staff"), 303, "old staff session after recovery")
	x := e.browser()
	a.cred.Counter = 2
	body, csrf = x.assertion(a, "/staff/signin", "/staff/passkey/login")
	want(t, x.postJSON("/staff/passkey/login/finish", csrf, body), 400, "old passkey after recovery")
	// A scrutineer's recovery needs another scrutineer.
	if err := e.svc.StartStaffRecovery(ctx, scr.ID); err != nil {
		t.Fatal(err)
	}
}

// TestVolunteerRecovery: a volunteer (internal/outreach) who lost their
// passkey gets a code by text; only an organiser of their union may
// approve — not another volunteer, not a scrutineer, not another union's
// organiser — and the new enrolment link is texted to them.
func TestVolunteerRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	vol, _, err := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleVolunteer, UnionID: e.unionID, Name: "Val Volunteer", Mobile: "+447700900600"})
	if err != nil {
		t.Fatal(err)
	}
	if vol.UnionID != e.unionID || vol.Role != auth.RoleVolunteer {
		t.Fatalf("volunteer %+v", vol)
	}
	peer, _, _ := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleVolunteer, UnionID: e.unionID, Name: "Pat Volunteer"})
	scr, _, _ := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleScrutineer, Name: "Sam Scrutineer"})
	org, _, _ := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: e.unionID, Name: "Olive Organiser"})
	var u2 int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO unions (slug, name) VALUES ('other-v', 'Other') RETURNING id`).Scan(&u2); err != nil {
		t.Fatal(err)
	}
	stranger, _, _ := e.svc.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: u2, Name: "Stranger"})
	if err := e.svc.StartStaffRecovery(ctx, vol.ID); err != nil {
		t.Fatal(err)
	}
	code := codeRE.FindStringSubmatch(e.fake.LastBodyTo("+447700900600"))
	if code == nil {
		t.Fatal("no code texted to the volunteer")
	}
	rid, err := e.svc.ConfirmStaffRecovery(ctx, vol.ID, code[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []auth.StaffIdentity{vol, peer, scr, stranger} {
		if _, err := e.svc.ApproveStaffRecovery(ctx, rid, who); err != auth.ErrNotAllowed {
			t.Fatalf("%s approved a volunteer's recovery: %v", who.Name, err)
		}
	}
	if list, err := e.svc.PendingStaffRecoveries(ctx, peer); err != nil || len(list) != 0 {
		t.Fatalf("a volunteer sees recoveries: %v %v", list, err)
	}
	link, err := e.svc.ApproveStaffRecovery(ctx, rid, org)
	if err != nil || !strings.Contains(e.fake.LastBodyTo("+447700900600"), link) {
		t.Fatalf("organiser's approval: %q %v", link, err)
	}
}
