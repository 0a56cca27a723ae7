package gotv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/db"
)

// Contact-refresh texts (internal/refresh, docs/contact-refresh.md) go
// through this outbox: one row per member per refresh campaign (source
// 'refresh', no ballot, no step), so quiet hours, the daily cap, STOP and
// the exactly-once sending of reminders apply to them unchanged. The
// campaign's owner gives the text at send time ([Refresher]).

// Refresher renders refresh texts for the worker.
type Refresher interface {
	// RefreshText returns the number a member's text goes to and its body
	// (with a new personal link; a previous one of the same campaign stops
	// working). to == "" skips the row ("no_number"); an error that is
	// ErrOptedOut skips it as "opted_out" (the member's own opt-out of
	// refresh messages). Called just before
	// the send is recorded: the body MUST NOT be logged.
	RefreshText(ctx context.Context, campaignID, memberID int64) (to, body string, err error)
	// RefreshNumber is the member's current mobile, to reconcile a send
	// whose outcome was not recorded.
	RefreshNumber(ctx context.Context, memberID int64) (string, error)
	// NoticeText returns the number and body of a notice that a member's
	// mobile was replaced (to the OLD number; [Service.EnqueueNotice]).
	// It has no side effect: it also gives the number to reconcile with.
	// The body MUST NOT be logged.
	NoticeText(ctx context.Context, noticeID int64) (to, body string, err error)
}

// EnqueueNotice puts the notice noticeID of internal/refresh (a member's
// mobile was replaced; it goes to the old number) in the outbox, due now:
// it is a text like any other — STOP on that number, quiet hours in the
// member's time zone and the daily cap apply, and it is sent exactly once
// (docs/contact-refresh.md "The notice of a change"). Idempotent per
// notice.
func (s *Service) EnqueueNotice(ctx context.Context, noticeID, memberID int64) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO gotv_messages (source, refresh_notice_id, member_id, idem_key, not_before)
		VALUES ('notice', $1, $2, replace(gen_random_uuid()::text, '-', ''), $3) ON CONFLICT (refresh_notice_id) DO NOTHING`,
		noticeID, memberID, s.now()); err != nil {
		return fmt.Errorf("enqueue notice: %w", err)
	}
	return nil
}

// NoticeState is the outbox state of a notice and its reason ("" "" when
// it was never queued), for the member's page and tests.
func (s *Service) NoticeState(ctx context.Context, noticeID int64) (state, reason string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT state, reason FROM gotv_messages WHERE refresh_notice_id = $1`, noticeID).Scan(&state, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("notice state: %w", err)
	}
	return state, reason, nil
}

// EnqueueRefresh puts one text per member of a refresh campaign in the
// outbox, due from notBefore. Members who already have a row for the
// campaign keep it (unique per campaign and member): calling it again
// after a crash adds only what is missing. It returns the rows added.
func (s *Service) EnqueueRefresh(ctx context.Context, campaignID int64, memberIDs []int64, notBefore time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO gotv_messages (source, refresh_campaign_id, member_id, idem_key, not_before)
		SELECT 'refresh', $1, m, replace(gen_random_uuid()::text, '-', ''), $3 FROM unnest($2::bigint[]) AS m
		ON CONFLICT (refresh_campaign_id, member_id) WHERE refresh_campaign_id IS NOT NULL DO NOTHING`, campaignID, memberIDs, notBefore)
	if err != nil {
		return 0, fmt.Errorf("enqueue refresh: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CancelRefresh skips the campaign's texts not yet started.
func (s *Service) CancelRefresh(ctx context.Context, campaignID int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE gotv_messages SET state = 'skipped', reason = 'cancelled'
		WHERE refresh_campaign_id = $1 AND state = 'pending'`, campaignID); err != nil {
		return fmt.Errorf("cancel refresh: %w", err)
	}
	return nil
}

