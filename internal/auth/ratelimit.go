package auth

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
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
	StaffIP, StaffGlobal                          Rate
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{
		InviteIP: Rate{60, 10 * time.Minute}, InviteMember: Rate{30, time.Hour}, InviteGlobal: Rate{5000, time.Minute},
		OTPSendIP: Rate{20, time.Hour}, OTPSendGlobal: Rate{1000, time.Minute},
		OTPVerifyIP: Rate{60, 15 * time.Minute}, OTPVerifyMember: Rate{15, 15 * time.Minute}, OTPVerifyGlobal: Rate{5000, time.Minute},
		PasskeyIP: Rate{60, 10 * time.Minute}, PasskeySubject: Rate{30, 10 * time.Minute}, PasskeyGlobal: Rate{5000, time.Minute},
		StaffIP: Rate{20, 10 * time.Minute}, StaffGlobal: Rate{500, time.Minute},
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

// clientIP is the peer address of the connection. X-Forwarded-For is NOT
// trusted: behind a load balancer a trusted-proxy setting would be needed
// (docs/auth.md), otherwise every client shares the balancer's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		ip = ip.Mask(net.CIDRMask(64, 128)) // one subscriber usually holds a /64
	}
	return ip.String()
}

// ipID is the keyed hash of the client IP used in rate-limit rows; the IP
// itself is never stored.
func (s *Service) ipID(r *http.Request) string {
	return hex.EncodeToString(mac(s.ipKey, clientIP(r))[:16])
}
