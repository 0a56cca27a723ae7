package gotv

import (
	"context"
	"fmt"
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
	out := map[string]bool{}
	if len(numbers) > 0 {
		var err error
		if out, err = s.optedOut(ctx, numbers); err != nil {
			return fmt.Errorf("frozen mobiles: %w", err)
		}
	}
	for i := 0; i < n; i++ {
		_, _, mobile, optedOut := at(i)
		if optedOut != nil {
			*optedOut = out[*mobile]
		}
	}
	return nil
}
