package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/auth"
)

// invitationSweep is how often serve looks for invitation work: a ballot
// just opened (its members' links are sent within this time) or a text or
// email that failed for a temporary reason.
const invitationSweep = time.Minute

// invitationLockClass is the first key of the PostgreSQL advisory lock a
// replica holds on a ballot while it sends that ballot's invitations, so
// that with several replicas one does the work (the rows' claims would
// keep them from sending twice anyway).
const invitationLockClass = 0x696e76 // "inv"

// runInvitations is serve's invitation sender: every invitationSweep it
// runs InvitationsOnce until ctx ends.
func runInvitations(ctx context.Context, a *auth.Service, pool *pgxpool.Pool, log *slog.Logger) {
	log = log.With("module", "invitations")
	t := time.NewTicker(invitationSweep)
	defer t.Stop()
	for {
		InvitationsOnce(ctx, a, pool, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// InvitationsOnce sends the invitations of every open ballot that has
// some to send (auth.PendingInvitations) and returns how many ballots it
// worked on. A ballot another replica is sending is skipped. Logs carry
// ballot numbers and counts only.
func InvitationsOnce(ctx context.Context, a *auth.Service, pool *pgxpool.Pool, log *slog.Logger) int {
	ids, err := a.PendingInvitations(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.WarnContext(ctx, "invitation sweep failed", "err", err)
		}
		return 0
	}
	done := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		if invitationsFor(ctx, a, pool, log, id) {
			done++
		}
	}
	return done
}

// invitationsFor runs IssueInvitations for one ballot under the ballot's
// advisory lock (held on one pooled connection for the duration).
func invitationsFor(ctx context.Context, a *auth.Service, pool *pgxpool.Pool, log *slog.Logger, ballotID int64) bool {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		log.WarnContext(ctx, "invitation sweep: no connection", "err", err)
		return false
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, invitationLockClass, int32(ballotID)).Scan(&locked); err != nil || !locked {
		return false // another replica is on it (or the database is away: next sweep)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, invitationLockClass, int32(ballotID)); err != nil {
			log.WarnContext(ctx, "invitation sweep: unlock failed", "ballot_id", ballotID, "err", err)
		}
	}()
	if _, err := a.IssueInvitations(ctx, ballotID); err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "invitations not sent", "ballot_id", ballotID, "err", err)
		return false
	}
	return true
}
