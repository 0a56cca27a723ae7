package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/unionvote/eballot/internal/election"
)

// runSchedule is serve's ballot scheduler: every election.ScheduleEvery it
// opens the scheduled ballots whose notified opening has come and closes
// the open ballots whose notified close has passed (Admin.RunOnce), until
// ctx ends. Logs carry ballot numbers only.
func runSchedule(ctx context.Context, a *election.Admin, log *slog.Logger) {
	log = log.With("module", "scheduler")
	t := time.NewTicker(election.ScheduleEvery)
	defer t.Stop()
	for {
		done, err := a.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "scheduler run failed", "err", err)
		}
		for _, id := range done.Opened {
			log.InfoContext(ctx, "ballot opened at its notified opening", "ballot_id", id)
		}
		for _, id := range done.Closed {
			log.InfoContext(ctx, "ballot closed at its notified close", "ballot_id", id)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runOfficerSweep disables, every election.ScheduleEvery, the accounts of
// presiding officers whose boxes are closed and whose ballots have closed
// (issuance.Service.EndedOfficers), until ctx ends.
func runOfficerSweep(ctx context.Context, svc *Service, log *slog.Logger) {
	log = log.With("module", "officers")
	t := time.NewTicker(election.ScheduleEvery)
	defer t.Stop()
	for {
		if err := sweepOfficers(ctx, svc, log); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "disabling ended presiding officers failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepOfficers is one pass of runOfficerSweep.
func sweepOfficers(ctx context.Context, svc *Service, log *slog.Logger) error {
	ids, err := svc.Issuance.EndedOfficers(ctx)
	if err != nil {
		return err
	}
	done, err := svc.Auth.DisableOfficers(ctx, ids)
	for _, id := range done {
		log.InfoContext(ctx, "presiding officer's account disabled: their boxes and ballots have closed", "staff_id", id)
	}
	return err
}
