package outreach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/web/page"
)

// Volunteer is a signed-in volunteer with their campaign.
type Volunteer struct {
	ID, StaffID      int64
	Name             string
	ScopeKind, Scope string
	ConductAccepted  bool
	Campaign         Campaign
	BallotOpen       bool
	BallotTitle      string
	BallotClosesAt   *time.Time
	ClaimTTL         time.Duration
	BatchSize        int
	unionID          int64
}

// Me loads the volunteer of the signed-in staff account (role volunteer);
// ErrForbidden for anyone else.
func (s *Service) Me(ctx context.Context, st page.Staff) (*Volunteer, error) {
	if st.Role != "volunteer" {
		return nil, ErrForbidden
	}
	v := Volunteer{StaffID: st.ID, ClaimTTL: s.cfg.ClaimTTL, BatchSize: s.cfg.BatchSize}
	var accepted *time.Time
	var cid int64
	err := s.pool.QueryRow(ctx, `SELECT id, campaign_id, display_name, scope_kind, scope, conduct_accepted_at FROM outreach_volunteers
		WHERE staff_id = $1`, st.ID).Scan(&v.ID, &cid, &v.Name, &v.ScopeKind, &v.Scope, &accepted)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrForbidden
	}
	if err != nil {
		return nil, fmt.Errorf("read volunteer: %w", err)
	}
	v.ConductAccepted = accepted != nil
	if v.Campaign, err = s.campaign(ctx, cid); err != nil {
		return nil, err
	}
	b, err := s.ballots.AdminBallot(ctx, v.Campaign.BallotID, st.UnionID)
	if err != nil {
		// The campaign's ballot is not of the volunteer's union: never.
		return nil, fmt.Errorf("read volunteer's ballot: %w", err)
	}
	v.unionID = b.UnionID
	v.Campaign.UnionID = b.UnionID
	v.BallotTitle, v.BallotClosesAt = b.Title, b.ClosesAt
	v.BallotOpen = b.Status == "open" && (b.ClosesAt == nil || s.now().Before(*b.ClosesAt))
	return &v, nil
}

// live reports whether the volunteer may claim, text and tag now.
func (v *Volunteer) live() error {
	if !v.ConductAccepted {
		return ErrConduct
	}
	if v.Campaign.Closed || !v.BallotOpen {
		return ErrClosed
	}
	return nil
}

// access writes a volunteer's access (or refused attempt) to the audit
// log and, for a refusal, the service log. Detail holds ids only.
func (s *Service) access(ctx context.Context, tx pgx.Tx, v *Volunteer, action string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["campaign"], detail["volunteer"] = v.Campaign.ID, v.ID
	return audit.Append(ctx, tx, fmt.Sprintf("volunteer:%d", v.StaffID), "outreach."+action, &v.Campaign.BallotID, detail)
}

// refuse logs and audits a refused volunteer action and returns err.
func (s *Service) refuse(ctx context.Context, v *Volunteer, action string, conv int64, err error) error {
	code := "error"
	if pr, ok := page.ProblemOf(err); ok {
		code = pr.Code
	}
	s.log.WarnContext(ctx, "outreach refused", "action", action, "volunteer", v.ID, "campaign", v.Campaign.ID,
		"conversation", conv, "reason", code)
	bg := context.WithoutCancel(ctx)
	tx, txErr := s.pool.Begin(bg)
	if txErr == nil {
		defer tx.Rollback(bg)
		if s.access(bg, tx, v, "refused", map[string]any{"action": action, "conversation": conv, "reason": code}) == nil {
			_ = tx.Commit(bg)
		}
	}
	return err
}

// AcceptConduct records that the volunteer accepted the code of conduct.
func (s *Service) AcceptConduct(ctx context.Context, st page.Staff) error {
	v, err := s.Me(ctx, st)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("accept conduct: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `UPDATE outreach_volunteers SET conduct_accepted_at = coalesce(conduct_accepted_at, $2) WHERE id = $1`,
		v.ID, s.now()); err != nil {
		return fmt.Errorf("accept conduct: %w", err)
	}
	if err := s.access(ctx, tx, v, "conduct_accepted", nil); err != nil {
		return fmt.Errorf("accept conduct: %w", err)
	}
	return tx.Commit(ctx)
}

