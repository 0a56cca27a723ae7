package retention

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/issuance"
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

// StyleCounts returns the issuance totals per style kept when the ballot's
// register was deleted (an [issuance.KeptCounts]); none while the register
// is there.
func (k KeptCounts) StyleCounts(ctx context.Context, ballotID int64) ([]issuance.Counts, error) {
	rows, err := k.Pool.Query(ctx, `SELECT style, entitled, online, postal, replaced FROM retention_counts WHERE ballot_id = $1 ORDER BY style`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("read kept counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (issuance.Counts, error) {
		var c issuance.Counts
		err := r.Scan(&c.Style, &c.Entitled, &c.Online, &c.Postal, &c.Replaced)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read kept counts: %w", err)
	}
	return out, nil
}
