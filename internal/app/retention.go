package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/retention"
)

// runRetention is serve's daily retention job (EBALLOT_RETENTION): with
// "report" it logs the ballots due for deletion and those never published;
// with "apply" it also deletes the due ballots' personal data (as `ballotd
// retention --apply`, actor "job:retention"). Logs carry ballot numbers,
// election ids and counts only, never personal data. Several replicas may
// run it: Apply locks the ballot and does nothing the second time.
func runRetention(ctx context.Context, cfg *config.Config, log *slog.Logger, svc *retention.Service) {
	if cfg.Retention == "off" {
		return
	}
	log = log.With("module", "retention", "mode", cfg.Retention)
	timer := time.NewTimer(time.Minute) // first run shortly after start
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		RetentionOnce(ctx, svc, cfg.Retention == "apply", time.Now(), log)
		timer.Reset(24 * time.Hour)
	}
}

// RetentionOnce runs the retention job once at now.
func RetentionOnce(ctx context.Context, svc *retention.Service, apply bool, now time.Time, log *slog.Logger) {
	list, err := svc.Due(ctx, now)
	if err != nil {
		log.Warn("retention: listing ballots failed", "err", err)
		return
	}
	n := map[string]int{}
	for _, b := range list {
		n[b.State]++
		switch b.State {
		case retention.StateDue:
			if !apply {
				log.Info("retention: ballot due for deletion of personal data", "ballot", b.ID, "election", b.ElectionID, "due_at", b.DueAt)
				continue
			}
			d, err := svc.Apply(ctx, b.ID, now, "job:retention")
			if err != nil {
				log.Warn("retention: deletion failed", "ballot", b.ID, "election", b.ElectionID, "err", err)
				continue
			}
			log.Info("retention: personal data deleted", "ballot", b.ID, "election", b.ElectionID, "rows", d.Total())
		case retention.StateUnpublished:
			if b.Status == "open" {
				continue // voting still going on: no result expected yet (counted in the summary)
			}
			log.Info("retention: ballot without a published result is never deleted automatically", "ballot", b.ID, "election", b.ElectionID, "status", b.Status)
		}
	}
	log.Info("retention", "due", n[retention.StateDue], "held", n[retention.StateHeld], "not_due", n[retention.StateNotDue],
		"unpublished", n[retention.StateUnpublished], "deleted", n[retention.StateDeleted])
}
