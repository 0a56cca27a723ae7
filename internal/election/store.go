// Package election holds ballots, their lifecycle and the register of
// entitled members (TULRCA ss.227–229).
package election

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ballot is one statutory ballot as listed publicly.
type Ballot struct {
	ID         int64
	ElectionID string
	UnionName  string
	Title      string
	Kind       string
	Status     string
	OpensAt    *time.Time
	ClosesAt   *time.Time
	Entitled   int
}

// Store reads and writes ballots.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// PublicBallots lists every ballot that is not a draft, and drafts too when
// includeDrafts is set (development only), newest first.
func (s *Store) PublicBallots(ctx context.Context, includeDrafts bool) ([]Ballot, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT b.id, b.election_id, u.name, b.title, b.kind, b.status, b.opens_at, b.closes_at,
		       (SELECT count(*) FROM register_entries r WHERE r.ballot_id = b.id)
		FROM ballots b JOIN unions u ON u.id = b.union_id
		WHERE $1 OR b.status <> 'draft'
		ORDER BY b.created_at DESC, b.id DESC
		LIMIT 200`, includeDrafts)
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ballot, error) {
		var b Ballot
		err := r.Scan(&b.ID, &b.ElectionID, &b.UnionName, &b.Title, &b.Kind, &b.Status, &b.OpensAt, &b.ClosesAt, &b.Entitled)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	return out, nil
}
