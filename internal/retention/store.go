package retention

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/unionvote/eballot/internal/election"
)

// KeptCounts reads the counts retention kept of deleted registers.
type KeptCounts struct{ Pool *pgxpool.Pool }

// AddBallotCounts adds, for each ballot of ids in counts, the entitled,
// online and postal counts kept when its register was deleted (an
// [election.Counter]; one query for the whole list).
func (k KeptCounts) AddBallotCounts(ctx context.Context, ids []int64, counts map[int64]*election.BallotCounts) error {
	rows, err := k.Pool.Query(ctx, `SELECT ballot_id, sum(entitled), sum(online), sum(postal)
		FROM retention_counts WHERE ballot_id = ANY($1) GROUP BY ballot_id`, ids)
	if err != nil {
		return fmt.Errorf("read kept counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var entitled, online, postal int
		if err := rows.Scan(&id, &entitled, &online, &postal); err != nil {
			return fmt.Errorf("read kept counts: %w", err)
		}
		if c := counts[id]; c != nil {
			c.Entitled += entitled
			c.Authorised += online
			c.Postal += postal
		}
	}
	return rows.Err()
}
