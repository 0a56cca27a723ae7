package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/auth"
)

// staffWithPasskey creates a staff account, enrols a passkey through its
// link, and returns it with the authenticator and a signed-in browser.
func (e *env) staffWithPasskey(in auth.StaffInput) (auth.StaffIdentity, *authenticator, *browser) {
	e.t.Helper()
	st, link, err := e.svc.CreateStaff(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	a := e.enrol(link)
	return st, a, e.staffSignIn(a)
}

// enrol redeems an enrolment link and registers a new passkey.
func (e *env) enrol(link string) *authenticator {
	e.t.Helper()
	b := e.browser()
	r := b.get(link)
	want(e.t, r, 200, "enrol landing")
	want(e.t, b.postForm(link, url.Values{"csrf": {csrfOf(e.t, r.body)}}), 303, "enrol redeem")
	a, r := b.registerPasskey("/staff/enrol", "/staff/passkey/register")
	want(e.t, r, 200, "staff register")
	return a
}

func (e *env) staffSignIn(a *authenticator) *browser {
	e.t.Helper()
	b := e.browser()
	a.cred.Counter++
	body, csrf := b.assertion(a, "/staff/signin", "/staff/passkey/login")
	want(e.t, b.postJSON("/staff/passkey/login/finish", csrf, body), 200, "staff login")
	return b
}

var enrolRE = regexp.MustCompile(`http://localhost:\d+/staff/enrol/[A-Za-z0-9_-]{43}`)

// requestRecovery runs the requester's pages: number, code, request.
func (b *browser) requestRecovery(mobile string, code func() string) resp {
	b.t.Helper()
	r := b.get("/staff/signin")
	if !strings.Contains(r.body, `href="/staff/recover"`) {
		b.t.Fatal("sign-in page has no recovery link")
	}
	r = b.get("/staff/recover")
	want(b.t, r, 200, "recover page")
	r = b.postForm("/staff/recover", url.Values{"csrf": {csrfOf(b.t, r.body)}, "mobile": {mobile}})
	want(b.t, r, 303, "recover start")
	if loc := r.h.Get("Location"); loc != "/staff/recover/code" {
		b.t.Fatalf("redirect %q", loc)
	}
	r = b.get("/staff/recover/code")
	want(b.t, r, 200, "recover code page")
	return b.postForm("/staff/recover/code", url.Values{"csrf": {csrfOf(b.t, r.body)}, "code": {code()}})
}

func TestStaffRecoveryPages(t *testing.T) {
	t.Parallel()
	lim := auth.DefaultLimits()
	lim.StaffIP = auth.Rate{Max: 1000, Window: 10 * time.Minute} // every browser here is 127.0.0.1
	e := newEnv(t, &lim)
	ctx := context.Background()
	const orgMobile = "+447700900500"
	org, oldKey, orgOld := e.staffWithPasskey(auth.StaffInput{Role: auth.RoleOrganiser, UnionID: e.unionID, Name: "Olive Organiser", Mobile: orgMobile})
	scr, _, scrB := e.staffWithPasskey(auth.StaffInput{Role: auth.RoleScrutineer, Name: "Sam Scrutineer", Mobile: "+447700900501"})
	var u2 int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO unions (slug, name) VALUES ('other', 'Other') RETURNING id`).Scan(&u2); err != nil {
		t.Fatal(err)
	}
	_, _, strangerB := e.staffWithPasskey(auth.StaffInput{Role: auth.RoleOrganiser, UnionID: u2, Name: "Stranger"})

	// A malformed number is refused with a message.
	b := e.browser()
	r := b.get("/staff/recover")
	r = b.postForm("/staff/recover", url.Values{"csrf": {csrfOf(t, r.body)}, "mobile": {"call me"}})
	want(t, r, 400, "malformed number")
	if !strings.Contains(r.body, "Enter a mobile number") || !strings.Contains(r.body, `aria-describedby="mobile-help recover-error"`) {
		t.Fatalf("error page: %s", r.body)
	}
	// A wrong code, then the right one ("07700 900500" is normalised).
	wrong := true
	r = b.requestRecovery("07700 900500", func() string {
		c := codeRE.FindStringSubmatch(e.fake.LastBodyTo(orgMobile))
		if c == nil {
			t.Fatal("no recovery code texted")
		}
		if wrong {
			return wrongCode(c[1])
		}
		return c[1]
	})
	want(t, r, 400, "wrong recovery code")
	wrong = false
	code := codeRE.FindStringSubmatch(e.fake.LastBodyTo(orgMobile))[1]
	r = b.postForm("/staff/recover/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {code}})
	want(t, r, 200, "right recovery code")
	if !strings.Contains(r.body, "Request sent") {
		t.Fatalf("request page: %s", r.body)
	}
	want(t, b.get("/staff/recover/code"), 404, "recovery session ended")

	// An unknown number looks the same and locks after as many tries.
	ghost := e.browser()
	r = ghost.get("/staff/recover")
	want(t, ghost.postForm("/staff/recover", url.Values{"csrf": {csrfOf(t, r.body)}, "mobile": {"+447700900999"}}), 303, "unknown number")
	r = ghost.get("/staff/recover/code")
	want(t, r, 200, "unknown number: code page")
	if !strings.Contains(r.body, "If this number belongs to a staff account") {
		t.Fatal("code page")
	}
	for i := 0; i < 5; i++ {
		r = ghost.postForm("/staff/recover/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {"123456"}})
		want(t, r, 400, "unknown number: code")
	}
	if !strings.Contains(r.body, "Too many wrong codes") {
		t.Fatalf("no lock for an unknown number: %s", r.body)
	}

	// Who may decide: not a member, not another union's organiser, not
	// the requester (still signed in on the old device), and only with a
	// CSRF token.
	var rid int64
	if err := e.pool.QueryRow(ctx, `SELECT id FROM auth_staff_recoveries WHERE staff_id = $1 AND decided_at IS NULL`, org.ID).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	approve := "/staff/recoveries/" + itoa(rid) + "/approve"
	mb := e.browser()
	mb.signInSMS(0)
	want(t, mb.get("/staff/recoveries"), 303, "member on the recoveries page")
	r = strangerB.get("/staff/recoveries")
	want(t, r, 200, "stranger's list")
	if strings.Contains(r.body, "Olive Organiser") {
		t.Fatal("another union's organiser sees the request")
	}
	want(t, strangerB.postForm(approve, url.Values{"csrf": {csrfOf(t, strangerB.get("/staff").body)}}), 403, "stranger approves")
	r = orgOld.get("/staff/recoveries")
	if strings.Contains(r.body, "Olive Organiser") {
		t.Fatal("requester sees their own request")
	}
	want(t, orgOld.postForm(approve, url.Values{"csrf": {csrfOf(t, orgOld.get("/staff").body)}}), 403, "self-approval")
	want(t, scrB.postForm(approve, url.Values{}), 403, "approval without CSRF")

	// The scrutineer sees it on the staff home page and approves.
	r = scrB.get("/staff")
	if !strings.Contains(r.body, `href="/staff/recoveries"`) || !strings.Contains(r.body, "(1)") {
		t.Fatalf("staff home: %s", r.body)
	}
	r = scrB.get("/staff/recoveries")
	if !strings.Contains(r.body, "Olive Organiser") || !strings.Contains(r.body, "ACME Workers") {
		t.Fatalf("list: %s", r.body)
	}
	texts := len(e.fake.Requests())
	r = scrB.postForm(approve, url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 200, "approve")
	if !strings.Contains(r.body, "Recovery approved") || strings.Contains(r.body, "/staff/enrol/") {
		t.Fatalf("approval page shows the link or no confirmation: %s", r.body)
	}
	if len(e.fake.Requests()) != texts+1 {
		t.Fatal("no enrolment text")
	}
	link := enrolRE.FindString(e.fake.LastBodyTo(orgMobile))
	if link == "" {
		t.Fatal("enrolment link not texted to the requester")
	}
	want(t, scrB.postForm(approve, url.Values{"csrf": {csrfOf(t, scrB.get("/staff").body)}}), 404, "approved twice")

	// The old device is signed out and its passkey refused; the new one works.
	want(t, orgOld.get("/staff"), 303, "old session after recovery")
	x := e.browser()
	oldKey.cred.Counter += 5
	body, csrf := x.assertion(oldKey, "/staff/signin", "/staff/passkey/login")
	want(t, x.postJSON("/staff/passkey/login/finish", csrf, body), 400, "old passkey after recovery")
	newKey := e.enrol(link)
	nb := e.staffSignIn(newKey)
	if r := nb.get("/staff"); r.code != 200 || !strings.Contains(r.body, "Olive Organiser") {
		t.Fatalf("new passkey: %d", r.code)
	}

	// A scrutineer's request: an organiser may not decide it; another
	// scrutineer refuses it, and nothing is texted.
	_, _, scr2B := e.staffWithPasskey(auth.StaffInput{Role: auth.RoleScrutineer, Name: "Sue Scrutineer"})
	sb := e.browser()
	want(t, sb.requestRecovery("+44 7700 900501", func() string {
		return codeRE.FindStringSubmatch(e.fake.LastBodyTo("+447700900501"))[1]
	}), 200, "scrutineer's request")
	if err := e.pool.QueryRow(ctx, `SELECT id FROM auth_staff_recoveries WHERE staff_id = $1 AND decided_at IS NULL`, scr.ID).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	if r = nb.get("/staff/recoveries"); strings.Contains(r.body, "Sam Scrutineer") {
		t.Fatal("an organiser sees a scrutineer's request")
	}
	want(t, nb.postForm("/staff/recoveries/"+itoa(rid)+"/approve", url.Values{"csrf": {csrfOf(t, nb.get("/staff").body)}}), 403, "organiser approves a scrutineer")
	texts = len(e.fake.Requests())
	r = scr2B.get("/staff/recoveries?lang=cy")
	if !strings.Contains(r.body, "Sam Scrutineer") || !strings.Contains(r.body, "Cymeradwyo") {
		t.Fatalf("Welsh list: %s", r.body)
	}
	r = scr2B.postForm("/staff/recoveries/"+itoa(rid)+"/deny", url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 200, "deny")
	if !strings.Contains(r.body, "Adfer wedi&#39;i wrthod") || len(e.fake.Requests()) != texts {
		t.Fatalf("deny: %s", r.body)
	}
	scrB.get("/staff") // the refused scrutineer keeps their passkey and session
	want(t, scrB.get("/staff"), 200, "refused recovery changes nothing")

	// Audited: auth events and the hash-chained log name the approver.
	var outcomes []string
	for _, ev := range e.events("staff_recovery") {
		outcomes = append(outcomes, ev.Outcome)
	}
	for _, o := range []string{"code_sent", "bad_code", "requested", "approved", "denied"} {
		if !strings.Contains(strings.Join(outcomes, " "), o) {
			t.Errorf("staff_recovery %s not audited: %v", o, outcomes)
		}
	}
	var actions []string
	rows, err := e.pool.Query(ctx, `SELECT actor || ' ' || action FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		actions = append(actions, s)
	}
	rows.Close()
	got := strings.Join(actions, "\n")
	for _, w := range []string{"organiser:" + itoa(org.ID) + " staff.recovery_requested", "scrutineer:" + itoa(scr.ID) + " staff.recovery_approved",
		"scrutineer:" + itoa(scr.ID) + " staff.recovery_requested", "staff.recovery_denied"} {
		if !strings.Contains(got, w) {
			t.Errorf("audit log lacks %q:\n%s", w, got)
		}
	}
	if _, err := audit.Verify(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.logs.String(), orgMobile) || strings.Contains(e.logs.String(), link) {
		t.Fatal("logs hold the number or the link")
	}
}

func TestStaffRecoveryRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if _, _, err := e.svc.CreateStaff(context.Background(), auth.StaffInput{Role: auth.RoleScrutineer, Name: "Sam", Mobile: "+447700900501"}); err != nil {
		t.Fatal(err)
	}
	// The fourth request in an hour for the same number is refused,
	// whether or not it is a staff member's number.
	for _, mobile := range []string{"+447700900501", "+447700900777"} {
		for i := 0; i < 4; i++ {
			b := e.browser()
			r := b.get("/staff/recover")
			r = b.postForm("/staff/recover", url.Values{"csrf": {csrfOf(t, r.body)}, "mobile": {mobile}})
			if i < 3 {
				want(t, r, 303, "request")
				continue
			}
			want(t, r, 429, "fourth request for "+mobile)
			if r.h.Get("Retry-After") == "" || !strings.Contains(r.body, "Try again in") {
				t.Fatalf("429: %v %s", r.h, r.body)
			}
		}
	}
	e.clk.Add(time.Hour)
	b := e.browser()
	r := b.get("/staff/recover")
	want(t, b.postForm("/staff/recover", url.Values{"csrf": {csrfOf(t, r.body)}, "mobile": {"+447700900501"}}), 303, "an hour later")
	_ = http.StatusOK
}

func itoa(n int64) string { return strconvFormat(n) }

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