// Claim tops the volunteer's batch up to the batch size with members of
// the campaign's pool in the volunteer's branch or workplace. scope, if
// not empty, is the branch or workplace asked for: anything but the
// volunteer's own is ErrOutsideScope. Members are taken in register
// order (member id). It returns how many were claimed.
func (s *Service) Claim(ctx context.Context, st page.Staff, scope string) (int, error) {
	v, err := s.Me(ctx, st)
	if err != nil {
		return 0, err
	}
	if scope != "" && scope != v.Scope {
		return 0, s.refuse(ctx, v, "claim", 0, ErrOutsideScope)
	}
	if err := v.live(); err != nil {
		return 0, s.refuse(ctx, v, "claim", 0, err)
	}
	now := s.now()
	c := v.Campaign
	people, err := s.reg.People(ctx, c.BallotID, nil)
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	var inScope []int64
	for id, p := range people {
		if (v.ScopeKind == "branch" && p.Branch == v.Scope) || (v.ScopeKind == "workplace" && p.Workplace == v.Scope) {
			inScope = append(inScope, id)
		}
	}
	if len(inScope) == 0 {
		return 0, nil
	}
	slices.Sort(inScope)
	var marked map[int64]bool
	if c.Source == SourceTurnout {
		if marked, err = s.marked(ctx, c.BallotID); err != nil {
			return 0, fmt.Errorf("claim: %w", err)
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Claims of one campaign are serialised: no member in two live claims.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(1735354, ($1 % 2147483647)::int)`, c.ID); err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	if c.Source == SourceTurnout {
		ok, err := approved(ctx, tx, c.BallotID)
		if err != nil {
			return 0, fmt.Errorf("claim: %w", err)
		}
		if !ok {
			return 0, s.refuse(ctx, v, "claim", 0, ErrNoApproval)
		}
	}
	var held int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM outreach_conversations WHERE volunteer_id = $1 AND first_sent_at IS NULL AND expires_at > $2`,
		v.ID, now).Scan(&held); err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	want := s.cfg.BatchSize - held
	if want <= 0 {
		return 0, nil
	}
	// Taken: texted, or claimed and not lapsed, in this campaign; reported
	// voted in any campaign of the ballot.
	rows, err := tx.Query(ctx, `SELECT member_id FROM outreach_conversations WHERE campaign_id = $1 AND (first_sent_at IS NOT NULL OR expires_at > $2)
		UNION SELECT cv.member_id FROM outreach_conversations cv JOIN outreach_tags t ON t.conversation_id = cv.id AND t.tag IN ('voted', 'opt_out', 'wrong_number')
		WHERE cv.ballot_id = $3`, c.ID, now, c.BallotID)
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	skip := map[int64]bool{}
	for _, id := range taken {
		skip[id] = true
	}
	var cands []int64
	for _, id := range inScope {
		if !skip[id] && !marked[id] {
			cands = append(cands, id)
		}
	}
	// Reachability (a frozen number, not opted out) is read only for as
	// many candidates as the batch needs, a chunk at a time: reading it
	// unseals each member's contact, the costly part of a claim from a
	// large branch (docs/benchmarks.md).
	var pool []int64
	for i := 0; i < len(cands) && len(pool) < want; i += 2 * want {
		part := cands[i:min(i+2*want, len(cands))]
		reach, err := s.texter.Reachable(ctx, c.BallotID, part)
		if err != nil {
			return 0, fmt.Errorf("claim: %w", err)
		}
		for _, id := range part {
			if reach[id] && len(pool) < want {
				pool = append(pool, id)
			}
		}
	}
	for _, id := range pool {
		if _, err := tx.Exec(ctx, `INSERT INTO outreach_conversations (campaign_id, ballot_id, member_id, volunteer_id, workplace, claimed_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (campaign_id, member_id) DO UPDATE SET volunteer_id = excluded.volunteer_id, workplace = excluded.workplace,
				claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
			WHERE outreach_conversations.first_sent_at IS NULL AND outreach_conversations.expires_at <= $6`,
			c.ID, c.BallotID, id, v.ID, people[id].Workplace, now, now.Add(s.cfg.ClaimTTL)); err != nil {
			return 0, fmt.Errorf("claim: %w", err)
		}
	}
	if err := s.access(ctx, tx, v, "claim", map[string]any{"claimed": len(pool)}); err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	return len(pool), nil
}

// Summary is one conversation in a volunteer's batch.
type Summary struct {
	ID        int64
	FirstName string
	Workplace string
	Sent      bool      // the script was sent
	ExpiresAt time.Time // for an unsent claim
	Replies   int
	Tags      []string
}

// Batch lists the volunteer's live claims and the conversations they
// started, newest first. First name and workplace only.
func (s *Service) Batch(ctx context.Context, st page.Staff) (*Volunteer, []Summary, error) {
	v, err := s.Me(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT cv.id, cv.member_id, cv.workplace, cv.first_sent_at IS NOT NULL, cv.expires_at,
		(SELECT count(*) FROM outreach_messages m WHERE m.conversation_id = cv.id AND m.direction = 'in'),
		coalesce((SELECT array_agg(t.tag ORDER BY t.tag) FROM outreach_tags t WHERE t.conversation_id = cv.id), '{}')
		FROM outreach_conversations cv WHERE cv.volunteer_id = $1 AND (cv.first_sent_at IS NOT NULL OR cv.expires_at > $2)
		ORDER BY cv.first_sent_at IS NOT NULL, cv.claimed_at DESC, cv.id`, v.ID, s.now())
	if err != nil {
		return nil, nil, fmt.Errorf("read batch: %w", err)
	}
	var out []Summary
	var ids []int64
	member := map[int64]int64{}
	for rows.Next() {
		var x Summary
		var mid int64
		if err := rows.Scan(&x.ID, &mid, &x.Workplace, &x.Sent, &x.ExpiresAt, &x.Replies, &x.Tags); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read batch: %w", err)
		}
		out = append(out, x)
		ids = append(ids, mid)
		member[x.ID] = mid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read batch: %w", err)
	}
	if len(ids) > 0 {
		people, err := s.reg.People(ctx, v.Campaign.BallotID, ids)
		if err != nil {
			return nil, nil, fmt.Errorf("read batch: %w", err)
		}
		for i := range out {
			out[i].FirstName = people[member[out[i].ID]].FirstName
		}
	}
	return v, out, nil
}

// Message is one text of a conversation.
type Message struct {
	Out  bool
	Body string
	At   time.Time
}

// Conversation is what a volunteer sees of one member.
type Conversation struct {
	Summary
	Messages []Message
	memberID int64
	ballotID int64
	expired  bool
}

// conversation reads conversation id of volunteer v (ErrNotFound for
// another volunteer's or another campaign's).
func (s *Service) conversation(ctx context.Context, v *Volunteer, id int64) (*Conversation, error) {
	c := Conversation{}
	var sent *time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, member_id, ballot_id, workplace, first_sent_at, expires_at,
		coalesce((SELECT array_agg(t.tag ORDER BY t.tag) FROM outreach_tags t WHERE t.conversation_id = cv.id), '{}')
		FROM outreach_conversations cv WHERE id = $1 AND volunteer_id = $2 AND campaign_id = $3`, id, v.ID, v.Campaign.ID).
		Scan(&c.ID, &c.memberID, &c.ballotID, &c.Workplace, &sent, &c.ExpiresAt, &c.Tags)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read conversation: %w", err)
	}
	c.Sent = sent != nil
	c.expired = !c.Sent && !s.now().Before(c.ExpiresAt)
	return &c, nil
}

