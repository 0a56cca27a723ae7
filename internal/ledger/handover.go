package ledger

import (
	"context"
	"io"
	"time"
)

// HandOver is the ledger as the ballot modules use it, in their words:
// the hand-over at a ballot's opening and closing (internal/election's
// Ledger) and the board a result is published on (internal/result's
// Board). internal/app wires it; tests use it too. The ledger still learns
// nothing but the manifest, the election id and the signed result.
type HandOver struct{ L *Ledger }

// LogKey is [Ledger.NewLogKey].
func (h HandOver) LogKey(ctx context.Context, electionID string) (string, error) {
	return h.L.NewLogKey(ctx, electionID)
}

// OpenElection is [Ledger.Open] with the manifest's own window.
func (h HandOver) OpenElection(ctx context.Context, manifest []byte) error {
	_, err := h.L.Open(ctx, manifest, Window{})
	return err
}

// CloseElection is [Ledger.CloseAt]: voting stopped at the given time.
func (h HandOver) CloseElection(ctx context.Context, electionID string, at time.Time) error {
	_, err := h.L.CloseAt(ctx, electionID, at)
	return err
}

// Export writes the export of the election's final ledger.
func (h HandOver) Export(ctx context.Context, electionID string, w io.Writer) error {
	return h.L.Export(ctx, w, electionID, -1, nil)
}

// PublishResult is [Ledger.PublishResult].
func (h HandOver) PublishResult(ctx context.Context, electionID string, report, signature, partials []byte) error {
	return h.L.PublishResult(ctx, electionID, Result{Report: report, Signature: signature, Partials: partials})
}
