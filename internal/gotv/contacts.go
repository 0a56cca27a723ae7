package gotv

import (
	"context"
	"fmt"

	"github.com/unionvote/eballot/internal/register"
)

// frozenMobiles replaces, for n rows, the mobile read from the members
// table with the one frozen when the row's ballot opened (Options.Mobiles),
// and (when optedOut is not nil) re-checks the opt-out list against that
// number. at(i) gives row i's ballot, member, mobile and opted-out flag.
// Without Options.Mobiles nothing changes.
func (s *Service) frozenMobiles(ctx context.Context, n int, at func(i int) (ballotID, memberID int64, mobile *string, optedOut *bool)) error {
	if s.mobiles == nil || n == 0 {
		return nil
	}
	byBallot := map[int64][]int64{}
	for i := 0; i < n; i++ {
		b, m, _, _ := at(i)
		byBallot[b] = append(byBallot[b], m)
	}
	got := map[int64]map[int64]string{}
	for b, ms := range byBallot {
		m, err := s.mobiles(ctx, b, ms)
		if err != nil {
			return fmt.Errorf("frozen mobiles: %w", err)
		}
		got[b] = m
	}
	var numbers []string
	for i := 0; i < n; i++ {
		b, m, mobile, _ := at(i)
		*mobile = got[b][m]
		if *mobile != "" {
			numbers = append(numbers, *mobile)
		}
	}
	out, err := s.optedOut(ctx, nil, numbers)
	if err != nil {
		return fmt.Errorf("frozen mobiles: %w", err)
	}
	for i := 0; i < n; i++ {
		_, _, mobile, optedOut := at(i)
		if optedOut != nil {
			*optedOut = out[*mobile]
		}
	}
	return nil
}

// optedOut reports which of the numbers sent STOP; q is the caller's
// transaction (nil: the pool). The empty number is never opted out.
func (s *Service) optedOut(ctx context.Context, q register.Querier, numbers []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(numbers) == 0 {
		return out, nil
	}
	if q == nil {
		q = s.pool
	}
	// By the numbers' blind index (optouts.go): no number is stored.
	byIndex := make(map[string]string, 2*len(numbers))
	idx := make([][]byte, 0, 2*len(numbers))
	for _, n := range numbers {
		for _, x := range s.numberIndexes(n) {
			byIndex[string(x)] = n
			idx = append(idx, x)
		}
	}
	rows, err := q.Query(ctx, `SELECT number_index FROM gotv_optouts WHERE number_index = ANY($1)`, idx)
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x []byte
		if err := rows.Scan(&x); err != nil {
			return nil, fmt.Errorf("read opt-outs: %w", err)
		}
		out[byIndex[string(x)]] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	return out, nil
}

// mobilesIn lists the members' current mobiles (none empty).
func mobilesIn(members []register.SegmentMember) []string {
	var out []string
	for _, m := range members {
		if m.Mobile != "" {
			out = append(out, m.Mobile)
		}
	}
	return out
}