// Conversation shows one conversation of the volunteer (audited as an
// access). A lapsed claim is ErrExpired.
func (s *Service) Conversation(ctx context.Context, st page.Staff, id int64) (*Volunteer, *Conversation, error) {
	v, err := s.Me(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.conversation(ctx, v, id)
	if err != nil {
		return v, nil, s.refuse(ctx, v, "view", id, err)
	}
	if c.expired {
		return v, nil, s.refuse(ctx, v, "view", id, ErrExpired)
	}
	people, err := s.reg.People(ctx, c.ballotID, []int64{c.memberID})
	if err != nil {
		return v, nil, fmt.Errorf("read conversation: %w", err)
	}
	c.FirstName = people[c.memberID].FirstName
	rows, err := s.pool.Query(ctx, `SELECT direction = 'out', body, at FROM outreach_messages WHERE conversation_id = $1 ORDER BY id`, id)
	if err != nil {
		return v, nil, fmt.Errorf("read conversation: %w", err)
	}
	c.Messages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
		var m Message
		err := r.Scan(&m.Out, &m.Body, &m.At)
		return m, err
	})
	if err != nil {
		return v, nil, fmt.Errorf("read conversation: %w", err)
	}
	for _, m := range c.Messages {
		if !m.Out {
			c.Replies++
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return v, nil, fmt.Errorf("read conversation: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := s.access(ctx, tx, v, "view", map[string]any{"conversation": id}); err != nil {
		return v, nil, fmt.Errorf("read conversation: %w", err)
	}
	return v, c, tx.Commit(ctx)
}

// Send texts the campaign's script to the member of conversation id: one
// message per call (one press). Refused, with nothing sent, when the claim
// lapsed, the script was already sent, the member reported voting, or the
// shared limits say no (gotv's refusals: quiet hours, caps, opted out,
// voted per the marked register for turnout campaigns).
func (s *Service) Send(ctx context.Context, st page.Staff, id int64) error {
	return s.text(ctx, st, id, "")
}

// Reply sends a canned reply (one of [Canned]; English then Welsh, from
// the catalogue) in a conversation the volunteer started. Not counted
// against the caps (the member wrote or was already texted), but subject
// to quiet hours, opt-outs and voted.
func (s *Service) Reply(ctx context.Context, st page.Staff, id int64, canned string) error {
	if !slices.Contains(Canned, canned) {
		return ErrInvalid
	}
	return s.text(ctx, st, id, canned)
}

func (s *Service) text(ctx context.Context, st page.Staff, id int64, canned string) error {
	v, err := s.Me(ctx, st)
	if err != nil {
		return err
	}
	action := "send"
	if canned != "" {
		action = "reply"
	}
	if err := v.live(); err != nil {
		return s.refuse(ctx, v, action, id, err)
	}
	c, err := s.conversation(ctx, v, id)
	if err != nil {
		return s.refuse(ctx, v, action, id, err)
	}
	switch {
	case c.expired:
		return s.refuse(ctx, v, action, id, ErrExpired)
	case canned == "" && c.Sent:
		return s.refuse(ctx, v, action, id, ErrAlreadySent)
	case canned != "" && !c.Sent:
		return s.refuse(ctx, v, action, id, ErrNotStarted)
	}
	var voted bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outreach_conversations cv JOIN outreach_tags t ON t.conversation_id = cv.id
		WHERE cv.ballot_id = $1 AND cv.member_id = $2 AND t.tag IN ('voted', 'opt_out', 'wrong_number'))`, c.ballotID, c.memberID).Scan(&voted); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if voted {
		return s.refuse(ctx, v, action, id, ErrVoted)
	}
	var body string
	if canned == "" {
		people, err := s.reg.People(ctx, c.ballotID, []int64{c.memberID})
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		body = render(v.Campaign.Script, people[c.memberID].FirstName, v.Name)
	} else {
		body = s.cannedBody(canned)
	}
	mid, err := s.texter.SendDirect(ctx, gotv.Direct{BallotID: c.ballotID, MemberID: c.memberID, Body: body,
		CheckTurnout: v.Campaign.Source == SourceTurnout, Capped: canned == ""})
	if err != nil {
		var pe *page.Error
		if errors.As(err, &pe) {
			return s.refuse(ctx, v, action, id, err)
		}
		return fmt.Errorf("send: %w", err)
	}
	contact, err := s.reg.Contact(ctx, c.ballotID, c.memberID)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `UPDATE outreach_conversations SET first_sent_at = coalesce(first_sent_at, $2), number_mac = $3 WHERE id = $1`,
		id, now, s.numberMAC(contact.Mobile)); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outreach_messages (conversation_id, direction, body, gotv_message_id, at) VALUES ($1, 'out', $2, $3, $4)`,
		id, body, mid, now); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := s.access(ctx, tx, v, action, map[string]any{"conversation": id, "message": mid}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return tx.Commit(ctx)
}

