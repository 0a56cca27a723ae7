package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web"
)

// unsafeMethod: the methods the CSRF protection must cover.
func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodConnect:
		return false
	}
	return true
}

// csrfExempt are the documented anonymous endpoints (docs/auth.md): the
// ledger's cookie-less JSON cast and the signed Twilio webhooks. Each is
// checked separately below. /static/* answers every method with the asset
// server, which changes nothing.
func csrfExempt(route string) bool {
	return route == "/ledger/v1/{election}/cast" || strings.HasPrefix(route, "/webhooks/twilio/") || route == "/static/*"
}

// csrfRefusal: the answer of the CSRF check, a JSON problem "forbidden"
// (no-store) on the APIs, the error page saying why elsewhere.
func csrfRefusal(r resp) bool {
	if strings.HasPrefix(r.h.Get("Content-Type"), "application/json") {
		return strings.Contains(r.body, `"error":"forbidden"`) && r.h.Get("Cache-Control") == "no-store"
	}
	return strings.Contains(r.body, "it did not come from this service")
}

// TestCSRFEveryUnsafeRoute walks the built router and sends every
// state-changing route, as a signed-in member, organiser and scrutineer,
// without a CSRF token, with an invalid one, and with a good token from
// another origin: every one is refused by the CSRF check (403), so a route
// added later without protection fails here.
func TestCSRFEveryUnsafeRoute(t *testing.T) {
	s := newSystem(t, 4)
	params := map[string]string{"election": s.ballot.ElectionID, "id": fmt.Sprint(s.ballot.ID), "token": strings.Repeat("A", 43)}
	browsers := map[string]*client{
		"member":     s.member(0),
		"organiser":  s.staff("organiser", s.ballot.UnionID),
		"scrutineer": s.staff("scrutineer", 0),
	}
	for who, c := range browsers {
		c.signedInPage(who)
	}
	before := s.snapshot()
	checked := 0
	for _, rt := range s.routes() {
		method, route := rt[0], rt[1]
		if !unsafeMethod(method) {
			continue
		}
		path := fill(route, params)
		if csrfExempt(route) {
			if route == "/static/*" {
				r := browsers["member"].send(method, "/static/app.css", "application/x-www-form-urlencoded", strings.NewReader("a=b"), nil)
				if r.code < 400 {
					t.Errorf("%s /static/app.css: %d", method, r.code)
				}
			}
			continue
		}
		for who, c := range browsers {
			good := c.CSRF
			// A wrong token of the right shape: the first character changed
			// (always changed: a token may itself start with "x").
			bad := "x" + good[1:]
			if good[0] == 'x' {
				bad = "y" + good[1:]
			}
			for _, tc := range []struct {
				name, token, origin string
			}{
				{"no token", "", s.base},
				{"invalid token", bad, s.base},
				{"cross-origin", good, "https://evil.example"},
			} {
				c.Origin = tc.origin
				form := url.Values{"confirm": {s.ballot.ElectionID}, "code": {"123456"}, "name": {"x"}}
				if tc.token != "" {
					form.Set("csrf", tc.token)
				}
				for _, body := range []struct{ ctype, body string }{
					{"application/x-www-form-urlencoded", form.Encode()},
					{"application/json", `{}`},
				} {
					hdr := map[string]string{}
					if body.ctype == "application/json" && tc.token != "" {
						hdr["X-CSRF-Token"] = tc.token
					}
					r := c.send(method, path, body.ctype, strings.NewReader(body.body), hdr)
					if r.code != http.StatusForbidden || !csrfRefusal(r) {
						t.Errorf("%s %s as %s, %s, %s: %d %.200s", method, route, who, tc.name, body.ctype, r.code, r.body)
					}
					checked++
				}
			}
			c.Origin = s.base
		}
	}
	if checked < 30*3*3*2 {
		t.Fatalf("only %d requests: the router walk found too few routes", checked)
	}
	s.sameSnapshot(before)

	// The cast takes no cookie at all (it carries no ambient authority):
	// a browser request carrying cookies is answered as without them
	// (TestLedgerCookieFree).
	// Unsigned webhooks change nothing.
	anon := s.client()
	anon.HTTP.Jar = nil
	for _, p := range []string{"/webhooks/twilio/status", "/webhooks/twilio/inbound"} {
		r := anon.postForm(p, url.Values{"From": {"+447700900001"}, "Body": {"STOP"}, "MessageSid": {"SM1"}, "MessageStatus": {"delivered"}})
		if r.code != http.StatusForbidden {
			t.Errorf("unsigned %s: %d %s", p, r.code, r.body)
		}
	}
	if n := s.queryInt(`SELECT count(*) FROM gotv_optouts`); n != 0 {
		t.Errorf("an unsigned STOP opted a number out")
	}
	t.Logf("%d refused requests", checked)
}

// signedInPage opens the visitor's own page and keeps its CSRF token.
func (c *client) signedInPage(who string) {
	c.T.Helper()
	page := map[string]string{"member": "/me", "organiser": "/staff", "scrutineer": "/staff", "anonymous": "/auth/signin"}[who]
	if r := c.get(page); r.code != 200 || c.CSRF == "" {
		c.T.Fatalf("%s as %s: %d, csrf %q: %.300s", page, who, r.code, c.CSRF, r.body)
	}
}

