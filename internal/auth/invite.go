package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/sms"
)

// Invitation is what a personal link resolves to.
type Invitation struct {
	BallotID, MemberID int64
	ExpiresAt          time.Time
}

// IssueReport counts what [Service.IssueInvitations] did.
type IssueReport struct {
	Members   int // on the register
	Issued    int // new invitations this call
	SMSSent   int // texts sent this call
	NoMobile  int // members without a personal mobile (no text possible)
	SMSFailed int // sends that failed (retry by calling again)
	// SMSUncertain counts texts whose outcome is unknown (the sender could
	// not say whether the provider took the message): recorded as sent and
	// never texted again automatically, at most once.
	SMSUncertain int
	// EmailSent counts invitation emails accepted by the mail server this
	// call; EmailFailed those that failed (retried by calling again);
	// EmailUncertain those whose outcome is unknown (the server's answer
	// was lost after the message was handed over: never sent again
	// automatically, at most once); EmailEmployer the members whose email
	// is at one of the union's employer domains (not used: credentials go
	// to personal contacts only).
	EmailSent, EmailFailed, EmailUncertain, EmailEmployer int
	// EmailPending counts members with an email address when no mail
	// sender is configured (EBALLOT_MAIL_PROVIDER=none): nothing is sent.
	EmailPending int
}

// inviteToken derives the personal token of (ballot, member, generation):
// 256 bits, HMAC-SHA-256 under a key derived from EBALLOT_SECRET_KEY. Only
// its SHA-256 is stored; deriving it again lets reminders embed the link
// without the database ever holding it.
func (s *Service) inviteToken(ballotID, memberID int64, gen int) string {
	return base64.RawURLEncoding.EncodeToString(mac(s.inviteKey, "invitation",
		strconv.FormatInt(ballotID, 10), strconv.FormatInt(memberID, 10), strconv.Itoa(gen)))
}

func (s *Service) inviteURL(token string) string { return s.origin + "/i/" + token }

