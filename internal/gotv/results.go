package gotv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/sms"
)

// The notices after a ballot's close (internal/result, docs/ballots.md
// "After the close") go through this outbox: the s.231 result to every
// member entitled to vote, by text and by email; the s.231A result to
// every employer, by email; the reminders of the s.231B report deadline
// to the scrutineers, by text. One row per notice (source 'result', its
// result_notice_id, channel 'sms' or 'email'), so each is sent exactly
// once like every other row: the start of the send is recorded before the
// provider is called, and a row whose outcome was not recorded is
// reconciled with the SMS provider or set aside as 'unknown', never sent
// again blindly. Texts keep STOP and quiet hours; the daily and ballot caps
// do not hold a statutory notice back ("as soon as reasonably
// practicable"), and whether the member voted does not matter. The owner
// of the notice renders it at send time ([ResultNotices]).

// Notice is a result notice as it is sent now.
type Notice struct {
	Channel  string // "sms" or "email"
	To       string // mobile (E.164) or email address; "" skips the row; MUST NOT be logged
	Subject  string // email only
	Body     string // MUST NOT be logged
	Language string // the email's Content-Language, e.g. "en, cy"
}

// ResultNotices renders result notices for the worker (internal/result).
type ResultNotices interface {
	// ResultNotice returns the notice id as it is sent now. It has no
	// side effect: it also gives the address to reconcile a send with.
	ResultNotice(ctx context.Context, id int64) (Notice, error)
}

// ResultRow is a result notice to queue: its id in internal/result, its
// ballot, its member (0: an employer's or a scrutineer's) and channel.
type ResultRow struct {
	ID, BallotID, MemberID int64
	Channel                string
}

// EnqueueResults puts result notices in the outbox, due now. A notice
// already queued keeps its row (unique per notice): calling it again after
// a crash adds only what is missing. It returns the rows added.
func (s *Service) EnqueueResults(ctx context.Context, rows []ResultRow) (int, error) {
	ids, ballots, members, channels := make([]int64, len(rows)), make([]int64, len(rows)), make([]*int64, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		ids[i], ballots[i], channels[i] = r.ID, r.BallotID, r.Channel
		if r.MemberID != 0 {
			members[i] = &rows[i].MemberID
		}
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO gotv_messages (source, result_notice_id, ballot_id, member_id, channel, idem_key, not_before)
		SELECT 'result', n, b, m, c, replace(gen_random_uuid()::text, '-', ''), $5
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS x(n, b, m, c)
		ON CONFLICT (result_notice_id) DO NOTHING`, ids, ballots, members, channels, s.now())
	if err != nil {
		return 0, fmt.Errorf("enqueue results: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ResultState is the outbox state of a result notice: pending, sending,
// sent, failed, skipped or unknown, why, and when it was sent.
type ResultState struct {
	State, Reason string
	SentAt        *time.Time
}

// ResultStates returns the states of the notices ids that are queued.
func (s *Service) ResultStates(ctx context.Context, ids []int64) (map[int64]ResultState, error) {
	rows, err := s.pool.Query(ctx, `SELECT result_notice_id, state, reason, sent_at FROM gotv_messages WHERE result_notice_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("result states: %w", err)
	}
	out := map[int64]ResultState{}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var st ResultState
		if err := rows.Scan(&id, &st.State, &st.Reason, &st.SentAt); err != nil {
			return nil, fmt.Errorf("result states: %w", err)
		}
		out[id] = st
	}
	return out, rows.Err()
}

