package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
)

func TestInvitationsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	before := len(e.fake.Requests())
	rep, err := e.svc.IssueInvitations(ctx, e.ballotID)
	if err != nil || rep.Issued != 0 || rep.SMSSent != 0 || rep.Members != 3 {
		t.Fatalf("second issue: %+v %v", rep, err)
	}
	if len(e.fake.Requests()) != before {
		t.Fatal("second issue texted again")
	}
	u, err := e.svc.InvitationURL(ctx, e.ballotID, e.members[1])
	if err != nil || u != e.inviteLink(1) {
		t.Fatalf("InvitationURL %q %v, texted %q", u, err, e.inviteLink(1))
	}
	tok := u[strings.LastIndex(u, "/")+1:]
	inv, err := e.svc.ResolveInvitation(ctx, tok)
	if err != nil || inv.MemberID != e.members[1] || inv.BallotID != e.ballotID {
		t.Fatalf("resolve: %+v %v", inv, err)
	}
	// Only the hash is stored.
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM auth_invitations WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'`, tok[:10]).Scan(&n); err != nil || n != 0 {
		t.Fatalf("token stored in clear? %d %v", n, err)
	}
	// Revocation gives a new link; the old one dies.
	nu, err := e.svc.RevokeInvitation(ctx, e.ballotID, e.members[1])
	if err != nil || nu == u {
		t.Fatalf("revoke: %q %v", nu, err)
	}
	if _, err := e.svc.ResolveInvitation(ctx, tok); !errors.Is(err, auth.ErrInvalidLink) {
		t.Fatalf("revoked token resolves: %v", err)
	}
	// A member added to the register later gets a link on demand; a
	// member not on the register does not.
	var late, outsider int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO members (union_id, member_number, name, mobile) VALUES ($1, 'L1', 'Late', '+447700900199') RETURNING id`, e.unionID).Scan(&late); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(ctx, `INSERT INTO members (union_id, member_number, name) VALUES ($1, 'X1', 'Outsider') RETURNING id`, e.unionID).Scan(&outsider); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style) VALUES ($1, $2, 'all')`, e.ballotID, late); err != nil {
		t.Fatal(err)
	}
	e.sealMembers()
	lu, err := e.svc.InvitationURL(ctx, e.ballotID, late)
	if err != nil {
		t.Fatal(err)
	}
	if lu2, _ := e.svc.InvitationURL(ctx, e.ballotID, late); lu2 != lu {
		t.Fatal("InvitationURL not stable")
	}
	if _, err := e.svc.InvitationURL(ctx, e.ballotID, outsider); !errors.Is(err, auth.ErrInvalidLink) {
		t.Fatalf("outsider got a link: %v", err)
	}
	if err := e.svc.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	// Expired at the ballot's close.
	e.clk.Add(8 * 24 * time.Hour)
	if _, err := e.svc.ResolveInvitation(ctx, nu[strings.LastIndex(nu, "/")+1:]); !errors.Is(err, auth.ErrInvalidLink) {
		t.Fatalf("expired token resolves: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), "../../etc/passwd"} {
		if _, err := e.svc.ResolveInvitation(ctx, bad); !errors.Is(err, auth.ErrInvalidLink) {
			t.Fatalf("%q resolves: %v", bad, err)
		}
	}
}

func TestSMSSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.signInSMS(0)
	r := b.get("/me")
	want(t, r, 200, "/me")
	if !strings.Contains(r.body, "Member 0") || !strings.Contains(r.body, "Strike ballot") {
		t.Fatalf("/me: %s", r.body)
	}
	// Code page has the right field attributes.
	// Logs never hold codes, tokens or numbers.
	code := e.lastCode(0)
	tok := e.inviteLink(0)
	tok = tok[strings.LastIndex(tok, "/")+1:]
	for _, secret := range []string{code, tok, e.mobiles[0]} {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("logs contain a secret %q", secret)
		}
	}
	if ev := e.events("signin"); len(ev) != 1 || ev[0].MemberID != e.members[0] || ev[0].At.Minute() != 0 || ev[0].At.Second() != 0 {
		t.Fatalf("audit %+v", ev)
	}
	// Logout is POST with CSRF.
	r = b.postForm("/auth/logout", url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 303, "logout")
	want(t, b.get("/me"), 303, "/me after logout")
}

func TestCodePageAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	link := e.inviteLink(0)
	r := b.get(link)
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 303, "send code")
	r = b.get("/auth/code")
	for _, attr := range []string{`autocomplete="one-time-code"`, `inputmode="numeric"`, `<label for="code">`} {
		if !strings.Contains(r.body, attr) {
			t.Errorf("code page lacks %s", attr)
		}
	}
	rc := b.get("/auth/code?lang=cy")
	if !strings.Contains(rc.body, "Rhowch eich cod") {
		t.Errorf("no Welsh code page")
	}
}

// startCode opens member i's link and asks for a code; returns the CSRF
// token of the code page.
func (b *browser) startCode(i int) string {
	b.t.Helper()
	link := b.e.inviteLink(i)
	r := b.get(link)
	want(b.t, r, 200, "landing")
	r = b.postForm(link, url.Values{"csrf": {csrfOf(b.t, r.body)}})
	want(b.t, r, 303, "send code")
	r = b.get("/auth/code")
	want(b.t, r, 200, "code page")
	return csrfOf(b.t, r.body)
}

func wrongCode(c string) string {
	if c == "000000" {
		return "111111"
	}
	return "000000"
}

func TestCodeLockedAfterFiveWrong(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	csrf := b.startCode(0)
	code := e.lastCode(0)
	for i := 0; i < 4; i++ {
		r := b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {wrongCode(code)}})
		want(t, r, 400, "wrong code")
		if !strings.Contains(r.body, "not right or has expired") {
			t.Fatalf("message: %s", r.body)
		}
	}
	r := b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {wrongCode(code)}})
	want(t, r, 400, "fifth wrong code")
	if !strings.Contains(r.body, "Too many wrong codes") {
		t.Fatalf("not locked: %s", r.body)
	}
	r = b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {code}})
	want(t, r, 400, "right code after lock")
	want(t, b.get("/me"), 303, "/me after lock")
	// A new code works.
	r = b.postForm("/auth/code/resend", url.Values{"csrf": {csrf}})
	want(t, r, 200, "resend")
	r = b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {e.lastCode(0)}})
	want(t, r, 303, "new code")
}

func TestCodeExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	csrf := b.startCode(0)
	e.clk.Add(10*time.Minute + time.Second)
	// The pending session is still alive (idle 15 min), the code is not.
	r := b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {e.lastCode(0)}})
	want(t, r, 400, "expired code")
	want(t, b.get("/me"), 303, "/me")
}

func TestResendLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	csrf := b.startCode(0) // code 1
	for i := 0; i < 2; i++ {
		want(t, b.postForm("/auth/code/resend", url.Values{"csrf": {csrf}}), 200, "resend")
	}
	r := b.postForm("/auth/code/resend", url.Values{"csrf": {csrf}})
	want(t, r, 429, "fourth code in an hour")
	if !strings.Contains(r.body, "Try again in 60 minutes") || r.h.Get("Retry-After") != "3600" {
		t.Fatalf("429: %s %v", r.body, r.h)
	}
	if e.codesSent(0) != 3 {
		t.Fatalf("%d codes sent", e.codesSent(0))
	}
	e.clk.Add(61 * time.Minute) // the pending session has expired too: start again
	b.startCode(0)
	if e.codesSent(0) != 4 {
		t.Fatalf("no code an hour later: %d", e.codesSent(0))
	}
}

func TestCodeBoundToMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := e.browser(), e.browser()
	a.startCode(0)
	codeA := e.lastCode(0)
	csrfB := b.startCode(1)
	if e.lastCode(1) == codeA {
		t.Skip("codes collided (1 in a million)")
	}
	r := b.postForm("/auth/code", url.Values{"csrf": {csrfB}, "code": {codeA}})
	want(t, r, 400, "A's code used by B")
	// Service level too.
	if err := e.svc.VerifyMemberCode(context.Background(), e.members[2], codeA); !errors.Is(err, auth.ErrInvalidCode) {
		t.Fatalf("A's code for C: %v", err)
	}
}

