package election

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VotingOpen reports whether members may vote in ballot ballotID at now
// (the ballot is open and now is in [opens_at, closes_at), the rule the
// authorising transaction of internal/issuance applies), with its
// election id. [ErrNotFound] if there is no such ballot. The pack-code
// sign-in (internal/auth) asks here, in one call, so that the statutory
// opening rule can change in one place.
func (s *Store) VotingOpen(ctx context.Context, ballotID int64, now time.Time) (electionID string, open bool, err error) {
	var status string
	var opens, closes *time.Time
	err = s.pool.QueryRow(ctx, `SELECT election_id, status, opens_at, closes_at FROM ballots WHERE id = $1`, ballotID).
		Scan(&electionID, &status, &opens, &closes)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, ErrNotFound
	}
	if err != nil {
		return "", false, fmt.Errorf("ballot state: %w", err)
	}
	open = status == "open" && (opens == nil || !now.Before(*opens)) && closes != nil && now.Before(*closes)
	return electionID, open, nil
}
