package auth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSessionLookupOutage: with the database down, a signed-in request is
// answered 503 with Retry-After: the phone's JSON requests (and the APIs)
// get the JSON problem "unavailable" they understand, pages the error page
// in HTML; the fault is logged once, not once per request.
func TestSessionLookupOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.signInSMS(0)
	csrf := csrfOf(t, b.get("/me").body)
	e.pool.Close() // the outage
	for i := range 40 {
		r := b.postJSON("/auth/passkey/register/begin", csrf, `{}`)
		var body struct{ Error, Message string }
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.code != http.StatusServiceUnavailable ||
			body.Error != "unavailable" || body.Message == "" || r.h.Get("Retry-After") != "5" ||
			!strings.HasPrefix(r.h.Get("Content-Type"), "application/json") {
			t.Fatalf("request %d: %d %v %q %v", i, r.code, r.h, r.body, err)
		}
	}
	r := b.get("/me")
	if r.code != http.StatusServiceUnavailable || r.h.Get("Retry-After") != "5" || !strings.HasPrefix(r.h.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %v %.300s", r.code, r.h, r.body)
	}
	if n := strings.Count(e.logs.String(), "request failed: unavailable"); n != 1 {
		t.Fatalf("%d log lines for 41 answers of one outage:\n%s", n, e.logs.String())
	}
}
