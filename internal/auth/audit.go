package auth

import (
	"context"
	"time"
)

// audit records a sign-in event. Member events are kept to the hour (like
// the ledger's arrival times) so a sign-in cannot be matched to a cast;
// staff events to the second. Never codes, tokens, numbers or IPs. A
// failure to audit is logged, not fatal.
func (s *Service) audit(ctx context.Context, event, outcome string, memberID, staffID, ballotID int64) {
	at := s.now().UTC()
	if staffID == 0 {
		at = at.Truncate(time.Hour)
	} else {
		at = at.Truncate(time.Second)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_events (at, event, outcome, member_id, staff_id, ballot_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		at, event, outcome, nullID(memberID), nullID(staffID), nullID(ballotID)); err != nil {
		s.log.ErrorContext(ctx, "auth audit failed", "event", event, "outcome", outcome, "err", err)
	}
}

// Event is one audited sign-in event.
type Event struct {
	At                          time.Time
	Event, Outcome              string
	MemberID, StaffID, BallotID int64
}

// Events returns the audit events, newest first, at most limit.
func (s *Service) Events(ctx context.Context, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, event, outcome, coalesce(member_id, 0), coalesce(staff_id, 0), coalesce(ballot_id, 0)
		FROM auth_events ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.Event, &e.Outcome, &e.MemberID, &e.StaffID, &e.BallotID); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
