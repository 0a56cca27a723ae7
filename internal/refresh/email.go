package refresh

// Links by email (docs/contact-refresh.md "Links by email"): a member
// with an email and no mobile is sent their personal link by email,
// through the service's mail sender (internal/mail: SMTP, or the
// development outbox), with the outbox discipline of the texts: one row
// per member per campaign (refresh_emails), claimed with a lease, the
// send recorded as started before the mail server is called and its
// outcome after it. A send that was started and never recorded (the
// sender stopped in between) or that the server did not answer is
// 'unknown' and never sent again: SMTP has no way to ask whether a
// message arrived, so at most once is the only safe rule; a claim whose
// send never started goes back to the queue and is sent once.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/unionvote/eballot/internal/db"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

const (
	// emailLease is how long a claimed email is left to its sender before
	// another pass reconciles it (far longer than one SMTP conversation,
	// which times out after 30 s).
	emailLease = 10 * time.Minute
	// emailBatch is how many emails one pass claims.
	emailBatch = 50
	// emailSendTimeout bounds one send; the worker's own context does not
	// cut a conversation short (a half-sent message would be uncertain).
	emailSendTimeout = time.Minute
	// maxEmailAttempts: a temporary failure (server unreachable, 4xx,
	// credentials refused) is tried again after emailRetry, at most this
	// many times in all.
	maxEmailAttempts = 3
	emailRetry       = 15 * time.Minute
	// emailPoll is how often RunEmails looks for due emails when idle.
	emailPoll = 15 * time.Second
)

// enqueueEmails puts one email per member of a campaign in the outbox,
// due from notBefore; idempotent per member.
func (s *Service) enqueueEmails(ctx context.Context, campaignID int64, memberIDs []int64, notBefore time.Time) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO refresh_emails (campaign_id, member_id, not_before)
		SELECT $1, m, $3 FROM unnest($2::bigint[]) AS m ON CONFLICT (campaign_id, member_id) DO NOTHING`,
		campaignID, memberIDs, notBefore); err != nil {
		return fmt.Errorf("enqueue refresh emails: %w", err)
	}
	return nil
}

// EmailCounts counts a campaign's emails by state (pending, sending,
// sent, failed, skipped, unknown).
func (s *Service) EmailCounts(ctx context.Context, campaignID int64) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM refresh_emails WHERE campaign_id = $1 GROUP BY state`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("refresh email counts: %w", err)
	}
	out, err := db.KeyCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("refresh email counts: %w", err)
	}
	return out, nil
}

// RunEmails sends the campaigns' emails until ctx is done. Several
// senders (in one or several processes) may run at once: rows are
// claimed with FOR UPDATE SKIP LOCKED.
func (s *Service) RunEmails(ctx context.Context) error {
	for {
		n, err := s.SendEmails(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.ErrorContext(ctx, "refresh emails", "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(emailPoll):
			}
		}
	}
}

