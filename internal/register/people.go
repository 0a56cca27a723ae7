package register

import (
	"context"
	"fmt"
	"strings"
)

// Person is what peer-to-peer texting (internal/outreach) may know of a
// member on a ballot's register: a first name and where they work, and
// the branch used to scope volunteers. Never a surname, number or contact.
type Person struct {
	FirstName string
	Workplace string // the register line's workplace
	Branch    string
}

// People returns, for members on the ballot's register (nil memberIDs:
// all of them), their [Person], keyed by member id. Members not on the
// register are absent.
func (s *Store) People(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]Person, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.member_id, `+nameCols+`, r.workplace, m.branch
		FROM register_entries r JOIN members m ON m.id = r.member_id
		WHERE r.ballot_id = $1 AND ($2::bigint[] IS NULL OR r.member_id = ANY($2))`, ballotID, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	defer rows.Close()
	out := map[int64]Person{}
	for rows.Next() {
		var id int64
		var n sealedName
		var p Person
		if err := rows.Scan(&id, &n.union, &n.index, &n.ct, &p.Workplace, &p.Branch); err != nil {
			return nil, fmt.Errorf("read people: %w", err)
		}
		name, err := s.openName(n)
		if err != nil {
			return nil, fmt.Errorf("read people: %w", err)
		}
		if f := strings.Fields(name); len(f) > 0 {
			p.FirstName = f[0]
		}
		out[id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	return out, nil
}
