package election

// The scheduler keeps the notified times (s.226A(1) told employers the
// opening day; the voting paper tells members when voting closes,
// s.229(1A)(b)): a ballot scheduled by an early Open opens at its opens_at,
// and an open ballot closes at its closes_at. serve runs [Admin.RunOnce]
// every [ScheduleEvery]; every step is one conditional UPDATE, so several
// replicas running it never do a step twice.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
)

// ScheduleEvery is how often serve runs the scheduler: a scheduled ballot
// opens, and an open ballot stops taking votes, within this time of the
// notified instant (every vote path also checks the times itself).
const ScheduleEvery = 15 * time.Second

// Scheduled is what one scheduler run did.
type Scheduled struct {
	Opened []int64 // ballots opened at their notified opening
	Closed []int64 // ballots closed at their notified close
}

// RunOnce opens every scheduled ballot whose opens_at has come and closes
// every open ballot whose closes_at has passed, as of the Admin's clock.
// opened_at records the notified opening and closed_at the notified close
// (the instants voting started and stopped: every vote path refuses outside
// them), each with its audit entry ("ballot.open", "ballot.close", actor
// "system:scheduler"). The ledger is told of each close; a ledger that
// fails is told again on the next run (CloseElection is idempotent).
func (a *Admin) RunOnce(ctx context.Context) (Scheduled, error) {
	var done Scheduled
	type closedAt struct {
		electionID string
		at         time.Time
	}
	var closedIDs []closedAt
	now := a.now()
	err := pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE ballots SET status = 'open', opened_at = opens_at
			WHERE status = 'scheduled' AND opens_at <= $1 RETURNING id, opens_at`, now)
		if err != nil {
			return err
		}
		type step struct {
			ID int64
			At time.Time
		}
		opened, err := pgx.CollectRows(rows, pgx.RowToStructByPos[step])
		if err != nil {
			return err
		}
		for _, o := range opened {
			if err := audit.Append(ctx, tx, "system:scheduler", "ballot.open", &o.ID,
				map[string]any{"opened_at": o.At.UTC().Format(time.RFC3339), "scheduled": true}); err != nil {
				return err
			}
			done.Opened = append(done.Opened, o.ID)
		}
		rows, err = tx.Query(ctx, `UPDATE ballots SET status = 'closed', closed_at = closes_at
			WHERE status = 'open' AND closes_at <= $1 RETURNING id, closes_at, election_id`, now)
		if err != nil {
			return err
		}
		type closing struct {
			ID         int64
			At         time.Time
			ElectionID string
		}
		closed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[closing])
		if err != nil {
			return err
		}
		for _, c := range closed {
			if err := audit.Append(ctx, tx, "system:scheduler", "ballot.close", &c.ID,
				map[string]any{"closed_at": c.At.UTC().Format(time.RFC3339), "early": false}); err != nil {
				return err
			}
			done.Closed = append(done.Closed, c.ID)
			closedIDs = append(closedIDs, closedAt{c.ElectionID, c.At})
		}
		return nil
	})
	if err != nil {
		return Scheduled{}, fmt.Errorf("scheduler: %w", err)
	}
	// The ledger's final checkpoint of each ballot closed now. The ledger
	// refuses casts after closes_at anyway; if it cannot be told now, the
	// scrutineer's Close (which retries the hand-over) tells it.
	for _, c := range closedIDs {
		if err := a.ledger.CloseElection(ctx, c.electionID, c.at); err != nil {
			return done, fmt.Errorf("scheduler: close the ledger of %s: %w", c.electionID, err)
		}
	}
	return done, nil
}

// SetClock replaces the Admin's clock (tests drive the statutory timeline
// with it; serve keeps time.Now).
func (a *Admin) SetClock(now func() time.Time) { a.now = now }
