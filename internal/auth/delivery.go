package auth

// Invitation delivery for staff (docs/auth.md, "Invitation delivery"):
// what happened to each member's invitation text and email of a ballot —
// totals for organisers and the scrutineer, and for the scrutineer only
// the members who need action (a failed or uncertain send, or no usable
// contact) — and the scrutineer's "send again" for one member, through the
// same sending path as IssueInvitations, to the contacts frozen at the
// opening. Never a phone number or an address: at most masked.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/web/page"
)

// Delivery states of one channel of one member's invitation.
const (
	DeliverySent      = "sent"      // accepted by the provider or mail server
	DeliveryFailed    = "failed"    // not accepted; the next IssueInvitations run retries it
	DeliveryUncertain = "uncertain" // handed over, no answer: may have arrived; never retried automatically
	DeliveryPending   = "pending"   // not sent yet (not tried, or being sent now)
	DeliveryNone      = "none"      // no personal mobile / no email
	DeliveryEmployer  = "employer"  // only a union work number or an employer-domain address: never used
)

// ResendGap is the least time between two resends to one member.
const ResendGap = 10 * time.Minute

// ChannelTotals counts one channel's states over a ballot's register.
type ChannelTotals struct {
	Sent, Failed, Uncertain, Pending, None, Employer int
}

// DeliveryTotals are the counts of a ballot's invitations: no one's
// identity, safe for organisers.
type DeliveryTotals struct {
	Members   int // on the register
	Text      ChannelTotals
	Email     ChannelTotals
	NoContact int // no personal mobile and no personal email
	// MailOff: no mail sender is configured (EBALLOT_MAIL_PROVIDER=none):
	// emails are never sent.
	MailOff bool
}

// DeliveryProblem is one member's invitation needing the scrutineer's
// attention, on one channel ("sms", "email", or "none" for a member with no
// usable contact). Scrutineer only.
type DeliveryProblem struct {
	MemberID     int64
	MemberNumber string
	Paper        int // voting-paper number (0 if not numbered)
	Name         string
	Channel      string
	State        string // DeliveryFailed, DeliveryUncertain, DeliveryNone
	Error        string // for a failure: sms_error / email_error
	Contact      string // masked: +44•••••••123, a•••@example.org; "" for none
	// Why a member has no usable contact: "none" (nothing on the
	// register) or "employer" (only a work number or an employer address).
	Why        string
	Resendable bool // failed or uncertain, ballot open
	ResentAt   *time.Time
	Resends    int
	// ResendOutcome is what the last resend did (sent, failed,
	// uncertain), on ResendChannel.
	ResendChannel, ResendOutcome string
}

// Delivery is a ballot's invitation delivery report.
type Delivery struct {
	Totals   DeliveryTotals
	Problems []DeliveryProblem // sorted by voting-paper number, then channel
}

// memberDelivery is one member's state on both channels.
type memberDelivery struct {
	id                      int64
	number, name            string
	paper                   int
	mobile, email           string
	lang                    string // preferred language ("" none)
	hasInvite               bool
	smsSent, smsUncertain   bool
	smsAttempts             int
	smsClaimedAt            *time.Time
	smsError                string
	emailSent, emailUncert  bool
	emailAttempts           int
	emailClaimedAt          *time.Time
	emailError              string
	resentAt                *time.Time
	resends                 int
	resendChannel, resendOK string
	gen                     int
}

// ballotHeader is what the delivery pages and resends need of a ballot.
type ballotHeader struct {
	ID                     int64
	UnionID                int64
	ElectionID, Title      string
	TitleCy                string // the Welsh title of a bilingual ballot, else ""
	Union, Status          string
	ClosesAt               *time.Time
	workPhones, empDomains []string
}

func (s *Service) ballotHeader(ctx context.Context, ballotID int64) (ballotHeader, error) {
	h, err := s.ballots.Heading(ctx, ballotID)
	if errors.Is(err, election.ErrNotFound) {
		return ballotHeader{ID: ballotID}, ErrInvalidLink
	}
	if err != nil {
		return ballotHeader{ID: ballotID}, fmt.Errorf("ballot: %w", err)
	}
	return ballotHeader{ID: ballotID, UnionID: h.UnionID, ElectionID: h.ElectionID, Title: h.Title, TitleCy: h.TitleCy,
		Union: h.Union, Status: h.Status, ClosesAt: h.ClosesAt, workPhones: h.WorkPhones, empDomains: h.EmployerDomains}, nil
}