// snapshot counts the rows of the tables that hold the service's state
// (sessions, rate limits and sign-in events change with any request).
type snapshot map[string]int64

var stateTables = []string{"unions", "ballots", "members", "register_entries", "staff", "auth_invitations",
	"auth_webauthn_credentials", "ledger_elections", "ledger_entries", "ledger_checkpoints", "ledger_closures",
	"ballot_styles", "marked_register", "replacement_requests", "impersonation_reports", "audit_log",
	"register_uploads", "gotv_policies", "gotv_ballot_settings", "gotv_optouts", "gotv_campaigns", "gotv_steps", "gotv_messages"}

func (s *system) snapshot() snapshot {
	s.t.Helper()
	out := snapshot{}
	for _, tb := range stateTables {
		out[tb] = s.queryInt(`SELECT count(*) FROM ` + tb)
	}
	out["ballot_status"] = s.queryInt(`SELECT count(*) FROM ballots WHERE status = 'open'`)
	return out
}

func (s *system) sameSnapshot(before snapshot) {
	s.t.Helper()
	after := s.snapshot()
	for k, v := range before {
		if after[k] != v {
			s.t.Errorf("table %s: %d rows before, %d after", k, v, after[k])
		}
	}
}

// wantSecurityHeaders checks the headers every response carries
// (docs/architecture.md § HTTP).
func wantSecurityHeaders(t testing.TB, what string, h http.Header) {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Security-Policy":    web.ContentSecurityPolicy,
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "same-origin",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
	for _, frag := range []string{"default-src 'none'", "frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(h.Get("Content-Security-Policy"), frag) {
			t.Errorf("%s: CSP lacks %s", what, frag)
		}
	}
}

// TestSecurityHeadersEveryPage sends GET to every route of the router as
// each kind of visitor, plus error pages (404, 403, 405, 413, 429 and CSRF
// refusals), and checks the security headers on every answer, whatever
// its type (HTML, JSON, CSV, text, static asset, redirect).
func TestSecurityHeadersEveryPage(t *testing.T) {
	s := newSystem(t, 4)
	cid := s.newCampaign()
	params := map[string]string{"election": s.ballot.ElectionID, "id": fmt.Sprint(s.ballot.ID), "cid": fmt.Sprint(cid),
		"token": strings.Repeat("A", 43), "size": "1", "index": "0", "tracker": strings.Repeat("0", 64), "code": "AAAA-AAAA-AAAA-AAAA"}
	visitors := map[string]*client{
		"anonymous":  s.client(),
		"member":     s.member(0),
		"organiser":  s.staff("organiser", s.ballot.UnionID),
		"scrutineer": s.staff("scrutineer", 0),
	}
	types := map[string]bool{}
	for _, rt := range s.routes() {
		if rt[0] != http.MethodGet {
			continue
		}
		path := fill(rt[1], params)
		if rt[1] == "/static/*" {
			path = s.assetURL()
		}
		for who, c := range visitors {
			r := c.get(path)
			if r.code >= 500 {
				t.Errorf("GET %s as %s: %d", path, who, r.code)
			}
			ct, _, _ := strings.Cut(r.h.Get("Content-Type"), ";")
			types[fmt.Sprintf("%d %s", r.code/100*100, ct)] = true
			wantSecurityHeaders(t, "GET "+path+" as "+who, r.h)
		}
	}
	c := visitors["member"]
	extra := map[string]resp{
		"404 page":   c.get("/no/such/page"),
		"404 ledger": c.get("/ledger/v1/nope/entries/0"),
		"405":        c.send("DELETE", "/healthz", "", nil, nil),
		"csrf 403":   c.postForm("/auth/logout", url.Values{}),
		"413 cast":   s.client().send("POST", "/ledger/v1/"+s.ballot.ElectionID+"/cast", "application/json", strings.NewReader(strings.Repeat("x", 200<<10)), nil),
		"cast 400":   s.client().send("POST", "/ledger/v1/"+s.ballot.ElectionID+"/cast", "application/json", strings.NewReader(`{}`), nil),
		"wrong role": visitors["organiser"].get("/scrutineer"),
		"welsh":      c.get("/?lang=cy"),
		"bad invite": c.get("/i/" + strings.Repeat("B", 43)),
	}
	for name, r := range extra {
		types[fmt.Sprintf("%d %s", r.code/100*100, r.h.Get("Content-Type"))] = true
		wantSecurityHeaders(t, name, r.h)
	}
	// A 429 page.
	anon := s.client()
	var r resp
	for i := 0; i < 80; i++ {
		if r = anon.get("/i/" + strings.Repeat("C", 43)); r.code == http.StatusTooManyRequests {
			break
		}
	}
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("no 429 after 80 bad links: %d", r.code)
	}
	wantSecurityHeaders(t, "429", r.h)
	t.Logf("response kinds checked: %v", keys(types))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// assetURL is the fingerprinted URL of the stylesheet.
