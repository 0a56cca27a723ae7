package auth

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Rate is at most Max events per fixed Window.
type Rate struct {
	Max    int
	Window time.Duration
}

// Limits are the rate limits of every authentication step. Per-subject
// limits key on the member or staff id, per-IP limits on an HMAC of the
// client address (IPv6 grouped by /64), global limits on nothing.
type Limits struct {
	InviteIP, InviteMember, InviteGlobal          Rate
	OTPSendIP, OTPSendGlobal                      Rate // per member: OTPSendsPerHour (sliding)
	OTPVerifyIP, OTPVerifyMember, OTPVerifyGlobal Rate
	PasskeyIP, PasskeySubject, PasskeyGlobal      Rate
	// Staff sign-in and enrolment: per address (high enough for an office
	// of organisers behind one address), per staff account (at the
	// finish, once the account is known) and globally.
	StaffIP, StaffAccount, StaffGlobal Rate
	// Staff account recovery: requests per IP, per mobile number entered
	// (whether or not it is a staff member's) and globally; approvals and
	// refusals per approver.
	RecoveryIP, RecoveryMobile, RecoveryGlobal Rate
	RecoveryDecide                             Rate
	// InviteResendStaff: invitations a scrutineer sends again
	// (delivery.go), per scrutineer; each member also has their own limits
	// (one resend every 10 minutes, the texts quota).
	InviteResendStaff Rate
	// Pack codes (pack.go): tries per address, per member (once a code
	// names them) and globally.
	PackIP, PackMember, PackGlobal Rate
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{
		InviteIP: Rate{60, 10 * time.Minute}, InviteMember: Rate{30, time.Hour}, InviteGlobal: Rate{5000, time.Minute},
		OTPSendIP: Rate{20, time.Hour}, OTPSendGlobal: Rate{1000, time.Minute},
		OTPVerifyIP: Rate{60, 15 * time.Minute}, OTPVerifyMember: Rate{15, 15 * time.Minute}, OTPVerifyGlobal: Rate{5000, time.Minute},
		PasskeyIP: Rate{60, 10 * time.Minute}, PasskeySubject: Rate{30, 10 * time.Minute}, PasskeyGlobal: Rate{5000, time.Minute},
		StaffIP: Rate{300, 10 * time.Minute}, StaffAccount: Rate{10, 10 * time.Minute}, StaffGlobal: Rate{500, time.Minute},
		RecoveryIP: Rate{10, time.Hour}, RecoveryMobile: Rate{3, time.Hour}, RecoveryGlobal: Rate{100, time.Minute},
		RecoveryDecide:    Rate{30, time.Hour},
		InviteResendStaff: Rate{60, time.Hour},
		PackIP:            Rate{30, 10 * time.Minute}, PackMember: Rate{10, time.Hour}, PackGlobal: Rate{1000, time.Minute},
	}
}

// limitKey is one counter to bump: name for logs, id for the row.
type limitKey struct {
	name, id string
	rate     Rate
}

// allow bumps every counter (fixed windows, one upsert each) and returns a
// *RateLimitError with the longest wait if any is over its limit.
func (s *Service) allow(ctx context.Context, keys ...limitKey) error {
	now := s.now()
	var worst *RateLimitError
	for _, k := range keys {
		if k.rate.Max <= 0 || k.rate.Window <= 0 {
			continue
		}
		start := now.Truncate(k.rate.Window)
		var n int
		err := s.pool.QueryRow(ctx, `INSERT INTO auth_rate_limits (key, window_start, count) VALUES ($1, $2, 1)
			ON CONFLICT (key, window_start) DO UPDATE SET count = auth_rate_limits.count + 1 RETURNING count`,
			k.name+":"+k.id, start).Scan(&n)
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if n > k.rate.Max {
			wait := start.Add(k.rate.Window).Sub(now)
			if worst == nil || wait > worst.RetryAfter {
				worst = &RateLimitError{RetryAfter: wait, Key: k.name}
			}
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}

// peek is allow without counting: a *RateLimitError if one more try
// would be over any of the limits (read only: it writes nothing).
func (s *Service) peek(ctx context.Context, keys ...limitKey) error {
	now := s.now()
	var worst *RateLimitError
	for _, k := range keys {
		if k.rate.Max <= 0 || k.rate.Window <= 0 {
			continue
		}
		start := now.Truncate(k.rate.Window)
		var n int
		err := s.pool.QueryRow(ctx, `SELECT coalesce(max(count), 0) FROM auth_rate_limits WHERE key = $1 AND window_start = $2`,
			k.name+":"+k.id, start).Scan(&n)
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if n >= k.rate.Max {
			wait := start.Add(k.rate.Window).Sub(now)
			if worst == nil || wait > worst.RetryAfter {
				worst = &RateLimitError{RetryAfter: wait, Key: k.name}
			}
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}

// maxForwardedHops bounds how many X-Forwarded-For entries are examined.
const maxForwardedHops = 32

// clientIP is the address of the client, for per-IP rate limits: the
// connection's peer (RemoteAddr), unless the peer is in one of the trusted
// proxy ranges (EBALLOT_TRUSTED_PROXIES). Then X-Forwarded-For is read from
// the right: every entry in a trusted range is another proxy of ours, and
// the first entry that is not is the client — the address our outermost
// proxy saw, which the client cannot forge (entries further left can be).
// A malformed entry ends the walk: the last proxy address seen is used
// (clients behind it share one bucket rather than choose their own). With
// no trusted ranges, X-Forwarded-For is never read. IPv6 addresses are
// grouped by /64 (one subscriber usually holds a /64); IPv4-mapped IPv6
// addresses count as IPv4.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr // not TCP (e.g. a test or a Unix socket): one bucket
	}
	ip := peer
	if inPrefixes(peer, trusted) {
		ip = forwardedClient(peer, r.Header.Values("X-Forwarded-For"), trusted)
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr().String()
	}
	return ip.String()
}

// forwardedClient walks X-Forwarded-For (all header lines, in order, form
// one list) from the right, starting from a trusted peer.
func forwardedClient(peer netip.Addr, values []string, trusted []netip.Prefix) netip.Addr {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	last := peer
	for i, n := len(hops)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		a, ok := parseHostAddr(strings.TrimSpace(hops[i]))
		if !ok {
			return last
		}
		if !inPrefixes(a, trusted) {
			return a
		}
		last = a
	}
	return last
}

// parseHostAddr parses "ip", "ip:port" or "[ipv6]:port" (zones refused),
// unmapping IPv4-mapped IPv6.
func parseHostAddr(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ipID is the keyed hash of the client IP used in rate-limit rows; the IP
// itself is never stored.
func (s *Service) ipID(r *http.Request) string {
	return hex.EncodeToString(mac(s.ipKey, clientIP(r, s.trusted))[:16])
}

// keyedID is a keyed hash of an identifier (a mobile number, a session
// value) for rate-limit rows: the value itself is never stored.
func (s *Service) keyedID(v string) string {
	return hex.EncodeToString(mac(s.ipKey, "id", v)[:16])
}
