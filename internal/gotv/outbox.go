package gotv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/sms"
)

// sendTimeout bounds one provider call, which is not cut short by the
// worker's context (send).
const sendTimeout = 30 * time.Second

// errCrash is returned by Tick when a test's afterSend hook simulates a
// crash between the provider's answer and the database record.
var errCrash = errors.New("gotv: simulated crash after send")

// Run runs the sending worker until ctx is done. Several workers (in one
// or several processes) may run at once: rows are claimed with FOR UPDATE
// SKIP LOCKED.
func (s *Service) Run(ctx context.Context) error {
	var pruned time.Time
	for {
		if time.Since(pruned) > 10*time.Minute {
			if err := s.PruneWebhookEvents(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "gotv: pruning webhook events failed", "err", err)
			}
			pruned = time.Now()
		}
		n, err := s.Tick(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.ErrorContext(ctx, "gotv worker", "err", err)
		}
		if n == 0 || err != nil {
			if sleepCtx(ctx, s.cfg.PollInterval) != nil {
				return nil
			}
		}
	}
}

// Tick does one pass of the outbox and returns how many rows it moved:
//
//  1. due steps of scheduled campaigns are materialised: one 'pending' row
//     per non-voting member of the segment (unique (step, member));
//  2. expired claims are recovered: a row claimed but never started goes
//     back to 'pending'; a row whose send was started (send_started_at set)
//     but not recorded is reconciled with the provider, and if that is not
//     possible it becomes 'unknown' — it is NOT sent again;
//  3. a batch of due 'pending' rows is claimed ('sending', with a lease).
//     Rows of members now in the marked register, opted out, or over the
//     per-ballot cap are 'skipped'; rows in the member's quiet hours or over
//     the daily cap go back to 'pending' with a later not_before;
//  4. each claimed row is sent at the provider's rate: send_started_at is
//     committed (with a last check of the marked register and opt-outs),
//     the provider is called with the row's idempotency key in the status
//     callback URL, and the answer is recorded ('sent' or 'failed').
func (s *Service) Tick(ctx context.Context) (int, error) {
	n, err := s.materialise(ctx)
	if err != nil {
		return n, err
	}
	r, err := s.recoverClaims(ctx)
	n += r
	if err != nil {
		return n, err
	}
	r, err = s.recoverResults(ctx)
	n += r
	if err != nil {
		return n, err
	}
	c, err := s.claimAndSend(ctx)
	n += c
	if err == nil {
		s.updateQueueDepth(ctx)
	}
	return n, err
}

func (s *Service) updateQueueDepth(ctx context.Context) {
	var depth int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE state IN ('pending', 'sending')`).Scan(&depth); err == nil {
		s.m.queue.Set(float64(depth))
	}
}

// materialise creates the outbox rows of every due step.
func (s *Service) materialise(ctx context.Context) (int, error) {
	total := 0
	for {
		n, done, err := s.materialiseOne(ctx)
		total += n
		if err != nil || done {
			return total, err
		}
	}
}

func (s *Service) materialiseOne(ctx context.Context) (int, bool, error) {
	now := s.now()
	heads, err := s.ballots.OpenBallots(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	if len(heads) == 0 {
		return 0, true, nil
	}
	open := make([]int64, len(heads))
	for i, h := range heads {
		open[i] = h.ID
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var stepID, ballotID int64
	var wps, brs []string
	// Steps wait (unmaterialised) while their ballot is not open or the
	// scrutineer has switched reminders off.
	err = tx.QueryRow(ctx, `SELECT st.id, c.ballot_id, c.workplaces, c.branches
		FROM gotv_steps st JOIN gotv_campaigns c ON c.id = st.campaign_id
		JOIN gotv_ballot_settings g ON g.ballot_id = c.ballot_id AND g.reminders_enabled
		WHERE st.materialised_at IS NULL AND st.due_at <= $1 AND c.status = 'scheduled' AND c.ballot_id = ANY($2)
		ORDER BY st.due_at, st.id LIMIT 1 FOR UPDATE OF st SKIP LOCKED`, now, open).Scan(&stepID, &ballotID, &wps, &brs)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	// The segment's members who can be reminded: a mobile number, not
	// opted out. Members who have voted are included and left out at the
	// claim ('voted'), so that a step's number of rows does not depend on
	// who has voted (the campaign page shows it: issue 21).
	members, err := s.reg.Segment(ctx, tx, ballotID, wps, brs)
	if err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	optouts, err := s.optedOut(ctx, tx, mobilesIn(members))
	if err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	ids := make([]int64, 0, len(members))
	for _, m := range members {
		if m.Textable && !optouts[m.Mobile] {
			ids = append(ids, m.MemberID)
		}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO gotv_messages (step_id, ballot_id, member_id, idem_key, not_before)
		SELECT $1, $3, member_id, replace(gen_random_uuid()::text, '-', ''), $2 FROM unnest($4::bigint[]) AS member_id
		ON CONFLICT (step_id, member_id) DO NOTHING`, stepID, now, ballotID, ids)
	if err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	n := tag.RowsAffected()
	if _, err := tx.Exec(ctx, `UPDATE gotv_steps SET materialised_at = $2 WHERE id = $1`, stepID, now); err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("materialise: %w", err)
	}
	s.log.InfoContext(ctx, "gotv step materialised", "step", stepID, "ballot", ballotID, "rows", n)
	return int(n), false, nil
}

