package app

import (
	"context"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/result"
)

var (
	_ election.Ledger = ledger.HandOver{}
	_ result.Board    = ledger.HandOver{}
)

// issuedCounts are the authorisations issued per style, as
// /issuance/v1/{e}/counts publishes them (online, replaced ones included).
func issuedCounts(s *issuance.Service) result.IssuedFunc {
	return func(ctx context.Context, electionID string) (map[string]int64, error) {
		cs, err := s.CountsFor(ctx, electionID)
		if err != nil {
			return nil, err
		}
		out := map[string]int64{}
		for _, c := range cs {
			out[c.Style] = int64(c.Online + c.Replaced)
		}
		return out, nil
	}
}