// cannedBody is a canned reply as the member receives it: English, then
// Welsh.
func (s *Service) cannedBody(name string) string {
	en, cy := cannedText["en"][name], cannedText["cy"][name]
	if s.pages != nil {
		en, cy = s.pages.T("en", "outreach.canned."+name+".sms"), s.pages.T("cy", "outreach.canned."+name+".sms")
	}
	return en + "\n\n" + cy
}

// Tag puts a tag on a conversation the volunteer holds. "opt_out" stops
// every text of the union to the member's number; "postal_pack" and
// "wrong_number" add an item to the organiser's queue.
func (s *Service) Tag(ctx context.Context, st page.Staff, id int64, tag string) error {
	if !slices.Contains(Tags, tag) {
		return ErrInvalid
	}
	v, err := s.Me(ctx, st)
	if err != nil {
		return err
	}
	if err := v.live(); err != nil {
		return s.refuse(ctx, v, "tag", id, err)
	}
	c, err := s.conversation(ctx, v, id)
	if err != nil {
		return s.refuse(ctx, v, "tag", id, err)
	}
	if c.expired {
		return s.refuse(ctx, v, "tag", id, ErrExpired)
	}
	if tag == "opt_out" {
		if err := s.texter.OptOutMember(ctx, c.ballotID, c.memberID); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `INSERT INTO outreach_tags (conversation_id, tag, tagged_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		id, tag, now); err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	if queued[tag] {
		if _, err := tx.Exec(ctx, `INSERT INTO outreach_queue (conversation_id, tag, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			id, tag, now); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
	}
	if err := s.access(ctx, tx, v, "tag", map[string]any{"conversation": id, "tag": tag}); err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	return tx.Commit(ctx)
}
