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