// recoverClaims handles rows whose lease expired (a worker stopped).
// The started sends of contact-refresh texts and notices (no ballot; a
// notice goes to the old number) are reconciled by recoverRefresh, and
// those of result notices (some to employers, no member) by
// recoverResults, not here.
func (s *Service) recoverClaims(ctx context.Context) (int, error) {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `UPDATE gotv_messages SET state = 'pending', claimed_by = NULL, lease_until = NULL
		WHERE state = 'sending' AND lease_until < $1 AND send_started_at IS NULL`, now)
	if err != nil {
		return 0, fmt.Errorf("recover claims: %w", err)
	}
	n := int(tag.RowsAffected())
	rows, err := s.pool.Query(ctx, `SELECT g.id, g.ballot_id, g.member_id, g.idem_key, g.body_sha256, g.send_started_at
		FROM gotv_messages g
		WHERE g.state = 'sending' AND g.lease_until < $1 AND g.send_started_at IS NOT NULL AND g.source NOT IN ('refresh', 'notice', 'result') LIMIT 500`, now)
	if err != nil {
		return n, fmt.Errorf("recover claims: %w", err)
	}
	type row struct {
		id, ballotID, memberID int64
		a                      Attempt
	}
	var stuck []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.ballotID, &r.memberID, &r.a.Key, &r.a.BodySHA256, &r.a.StartedAt); err != nil {
			rows.Close()
			return n, fmt.Errorf("recover claims: %w", err)
		}
		stuck = append(stuck, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("recover claims: %w", err)
	}
	// The number the send went to is the frozen one (the current one
	// without Options.Mobiles).
	if len(stuck) > 0 {
		ids := make([]int64, len(stuck))
		for i, r := range stuck {
			ids[i] = r.memberID
		}
		current, err := s.reg.Addressees(ctx, nil, ids)
		if err != nil {
			return n, fmt.Errorf("recover claims: %w", err)
		}
		for i := range stuck {
			stuck[i].a.To = current[stuck[i].memberID].Mobile
		}
	}
	if err := s.frozenMobiles(ctx, len(stuck), func(i int) (int64, int64, *string, *bool) {
		return stuck[i].ballotID, stuck[i].memberID, &stuck[i].a.To, nil
	}); err != nil {
		return n, fmt.Errorf("recover claims: %w", err)
	}
	for _, r := range stuck {
		var pid string
		found, known := false, false
		if s.rec != nil {
			p, f, err := s.rec.Lookup(ctx, r.a)
			if err == nil {
				pid, found, known = p, f, true
			} else {
				s.log.WarnContext(ctx, "gotv reconcile failed", "message", r.id, "err", err)
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
			// A reminder is sent again; a direct text (a volunteer's
			// press) is not: the volunteer sees it failed and may press again.
			q, args = `UPDATE gotv_messages SET state = CASE WHEN source = 'reminder' THEN 'pending' ELSE 'failed' END,
				reason = CASE WHEN source = 'reminder' THEN reason ELSE 'not_sent' END,
				send_started_at = NULL, body_sha256 = NULL, claimed_by = NULL,
				lease_until = NULL WHERE id = $1 AND state = 'sending' AND lease_until < $2`, []any{r.id, now}
		default:
			q, args = `UPDATE gotv_messages SET state = 'unknown', claimed_by = NULL, lease_until = NULL, reason = 'unconfirmed'
				WHERE id = $1 AND state = 'sending' AND lease_until < $2`, []any{r.id, now}
			s.m.failed.WithLabelValues("unconfirmed").Inc()
		}
		if _, err := s.pool.Exec(ctx, q, args...); err != nil {
			return n, fmt.Errorf("recover claims: %w", err)
		}
		n++
	}
	r, err := s.recoverRefresh(ctx)
	return n + r, err
}

