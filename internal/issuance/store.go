package issuance

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
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

// Marks reads the marked register for turnout and reminders
// (internal/gotv): who has been given an authorisation or had a paper
// recorded, and in which hour — never how anyone voted.
type Marks struct{ pool *pgxpool.Pool }

// NewMarks returns the marked register's reads on pool.
func NewMarks(pool *pgxpool.Pool) *Marks { return &Marks{pool: pool} }

func (m *Marks) or(q register.Querier) register.Querier {
	if q == nil {
		return m.pool
	}
	return q
}

// BallotMember is a member of a ballot's register.
type BallotMember struct{ Ballot, Member int64 }

// Among reports which of the members (ballots[i], members[i]) are on the
// marked register; q is the caller's transaction (nil: the pool).
func (m *Marks) Among(ctx context.Context, q register.Querier, ballots, members []int64) (map[BallotMember]bool, error) {
	out := map[BallotMember]bool{}
	if len(ballots) == 0 {
		return out, nil
	}
	rows, err := m.or(q).Query(ctx, `SELECT mr.ballot_id, mr.member_id FROM unnest($1::bigint[], $2::bigint[]) AS x(ballot_id, member_id)
		JOIN marked_register mr ON mr.ballot_id = x.ballot_id AND mr.member_id = x.member_id`, ballots, members)
	if err != nil {
		return nil, fmt.Errorf("read marked register: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k BallotMember
		if err := rows.Scan(&k.Ballot, &k.Member); err != nil {
			return nil, fmt.Errorf("read marked register: %w", err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read marked register: %w", err)
	}
	return out, nil
}

// Has reports whether the member is on the ballot's marked register; q
// is the caller's transaction (nil: the pool).
func (m *Marks) Has(ctx context.Context, q register.Querier, ballotID, memberID int64) (bool, error) {
	var ok bool
	if err := m.or(q).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM marked_register WHERE ballot_id = $1 AND member_id = $2)`,
		ballotID, memberID).Scan(&ok); err != nil {
		return false, fmt.Errorf("read marked register: %w", err)
	}
	return ok, nil
}

// Before lists the members on the ballot's marked register with the hour
// of their mark, for marks in hours before before; q is the caller's
// transaction (nil: the pool).
func (m *Marks) Before(ctx context.Context, q register.Querier, ballotID int64, before time.Time) (members []int64, hours []time.Time, err error) {
	rows, err := m.or(q).Query(ctx, `SELECT member_id, hour FROM marked_register WHERE ballot_id = $1 AND hour < $2`, ballotID, before)
	if err != nil {
		return nil, nil, fmt.Errorf("read marked register: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h time.Time
		if err := rows.Scan(&id, &h); err != nil {
			return nil, nil, fmt.Errorf("read marked register: %w", err)
		}
		members, hours = append(members, id), append(hours, h)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read marked register: %w", err)
	}
	return members, hours, nil
}
