package systemtest

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLedgerCookieFree: no answer under /ledger/ carries Set-Cookie, for
// a signed-out visitor (no pre-session cookie) or a signed-in member, on
// every board route, unmatched paths and the cast; and a request there
// that carries the member's session cookie leaves no trace of the session
// (a cast with cookies is refused, 403, without reading them) (its last-seen time, which any other page touches, stays as it
// was; nothing in the logs names it).
func TestLedgerCookieFree(t *testing.T) {
	s := newSystem(t, 2)
	e := s.ballot.ElectionID
	member := s.member(0)
	u, _ := url.Parse(s.base)
	var raw string
	for _, ck := range member.HTTP.Jar.Cookies(u) {
		if ck.Name == "eb_session" {
			raw = ck.Value
		}
	}
	h := sha256.Sum256([]byte(raw))
	member.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "eb_pre", Value: strings.Repeat("P", 43), Path: "/"}, {Name: "eb_lang", Value: "cy", Path: "/"}})
	old := time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Second)
	lastSeen := func() time.Time {
		var ts time.Time
		if err := s.pool.QueryRow(t.Context(), `SELECT last_seen_at FROM auth_sessions WHERE id_hash = $1`, h[:]).Scan(&ts); err != nil {
			t.Fatal(err)
		}
		return ts.UTC()
	}
	s.exec(`UPDATE auth_sessions SET last_seen_at = $2 WHERE id_hash = $1`, h[:], old)

	// A vote as the phone makes it: authorise over the session, then
	// cast; here the cast goes WITH the member's cookies (a browser that
	// ignored credentials:'omit'): they are not read.
	p := s.newPhone(0, 0)
	s.exec(`UPDATE auth_sessions SET last_seen_at = $2 WHERE id_hash = $1`, h[:], old)
	anon := s.client()
	anon.HTTP.Jar = nil
	paths := []string{"/ledger/v1/" + e + "/", "/ledger/v1/" + e + "/nope", "/ledger/nope", "/ledger/v1/" + e + "/checkpoint?lang=cy"}
	for _, rt := range s.routes() {
		if rt[0] == http.MethodGet && strings.HasPrefix(rt[1], "/ledger/") {
			paths = append(paths, fill(rt[1], map[string]string{"election": e, "size": "1", "index": "0", "tracker": strings.Repeat("ab", 32), "code": "ABCD-EFGH"}))
		}
	}
	if len(paths) < 15 {
		t.Fatalf("only %d ledger paths: the router walk found too few routes", len(paths))
	}
	for _, c := range []*client{anon, member} {
		for _, path := range paths {
			r := c.get(path)
			if sc := r.h.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("GET %s: Set-Cookie %q", path, sc)
			}
		}
		// Without cookies the cast is read (and this one is malformed);
		// with them it is refused (403 forbidden) without reading them.
		want := http.StatusBadRequest
		if c == member {
			want = http.StatusForbidden
		}
		r := c.send("POST", "/ledger/v1/"+e+"/cast", "application/json", strings.NewReader(`{}`), nil)
		if r.code != want || len(r.h.Values("Set-Cookie")) > 0 {
			t.Errorf("POST cast {}: %d (want %d), Set-Cookie %q: %.200s", r.code, want, r.h.Values("Set-Cookie"), r.body)
		}
	}
	if got := lastSeen(); !got.Equal(old) {
		t.Errorf("a ledger request with the session cookie touched the session: last seen %s, was %s", got, old)
	}

	member.signedInPage("member")
	s.exec(`UPDATE auth_sessions SET last_seen_at = $2 WHERE id_hash = $1`, h[:], old)
	r := member.send("POST", "/vote/"+e+"/authorise", "application/json", strings.NewReader(p.authoriseBody()), map[string]string{"X-CSRF-Token": member.CSRF})
	if r.code != http.StatusOK {
		t.Fatalf("authorise: %d %s", r.code, r.body)
	}
	if err := p.finish([]byte(r.body)); err != nil {
		t.Fatal(err)
	}
	s.exec(`UPDATE auth_sessions SET last_seen_at = $2 WHERE id_hash = $1`, h[:], old)
	r = member.send("POST", "/ledger/v1/"+e+"/cast", "application/json", strings.NewReader(p.castBody()), nil)
	if r.code != http.StatusForbidden || !strings.Contains(r.body, `"forbidden"`) || len(r.h.Values("Set-Cookie")) > 0 {
		t.Fatalf("cast with cookies: %d, Set-Cookie %q: %.300s", r.code, r.h.Values("Set-Cookie"), r.body)
	}
	if got := lastSeen(); !got.Equal(old) {
		t.Errorf("the cast with the session cookie touched the session: last seen %s, was %s", got, old)
	}
	// As the phone sends it (credentials:'omit'): cast.
	r = anon.send("POST", "/ledger/v1/"+e+"/cast", "application/json", strings.NewReader(p.castBody()), nil)
	if r.code != http.StatusCreated || len(r.h.Values("Set-Cookie")) > 0 {
		t.Fatalf("cast without cookies: %d, Set-Cookie %q: %.300s", r.code, r.h.Values("Set-Cookie"), r.body)
	}
	// The control: any other page with the same cookie does touch it, so
	// the checks above can fail.
	member.get("/me")
	if got := lastSeen(); got.Equal(old) {
		t.Fatalf("a member page did not touch the session: the test cannot see a trace")
	}
	if strings.Contains(s.logs.String(), raw) {
		t.Errorf("the session cookie value is in the logs")
	}
}