// claimed is a row this worker holds.
type claimed struct {
	id, ballotID, memberID int64
	key, mobile, name      string
	template, templateCy   string
	lang                   string // the member's preferred language ("" none)
	bilingual              bool   // the ballot's paper is bilingual
	closes                 time.Time
	refreshCampaign        int64 // a contact-refresh text (refresh.go); 0 for reminders
	notice                 int64 // a notice of a replaced mobile (refresh.go); 0 otherwise
	result                 int64 // a notice after the close (results.go); 0 otherwise
	// channel is "email" for an email (results.go: to email, with
	// subject and mailLang), else a text.
	channel, email, subject, mailLang string
}

func newWorkerID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// claim takes a batch of due rows and applies the send-time rules.
func (s *Service) claim(ctx context.Context, me string) ([]claimed, int, error) {
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, `SELECT g.id, g.ballot_id, g.member_id, g.idem_key,
		coalesce(ct.time_zone, ''), st.template, coalesce(st.template_cy, ''),
		c.status, coalesce(gs.reminders_enabled, false),
		(SELECT count(*) FROM gotv_messages x WHERE x.member_id = g.member_id AND x.send_started_at IS NOT NULL
			AND x.state IN ('sending', 'sent', 'unknown') AND x.send_started_at > $1::timestamptz - interval '24 hours'),
		(SELECT min(x.send_started_at) FROM gotv_messages x WHERE x.member_id = g.member_id AND x.send_started_at IS NOT NULL
			AND x.state IN ('sending', 'sent', 'unknown') AND x.send_started_at > $1::timestamptz - interval '24 hours'),
		(SELECT count(*) FROM gotv_messages x WHERE x.member_id = g.member_id AND x.ballot_id = g.ballot_id
			AND x.send_started_at IS NOT NULL AND x.state IN ('sending', 'sent', 'unknown'))
		FROM gotv_messages g
		JOIN gotv_steps st ON st.id = g.step_id
		JOIN gotv_campaigns c ON c.id = st.campaign_id
		LEFT JOIN gotv_contacts ct ON ct.member_id = g.member_id
		LEFT JOIN gotv_ballot_settings gs ON gs.ballot_id = g.ballot_id
		WHERE g.state = 'pending' AND g.not_before <= $1
		ORDER BY g.not_before, g.id LIMIT $2 FOR UPDATE OF g SKIP LOCKED`, now, s.cfg.Batch)
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	type cand struct {
		claimed
		tz, campStatus, ballotStatus string
		enabled, voted, optedOut     bool
		day, ballot, campaign        int
		campaignID                   int64
		oldest                       *time.Time
		closesAt                     *time.Time
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.ballotID, &c.memberID, &c.key, &c.tz, &c.template, &c.templateCy, &c.campStatus,
			&c.enabled, &c.day, &c.oldest, &c.ballot); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("claim: %w", err)
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	if len(cs) == 0 {
		if err := tx.Commit(ctx); err != nil {
			return nil, 0, fmt.Errorf("claim: %w", err)
		}
		return nil, 0, nil
	}
	// The members, their ballots and the marked register, each read once
	// for the batch from its owner, in this transaction.
	ids, ballotIDs := make([]int64, len(cs)), make([]int64, len(cs))
	for i, c := range cs {
		ids[i], ballotIDs[i] = c.memberID, c.ballotID
	}
	people, err := s.reg.Addressees(ctx, tx, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	heads, err := s.ballots.Headings(ctx, tx, ballotIDs)
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	ballots := make(map[int64]election.Heading, len(heads))
	for _, h := range heads {
		ballots[h.ID] = h
	}
	voted, err := s.marks.Among(ctx, tx, ballotIDs, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	var numbers []string
	for i := range cs {
		c := &cs[i]
		p := people[c.memberID]
		c.mobile, c.name, c.lang = p.Mobile, p.Name, p.Lang
		b := ballots[c.ballotID]
		c.bilingual, c.ballotStatus, c.closesAt = b.Bilingual, b.Status, b.ClosesAt
		c.voted = voted[issuance.BallotMember{Ballot: c.ballotID, Member: c.memberID}]
		if c.mobile != "" {
			numbers = append(numbers, c.mobile)
		}
	}
	optouts, err := s.optedOut(ctx, tx, numbers)
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	for i := range cs {
		cs[i].optedOut = optouts[cs[i].mobile]
	}
	// The caps are shared with direct sends (SendDirect), which count and
	// record under a per-member lock: take the same locks (in member order,
	// so two workers never deadlock) and count again under them.
	members := make([]int64, 0, len(cs))
	for _, c := range cs {
		members = append(members, c.memberID)
	}
	if err := lockMembers(ctx, tx, members); err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	for i := range cs {
		if err := tx.QueryRow(ctx, `SELECT
			coalesce((SELECT st.campaign_id FROM gotv_messages g JOIN gotv_steps st ON st.id = g.step_id WHERE g.id = $4), 0),
			(SELECT count(*) FROM gotv_messages x JOIN gotv_steps xs ON xs.id = x.step_id
				JOIN gotv_messages g ON g.id = $4 JOIN gotv_steps gs ON gs.id = g.step_id
				WHERE x.member_id = $2 AND xs.campaign_id = gs.campaign_id
				AND x.send_started_at IS NOT NULL AND x.state IN ('sending', 'sent', 'unknown')),
			(SELECT count(*) FROM gotv_messages x WHERE x.member_id = $2 AND x.send_started_at IS NOT NULL
				AND x.state IN ('sending', 'sent', 'unknown') AND x.send_started_at > $1::timestamptz - interval '24 hours'),
			(SELECT min(x.send_started_at) FROM gotv_messages x WHERE x.member_id = $2 AND x.send_started_at IS NOT NULL
				AND x.state IN ('sending', 'sent', 'unknown') AND x.send_started_at > $1::timestamptz - interval '24 hours'),
			(SELECT count(*) FROM gotv_messages x WHERE x.member_id = $2 AND x.ballot_id = $3
				AND x.send_started_at IS NOT NULL AND x.state IN ('sending', 'sent', 'unknown'))`,
			now, cs[i].memberID, cs[i].ballotID, cs[i].id).Scan(&cs[i].campaignID, &cs[i].campaign, &cs[i].day, &cs[i].oldest,
			&cs[i].ballot); err != nil {
			return nil, 0, fmt.Errorf("claim: %w", err)
		}
	}
	if err := s.frozenMobiles(ctx, len(cs), func(i int) (int64, int64, *string, *bool) {
		return cs[i].ballotID, cs[i].memberID, &cs[i].mobile, &cs[i].optedOut
	}); err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	var out []claimed
	perMember := map[int64]int{} // rows of the same member in this batch
	type memberCampaign struct{ member, campaign int64 }
	perCampaign := map[memberCampaign]int{}
	for _, c := range cs {
		if c.closesAt != nil {
			c.closes = *c.closesAt
		}
		skip := ""
		switch {
		case c.campStatus != "scheduled":
			skip = "cancelled"
		case c.ballotStatus != "open" || (!c.closes.IsZero() && !now.Before(c.closes)):
			skip = "ballot_closed"
		case !c.enabled:
			skip = "disabled"
		case c.mobile == "":
			skip = "no_number"
		case c.voted:
			skip = "voted"
		case c.optedOut:
			skip = "opted_out"
		case c.ballot+perMember[c.memberID] >= s.cfg.MaxPerBallot:
			skip = "cap_ballot"
		case c.campaign+perCampaign[memberCampaign{c.memberID, c.campaignID}] >= s.cfg.MaxPerCampaign:
			skip = "cap_campaign"
		}
		if skip != "" {
			if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET state = 'skipped', reason = $2 WHERE id = $1`, c.id, skip); err != nil {
				return nil, 0, fmt.Errorf("claim: %w", err)
			}
			s.m.skipped.WithLabelValues(skip).Inc()
			continue
		}
		var later time.Time
		reason := ""
		if next, quiet := s.quietUntil(now, c.tz); quiet {
			later, reason = next, "quiet_hours"
		} else if c.day+perMember[c.memberID] >= s.cfg.MaxPerDay {
			later, reason = now.Add(time.Hour), "cap_day"
			if c.oldest != nil && c.oldest.Add(24*time.Hour).After(now) {
				later = c.oldest.Add(24 * time.Hour)
			}
			if next, quiet := s.quietUntil(later, c.tz); quiet {
				later = next
			}
		}
		if reason != "" {
			if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET not_before = $2, deferrals = deferrals + 1, reason = $3 WHERE id = $1`,
				c.id, later, reason); err != nil {
				return nil, 0, fmt.Errorf("claim: %w", err)
			}
			s.m.deferred.WithLabelValues(reason).Inc()
			continue
		}
		perMember[c.memberID]++
		perCampaign[memberCampaign{c.memberID, c.campaignID}]++
		if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET state = 'sending', claimed_by = $2, lease_until = $3,
			attempts = attempts + 1, reason = '' WHERE id = $1`, c.id, me, now.Add(s.cfg.Lease)); err != nil {
			return nil, 0, fmt.Errorf("claim: %w", err)
		}
		out = append(out, c.claimed)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	return out, len(cs), nil
}

// quietUntil reports whether t falls in quiet hours in time zone tz (the
// service default when empty or unknown) and, if so, when they end.
func (s *Service) quietUntil(t time.Time, tz string) (time.Time, bool) {
	loc := s.tz
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	lt := t.In(loc)
	mins := lt.Hour()*60 + lt.Minute()
	if mins >= s.cfg.QuietStart && mins < s.cfg.QuietEnd {
		return time.Time{}, false
	}
	day := lt
	if mins >= s.cfg.QuietEnd {
		day = lt.AddDate(0, 0, 1)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), s.cfg.QuietStart/60, s.cfg.QuietStart%60, 0, 0, loc), true
}

// claimAndSend claims one batch and sends it.
func (s *Service) claimAndSend(ctx context.Context) (int, error) {
	me := newWorkerID()
	batch, seen, err := s.claim(ctx, me)
	if err != nil {
		return 0, err
	}
	rb, rs, err := s.claimRefresh(ctx, me)
	batch, seen = append(batch, rb...), seen+rs
	if err != nil {
		return seen, err
	}
	rb, rs, err = s.claimResults(ctx, me)
	batch, seen = append(batch, rb...), seen+rs
	if err != nil {
		return seen, err
	}
	bg := context.WithoutCancel(ctx)
	for i, c := range batch {
		if err := s.sendOne(ctx, me, c); err != nil {
			// Give back what this worker has not started; a row whose send
			// was started stays 'sending' and is recovered after its lease.
			ids := make([]int64, 0, len(batch)-i)
			for _, r := range batch[i:] {
				ids = append(ids, r.id)
			}
			_, _ = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'pending', claimed_by = NULL, lease_until = NULL
				WHERE id = ANY($1) AND state = 'sending' AND claimed_by = $2 AND send_started_at IS NULL`, ids, me)
			if ctx.Err() != nil {
				return seen, nil
			}
			return seen, err
		}
	}
	return seen, nil
}