// claimResults claims due result notices. A text in the addressee's quiet
// hours waits for their end; nothing else holds a notice back.
func (s *Service) claimResults(ctx context.Context, me string) ([]claimed, int, error) {
	if s.results == nil {
		return nil, 0, nil
	}
	now := s.now()
	var out []claimed
	seen := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT g.id, coalesce(g.ballot_id, 0), coalesce(g.member_id, 0), g.idem_key, g.result_notice_id, g.channel,
			coalesce(ct.time_zone, '')
			FROM gotv_messages g LEFT JOIN gotv_contacts ct ON ct.member_id = g.member_id
			WHERE g.source = 'result' AND g.state = 'pending' AND g.not_before <= $1
			ORDER BY g.not_before, g.id LIMIT $2 FOR UPDATE OF g SKIP LOCKED`, now, s.cfg.Batch)
		if err != nil {
			return err
		}
		type cand struct {
			c  claimed
			tz string
		}
		cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cand, error) {
			var x cand
			err := r.Scan(&x.c.id, &x.c.ballotID, &x.c.memberID, &x.c.key, &x.c.result, &x.c.channel, &x.tz)
			return x, err
		})
		if err != nil {
			return err
		}
		seen = len(cs)
		for _, x := range cs {
			if next, quiet := s.quietUntil(now, x.tz); quiet && x.c.channel == "sms" {
				if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET not_before = $2, deferrals = deferrals + 1, reason = 'quiet_hours' WHERE id = $1`,
					x.c.id, next); err != nil {
					return err
				}
				s.m.deferred.WithLabelValues("quiet_hours").Inc()
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE gotv_messages SET state = 'sending', claimed_by = $2, lease_until = $3,
				attempts = attempts + 1, reason = '' WHERE id = $1`, x.c.id, me, now.Add(s.cfg.Lease)); err != nil {
				return err
			}
			out = append(out, x.c)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("claim results: %w", err)
	}
	return out, seen, nil
}

// resultText renders a claimed result notice into c (its address) and
// returns its body; errNoText when it has no address, errNoMail when it
// is an email and no mail sender is configured.
func (s *Service) resultText(ctx context.Context, c *claimed) (string, error) {
	n, err := s.results.ResultNotice(ctx, c.result)
	if err != nil {
		return "", err
	}
	c.channel = n.Channel
	if n.To == "" {
		return "", errNoText
	}
	if n.Channel == "email" {
		if s.mail == nil {
			return "", errNoMail
		}
		c.email, c.subject, c.mailLang = n.To, n.Subject, n.Language
		return n.Body, nil
	}
	c.mobile = n.To
	return n.Body, nil
}

var errNoMail = errors.New("gotv: no mail sender for an email notice")

// sendMail sends a claimed email row; its errors are those of an SMS send
// for [Service.send]: refused for good (sms.ErrRejected), possibly
// accepted (sms.ErrUncertain: never resent blindly), or to retry.
func (s *Service) sendMail(ctx context.Context, c claimed, body string) (string, error) {
	id, err := s.mail.Send(ctx, mail.Message{To: c.email, Subject: c.subject, Text: body, Language: c.mailLang})
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, mail.ErrUncertain):
		return "", fmt.Errorf("%w: %w", sms.ErrUncertain, err)
	case errors.Is(err, mail.ErrRejected), errors.Is(err, mail.ErrInvalidMessage):
		return "", fmt.Errorf("%w: %w", sms.ErrRejected, err)
	}
	return "", err
}

// recoverResults reconciles result notices whose lease expired after their
// send was started: a text found at the provider is 'sent', one certainly
// not accepted is sent again; an email (no provider to ask) or a text in
// doubt is set aside as 'unknown', never resent.
func (s *Service) recoverResults(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `SELECT id, result_notice_id, channel, idem_key, body_sha256, send_started_at FROM gotv_messages
		WHERE source = 'result' AND state = 'sending' AND lease_until < $1 AND send_started_at IS NOT NULL LIMIT 500`, now)
	if err != nil {
		return 0, fmt.Errorf("recover results: %w", err)
	}
	type row struct {
		id, notice int64
		channel    string
		a          Attempt
	}
	stuck, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.notice, &x.channel, &x.a.Key, &x.a.BodySHA256, &x.a.StartedAt)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("recover results: %w", err)
	}
	for _, r := range stuck {
		state := "unknown"
		var pid string
		if r.channel == "sms" && s.rec != nil && s.results != nil {
			if n, err := s.results.ResultNotice(ctx, r.notice); err == nil && n.To != "" {
				r.a.To = n.To
				p, found, err := s.rec.Lookup(ctx, r.a)
				switch {
				case err != nil:
					s.log.WarnContext(ctx, "gotv reconcile failed", "message", r.id, "err", err)
				case found:
					state, pid = "sent", p
				default:
					state = "pending"
				}
			}
		}
		q := `UPDATE gotv_messages SET state = 'unknown', claimed_by = NULL, lease_until = NULL, reason = 'unconfirmed'
			WHERE id = $1 AND state = 'sending' AND lease_until < $2`
		args := []any{r.id, now}
		switch state {
		case "sent":
			q = `UPDATE gotv_messages SET state = 'sent', provider_id = coalesce(provider_id, $3), sent_at = coalesce(sent_at, send_started_at),
				claimed_by = NULL, lease_until = NULL, reason = 'reconciled' WHERE id = $1 AND state = 'sending' AND lease_until < $2`
			args = append(args, pid)
			s.m.sent.Inc()
		case "pending":
			q = `UPDATE gotv_messages SET state = 'pending', send_started_at = NULL, body_sha256 = NULL, claimed_by = NULL,
				lease_until = NULL WHERE id = $1 AND state = 'sending' AND lease_until < $2`
		default:
			s.m.failed.WithLabelValues("unconfirmed").Inc()
		}
		if _, err := s.pool.Exec(ctx, q, args...); err != nil {
			return 0, fmt.Errorf("recover results: %w", err)
		}
	}
	return len(stuck), nil
}
