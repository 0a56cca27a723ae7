package issuance

import (
	"context"
	"fmt"

	"github.com/unionvote/eballot/internal/election"
)

// AddBallotCounts adds, for each ballot of ids in counts, the online
// authorisations and the postal and workplace returns of the marked
// register (an [election.Counter]; one query for the whole list).
func (s *Service) AddBallotCounts(ctx context.Context, ids []int64, counts map[int64]*election.BallotCounts) error {
	rows, err := s.pool.Query(ctx, `SELECT ballot_id, count(*) FILTER (WHERE channel = 'online'), count(*) FILTER (WHERE channel IN ('postal', 'workplace'))
		FROM marked_register WHERE ballot_id = ANY($1) GROUP BY ballot_id`, ids)
	if err != nil {
		return fmt.Errorf("count marked register: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var online, postal int
		if err := rows.Scan(&id, &online, &postal); err != nil {
			return fmt.Errorf("count marked register: %w", err)
		}
		if c := counts[id]; c != nil {
			c.Authorised += online
			c.Postal += postal
		}
	}
	return rows.Err()
}
