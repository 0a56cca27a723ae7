package auth

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies configured: XFF ignored", nil, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"spoof from an untrusted peer ignored", lb, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted peer, one hop", lb, "10.1.2.3:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-supplied entries left of the real one are ignored", lb, "10.1.2.3:443", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", lb, "10.1.2.3:443", []string{"6.6.6.6, 198.51.100.1, 10.9.9.9", "10.8.8.8"}, "198.51.100.1"},
		{"trusted peer without XFF", lb, "10.1.2.3:443", nil, "10.1.2.3"},
		{"empty XFF", lb, "10.1.2.3:443", []string{""}, "10.1.2.3"},
		{"malformed entry: last trusted hop", lb, "10.1.2.3:443", []string{"198.51.100.1, garbage, 10.9.9.9"}, "10.9.9.9"},
		{"malformed rightmost: the peer", lb, "10.1.2.3:443", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"only trusted entries: the leftmost", lb, "10.1.2.3:443", []string{"10.7.7.7, 10.9.9.9"}, "10.7.7.7"},
		{"entry with a port", lb, "10.1.2.3:443", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 entry with a port, grouped by /64", lb, "10.1.2.3:443", []string{"[2001:db8:1:2:3:4:5:6]:4711"}, "2001:db8:1:2::"},
		{"IPv6 peer in range", lb, "[fd00::1]:443", []string{"2001:db8:1:2::9"}, "2001:db8:1:2::"},
		{"IPv4-mapped entry", lb, "10.1.2.3:443", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped trusted peer", lb, "[::ffff:10.1.2.3]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"zone refused", lb, "10.1.2.3:443", []string{"fe80::1%eth0"}, "10.1.2.3"},
		{"untrusted IPv6 peer grouped", nil, "[2001:db8:aa:bb:1:2:3:4]:1", []string{"9.9.9.9"}, "2001:db8:aa:bb::"},
		{"obfuscated identifier (RFC 7239 style) refused", lb, "10.1.2.3:443", []string{"_hidden"}, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tc.trusted); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// A very long chain of trusted hops stops after maxForwardedHops.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, "+strings.Repeat("10.0.0.2, ", 100)+"10.0.0.3")
	if got := clientIP(r, lb); got != "10.0.0.2" {
		t.Fatalf("long chain: %s", got)
	}
}

func FuzzClientIP(f *testing.F) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Add("10.0.0.1:1", "1.2.3.4, 10.0.0.9")
	f.Add("10.0.0.1:1", "[::1]:9, ,,x")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		_ = clientIP(r, lb)
	})
}