// sendOne sends one claimed row. It returns an error only when the worker
// must stop (context cancelled, database unavailable, simulated crash).
func (s *Service) sendOne(ctx context.Context, me string, c claimed) error {
	if err := s.bucket.Wait(ctx); err != nil {
		return err
	}
	bg := context.WithoutCancel(ctx)
	var body string
	var err error
	if c.refreshCampaign != 0 || c.notice != 0 || c.result != 0 {
		if c.result != 0 {
			body, err = s.resultText(ctx, &c)
		} else {
			body, err = s.refreshText(ctx, &c)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			reason := "no_number"
			if errors.Is(err, ErrOptedOut) {
				reason = "opted_out" // the member's own opt-out of refresh messages
			} else if errors.Is(err, errNoMail) {
				reason = "no_mail"
			} else if !errors.Is(err, errNoText) {
				reason = "no_text"
				s.log.WarnContext(ctx, "gotv refresh text not rendered", "message", c.id, "err", err)
			}
			_, _ = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'skipped', reason = $3, claimed_by = NULL, lease_until = NULL
				WHERE id = $1 AND state = 'sending' AND claimed_by = $2`, c.id, me, reason)
			s.m.skipped.WithLabelValues(reason).Inc()
			return nil
		}
		return s.send(ctx, me, c, body)
	}
	link, err := s.link(ctx, c.ballotID, c.memberID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// No live invitation (revoked, expired, not issued): nothing to send.
		_, _ = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'skipped', reason = 'no_link', claimed_by = NULL, lease_until = NULL
			WHERE id = $1 AND state = 'sending' AND claimed_by = $2`, c.id, me)
		s.m.skipped.WithLabelValues("no_link").Inc()
		s.log.WarnContext(ctx, "gotv no voting link", "message", c.id, "err", err)
		return nil
	}
	body = s.reminder(c.template, c.templateCy, c.lang, c.bilingual, firstName(c.name), link, c.closes)
	return s.send(ctx, me, c, body)
}

