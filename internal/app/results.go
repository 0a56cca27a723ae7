package app

import (
	"context"
	"io"

	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/result"
)

// resultBoard adapts the ledger to what publishing a result needs: the
// closed ledger's export to re-verify, and the board to publish on.
type resultBoard struct{ l *ledger.Ledger }

var _ result.Board = resultBoard{}

func (b resultBoard) Export(ctx context.Context, electionID string, w io.Writer) error {
	return b.l.Export(ctx, w, electionID, -1, nil)
}

func (b resultBoard) PublishResult(ctx context.Context, electionID string, report, signature, partials []byte) error {
	return b.l.PublishResult(ctx, electionID, ledger.Result{Report: report, Signature: signature, Partials: partials})
}

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
