package gotv

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/web/page"
)

// Refusals of [Service.SendDirect]: nothing was sent. Each answers 409
// with its catalogue message.
var (
	ErrQuietHours = page.NewError("gotv: quiet hours", http.StatusConflict, "quiet_hours", "gotv.err.quiet")
	ErrCapDay     = page.NewError("gotv: daily cap reached", http.StatusConflict, "cap_day", "gotv.err.capday")
	ErrCapBallot  = page.NewError("gotv: ballot cap reached", http.StatusConflict, "cap_ballot", "gotv.err.capballot")
	ErrOptedOut   = page.NewError("gotv: member opted out", http.StatusConflict, "opted_out", "gotv.err.optedout")
	ErrVoted      = page.NewError("gotv: member has voted", http.StatusConflict, "voted", "gotv.err.voted")
	ErrNoNumber   = page.NewError("gotv: no mobile number", http.StatusConflict, "no_number", "gotv.err.nonumber")
	// ErrNotSent (503): the provider refused the message or could not be
	// reached; nothing was sent, the volunteer may press again later.
	ErrNotSent = page.NewError("gotv: message not sent", http.StatusServiceUnavailable, "not_sent", "gotv.err.notsent")
)

// memberLockSQL takes the per-member lock under which the caps are
// counted and a send recorded ($1: member id), by direct sends and by the
// reminder worker's claim.
const memberLockSQL = `SELECT pg_advisory_xact_lock(1735353, ($1 % 2147483647)::int)`

// lockMembers takes the per-member locks of members in ascending order
// (so two workers claiming overlapping rows never deadlock), once each.
func lockMembers(ctx context.Context, tx pgx.Tx, members []int64) error {
	members = slices.Clone(members)
	slices.Sort(members)
	for _, m := range slices.Compact(members) {
		if _, err := tx.Exec(ctx, memberLockSQL, m); err != nil {
			return err
		}
	}
	return nil
}

// Direct is one message sent now, at a person's press (a volunteer's text,
// internal/outreach), through the same outbox as reminders.
type Direct struct {
	BallotID, MemberID int64
	Body               string // MUST NOT be logged
	// CheckTurnout refuses a member in the marked register (only where the
	// ballot's policy lets the sender use turnout; otherwise the refusal
	// itself would reveal that the member voted).
	CheckTurnout bool
	// Capped counts the message against, and checks, the per-member caps
	// per 24 hours and per ballot shared with reminders.
	Capped bool
}