// open reports whether invitations of the ballot may still be sent.
func (b ballotHeader) open(now time.Time) bool {
	return b.Status == "open" && b.ClosesAt != nil && b.ClosesAt.After(now)
}

// members reads the delivery state of every member on the register (or
// of memberID only, if not 0), with the contacts frozen at the opening.
func (s *Service) deliveryMembers(ctx context.Context, ballotID, memberID int64) ([]memberDelivery, error) {
	lines, err := s.reg.Lines(ctx, ballotID, memberID)
	if err != nil {
		return nil, fmt.Errorf("invitation delivery: %w", err)
	}
	// The current invitation (latest generation not revoked) of each.
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (member_id) member_id, generation,
		sms_sent_at IS NOT NULL, sms_uncertain_at IS NOT NULL, coalesce(sms_attempts, 0), sms_claimed_at, coalesce(sms_error, ''),
		email_sent_at IS NOT NULL, email_uncertain_at IS NOT NULL, coalesce(email_attempts, 0), email_claimed_at, coalesce(email_error, ''),
		resent_at, coalesce(resends, 0), coalesce(resend_channel, ''), coalesce(resend_outcome, '')
		FROM auth_invitations WHERE ballot_id = $1 AND ($2::bigint = 0 OR member_id = $2) AND revoked_at IS NULL
		ORDER BY member_id, generation DESC`, ballotID, memberID)
	if err != nil {
		return nil, fmt.Errorf("invitation delivery: %w", err)
	}
	invites, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (memberDelivery, error) {
		x := memberDelivery{hasInvite: true}
		err := r.Scan(&x.id, &x.gen,
			&x.smsSent, &x.smsUncertain, &x.smsAttempts, &x.smsClaimedAt, &x.smsError,
			&x.emailSent, &x.emailUncert, &x.emailAttempts, &x.emailClaimedAt, &x.emailError,
			&x.resentAt, &x.resends, &x.resendChannel, &x.resendOK)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("invitation delivery: %w", err)
	}
	byMember := make(map[int64]memberDelivery, len(invites))
	for _, x := range invites {
		byMember[x.id] = x
	}
	list := make([]memberDelivery, len(lines))
	for i, l := range lines {
		x, ok := byMember[l.MemberID]
		if !ok {
			x = memberDelivery{gen: 1}
		}
		x.id, x.number, x.name, x.paper, x.mobile, x.email, x.lang = l.MemberID, l.Number, l.Name, l.PaperNumber, l.Mobile, l.Email, l.Lang
		list[i] = x
	}
	ids := make([]int64, len(list))
	at := make(map[int64]int, len(list))
	for i, x := range list {
		ids[i], at[x.id] = x.id, i
	}
	if len(ids) > 0 {
		if err := s.ballotContacts(ctx, ballotID, ids, func(id int64, c Contact) {
			list[at[id]].mobile, list[at[id]].email, list[at[id]].lang = c.Mobile, c.Email, c.Lang
		}); err != nil {
			return nil, fmt.Errorf("invitation delivery: %w", err)
		}
	}
	return list, nil
}

// smsState is the state of the member's invitation text.
func (x memberDelivery) smsState(b ballotHeader, now time.Time) string {
	return deliveryState(x.mobile, contains(b.workPhones, x.mobile), x.smsUncertain, x.smsSent, x.smsAttempts, x.smsClaimedAt, now.Add(-smsLease))
}

// emailState is the state of the member's invitation email.
func (x memberDelivery) emailState(b ballotHeader, now time.Time) string {
	return deliveryState(x.email, employerEmail(x.email, b.empDomains), x.emailUncert, x.emailSent, x.emailAttempts, x.emailClaimedAt, now.Add(-emailLease))
}

// deliveryState is the state of an invitation on one channel to addr:
// employer is whether addr is the employer's, leaseEnd the time before
// which a claim has lapsed.
func deliveryState(addr string, employer, uncertain, sent bool, attempts int, claimedAt *time.Time, leaseEnd time.Time) string {
	switch {
	case addr == "":
		return DeliveryNone
	case employer:
		return DeliveryEmployer
	case uncertain:
		return DeliveryUncertain
	case sent:
		return DeliverySent
	case attempts > 0 && (claimedAt == nil || claimedAt.Before(leaseEnd)):
		return DeliveryFailed
	}
	return DeliveryPending
}

func (c *ChannelTotals) add(state string) {
	switch state {
	case DeliverySent:
		c.Sent++
	case DeliveryFailed:
		c.Failed++
	case DeliveryUncertain:
		c.Uncertain++
	case DeliveryPending:
		c.Pending++
	case DeliveryNone:
		c.None++
	case DeliveryEmployer:
		c.Employer++
	}
}

// InvitationDelivery reports what happened to the invitations of a
// ballot. withList adds the members needing action (scrutineer only: the
// list names members; organisers get the totals). ErrInvalidLink for an
// unknown ballot.
func (s *Service) InvitationDelivery(ctx context.Context, ballotID int64, withList bool) (Delivery, error) {
	b, err := s.ballotHeader(ctx, ballotID)
	if err != nil {
		return Delivery{}, err
	}
	list, err := s.deliveryMembers(ctx, ballotID, 0)
	if err != nil {
		return Delivery{}, err
	}
	now := s.now()
	open := b.open(now)
	d := Delivery{Totals: DeliveryTotals{Members: len(list), MailOff: s.mail == nil}}
	for _, x := range list {
		ss, es := x.smsState(b, now), x.emailState(b, now)
		d.Totals.Text.add(ss)
		d.Totals.Email.add(es)
		noContact := (ss == DeliveryNone || ss == DeliveryEmployer) && (es == DeliveryNone || es == DeliveryEmployer)
		if noContact {
			d.Totals.NoContact++
		}
		if !withList {
			continue
		}
		p := DeliveryProblem{MemberID: x.id, MemberNumber: x.number, Paper: x.paper, Name: x.name,
			ResentAt: x.resentAt, Resends: x.resends, ResendChannel: x.resendChannel, ResendOutcome: x.resendOK}
		if noContact {
			q := p
			q.Channel, q.State, q.Why = "none", DeliveryNone, "none"
			if ss == DeliveryEmployer || es == DeliveryEmployer {
				q.Why = "employer"
			}
			d.Problems = append(d.Problems, q)
			continue
		}
		if ss == DeliveryFailed || ss == DeliveryUncertain {
			q := p
			q.Channel, q.State, q.Contact, q.Resendable = channelSMS, ss, page.MaskMobile(x.mobile), open
			if ss == DeliveryFailed {
				q.Error = x.smsError
			}
			d.Problems = append(d.Problems, q)
		}
		if es == DeliveryFailed || es == DeliveryUncertain {
			q := p
			q.Channel, q.State, q.Contact, q.Resendable = channelEmail, es, page.MaskEmail(x.email), open && s.mail != nil
			if es == DeliveryFailed {
				q.Error = x.emailError
			}
			d.Problems = append(d.Problems, q)
		}
	}
	sort.SliceStable(d.Problems, func(i, j int) bool {
		a, c := d.Problems[i], d.Problems[j]
		if a.Paper != c.Paper {
			return a.Paper < c.Paper
		}
		return a.Channel > c.Channel // sms before email
	})
	return d, nil
}

// Resend refusals, with their answers. Their messages (auth.inv_err_*)
// name the member's number and the channel: the delivery page fills them.
var (
	// ErrResendTooSoon (429): the member was sent an invitation again less
	// than ResendGap ago (see ResendError.RetryAfter).
	ErrResendTooSoon = page.NewError("auth: invitation resent less than 10 minutes ago", http.StatusTooManyRequests, "resend_too_soon", "auth.inv_err_too_soon")
	// ErrResendQuota (429): the member's texts quota (codeSendsPerHour
	// sign-in codes or resent invitations in an hour) is used up.
	ErrResendQuota = page.NewError("auth: member's text quota used up", http.StatusTooManyRequests, "resend_quota", "auth.inv_err_quota")
	// ErrNotResendable (409): the invitation on this channel is neither
	// failed nor uncertain (sent, not yet tried, or being sent now).
	ErrNotResendable = page.NewError("auth: invitation not failed or uncertain", http.StatusConflict, "not_resendable", "auth.inv_err_not_resendable")
	// ErrNoContact (409): no personal mobile / email frozen for the
	// ballot, or no mail sender configured.
	ErrNoContact = page.NewError("auth: no usable contact on this channel", http.StatusConflict, "no_contact", "auth.inv_err_no_contact")
	// ErrBallotNotOpen (409): the ballot is not open (or has closed).
	ErrBallotNotOpen = page.NewError("auth: ballot not open", http.StatusConflict, "ballot_not_open", "auth.inv_err_closed")
)

// ResendError is a refusal with the time to wait.
type ResendError struct {
	Err        error // ErrResendTooSoon or ErrResendQuota
	RetryAfter time.Duration
}

func (e *ResendError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.RetryAfter.Round(time.Second))
}
func (e *ResendError) Unwrap() error { return e.Err }

// Problem is Err's answer with the time to wait.
func (e *ResendError) Problem() page.Problem {
	p, _ := page.ProblemOf(e.Err)
	p.RetryAfter = e.RetryAfter
	return p
}

// ResendInvitation sends a member's invitation again on channel ("sms"
// or "email"), for the scrutineer, when the send on that channel failed or
// is uncertain: at most once per member every ResendGap, and a text only
// within the member's texts quota (codeSendsPerHour sign-in codes and
// resent invitations per hour). It goes to the contacts frozen at the
// opening, through the sending path of IssueInvitations, with the same
// link (the token is derived from ballot, member and generation: the
// earlier message's link still works; nothing is revoked). The request is
// appended to the hash-chained audit log (invitation.resend) before the
// send and its outcome after it (invitation.resend_result); the outcome
// (DeliverySent, DeliveryFailed or DeliveryUncertain) is also kept on the
// invitation row.
func (s *Service) ResendInvitation(ctx context.Context, by StaffIdentity, ballotID, memberID int64, channel string) (string, error) {
	if by.Role != RoleScrutineer {
		return "", ErrNotAllowed
	}
	if channel != channelSMS && channel != channelEmail {
		return "", fmt.Errorf("resend invitation: channel %q: %w", channel, ErrNotResendable)
	}
	b, err := s.ballotHeader(ctx, ballotID)
	if err != nil {
		return "", err
	}
	now := s.now()
	if !b.open(now) {
		return "", ErrBallotNotOpen
	}
	list, err := s.deliveryMembers(ctx, ballotID, memberID)
	if err != nil {
		return "", err
	}
	if len(list) != 1 {
		return "", ErrInvalidLink // not on the register
	}
	x := list[0]
	if x.resentAt != nil && now.Sub(*x.resentAt) < ResendGap {
		return "", &ResendError{Err: ErrResendTooSoon, RetryAfter: x.resentAt.Add(ResendGap).Sub(now)}
	}
	state := x.smsState(b, now)
	if channel == channelEmail {
		state = x.emailState(b, now)
	}
	switch {
	case state == DeliveryNone || state == DeliveryEmployer || (channel == channelEmail && s.mail == nil):
		return "", ErrNoContact
	case !x.hasInvite || (state != DeliveryFailed && state != DeliveryUncertain):
		return "", ErrNotResendable
	}
	if channel == channelSMS {
		if err := s.resendQuota(ctx, memberID, now); err != nil {
			return "", err
		}
	}

	// Claim the row for this send, atomically with the 10-minute rule and
	// the state (a concurrent resend or IssueInvitations run loses), and
	// audit the request in the same transaction.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("resend invitation: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	q := `UPDATE auth_invitations SET sms_sent_at = NULL, sms_uncertain_at = NULL, sms_claimed_at = $4, sms_attempts = sms_attempts + 1,
			resent_at = $4, resends = resends + 1, resend_channel = 'sms', resend_outcome = NULL
			WHERE ballot_id = $1 AND member_id = $2 AND generation = $3 AND revoked_at IS NULL
			AND (resent_at IS NULL OR resent_at <= $5)
			AND (sms_uncertain_at IS NOT NULL OR (sms_sent_at IS NULL AND sms_attempts > 0 AND (sms_claimed_at IS NULL OR sms_claimed_at < $6)))`
	lease := smsLease
	if channel == channelEmail {
		q = `UPDATE auth_invitations SET email_sent_at = NULL, email_uncertain_at = NULL, email_claimed_at = $4, email_attempts = email_attempts + 1,
			resent_at = $4, resends = resends + 1, resend_channel = 'email', resend_outcome = NULL
			WHERE ballot_id = $1 AND member_id = $2 AND generation = $3 AND revoked_at IS NULL
			AND (resent_at IS NULL OR resent_at <= $5)
			AND (email_uncertain_at IS NOT NULL OR (email_sent_at IS NULL AND email_attempts > 0 AND (email_claimed_at IS NULL OR email_claimed_at < $6)))`
		lease = emailLease
	}
	args := []any{ballotID, memberID, x.gen, now, now.Add(-ResendGap), now.Add(-lease)}
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return "", fmt.Errorf("resend invitation: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return "", ErrNotResendable // changed meanwhile: another resend or run got there first
	}
	if err := audit.Append(ctx, tx, by.actor(), "invitation.resend", &ballotID,
		map[string]any{"member": memberID, "channel": channel, "was": state}); err != nil {
		return "", fmt.Errorf("resend invitation: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("resend invitation: %w", err)
	}

	// The send, exactly as IssueInvitations does it.
	var rep IssueReport
	if channel == channelSMS {
		body := s.invitationText(b.Union, b.Title, b.TitleCy, x.lang, *b.ClosesAt, s.inviteURL(s.inviteToken(ballotID, memberID, x.gen)))
		s.sendClaimedText(ctx, &rep, ballotID, memberID, x.gen, sms.Message{To: x.mobile, Body: body, StatusCallback: s.smsCB})
	} else {
		codeByEmail := x.mobile == "" || contains(b.workPhones, x.mobile)
		s.sendClaimedEmail(ctx, &rep, invitationEmail{ballotID: ballotID, memberID: memberID, gen: x.gen, to: x.email,
			union: b.Union, title: b.Title, titleCy: b.TitleCy, lang: x.lang, closes: *b.ClosesAt, codeByEmail: codeByEmail})
	}
	outcome := DeliverySent
	switch {
	case rep.SMSFailed+rep.EmailFailed > 0:
		outcome = DeliveryFailed
	case rep.SMSUncertain+rep.EmailUncertain > 0:
		outcome = DeliveryUncertain
	}
	bg := context.WithoutCancel(ctx)
	if err := s.recordResend(bg, by, ballotID, memberID, x.gen, channel, outcome); err != nil {
		return outcome, err
	}
	s.log.InfoContext(ctx, "invitation sent again", "ballot_id", ballotID, "member_id", memberID, "channel", channel,
		"outcome", outcome, "staff_id", by.ID)
	return outcome, nil
}

// resendQuota applies the member's texts quota to a text resend: refused
// when the member was sent codeSendsPerHour sign-in codes in the last hour
// (the code quota, sliding), or already had codeSendsPerHour invitations
// resent in this hour (a fixed window in auth_rate_limits).
func (s *Service) resendQuota(ctx context.Context, memberID int64, now time.Time) error {
	var n int
	var oldest *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM auth_otp_codes WHERE subject = $1 AND created_at > $2`,
		memberSubject(memberID), now.Add(-time.Hour)).Scan(&n, &oldest); err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	if n >= codeSendsPerHour && oldest != nil {
		return &ResendError{Err: ErrResendQuota, RetryAfter: oldest.Add(time.Hour).Sub(now)}
	}
	err := s.allow(ctx, subjectLimit("invite_resend", memberSubject(memberID), Rate{codeSendsPerHour, time.Hour}))
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return &ResendError{Err: ErrResendQuota, RetryAfter: rl.RetryAfter}
	}
	return err
}

// recordResend keeps the outcome on the invitation row and appends it to
// the audit log.
func (s *Service) recordResend(ctx context.Context, by StaffIdentity, ballotID, memberID int64, gen int, channel, outcome string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `UPDATE auth_invitations SET resend_outcome = $4 WHERE ballot_id = $1 AND member_id = $2 AND generation = $3`,
		ballotID, memberID, gen, outcome); err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	if err := audit.Append(ctx, tx, by.actor(), "invitation.resend_result", &ballotID,
		map[string]any{"member": memberID, "channel": channel, "outcome": outcome}); err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	return nil
}
