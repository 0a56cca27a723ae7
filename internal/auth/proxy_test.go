package auth_test

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
)

func (b *browser) getXFF(path string, xff ...string) resp {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.base+path, nil)
	for _, v := range xff {
		req.Header.Add("X-Forwarded-For", v)
	}
	return b.do(req)
}

// Per-IP limits key on the forwarded client only behind a trusted proxy
// (the test server's peer is 127.0.0.1).
func TestTrustedProxyRateLimits(t *testing.T) {
	t.Parallel()
	lim := auth.DefaultLimits()
	lim.InviteIP = auth.Rate{Max: 2, Window: 10 * time.Minute}
	lim.InviteMember = auth.Rate{Max: 1000, Window: time.Hour}

	t.Run("untrusted peer: X-Forwarded-For ignored", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, &lim)
		b := e.browser()
		link := e.inviteLink(0)[len(e.base):]
		want(t, b.getXFF(link, "198.51.100.1"), 200, "1")
		want(t, b.getXFF(link, "198.51.100.2"), 200, "2")
		want(t, b.getXFF(link, "198.51.100.3"), 429, "a new spoofed address each time does not help")
	})
	t.Run("trusted peer: the forwarded client", func(t *testing.T) {
		t.Parallel()
		e := newEnvWith(t, &lim, func(o *auth.Options) {
			o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
		})
		b := e.browser()
		link := e.inviteLink(0)[len(e.base):]
		want(t, b.getXFF(link, "198.51.100.1"), 200, "client 1")
		want(t, b.getXFF(link, "6.6.6.6, 198.51.100.1, 10.1.1.1"), 200, "client 1 via two proxies, spoofed prefix")
		want(t, b.getXFF(link, "7.7.7.7, 198.51.100.1"), 429, "client 1 over its limit, whatever it claims on the left")
		want(t, b.getXFF(link, "198.51.100.2"), 200, "client 2 has its own bucket")
		want(t, b.getXFF(link, "not-an-ip"), 200, "malformed: the proxy's own bucket (1)")
		want(t, b.getXFF(link), 200, "no header: the proxy's own bucket (2)")
		want(t, b.getXFF(link, "garbage, 127.0.0.1"), 429, "malformed behind a proxy: the proxy's bucket is full")
	})
}