// IssueInvitations gives every member on the ballot's frozen register a
// personal link expiring at the ballot's close, texts it to those not yet
// texted, and emails it (English and Welsh) to those with a personal
// email not yet emailed. It is idempotent: calling it again issues nothing
// twice and only retries texts and emails that failed; a text and an
// email are each sent at most once, even by concurrent calls (a claimed
// row, see migrations/0008_auth_email.sql). Employer phones and employer email
// domains of the union are never used. The election module calls it at
// open. Messages go out one by one: for a large register call it from a
// background job (it can be re-run after an interruption).
func (s *Service) IssueInvitations(ctx context.Context, ballotID int64) (IssueReport, error) {
	var rep IssueReport
	h, err := s.ballots.Heading(ctx, ballotID)
	if errors.Is(err, election.ErrNotFound) {
		return rep, fmt.Errorf("issue invitations: ballot %d: %w", ballotID, ErrInvalidLink)
	}
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	title, titleCy, unionName, status, closes := h.Title, h.TitleCy, h.Union, h.Status, h.ClosesAt
	workPhones, employerDomains := h.WorkPhones, h.EmployerDomains
	now := s.now()
	if status != "open" {
		// Nothing before the notified opening (a "scheduled" ballot): no
		// link, text or email goes out until the scheduler opens it.
		return rep, fmt.Errorf("issue invitations: ballot %d is %s, not open: %w", ballotID, status, ErrBallotNotOpen)
	}
	if closes == nil || !closes.After(now) {
		return rep, fmt.Errorf("issue invitations: ballot %d has no close time in the future", ballotID)
	}
	type row struct {
		memberID       int64
		mobile         *string
		email          *string
		lang           string
		hasInvite      bool
		gen            int
		textedAlready  bool
		emailedAlready bool
	}
	lines, err := s.reg.Lines(ctx, ballotID, 0)
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	// The current invitation (latest generation not revoked) of each.
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (member_id) member_id, generation, sms_sent_at IS NOT NULL, email_sent_at IS NOT NULL
		FROM auth_invitations WHERE ballot_id = $1 AND revoked_at IS NULL ORDER BY member_id, generation DESC`, ballotID)
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	invites, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		x := row{hasInvite: true}
		err := r.Scan(&x.memberID, &x.gen, &x.textedAlready, &x.emailedAlready)
		return x, err
	})
	if err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	byMember := make(map[int64]row, len(invites))
	for _, x := range invites {
		byMember[x.memberID] = x
	}
	// In member order, as the texts have always gone out.
	sort.Slice(lines, func(i, j int) bool { return lines[i].MemberID < lines[j].MemberID })
	list := make([]row, len(lines))
	for i, l := range lines {
		x, ok := byMember[l.MemberID]
		if !ok {
			x = row{memberID: l.MemberID, gen: 1}
		}
		mobile, email := l.Mobile, l.Email
		x.mobile, x.email, x.lang = &mobile, &email, l.Lang // "" is no contact, as nil
		list[i] = x
	}
	rep.Members = len(list)
	// Contacts frozen at the opening, not the members' current ones.
	ids := make([]int64, len(list))
	at := make(map[int64]int, len(list))
	for i, x := range list {
		ids[i], at[x.memberID] = x.memberID, i
	}
	if err := s.ballotContacts(ctx, ballotID, ids, func(id int64, c Contact) {
		list[at[id]].mobile, list[at[id]].email, list[at[id]].lang = &c.Mobile, &c.Email, c.Lang
	}); err != nil {
		return rep, fmt.Errorf("issue invitations: %w", err)
	}
	b := &pgx.Batch{}
	for _, x := range list {
		if !x.hasInvite {
			tok := s.inviteToken(ballotID, x.memberID, x.gen)
			b.Queue(`INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, sha([]byte(tok)), ballotID, x.memberID, x.gen, now, *closes)
			rep.Issued++
		}
	}
	if b.Len() > 0 {
		if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
			return rep, fmt.Errorf("issue invitations: %w", err)
		}
	}
	for _, x := range list {
		if x.email != nil && *x.email != "" && !x.emailedAlready {
			// Without a personal mobile the sign-in code goes by email
			// too (memberDest): the email says so.
			codeByEmail := x.mobile == nil || *x.mobile == "" || contains(workPhones, *x.mobile)
			s.emailInvitation(ctx, &rep, invitationEmail{ballotID: ballotID, memberID: x.memberID, gen: x.gen, to: *x.email,
				union: unionName, title: title, titleCy: titleCy, lang: x.lang, closes: *closes, codeByEmail: codeByEmail}, employerDomains)
		}
		if x.mobile == nil || *x.mobile == "" || contains(workPhones, *x.mobile) {
			rep.NoMobile++
			continue
		}
		if x.textedAlready {
			continue
		}
		if err := ctx.Err(); err != nil { // stopped: the rest go out on the next run
			return rep, fmt.Errorf("issue invitations: %w", err)
		}
		body := s.invitationText(unionName, title, titleCy, x.lang, *closes, s.inviteURL(s.inviteToken(ballotID, x.memberID, x.gen)))
		s.textInvitation(ctx, &rep, ballotID, x.memberID, x.gen, sms.Message{To: *x.mobile, Body: body, StatusCallback: s.smsCB})
	}
	s.log.InfoContext(ctx, "invitations issued", "ballot_id", ballotID, "members", rep.Members, "issued", rep.Issued,
		"sms_sent", rep.SMSSent, "no_mobile", rep.NoMobile, "sms_failed", rep.SMSFailed, "sms_uncertain", rep.SMSUncertain,
		"email_sent", rep.EmailSent, "email_failed", rep.EmailFailed, "email_uncertain", rep.EmailUncertain,
		"email_employer", rep.EmailEmployer, "email_pending", rep.EmailPending)
	return rep, nil
}

// maxAutoAttempts is how many times IssueInvitations tries one text or one
// email of an invitation whose failures were temporary (provider or server
// unavailable) before it stops and leaves it to the scrutineer's delivery
// page.
const maxAutoAttempts = 5