// RefreshCounts counts a refresh campaign's texts by state (pending,
// sending, sent, failed, skipped, unknown).
func (s *Service) RefreshCounts(ctx context.Context, campaignID int64) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM gotv_messages WHERE refresh_campaign_id = $1 GROUP BY state`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("refresh counts: %w", err)
	}
	out, err := db.KeyCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("refresh counts: %w", err)
	}
	return out, nil
}

// claimRefresh claims due refresh texts and notices, with the rules of
// reminders checked at claim time: quiet hours in the member's time zone
// and the daily cap (deferred, never dropped; not for notices), shared with reminders and direct
// texts under the same per-member locks. Opt-outs are checked against the
// number when the send is recorded (sendOne).
func (s *Service) claimRefresh(ctx context.Context, me string) ([]claimed, int, error) {
	if s.refresh == nil {
		return nil, 0, nil
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("claim refresh: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, `SELECT g.id, g.member_id, g.idem_key, coalesce(g.refresh_campaign_id, 0), coalesce(g.refresh_notice_id, 0),
		coalesce(ct.time_zone, '')
		FROM gotv_messages g LEFT JOIN gotv_contacts ct ON ct.member_id = g.member_id
		WHERE g.source IN ('refresh', 'notice') AND g.state = 'pending' AND g.not_before <= $1
		ORDER BY g.not_before, g.id LIMIT $2 FOR UPDATE OF g SKIP LOCKED`, now, s.cfg.Batch)
	if err != nil {
		return nil, 0, fmt.Errorf("claim refresh: %w", err)
	}
	type cand struct {
		claimed
		tz string
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.memberID, &c.key, &c.refreshCampaign, &c.notice, &c.tz); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("claim refresh: %w", err)
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("claim refresh: %w", err)
	}
	members := make([]int64, 0, len(cs))
	for _, c := range cs {
		members = append(members, c.memberID)
	}
	if err := lockMembers(ctx, tx, members); err != nil {
		return nil, 0, fmt.Errorf("claim refresh: %w", err)
	}
	var out []claimed
	perMember := map[int64]int{}
	for _, c := range cs {
		var day int
		var oldest *time.Time
		if err := tx.QueryRow(ctx, `SELECT count(*), min(x.send_started_at) FROM gotv_messages x WHERE x.member_id = $2
			AND x.send_started_at IS NOT NULL AND x.state IN ('sending', 'sent', 'unknown') AND x.send_started_at > $1::timestamptz - interval '24 hours'`,
			now, c.memberID).Scan(&day, &oldest); err != nil {
			return nil, 0, fmt.Errorf("claim refresh: %w", err)
		}
		var later time.Time
		reason := ""
		if next, quiet := s.quietUntil(now, c.tz); quiet {
			later, reason = next, "quiet_hours"
		} else if c.notice == 0 && day+perMember[c.memberID] >= s.cfg.MaxPerDay {
			// A notice of a replaced mobile is not held by the member's
			// daily cap (it counts towards it): it goes to the old number,
			// not the member's, and a day's delay would defeat it
			// (docs/contact-refresh.md "The notice of a change").
			later, reason = now.Add(time.Hour), "cap_day"
			if oldest != nil && oldest.Add(24*time.Hour).After(now) {
				later = oldest.Add(24 * time.Hour)
			}
			if next, quiet := s.quietUntil(later, c.tz); quiet {
				later = next
			}
		}
		if reason != "" {
			if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET not_before = $2, deferrals = deferrals + 1, reason = $3 WHERE id = $1`,
				c.id, later, reason); err != nil {
				return nil, 0, fmt.Errorf("claim refresh: %w", err)
			}
			s.m.deferred.WithLabelValues(reason).Inc()
			continue
		}
		perMember[c.memberID]++
		if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET state = 'sending', claimed_by = $2, lease_until = $3,
			attempts = attempts + 1, reason = '' WHERE id = $1`, c.id, me, now.Add(s.cfg.Lease)); err != nil {
			return nil, 0, fmt.Errorf("claim refresh: %w", err)
		}
		out = append(out, c.claimed)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, fmt.Errorf("claim refresh: %w", err)
	}
	return out, len(cs), nil
}

// recoverRefresh reconciles refresh texts whose lease expired after their
// send was started (as recoverClaims does for reminders): found → sent;
// certainly not sent → pending (sent again, with a new link); otherwise
// unknown, never resent.
func (s *Service) recoverRefresh(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `SELECT id, member_id, coalesce(refresh_notice_id, 0), idem_key, body_sha256, send_started_at FROM gotv_messages
		WHERE source IN ('refresh', 'notice') AND state = 'sending' AND lease_until < $1 AND send_started_at IS NOT NULL LIMIT 500`, now)
	if err != nil {
		return 0, fmt.Errorf("recover refresh: %w", err)
	}
	type row struct {
		id, memberID, notice int64
		a                    Attempt
	}
	var stuck []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.memberID, &r.notice, &r.a.Key, &r.a.BodySHA256, &r.a.StartedAt); err != nil {
			rows.Close()
			return 0, fmt.Errorf("recover refresh: %w", err)
		}
		stuck = append(stuck, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("recover refresh: %w", err)
	}
	n := 0
	for _, r := range stuck {
		found, known := false, false
		var pid string
		if s.rec != nil && s.refresh != nil {
			to, err := s.refresh.RefreshNumber(ctx, r.memberID)
			if r.notice != 0 {
				to, _, err = s.refresh.NoticeText(ctx, r.notice)
			}
			if err == nil && to != "" {
				r.a.To = to
				p, f, err := s.rec.Lookup(ctx, r.a)
				if err == nil {
					pid, found, known = p, f, true
				} else {
					s.log.WarnContext(ctx, "gotv reconcile failed", "message", r.id, "err", err)
				}
			}
		}
		var q string
		var args []any
		switch {
		case known && found:
			q, args = `UPDATE gotv_messages SET state = 'sent', provider_id = coalesce(provider_id, $2), sent_at = coalesce(sent_at, send_started_at),
				claimed_by = NULL, lease_until = NULL, reason = 'reconciled' WHERE id = $1 AND state = 'sending' AND lease_until < $3`, []any{r.id, pid, now}
			s.m.sent.Inc()
		case known && !found:
			q, args = `UPDATE gotv_messages SET state = 'pending', send_started_at = NULL, body_sha256 = NULL, claimed_by = NULL,
				lease_until = NULL WHERE id = $1 AND state = 'sending' AND lease_until < $2`, []any{r.id, now}
		default:
			q, args = `UPDATE gotv_messages SET state = 'unknown', claimed_by = NULL, lease_until = NULL, reason = 'unconfirmed'
				WHERE id = $1 AND state = 'sending' AND lease_until < $2`, []any{r.id, now}
			s.m.failed.WithLabelValues("unconfirmed").Inc()
		}
		if _, err := s.pool.Exec(ctx, q, args...); err != nil {
			return n, fmt.Errorf("recover refresh: %w", err)
		}
		n++
	}
	return n, nil
}

// refreshText renders a claimed refresh text or notice; errNoText when it
// has no number.
func (s *Service) refreshText(ctx context.Context, c *claimed) (string, error) {
	var to, body string
	var err error
	if c.notice != 0 {
		to, body, err = s.refresh.NoticeText(ctx, c.notice)
	} else {
		to, body, err = s.refresh.RefreshText(ctx, c.refreshCampaign, c.memberID)
	}
	if err != nil {
		return "", err
	}
	if to == "" {
		return "", errNoText
	}
	c.mobile = to
	return body, nil
}

var errNoText = errors.New("gotv: no number for the refresh text")

// StoppedNumbers returns which of numbers replied STOP (or the provider
// reported them opted out) to any of the union's texts: the contact
// refresh reads that as the member's opt-out of its messages, by text
// and by email alike (docs/contact-refresh.md "Lawful basis").
func (s *Service) StoppedNumbers(ctx context.Context, numbers []string) (map[string]bool, error) {
	out, err := s.optedOut(ctx, nil, numbers) // by the numbers' blind index (optouts.go)
	if err != nil {
		return nil, fmt.Errorf("stopped numbers: %w", err)
	}
	return out, nil
}