// send records the start of a claimed row's send (with the last check of
// the marked register and opt-outs), calls the provider and records the
// answer.
func (s *Service) send(ctx context.Context, me string, c claimed, body string) error {
	bg := context.WithoutCancel(ctx)
	sum := sha256.Sum256([]byte(body))
	seg := CountSegments(body)
	now := s.now()
	// Record before send, with the last check of the marked register
	// (read just before; not for a notice after the close, which every
	// member gets) and of opt-outs (in the same statement; a text's).
	var voted bool
	var err error
	if c.result == 0 {
		if voted, err = s.marks.Has(ctx, nil, c.ballotID, c.memberID); err != nil {
			return fmt.Errorf("start send: %w", err)
		}
	}
	var tag pgconn.CommandTag
	if !voted {
		tag, err = s.pool.Exec(ctx, `UPDATE gotv_messages g SET send_started_at = $3, body_sha256 = $4, parts = $5
			WHERE g.id = $1 AND g.state = 'sending' AND g.claimed_by = $2
			AND ($7 OR NOT EXISTS (SELECT 1 FROM gotv_optouts o WHERE o.number_index = ANY($6)))`, c.id, me, now, sum[:], seg.Parts,
			s.numberIndexes(c.mobile), c.channel == "email")
		if err != nil {
			return fmt.Errorf("start send: %w", err)
		}
	}
	if tag.RowsAffected() == 0 {
		// Voted or opted out since the claim (or the claim was lost).
		reason := "opted_out"
		if voted {
			reason = "voted"
		}
		tag, err := s.pool.Exec(ctx, `UPDATE gotv_messages g SET state = 'skipped', claimed_by = NULL, lease_until = NULL, reason = $3
			WHERE g.id = $1 AND g.state = 'sending' AND g.claimed_by = $2 AND g.send_started_at IS NULL`, c.id, me, reason)
		if err != nil {
			return fmt.Errorf("skip send: %w", err)
		}
		if tag.RowsAffected() > 0 {
			s.m.skipped.WithLabelValues("late_check").Inc()
		}
		return nil
	}
	// A call started is finished even if the worker is being stopped (its
	// context cancelled): its answer is recorded, so a shutdown mid-send
	// leaves no row to reconcile. The provider client's own timeout
	// bounds it (and sendTimeout, in case it has none).
	sctx, cancel := context.WithTimeout(bg, sendTimeout)
	var pid string
	var sendErr error
	if c.channel == "email" {
		pid, sendErr = s.sendMail(sctx, c, body)
	} else {
		pid, sendErr = s.sender.Send(sctx, sms.Message{To: c.mobile, Body: body, StatusCallback: s.callbackURL(c.key)})
	}
	cancel()
	if s.afterSend != nil && s.afterSend(c.memberID) {
		return errCrash
	}
	switch {
	case sendErr == nil:
		_, err = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'sent', provider_id = coalesce(provider_id, $2), sent_at = $3,
			claimed_by = NULL, lease_until = NULL WHERE id = $1 AND state IN ('sending', 'unknown')`, c.id, pid, s.now())
		s.m.sent.Inc()
	case errors.Is(sendErr, sms.ErrOptedOut), errors.Is(sendErr, sms.ErrInvalidNumber), errors.Is(sendErr, sms.ErrRejected):
		code, reason := 0, "rejected"
		if errors.Is(sendErr, sms.ErrOptedOut) {
			code, reason = 21610, "opted_out"
		} else if errors.Is(sendErr, sms.ErrInvalidNumber) {
			code, reason = 21211, "invalid_number"
		}
		err = s.recordFailure(bg, c, code, reason)
		s.m.failed.WithLabelValues(reason).Inc()
	case errors.Is(sendErr, sms.ErrUncertain):
		// Possibly accepted (the request went out, no answer came back):
		// the row stays 'sending'; when its lease runs out it is reconciled
		// with the provider, or set aside as 'unknown' — never resent
		// blindly.
		s.m.deferred.WithLabelValues("uncertain").Inc()
	default:
		// Not accepted (the provider said it is unavailable, or the request
		// never left: no connection, the context ended before the call):
		// send again later.
		_, err = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'pending', send_started_at = NULL, body_sha256 = NULL,
			claimed_by = NULL, lease_until = NULL, not_before = $2, reason = 'retry' WHERE id = $1 AND state = 'sending'`,
			c.id, s.now().Add(time.Minute))
		s.m.deferred.WithLabelValues("unavailable").Inc()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.WarnContext(ctx, "gotv send failed, will retry", "message", c.id, "err", sendErr)
	}
	if err != nil {
		return fmt.Errorf("record send: %w", err)
	}
	return nil
}