func (s *system) assetURL() string {
	s.t.Helper()
	r := s.client().get("/")
	i := strings.Index(r.body, "/static/")
	if i < 0 {
		s.t.Fatal("no static asset linked from the home page")
	}
	j := strings.IndexByte(r.body[i:], '"')
	return r.body[i : i+j]
}

// newCampaign creates a reminder campaign on the fixture ballot and
// returns its id.
func (s *system) newCampaign() int64 {
	s.t.Helper()
	return s.queryInt(`INSERT INTO gotv_campaigns (ballot_id, name, created_by, created_at) VALUES ($1, 'Campaign', 'test', now()) RETURNING id`, s.ballot.ID)
}

// remindNow allows reminders on the fixture ballot, gives memberID a time
// zone where it is the middle of the day now (quiet hours depend on it),
// schedules a campaign whose first step is due, and runs the reminder
// worker three times.
func (s *system) remindNow(ctx context.Context, memberID int64) {
	s.t.Helper()
	s.exec(`INSERT INTO gotv_ballot_settings (ballot_id, reminders_enabled, decided_by, decided_at) VALUES ($1, true, 'test', now())`, s.ballot.ID)
	tz := "Europe/London"
	for _, z := range []string{"Europe/London", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Pacific/Honolulu", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Dubai"} {
		if loc, err := time.LoadLocation(z); err == nil {
			if h := time.Now().In(loc).Hour(); h >= 11 && h <= 17 {
				tz = z
				break
			}
		}
	}
	s.exec(`INSERT INTO gotv_contacts (member_id, time_zone) VALUES ($1, $2)`, memberID, tz)
	cid := s.newCampaign()
	s.exec(`UPDATE gotv_campaigns SET status = 'scheduled' WHERE id = $1`, cid)
	s.exec(`INSERT INTO gotv_steps (campaign_id, seq, due_at, template) VALUES ($1, 1, now() - interval '1 minute', 'Hi {first_name}, vote: {link}')`, cid)
	for i := 0; i < 3; i++ {
		if _, err := s.svc.GOTV.Tick(ctx); err != nil {
			s.t.Logf("gotv tick: %v", err)
		}
	}
}

// injections are SQL (and path) injection payloads.
var injections = []string{
	"1' OR '1'='1", "1 OR 1=1", "1; DROP TABLE members; --", "'); DELETE FROM ballots; --",
	"1 UNION SELECT name, mobile FROM members--", "0x31", "-1", "99999999999999999999999", "%00", "1'||pg_sleep(3)||'",
	"sys-ballot' --", `\x27`, "..%2f..%2fetc%2fpasswd",
}

// TestInjectionInEveryParameter puts SQL injection payloads in every path
// parameter of every route and in the query parameters the handlers read,
// as every kind of visitor (with a valid CSRF token on POSTs): no answer
// is a 500, none takes seconds, and no state changes.
func TestInjectionInEveryParameter(t *testing.T) {
	s := newSystem(t, 4)
	s.newCampaign()
	visitors := map[string]*client{
		"anonymous":  s.client(),
		"member":     s.member(0),
		"organiser":  s.staff("organiser", s.ballot.UnionID),
		"scrutineer": s.staff("scrutineer", 0),
	}
	for who, c := range visitors {
		c.signedInPage(who)
	}
	before := s.snapshot()
	queries := []string{"lang", "from", "count", "size", "old", "new", "index", "done", "error", "workplace", "branch", "n", "q"}
	n := 0
	for _, rt := range s.routes() {
		method, route := rt[0], rt[1]
		if route == "/static/*" || route == "/auth/logout" || (method != http.MethodGet && !unsafeMethod(method)) {
			continue
		}
		if !strings.Contains(route, "{") && method != http.MethodGet {
			continue
		}
		for _, inj := range injections {
			esc := url.PathEscape(inj)
			path := paramRE.ReplaceAllString(route, esc)
			q := url.Values{}
			for _, k := range queries {
				q.Set(k, inj)
			}
			for who, c := range visitors {
				var r resp
				if method == http.MethodGet {
					r = c.get(path + "?" + q.Encode())
				} else {
					form := url.Values{"csrf": {c.CSRF}, "confirm": {inj}, "name": {inj}, "code": {inj}, "sha256": {inj}}
					r = c.postForm(path+"?"+q.Encode(), form)
				}
				n++
				if r.code >= 500 {
					t.Errorf("%s %s as %s: %d %.300s", method, path, who, r.code, r.body)
				}
				if strings.Contains(r.body, "SQLSTATE") || strings.Contains(r.body, "syntax error") || strings.Contains(r.body, "pq:") {
					t.Errorf("%s %s as %s: database error in the answer: %.300s", method, path, who, r.body)
				}
			}
		}
	}
	s.sameSnapshot(before)
	if !strings.Contains(s.logs.String(), "http request") {
		t.Fatal("no request logged")
	}
	t.Logf("%d requests with injection payloads", n)
	_ = context.Background()
}
