package auth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
)

func TestRateLimitPerMemberVerify(t *testing.T) {
	t.Parallel()
	lim := auth.DefaultLimits()
	lim.OTPVerifyMember = auth.Rate{Max: 3, Window: 15 * time.Minute}
	e := newEnv(t, &lim)
	b := e.browser()
	csrf := b.startCode(0)
	for i := 0; i < 3; i++ {
		want(t, b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {"abc"}}), 400, "wrong code")
	}
	r := b.postForm("/auth/code", url.Values{"csrf": {csrf}, "code": {e.lastCode(0)}})
	want(t, r, 429, "per-member verify limit")
	if !strings.Contains(r.body, "Try again in 14 minutes") || r.h.Get("Retry-After") != "840" {
		t.Fatalf("429 page: %s %v", r.body, r.h)
	}
	// Another member from the same IP is not affected by member 0's limit.
	c := e.browser()
	c.signInSMS(1)
	if ev := e.events("otp_verify"); len(ev) == 0 {
		t.Fatal("no audit")
	}
}

func TestRateLimitPerIP(t *testing.T) {
	t.Parallel()
	lim := auth.DefaultLimits()
	lim.InviteIP = auth.Rate{Max: 4, Window: 10 * time.Minute}
	e := newEnv(t, &lim)
	b := e.browser()
	for i := 0; i < 4; i++ {
		want(t, b.get(e.inviteLink(i%3)), 200, "landing")
	}
	r := b.get(e.inviteLink(2))
	want(t, r, 429, "per-IP invitation limit")
	if !strings.Contains(r.body, "Try again in") {
		t.Fatalf("429 page: %s", r.body)
	}
	ra := r.h.Get("Retry-After")
	if ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Welsh.
	r = b.get(e.inviteLink(2) + "?lang=cy")
	if r.code != 429 || !strings.Contains(r.body, "Rhowch gynnig arall arni ymhen") {
		t.Fatalf("Welsh 429: %d %s", r.code, r.body)
	}
	// The window passes.
	e.clk.Add(10 * time.Minute)
	want(t, b.get(e.inviteLink(2)), 200, "after the window")
}

func TestRateLimitPasskeyJSON(t *testing.T) {
	t.Parallel()
	lim := auth.DefaultLimits()
	lim.PasskeyIP = auth.Rate{Max: 2, Window: 10 * time.Minute}
	e := newEnv(t, &lim)
	b := e.browser()
	csrf := csrfOf(t, b.get("/auth/signin").body)
	want(t, b.postJSON("/auth/passkey/login/begin", csrf, "{}"), 200, "begin 1")
	want(t, b.postJSON("/auth/passkey/login/begin", csrf, "{}"), 200, "begin 2")
	r := b.postJSON("/auth/passkey/login/begin", csrf, "{}")
	want(t, r, 429, "begin 3")
	if !strings.Contains(r.body, `"retry_after"`) || !strings.Contains(r.body, "Try again in") || r.h.Get("Retry-After") == "" {
		t.Fatalf("429 JSON: %s", r.body)
	}
}

// TestRateLimitedSignInWritesNothing: no database write before a rate
// limit has passed. A sign-in refused by the per-member code limit, or by
// the per-IP send limit, leaves no pending session row (nor a code).
func TestRateLimitedSignInWritesNothing(t *testing.T) {
	t.Parallel()
	lim := auth.DefaultLimits()
	lim.OTPSendIP = auth.Rate{Max: 5, Window: time.Hour} // a refused attempt counts too
	e := newEnv(t, &lim)
	rows := func() (sessions, codes int) {
		t.Helper()
		if err := e.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM auth_sessions), (SELECT count(*) FROM auth_otp_codes)`).Scan(&sessions, &codes); err != nil {
			t.Fatal(err)
		}
		return sessions, codes
	}
	send := func(i int) resp {
		b := e.browser() // a new browser each time: nothing to replace
		link := e.inviteLink(i)
		r := b.get(link)
		want(t, r, 200, "landing")
		return b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}})
	}
	for range 3 { // the member's codes an hour
		want(t, send(0), 303, "send code")
	}
	s0, c0 := rows()
	if s0 != 3 || c0 != 3 {
		t.Fatalf("after 3 sends: %d sessions, %d codes", s0, c0)
	}
	want(t, send(0), 429, "per-member code limit")
	if s, c := rows(); s != s0 || c != c0 {
		t.Errorf("rate-limited (member) sign-in wrote: %d sessions (was %d), %d codes (was %d)", s, s0, c, c0)
	}
	want(t, send(1), 303, "another member, the IP's 5th attempt")
	s0, c0 = rows()
	want(t, send(2), 429, "per-IP send limit")
	if s, c := rows(); s != s0 || c != c0 {
		t.Errorf("rate-limited (IP) sign-in wrote: %d sessions (was %d), %d codes (was %d)", s, s0, c, c0)
	}
}