func (s *Service) recordFailure(ctx context.Context, c claimed, code int, reason string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET state = 'failed', error_code = $2, reason = $3, claimed_by = NULL,
		lease_until = NULL WHERE id = $1 AND state = 'sending'`, c.id, code, reason); err != nil {
		return err
	}
	if code == 21610 {
		if _, err := tx.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, 'provider', $2)
			ON CONFLICT (number_index) DO NOTHING`, s.numberIndex(c.mobile), s.now()); err != nil {
			return err
		}
	}
	if code != 0 && c.memberID != 0 {
		if err := flagContact(ctx, tx, c.memberID, code, s.now()); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func flagContact(ctx context.Context, tx pgx.Tx, memberID int64, code int, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO gotv_contact_issues (member_id, error_code, flagged_at) VALUES ($1, $2, $3)
		ON CONFLICT (member_id) DO UPDATE SET error_code = excluded.error_code, flagged_at = excluded.flagged_at`, memberID, code, at)
	return err
}

// callbackURL is the status callback of a row: the public webhook with the
// row's idempotency key, so a delivery report identifies the row even if
// the provider's message id was never recorded, and the send time (Unix
// seconds), which the signature covers: reports older than the replay
// window are refused.
func (s *Service) callbackURL(key string) string {
	return s.cfg.PublicURL + "/webhooks/twilio/status?k=" + key + "&t=" + strconv.FormatInt(s.now().Unix(), 10)
}