// PendingInvitations lists the open ballots (before their close) that have
// invitation work an IssueInvitations run would do: members on the register
// with no invitation yet (a ballot just opened), or a text or an email that
// failed for a temporary reason, fewer than maxAutoAttempts times, and is
// not claimed by a live run. It reads no contact details, so it is cheap
// to call every minute.
func (s *Service) PendingInvitations(ctx context.Context) ([]int64, error) {
	now := s.now()
	heads, err := s.ballots.OpenBallots(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending invitations: %w", err)
	}
	var open []int64
	for _, h := range heads {
		if h.ClosesAt != nil && h.ClosesAt.After(now) {
			open = append(open, h.ID)
		}
	}
	if len(open) == 0 {
		return nil, nil
	}
	// A ballot still needs invitations while fewer of its members hold
	// a current one than are on its register (invitations are issued only
	// to members on the register, frozen since the opening).
	entitled, err := s.reg.Entitled(ctx, open)
	if err != nil {
		return nil, fmt.Errorf("pending invitations: %w", err)
	}
	counts := make([]int64, len(open))
	for i, id := range open {
		counts[i] = int64(entitled[id])
	}
	rows, err := s.pool.Query(ctx, `SELECT b.id FROM unnest($1::bigint[], $2::bigint[]) AS b(id, entitled) WHERE
		(SELECT count(DISTINCT i.member_id) FROM auth_invitations i WHERE i.ballot_id = b.id AND i.revoked_at IS NULL) < b.entitled
		OR EXISTS (SELECT 1 FROM auth_invitations i WHERE i.ballot_id = b.id AND i.revoked_at IS NULL AND (
			(i.sms_sent_at IS NULL AND i.sms_error IN ('unavailable', 'error') AND i.sms_attempts < $3
				AND (i.sms_claimed_at IS NULL OR i.sms_claimed_at < $4))
			OR (i.email_sent_at IS NULL AND i.email_error IN ('unavailable', 'error', 'auth') AND i.email_attempts < $3
				AND (i.email_claimed_at IS NULL OR i.email_claimed_at < $5))))
		ORDER BY b.id`, open, counts, maxAutoAttempts, now.Add(-smsLease), now.Add(-emailLease))
	if err != nil {
		return nil, fmt.Errorf("pending invitations: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// smsLease is how long a claimed invitation text is left to its sender
// before another IssueInvitations run may try it (a run that died between
// its claim and its record): far longer than one provider call.
const smsLease = 10 * time.Minute

// textInvitation texts one member's personal link, at most once, as
// emailInvitation emails it: the invitation row is claimed first
// (sms_claimed_at, a lease, so a concurrent run skips it), marked sent
// when the provider accepts the message or when the outcome is uncertain,
// and released for the next run to retry when the provider did not take
// it. The number and the body are never logged.
//
// sms.ErrUncertain (the request reached the provider, no answer came
// back) is uncertain: recorded as sent with sms_uncertain_at, never
// retried. The other sms sentinels mean "not accepted" (ErrUnavailable:
// "retry later"); any other error — one that wraps none of them, so the
// sender cannot say what happened — is uncertain too.
func (s *Service) textInvitation(ctx context.Context, rep *IssueReport, ballotID, memberID int64, gen int, m sms.Message) {
	now := s.now()
	// Automatic runs give up on a number the provider refused for good
	// (invalid, opted out, rejected) and after maxAutoAttempts tries; the
	// scrutineer can still send again from the delivery page.
	tag, err := s.pool.Exec(ctx, `UPDATE auth_invitations SET sms_claimed_at = $4, sms_attempts = sms_attempts + 1
		WHERE ballot_id = $1 AND member_id = $2 AND generation = $3 AND revoked_at IS NULL AND sms_sent_at IS NULL
		AND (sms_claimed_at IS NULL OR sms_claimed_at < $5)
		AND sms_attempts < $6 AND coalesce(sms_error, '') NOT IN ('invalid_number', 'opted_out', 'rejected')`,
		ballotID, memberID, gen, now, now.Add(-smsLease), maxAutoAttempts)
	if err != nil {
		rep.SMSFailed++
		s.log.ErrorContext(ctx, "invitation text: claim failed", "ballot_id", ballotID, "member_id", memberID, "err", err)
		return
	}
	if tag.RowsAffected() != 1 {
		return // texted already, or another run is texting it now
	}
	s.sendClaimedText(ctx, rep, ballotID, memberID, gen, m)
}

// sendClaimedText sends the text of an invitation row this run has
// claimed (sms_claimed_at) and records the outcome: sent, uncertain (also
// recorded as sent) or failed (claim released, sms_error says why). The
// scrutineer's resend (delivery.go) claims the row its own way and ends
// here too.
func (s *Service) sendClaimedText(ctx context.Context, rep *IssueReport, ballotID, memberID int64, gen int, m sms.Message) {
	// Recording outlives a cancelled run: a claim must not be left behind
	// because the caller gave up after the provider answered.
	bg := context.WithoutCancel(ctx)
	_, err := s.sms.Send(ctx, m)
	var uncertainAt *time.Time
	switch {
	case err == nil:
		rep.SMSSent++
	case errors.Is(err, sms.ErrUncertain) || !notTaken(ctx, err):
		// The provider may have taken it (sms.ErrUncertain, which also
		// matches sms.ErrUnavailable, so it is tested first; or an error
		// the sender could not classify): recorded as sent and marked
		// uncertain, never sent again automatically.
		rep.SMSUncertain++
		t := s.now()
		uncertainAt = &t
		s.log.WarnContext(ctx, "invitation text outcome uncertain: not sent again", "ballot_id", ballotID, "member_id", memberID, "err", err)
	default:
		// Not accepted (a cancelled run's sender returns before calling
		// the provider): release the claim for the next run.
		rep.SMSFailed++
		s.log.WarnContext(ctx, "invitation text not sent", "ballot_id", ballotID, "member_id", memberID, "err", err)
		if _, uerr := s.pool.Exec(bg, `UPDATE auth_invitations SET sms_claimed_at = NULL, sms_error = $4 WHERE ballot_id = $1 AND member_id = $2 AND generation = $3`,
			ballotID, memberID, gen, smsErrorKind(err)); uerr != nil {
			s.log.ErrorContext(ctx, "invitation text: release failed", "ballot_id", ballotID, "member_id", memberID, "err", uerr)
		}
		return
	}
	if _, err := s.pool.Exec(bg, `UPDATE auth_invitations SET sms_sent_at = $4, sms_claimed_at = NULL, sms_uncertain_at = $5, sms_error = NULL
		WHERE ballot_id = $1 AND member_id = $2 AND generation = $3`,
		ballotID, memberID, gen, s.now(), uncertainAt); err != nil {
		// The claim stays: the lease keeps other runs off it for a while.
		s.log.ErrorContext(ctx, "invitation text: recording the send failed", "ballot_id", ballotID, "member_id", memberID, "err", err)
	}
}

// smsErrorKind is what auth_invitations.sms_error records of a failed
// send: the sentinel, never the provider's text.
func smsErrorKind(err error) string {
	switch {
	case errors.Is(err, sms.ErrOptedOut):
		return "opted_out"
	case errors.Is(err, sms.ErrInvalidNumber):
		return "invalid_number"
	case errors.Is(err, sms.ErrRejected):
		return "rejected"
	case errors.Is(err, sms.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return "error"
}

// notTaken reports whether a send error says the provider did not take
// the message (the sms sentinels other than ErrUncertain, or the run's
// context ending before the call).
func notTaken(ctx context.Context, err error) bool {
	return errors.Is(err, sms.ErrUnavailable) || errors.Is(err, sms.ErrRejected) || errors.Is(err, sms.ErrOptedOut) ||
		errors.Is(err, sms.ErrInvalidNumber) || ctx.Err() != nil && errors.Is(err, ctx.Err())
}

// invitationText is the invitation SMS. A member who gave a preferred
// language on the register (lang "en" or "cy") gets it in that language
// only: in Welsh with the ballot's Welsh title when it has one, and a link
// that opens the pages in Welsh. With no preference: for a bilingual
// ballot (titleCy, its Welsh title, set) English and Welsh, whatever it
// costs: the union chose a bilingual ballot. Otherwise English; with
// Options.BilingualTexts, English and a short Welsh line, but only when
// that takes no more SMS parts (no extra cost) than the English text alone
// (docs/auth.md, "Welsh").
func (s *Service) invitationText(union, title, titleCy, lang string, closes time.Time, link string) string {
	lead := func(lang, title, closes string) string {
		return strings.NewReplacer("{title}", fmt.Sprintf("%q", title), "{closes}", closes).Replace(s.msgs.T(lang, "auth.sms_invite_lead"))
	}
	en := closes.In(london).Format("2 Jan 2006 15:04")
	english := union + ": " + lead("en", title, en) + ": " + link + "\n" + s.msgs.T("en", "auth.sms_invite_keep")
	cyTitle := title
	if titleCy != "" {
		cyTitle = titleCy
	}
	cyLead := lead("cy", cyTitle, closeTime("cy", closes))
	if titleCy != "" { // a bilingual ballot: named in Welsh too
		cyLead = strings.NewReplacer("{title}", fmt.Sprintf("%q", titleCy), "{closes}", closeTime("cy", closes)).
			Replace(s.msgs.T("cy", "auth.sms_invite_lead_titled"))
	}
	switch {
	case lang == "cy": // named, by its Welsh title when it has one
		titled := strings.NewReplacer("{title}", fmt.Sprintf("%q", cyTitle), "{closes}", closeTime("cy", closes)).
			Replace(s.msgs.T("cy", "auth.sms_invite_lead_titled"))
		return union + ": " + titled + ": " + link + "?lang=cy\n" + s.msgs.T("cy", "auth.sms_invite_keep")
	case lang == "en" || (!s.bilingual && titleCy == ""):
		return english
	}
	both := union + ": " + lead("en", title, en) + " / " + cyLead + ": " + link + "\n" +
		s.msgs.T("en", "auth.sms_invite_keep") + " / " + s.msgs.T("cy", "auth.sms_invite_keep")
	if titleCy == "" && sms.Parts(both) > sms.Parts(english) {
		return english
	}
	return both
}

// InvitationURL returns the member's personal link for the ballot, for
// reminders (internal/gotv) to embed, issuing it (without a text) if the
// ballot is open and the member on its register but not yet invited.
// ErrInvalidLink otherwise (not on the register, revoked, or expired).
func (s *Service) InvitationURL(ctx context.Context, ballotID, memberID int64) (string, error) {
	var gen int
	err := s.pool.QueryRow(ctx, `SELECT generation FROM auth_invitations WHERE ballot_id = $1 AND member_id = $2
		AND revoked_at IS NULL AND expires_at > $3 ORDER BY generation DESC LIMIT 1`, ballotID, memberID, s.now()).Scan(&gen)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.issueOne(ctx, ballotID, memberID)
	}
	if err != nil {
		return "", fmt.Errorf("invitation url: %w", err)
	}
	return s.inviteURL(s.inviteToken(ballotID, memberID, gen)), nil
}

// issueOne issues (without texting) the first invitation of a member on
// the register of an open ballot that has none yet; ErrInvalidLink
// otherwise (not on the register, ballot not open, or link revoked or
// expired).
func (s *Service) issueOne(ctx context.Context, ballotID, memberID int64) (string, error) {
	now := s.now()
	tok := s.inviteToken(ballotID, memberID, 1)
	b, err := s.ballots.Heading(ctx, ballotID)
	if errors.Is(err, election.ErrNotFound) || (err == nil && !(ballotHeader{Status: b.Status, ClosesAt: b.ClosesAt}).open(now)) {
		return "", ErrInvalidLink
	}
	if err != nil {
		return "", fmt.Errorf("invitation url: %w", err)
	}
	if _, err := s.reg.Entry(ctx, nil, ballotID, memberID); errors.Is(err, register.ErrNotOnRegister) {
		return "", ErrInvalidLink
	} else if err != nil {
		return "", fmt.Errorf("invitation url: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at)
		SELECT $1, $2, $3, 1, $4, $5
		WHERE NOT EXISTS (SELECT 1 FROM auth_invitations WHERE ballot_id = $2 AND member_id = $3)`, sha([]byte(tok)), ballotID, memberID, now, *b.ClosesAt)
	if err != nil {
		return "", fmt.Errorf("invitation url: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return "", ErrInvalidLink
	}
	return s.inviteURL(tok), nil
}

// RevokeInvitation invalidates the member's current link (e.g. a lost
// phone) and issues a new one, returned (not sent).
func (s *Service) RevokeInvitation(ctx context.Context, ballotID, memberID int64) (string, error) {
	now := s.now()
	var gen int
	var expires time.Time
	err := s.pool.QueryRow(ctx, `UPDATE auth_invitations SET revoked_at = $3 WHERE ballot_id = $1 AND member_id = $2 AND revoked_at IS NULL
		RETURNING generation, expires_at`, ballotID, memberID, now).Scan(&gen, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrInvalidLink
	}
	if err != nil {
		return "", fmt.Errorf("revoke invitation: %w", err)
	}
	tok := s.inviteToken(ballotID, memberID, gen+1)
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, sha([]byte(tok)), ballotID, memberID, gen+1, now, expires); err != nil {
		return "", fmt.Errorf("revoke invitation: %w", err)
	}
	return s.inviteURL(tok), nil
}

// validToken checks the shape of a token (43 base64url characters) before
// any database work.
func validToken(tok string) bool { return validCookieValue(tok) }

// ResolveInvitation maps a personal token to its member and ballot.
// ErrInvalidLink for anything else: malformed, unknown, revoked, expired,
// or a ballot that is not open.
func (s *Service) ResolveInvitation(ctx context.Context, token string) (Invitation, error) {
	if !validToken(token) {
		return Invitation{}, ErrInvalidLink
	}
	var inv Invitation
	err := s.pool.QueryRow(ctx, `SELECT ballot_id, member_id, expires_at FROM auth_invitations
		WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2`,
		sha([]byte(token)), s.now()).Scan(&inv.BallotID, &inv.MemberID, &inv.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invitation{}, ErrInvalidLink
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("resolve invitation: %w", err)
	}
	b, err := s.ballots.Heading(ctx, inv.BallotID)
	if errors.Is(err, election.ErrNotFound) || (err == nil && b.Status != "open") {
		return Invitation{}, ErrInvalidLink
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("resolve invitation: %w", err)
	}
	return inv, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}()
