package auth

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// LoadTestMethod is the sign-in method recorded on the sessions
// [Service.LoadTestSessions] makes.
const LoadTestMethod = "loadtest"

// LoadTestSessions gives each member a member session of the ballot, as a
// finished SMS sign-in would (the same lifetimes; only the SHA-256 of each
// cookie value stored), recorded with method [LoadTestMethod], and returns
// the cookie values in member order. It is the load generator's sign-in
// (`ballotd demo --sessions`, cmd/loadgen): no HTTP route reaches it, and
// the command refuses a service that sends real texts.
func (s *Service) LoadTestSessions(ctx context.Context, ballotID int64, memberIDs []int64) ([]string, error) {
	now := s.now()
	cookies := make([]string, len(memberIDs))
	rows := make([][]any, len(memberIDs))
	for i, id := range memberIDs {
		cookies[i] = base64.RawURLEncoding.EncodeToString(s.randBytes(32))
		rows[i] = []any{sha([]byte(cookies[i])), "member", id, ballotID, LoadTestMethod, now, now, int(memberIdle.Seconds()), now.Add(memberAbsolute)}
	}
	if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"auth_sessions"},
		[]string{"id_hash", "kind", "member_id", "ballot_id", "method", "created_at", "last_seen_at", "idle_seconds", "expires_at"},
		pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("make load test sessions: %w", err)
	}
	return cookies, nil
}

// LoadTestMembers lists the members who already have a load test session
// of the ballot (a member votes once: the load generator skips them).
func (s *Service) LoadTestMembers(ctx context.Context, ballotID int64) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT member_id FROM auth_sessions WHERE ballot_id = $1 AND method = $2`, ballotID, LoadTestMethod)
	if err != nil {
		return nil, fmt.Errorf("list load test sessions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list load test sessions: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