// SendDirect sends d at once, applying the rules reminders obey, checked
// against fresh data: quiet hours in the member's time zone, opt-outs
// (STOP), the marked register (d.CheckTurnout) and the per-member caps
// (d.Capped), counted over reminders and direct texts together. A refusal
// is one of ErrQuietHours, ErrOptedOut, ErrVoted, ErrCapDay, ErrCapBallot,
// ErrNoNumber, and nothing is sent. Otherwise the outbox row is written
// (state 'sending', send_started_at) and committed before the provider is
// called, with its idempotency key in the status callback — a crash or an
// unanswered request is reconciled like a reminder's, never resent. It
// returns the outbox row's id; ErrNotSent when the provider refused it or
// was unavailable (the row is 'failed' and does not count against caps).
func (s *Service) SendDirect(ctx context.Context, d Direct) (int64, error) {
	now := s.now()
	mobiles, err := s.mobilesOf(ctx, d.BallotID, []int64{d.MemberID})
	if err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	mobile := mobiles[d.MemberID]
	if mobile == "" {
		return 0, ErrNoNumber
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// One direct send per member at a time, and none while the reminder
	// worker claims the member's rows: the caps are counted and the row
	// inserted under this lock. Reminders claimed but not yet started
	// ('sending' without send_started_at) count too: they are about to go.
	if _, err := tx.Exec(ctx, memberLockSQL, d.MemberID); err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	var tz string
	var optedOut, voted bool
	var day, ballot int
	err = tx.QueryRow(ctx, `SELECT coalesce((SELECT time_zone FROM gotv_contacts WHERE member_id = $2), ''),
		EXISTS (SELECT 1 FROM gotv_optouts WHERE number_index = ANY($3)),
		(SELECT count(*) FROM gotv_messages x WHERE x.member_id = $2 AND x.state IN ('sending', 'sent', 'unknown')
			AND coalesce(x.send_started_at, $4::timestamptz) > $4::timestamptz - interval '24 hours'),
		(SELECT count(*) FROM gotv_messages x WHERE x.member_id = $2 AND x.ballot_id = $1
			AND x.state IN ('sending', 'sent', 'unknown'))`,
		d.BallotID, d.MemberID, s.numberIndexes(mobile), now).Scan(&tz, &optedOut, &day, &ballot)
	if err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	if voted, err = s.marks.Has(ctx, tx, d.BallotID, d.MemberID); err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	switch _, quiet := s.quietUntil(now, tz); {
	case quiet:
		return 0, ErrQuietHours
	case optedOut:
		return 0, ErrOptedOut
	case d.CheckTurnout && voted:
		return 0, ErrVoted
	case d.Capped && ballot >= s.cfg.MaxPerBallot:
		return 0, ErrCapBallot
	case d.Capped && day >= s.cfg.MaxPerDay:
		return 0, ErrCapDay
	}
	me := newWorkerID()
	sum := sha256.Sum256([]byte(d.Body))
	var id int64
	var key string
	err = tx.QueryRow(ctx, `INSERT INTO gotv_messages (source, ballot_id, member_id, idem_key, state, not_before, attempts,
		claimed_by, lease_until, send_started_at, body_sha256, parts)
		VALUES ('volunteer', $1, $2, replace(gen_random_uuid()::text, '-', ''), 'sending', $3, 1, $4, $5, $3, $6, $7)
		RETURNING id, idem_key`, d.BallotID, d.MemberID, now, me, now.Add(s.cfg.Lease), sum[:], CountSegments(d.Body).Parts).
		Scan(&id, &key)
	if err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("send direct: %w", err)
	}
	if err := s.bucket.Wait(ctx); err != nil {
		// Not called: the row stays 'sending' with no provider call and is
		// set aside by the reconciler as not sent.
		return id, fmt.Errorf("send direct: %w", err)
	}
	bg := context.WithoutCancel(ctx)
	pid, sendErr := s.sender.Send(ctx, sms.Message{To: mobile, Body: d.Body, StatusCallback: s.callbackURL(key)})
	c := claimed{id: id, ballotID: d.BallotID, memberID: d.MemberID, mobile: mobile}
	switch {
	case sendErr == nil:
		_, err = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'sent', provider_id = coalesce(provider_id, $2), sent_at = $3,
			claimed_by = NULL, lease_until = NULL WHERE id = $1 AND state IN ('sending', 'unknown')`, id, pid, s.now())
		s.m.sent.Inc()
	case errors.Is(sendErr, sms.ErrUncertain):
		// Possibly accepted: reconciled after the lease, never resent.
		s.m.deferred.WithLabelValues("uncertain").Inc()
		return id, nil
	case errors.Is(sendErr, sms.ErrOptedOut), errors.Is(sendErr, sms.ErrInvalidNumber), errors.Is(sendErr, sms.ErrRejected):
		code, reason := 0, "rejected"
		if errors.Is(sendErr, sms.ErrOptedOut) {
			code, reason = 21610, "opted_out"
		} else if errors.Is(sendErr, sms.ErrInvalidNumber) {
			code, reason = 21211, "invalid_number"
		}
		if err := s.recordFailure(bg, c, code, reason); err != nil {
			return id, fmt.Errorf("send direct: %w", err)
		}
		s.m.failed.WithLabelValues(reason).Inc()
		s.log.WarnContext(ctx, "gotv direct send refused by the provider", "message", id, "reason", reason, "err", sendErr)
		return id, ErrNotSent
	default:
		_, err = s.pool.Exec(bg, `UPDATE gotv_messages SET state = 'failed', reason = 'unavailable', send_started_at = NULL,
			claimed_by = NULL, lease_until = NULL WHERE id = $1 AND state = 'sending'`, id)
		if err == nil {
			s.m.failed.WithLabelValues("unavailable").Inc()
			s.log.WarnContext(ctx, "gotv direct send failed", "message", id, "err", sendErr)
			return id, ErrNotSent
		}
	}
	if err != nil {
		return id, fmt.Errorf("record send: %w", err)
	}
	return id, nil
}

// mobilesOf returns the members' mobiles for the ballot: the frozen ones
// (Options.Mobiles), else the members' current ones.
func (s *Service) mobilesOf(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]string, error) {
	if s.mobiles != nil {
		return s.mobiles(ctx, ballotID, memberIDs)
	}
	people, err := s.reg.Addressees(ctx, nil, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("read mobiles: %w", err)
	}
	out := make(map[int64]string, len(people))
	for id, p := range people {
		out[id] = p.Mobile
	}
	return out, nil
}

// Reachable reports, for members of a ballot, whether they can be texted
// at all: a mobile, not opted out. It says nothing of turnout.
func (s *Service) Reachable(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]bool, error) {
	mobiles, err := s.mobilesOf(ctx, ballotID, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("reachable: %w", err)
	}
	var numbers []string
	for _, m := range mobiles {
		if m != "" {
			numbers = append(numbers, m)
		}
	}
	opted, err := s.optedOut(ctx, nil, numbers)
	if err != nil {
		return nil, fmt.Errorf("reachable: %w", err)
	}
	res := map[int64]bool{}
	for id, m := range mobiles {
		res[id] = m != "" && !opted[m]
	}
	return res, nil
}

// OptOutMember records an opt-out for the member's number (a volunteer's
// "opt out" tag): every text of the union stops, as after a STOP.
func (s *Service) OptOutMember(ctx context.Context, ballotID, memberID int64) error {
	mobiles, err := s.mobilesOf(ctx, ballotID, []int64{memberID})
	if err != nil {
		return fmt.Errorf("opt out: %w", err)
	}
	if mobiles[memberID] == "" {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, 'volunteer', $2)
		ON CONFLICT (number_index) DO NOTHING`, s.numberIndex(mobiles[memberID]), s.now()); err != nil {
		return fmt.Errorf("opt out: %w", err)
	}
	return nil
}

// ReplyFunc receives every signed inbound text (after STOP/START handling)
// with its sender, body and time (internal/outreach routes it to a
// volunteer's conversation). The number MUST NOT be logged or shown.
type ReplyFunc func(ctx context.Context, from, body string, at time.Time) error