// SendEmails does one pass of the email outbox and returns how many rows
// it moved: claims whose lease ran out are reconciled (never started:
// back to the queue; started: 'unknown', not sent again), then a batch of
// due emails is claimed and sent one by one. Without a mail sender it
// does nothing (the campaign queued no email).
func (s *Service) SendEmails(ctx context.Context) (int, error) {
	if s.mail == nil {
		return 0, nil
	}
	now := s.now()
	tag, err := s.pool.Exec(ctx, `UPDATE refresh_emails SET
		state = CASE WHEN send_started_at IS NULL THEN 'pending' ELSE 'unknown' END,
		reason = CASE WHEN send_started_at IS NULL THEN reason ELSE 'unconfirmed' END, lease_until = NULL
		WHERE state = 'sending' AND lease_until < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("refresh emails: recover: %w", err)
	}
	n := int(tag.RowsAffected())
	rows, err := s.pool.Query(ctx, `UPDATE refresh_emails SET state = 'sending', lease_until = $2, attempts = attempts + 1, reason = ''
		WHERE id IN (SELECT id FROM refresh_emails WHERE state = 'pending' AND not_before <= $1
			ORDER BY not_before, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, campaign_id, member_id, attempts`, now, now.Add(emailLease), emailBatch)
	if err != nil {
		return n, fmt.Errorf("refresh emails: claim: %w", err)
	}
	type claim struct{ id, campaign, member, attempts int64 }
	var cs []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.id, &c.campaign, &c.member, &c.attempts); err != nil {
			rows.Close()
			return n, fmt.Errorf("refresh emails: claim: %w", err)
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("refresh emails: claim: %w", err)
	}
	slices.SortFunc(cs, func(a, b claim) int { return cmp.Compare(a.id, b.id) })
	for _, c := range cs {
		if err := s.sendEmail(ctx, c.id, c.campaign, c.member, int(c.attempts)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// skipError carries the reason a claimed email is not sent.
type skipError struct{ reason string }

func (e skipError) Error() string { return "refresh email skipped: " + e.reason }

// sendEmail sends one claimed email and records what happened. attempts
// (the count this claim set) marks the claim as this sender's: if its
// lease ran out and another sender claimed the row again, every write
// here finds nothing and the email is not sent by this one.
func (s *Service) sendEmail(ctx context.Context, id, campaignID, memberID int64, attempts int) error {
	bg := context.WithoutCancel(ctx)
	m, err := s.refreshEmail(ctx, campaignID, memberID)
	var skip skipError
	if errors.As(err, &skip) {
		return s.finishEmail(bg, id, attempts, `state = 'skipped', reason = $3`, skip.reason)
	}
	if err != nil {
		// Not started: the claim lapses and a later pass tries again.
		return err
	}
	// Recorded before the mail server is called: from here on, a stop
	// leaves the row 'unknown', never sent twice.
	// The lease is renewed to outlast the send, so that no sender
	// reconciles it as "perhaps sent" while it is still going.
	now := s.now()
	tag, err := s.pool.Exec(ctx, `UPDATE refresh_emails SET send_started_at = $3, lease_until = $4
		WHERE id = $1 AND attempts = $2 AND state = 'sending' AND send_started_at IS NULL AND lease_until > $3`,
		id, attempts, now, now.Add(emailSendTimeout+time.Minute))
	if err != nil {
		return fmt.Errorf("refresh email: record start: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return nil // the lease ran out: reconciled or claimed again by another sender
	}
	sctx, cancel := context.WithTimeout(bg, emailSendTimeout)
	_, err = s.mail.Send(sctx, m)
	cancel()
	kind := ""
	if err != nil {
		kind = mail.ErrorKind(err)
	}
	switch {
	case err == nil:
		return s.finishEmail(bg, id, attempts, `state = 'sent', sent_at = $3, reason = ''`, s.now())
	case kind == "uncertain":
		s.log.WarnContext(ctx, "refresh email outcome uncertain: not sent again", "campaign", campaignID, "member", memberID, "err", err)
		return s.finishEmail(bg, id, attempts, `state = 'unknown', reason = $3`, kind)
	case kind == "rejected" || kind == "invalid_address" || attempts >= maxEmailAttempts:
		s.log.WarnContext(ctx, "refresh email not sent", "campaign", campaignID, "member", memberID, "err", err)
		return s.finishEmail(bg, id, attempts, `state = 'failed', reason = $3`, kind)
	default: // nothing was sent: queued again for later
		s.log.WarnContext(ctx, "refresh email not sent: will try again", "campaign", campaignID, "member", memberID, "err", err)
		return s.finishEmail(bg, id, attempts, `state = 'pending', reason = $3, send_started_at = NULL, not_before = $4`, kind, s.now().Add(emailRetry))
	}
}

// finishEmail ends this sender's claim (attempts) with set, whose
// arguments are $3….
func (s *Service) finishEmail(ctx context.Context, id int64, attempts int, set string, args ...any) error {
	if _, err := s.pool.Exec(ctx, `UPDATE refresh_emails SET `+set+`, lease_until = NULL WHERE id = $1 AND attempts = $2 AND state = 'sending'`,
		append([]any{id, attempts}, args...)...); err != nil {
		return fmt.Errorf("refresh email: record outcome: %w", err)
	}
	return nil
}

// refreshEmail makes the member's personal link of the campaign (a
// previous one of the same campaign stops working) and the email: the
// campaign's message in the member's language (both, English first, when
// they have none), the link, how long it works and what the message is.
// skipError when it is not to be sent: the campaign was stopped, the member
// has no email (or an employer's) any more, or opted out since it
// started (their page's button, or STOP to the union's texts from their
// mobile).
func (s *Service) refreshEmail(ctx context.Context, campaignID, memberID int64) (mail.Message, error) {
	c, err := s.campaignByID(ctx, campaignID)
	if err != nil {
		return mail.Message{}, err
	}
	if c.CancelledAt != nil {
		return mail.Message{}, skipError{"cancelled"}
	}
	d, err := s.reg.Details(ctx, memberID)
	if err != nil {
		return mail.Message{}, fmt.Errorf("refresh email: %w", err)
	}
	if d.Email == "" || d.UnionID != c.UnionID {
		return mail.Message{}, skipError{"no_email"}
	}
	policy, err := s.policy(ctx, c.UnionID)
	if err != nil {
		return mail.Message{}, err
	}
	if _, _, ok := register.CheckEmail(d.Email, policy); !ok {
		return mail.Message{}, skipError{"employer"}
	}
	if out, err := s.optedOut(ctx, memberID); err != nil {
		return mail.Message{}, err
	} else if out {
		return mail.Message{}, skipError{"opted_out"}
	}
	if d.Mobile != "" {
		stopped, err := s.outbox.StoppedNumbers(ctx, []string{d.Mobile})
		if err != nil {
			return mail.Message{}, err
		}
		if stopped[d.Mobile] {
			return mail.Message{}, skipError{"opted_out"}
		}
	}
	token, until, err := s.newLink(ctx, c, memberID)
	if err != nil {
		return mail.Message{}, fmt.Errorf("refresh email: %w", err)
	}
	link := s.public + "/r/" + token
	body := func(lang string) string {
		msg, l := c.MessageEN, link
		if lang == "cy" {
			msg, l = c.MessageCY, link+"?lang=cy"
		}
		return msg + "\n\n" + l + "\n\n" + page.M("refresh.email.foot", page.When(lang, until)).In(s.pages.T, lang)
	}
	switch d.Language {
	case "en", "cy":
		return mail.Message{To: d.Email, Subject: s.pages.T(d.Language, "refresh.email.subject"), Text: body(d.Language), Language: d.Language}, nil
	}
	return mail.Message{To: d.Email, Subject: s.pages.T("en", "refresh.email.subject") + " / " + s.pages.T("cy", "refresh.email.subject"),
		Text: body("en") + "\n\n* * *\n\n" + body("cy"), Language: "en, cy"}, nil
}

// usableEmail reports whether a target with no mobile is sent an email:
// a personal address (not at one of the union's employer domains) and a
// mail sender configured.
func (s *Service) usableEmail(t register.Target, policy register.ContactPolicy) bool {
	if s.mail == nil || t.Email == "" {
		return false
	}
	_, _, ok := register.CheckEmail(t.Email, policy)
	return ok
}
