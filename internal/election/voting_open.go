package election

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VotingState is whether members may vote in a ballot now, and when.
type VotingState struct {
	ElectionID string
	Open       bool
	// OpensAt is the notified opening; ClosesAt the actual close once
	// closed, else the notified close (nil while not set).
	OpensAt, ClosesAt *time.Time
}

// VotingOpen reports whether members may vote in ballot ballotID at now
// (the ballot is open and now is in [opens_at, closes_at), the rule the
// authorising transaction of internal/issuance applies), with its
// election id and voting times, so that a member refused is told when
// voting opens or closed. [ErrNotFound] if there is no such ballot. The
// pack-code sign-in (internal/auth) asks here, in one call, so that the
// statutory opening rule can change in one place.
func (s *Store) VotingOpen(ctx context.Context, ballotID int64, now time.Time) (VotingState, error) {
	var v VotingState
	var status string
	var closedAt *time.Time
	err := s.pool.QueryRow(ctx, `SELECT election_id, status, opens_at, closes_at, closed_at FROM ballots WHERE id = $1`, ballotID).
		Scan(&v.ElectionID, &status, &v.OpensAt, &v.ClosesAt, &closedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("ballot state: %w", err)
	}
	v.Open = status == "open" && (v.OpensAt == nil || !now.Before(*v.OpensAt)) && v.ClosesAt != nil && now.Before(*v.ClosesAt)
	if closedAt != nil {
		v.ClosesAt = closedAt
	}
	return v, nil
}