func TestSessionFixation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	u, _ := url.Parse(e.base)
	planted := strings.Repeat("A", 43)
	b.HTTP.Jar.SetCookies(u, []*http_cookie{{Name: "eb_session", Value: planted, Path: "/"}})
	link := e.inviteLink(0)
	r := b.get(link)
	if b.Cookie("eb_session") == planted {
		t.Fatal("planted session cookie kept")
	}
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}})
	pending := b.Cookie("eb_session")
	if pending == "" || pending == planted {
		t.Fatalf("pending session %q", pending)
	}
	r = b.get("/auth/code")
	r = b.postForm("/auth/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {e.lastCode(0)}})
	want(t, r, 303, "verify")
	signedIn := b.Cookie("eb_session")
	if signedIn == pending || signedIn == "" {
		t.Fatal("session id not rotated at sign-in")
	}
	// The old (pending) id is dead.
	old := e.browser()
	old.HTTP.Jar.SetCookies(u, []*http_cookie{{Name: "eb_session", Value: pending, Path: "/"}})
	want(t, old.get("/me"), 303, "old session id")
	// Cookie attributes.
	r = b.get("/me")
	want(t, r, 200, "me")
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	link := e.inviteLink(0)
	r := b.get(link)
	req := mustReq(t, "POST", link, url.Values{"csrf": {csrfOf(t, r.body)}})
	req.Header.Set("Origin", e.base)
	res, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	sc := strings.Join(res.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(sc, "eb_session=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("cookie: %s", sc)
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.signInSMS(0)
	e.clk.Add(14 * time.Minute)
	want(t, b.get("/me"), 200, "within idle")
	e.clk.Add(14 * time.Minute) // touched at +14: still alive
	want(t, b.get("/me"), 200, "within idle after touch")
	e.clk.Add(16 * time.Minute)
	want(t, b.get("/me"), 303, "after idle timeout")
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.signInSMS(0)
	r := b.get("/me")
	good := csrfOf(t, r.body)
	for _, tc := range []struct {
		name   string
		token  string
		origin string
	}{
		{"missing token", "", e.base},
		{"invalid token", "AAAA" + good[4:], e.base},
		{"wrong origin", good, "https://evil.example"},
	} {
		b.Origin = tc.origin
		v := url.Values{}
		if tc.token != "" {
			v.Set("csrf", tc.token)
		}
		want(t, b.postForm("/auth/logout", v), 403, tc.name)
	}
	b.Origin = e.base
	// Sec-Fetch-Site cross-site is refused even with a good token.
	req := mustReq(t, "POST", e.base+"/auth/logout", url.Values{"csrf": {good}})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	want(t, b.do(req), 403, "cross-site fetch")
	want(t, b.get("/me"), 200, "still signed in")
	// The JSON passkey endpoint without the header token.
	want(t, b.postJSON("/auth/passkey/register/begin", "", "{}"), 403, "json without token")
	// A sign-in form without any cookie.
	fresh := e.browser()
	want(t, fresh.postForm(e.inviteLink(1), url.Values{"csrf": {good}}), 403, "no pre-session")
}

func TestCSRFExemptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := e.svc.Middleware(ok)
	post := func(path, ctype string, cookie bool) int {
		req := httptest.NewRequest("POST", path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", ctype)
		if cookie {
			req.Header.Set("Cookie", "eb_pre="+strings.Repeat("B", 43))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for _, tc := range []struct {
		path, ctype string
		cookie      bool
		want        int
	}{
		// The ledger is mounted outside this middleware (internal/web
		// CookieFree; internal/systemtest TestLedgerCookieFree): the
		// middleware itself exempts nothing there.
		{"/ledger/cast", "application/json", false, 403},
		{"/ledger/cast", "application/json; charset=utf-8", false, 403},
		{"/ledger/cast", "application/json", true, 403},
		{"/ledger/cast", "application/x-www-form-urlencoded", false, 403},
		{"/ledger/cast", "text/plain", false, 403},
		{"/webhooks/twilio/status", "application/x-www-form-urlencoded", false, 204},
		{"/auth/logout", "application/json", false, 403},
		{"/ledgerx/cast", "application/json", false, 403},
	} {
		if got := post(tc.path, tc.ctype, tc.cookie); got != tc.want {
			t.Errorf("%+v: got %d", tc, got)
		}
	}
}
