package refresh

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Segments an organiser picks from (internal/register's).
var Segments = []string{register.SegmentAll, register.SegmentWorkplace, register.SegmentEmployer, register.SegmentUnverified, register.SegmentOneMember}

// Limits of a campaign's form.
const (
	maxMessage  = 320 // two SMS parts at most with the link
	maxLinkDays = 60
)

// Campaign is a refresh campaign of a union.
type Campaign struct {
	ID                 int64
	UnionID            int64
	Segment, Value     string
	MessageEN          string
	MessageCY          string
	PrivacyURL         string
	LinkDays           int
	StartsAt           time.Time
	Members            int // texts and emails queued
	CreatedBy          string
	CreatedAt          time.Time
	CancelledAt        *time.Time
	Opened, Done, Sent int // links opened, members done, texts sent (the campaign page)
	EmailsSent         int // emails sent (the campaign page)
}

// CampaignInput is the organiser's form.
type CampaignInput struct {
	Segment, Value       string
	MessageEN, MessageCY string
	PrivacyURL           string
	LinkDays             int
	StartsAt             time.Time // zero: now
}

// FieldError is a form value refused: the field and the catalogue key of
// the message shown beside it.
type FieldError struct {
	Field string
	Msg   page.Msg
}

func (e *FieldError) Error() string { return "refresh: invalid " + e.Field }

// Problem is the answer when the form is not shown again: 400 with the
// field's message.
func (e *FieldError) Problem() page.Problem {
	p := ErrInvalid.Problem()
	p.Msg = e.Msg
	return p
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func checkMessage(field, s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" || utf8.RuneCountInString(s) > maxMessage || strings.ContainsAny(s, "\x00\x1b") {
		return "", &FieldError{field, page.M("refresh.err.message", maxMessage)}
	}
	return s, nil
}

// Create starts a campaign: the members of the segment who have not
// opted out, one text each in gotv's outbox (members with a mobile) or one
// email each in refresh_emails (members with a personal email and no
// mobile), due from in.StartsAt, each with a personal link made when it
// is sent. Audited ("refresh.campaign").
func (s *Service) Create(ctx context.Context, st page.Staff, in CampaignInput) (*Campaign, error) {
	if st.Role != "organiser" || st.UnionID == 0 {
		return nil, ErrNotFound
	}
	c := &Campaign{UnionID: st.UnionID, Segment: in.Segment, Value: strings.TrimSpace(in.Value), LinkDays: in.LinkDays,
		CreatedBy: st.Actor(), CreatedAt: s.now(), StartsAt: in.StartsAt}
	if !slices.Contains(Segments, c.Segment) {
		return nil, &FieldError{"segment", page.M("refresh.err.segment")}
	}
	switch c.Segment {
	case register.SegmentWorkplace, register.SegmentEmployer:
		if c.Value == "" || utf8.RuneCountInString(c.Value) > 200 {
			return nil, &FieldError{"value", page.M("refresh.err.value")}
		}
	case register.SegmentOneMember:
		// One member, by their member number (the office sending a new
		// link); the campaign keeps the internal id, not the number.
		if c.Value == "" || utf8.RuneCountInString(c.Value) > 64 {
			return nil, &FieldError{"member_number", page.M("refresh.err.member_number")}
		}
		id, err := s.reg.UnionMember(ctx, c.UnionID, c.Value)
		if errors.Is(err, register.ErrNoMember) {
			return nil, &FieldError{"member_number", page.M("refresh.err.member_number")}
		}
		if err != nil {
			return nil, err
		}
		c.Value = strconv.FormatInt(id, 10)
	default:
		c.Value = ""
	}
	var err error
	if c.MessageEN, err = checkMessage("message_en", in.MessageEN); err != nil {
		return nil, err
	}
	if c.MessageCY, err = checkMessage("message_cy", in.MessageCY); err != nil {
		return nil, err
	}
	u, perr := url.Parse(strings.TrimSpace(in.PrivacyURL))
	if perr != nil || u.Scheme != "https" || u.Host == "" || len(in.PrivacyURL) > 500 {
		return nil, &FieldError{"privacy_url", page.M("refresh.err.privacy")}
	}
	c.PrivacyURL = u.String()
	if c.LinkDays < 1 || c.LinkDays > maxLinkDays {
		return nil, &FieldError{"link_days", page.M("refresh.err.days", maxLinkDays)}
	}
	if c.StartsAt.IsZero() || c.StartsAt.Before(c.CreatedAt) {
		c.StartsAt = c.CreatedAt
	}
	targets, err := s.reg.RefreshTargets(ctx, c.UnionID, c.Segment, c.Value)
	if err != nil {
		return nil, err
	}
	// Lawful basis: only members who have not opted out (their page's
	// button, or STOP to any of the union's texts).
	if targets, err = s.reachable(ctx, targets); err != nil {
		return nil, err
	}
	// A text to a member with a mobile; an email to one with an email
	// and no mobile (docs/contact-refresh.md "Links by email").
	policy, err := s.policy(ctx, c.UnionID)
	if err != nil {
		return nil, err
	}
	var ids, emails []int64
	for _, t := range targets {
		switch {
		case t.Mobile != "":
			ids = append(ids, t.MemberID)
		case s.usableEmail(t, policy):
			emails = append(emails, t.MemberID)
		}
	}
	if len(ids)+len(emails) == 0 {
		return nil, &FieldError{"segment", page.M("refresh.err.nobody")}
	}
	c.Members = len(ids) + len(emails)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO refresh_campaigns (union_id, segment, segment_value, message_en, message_cy, privacy_url,
			link_days, starts_at, members, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			c.UnionID, c.Segment, c.Value, c.MessageEN, c.MessageCY, c.PrivacyURL, c.LinkDays, c.StartsAt, c.Members, c.CreatedBy, c.CreatedAt).
			Scan(&c.ID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, c.CreatedBy, "refresh.campaign", nil, map[string]any{
			"union": c.UnionID, "campaign": c.ID, "segment": c.Segment, "members": c.Members, "emails": len(emails), "starts": c.StartsAt.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return nil, fmt.Errorf("create refresh campaign: %w", err)
	}
	// After the campaign row: a crash in between leaves a campaign with
	// no texts, which Cancel or a new campaign settles; EnqueueRefresh and
	// enqueueEmails are idempotent per member.
	if len(ids) > 0 {
		if _, err := s.outbox.EnqueueRefresh(ctx, c.ID, ids, c.StartsAt); err != nil {
			return nil, err
		}
	}
	if len(emails) > 0 {
		if err := s.enqueueEmails(ctx, c.ID, emails, c.StartsAt); err != nil {
			return nil, err
		}
	}
	s.log.InfoContext(ctx, "refresh campaign created", "campaign", c.ID, "members", c.Members)
	return c, nil
}

// Cancel stops a campaign: texts not yet started are not sent, and its
// links stop working. Audited.
func (s *Service) Cancel(ctx context.Context, st page.Staff, id int64) error {
	c, err := s.Campaign(ctx, st, id)
	if err != nil {
		return err
	}
	if c.CancelledAt != nil {
		return nil
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE refresh_campaigns SET cancelled_at = $2 WHERE id = $1 AND cancelled_at IS NULL`, id, s.now()); err != nil {
			return err
		}
		return audit.Append(ctx, tx, st.Actor(), "refresh.cancel", nil, map[string]any{"union": c.UnionID, "campaign": id})
	})
	if err != nil {
		return fmt.Errorf("cancel refresh campaign: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE refresh_emails SET state = 'skipped', reason = 'cancelled' WHERE campaign_id = $1 AND state = 'pending'`, id); err != nil {
		return fmt.Errorf("cancel refresh campaign: %w", err)
	}
	return s.outbox.CancelRefresh(ctx, id)
}

const campaignCols = `id, union_id, segment, segment_value, message_en, message_cy, privacy_url, link_days, starts_at, members,
	created_by, created_at, cancelled_at`

func scanCampaign(r pgx.Row, c *Campaign) error {
	return r.Scan(&c.ID, &c.UnionID, &c.Segment, &c.Value, &c.MessageEN, &c.MessageCY, &c.PrivacyURL, &c.LinkDays, &c.StartsAt,
		&c.Members, &c.CreatedBy, &c.CreatedAt, &c.CancelledAt)
}

// Campaign reads a campaign of the organiser's union, with its counts.
func (s *Service) Campaign(ctx context.Context, st page.Staff, id int64) (*Campaign, error) {
	if st.Role != "organiser" {
		return nil, ErrNotFound
	}
	c := &Campaign{}
	err := scanCampaign(s.pool.QueryRow(ctx, `SELECT `+campaignCols+` FROM refresh_campaigns WHERE id = $1 AND union_id = $2`, id, st.UnionID), c)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read refresh campaign: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT member_id), count(DISTINCT member_id) FILTER (WHERE used_at IS NOT NULL)
		FROM refresh_links WHERE campaign_id = $1`, id).Scan(&c.Opened, &c.Done); err != nil {
		return nil, fmt.Errorf("read refresh campaign: %w", err)
	}
	counts, err := s.outbox.RefreshCounts(ctx, id)
	if err != nil {
		return nil, err
	}
	c.Sent = counts["sent"]
	ec, err := s.EmailCounts(ctx, id)
	if err != nil {
		return nil, err
	}
	c.EmailsSent = ec["sent"]
	return c, nil
}

// Campaigns lists the union's campaigns, newest first.
func (s *Service) Campaigns(ctx context.Context, unionID int64) ([]Campaign, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+campaignCols+` FROM refresh_campaigns WHERE union_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100`, unionID)
	if err != nil {
		return nil, fmt.Errorf("list refresh campaigns: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) {
		var c Campaign
		err := scanCampaign(r, &c)
		return c, err
	})
}

// ---- The texts (gotv.Refresher) ----

// RefreshText makes the member's personal link of the campaign (a previous
// one of the same campaign stops working) and returns their mobile and the
// text: the campaign's message in the member's language, then the link.
// A cancelled campaign, or a member without a mobile, gives to == "".
func (s *Service) RefreshText(ctx context.Context, campaignID, memberID int64) (string, string, error) {
	c, err := s.campaignByID(ctx, campaignID)
	if err != nil {
		return "", "", fmt.Errorf("refresh text: %w", err)
	}
	if c.CancelledAt != nil {
		return "", "", nil
	}
	d, err := s.reg.Details(ctx, memberID)
	if err != nil {
		return "", "", fmt.Errorf("refresh text: %w", err)
	}
	if d.Mobile == "" || d.UnionID != c.UnionID {
		return "", "", nil
	}
	// The member may have opted out since the campaign started (STOP on
	// the number is checked by the outbox when the send is recorded).
	if out, err := s.optedOut(ctx, memberID); err != nil {
		return "", "", err
	} else if out {
		return "", "", errOptedOut
	}
	token, _, err := s.newLink(ctx, c, memberID)
	if err != nil {
		return "", "", fmt.Errorf("refresh text: %w", err)
	}
	msg := c.MessageEN
	if d.Language == "cy" {
		msg = c.MessageCY
	}
	return d.Mobile, msg + "\n" + s.public + "/r/" + token, nil
}

// campaignByID reads a campaign (any union's: for the senders).
func (s *Service) campaignByID(ctx context.Context, id int64) (*Campaign, error) {
	c := &Campaign{}
	if err := scanCampaign(s.pool.QueryRow(ctx, `SELECT `+campaignCols+` FROM refresh_campaigns WHERE id = $1`, id), c); err != nil {
		return nil, fmt.Errorf("read refresh campaign: %w", err)
	}
	return c, nil
}

// newLink makes the member's personal link of campaign c, valid for the
// campaign's days from now; a previous link of the same campaign stops
// working. It returns the token (only its hash is kept) and its expiry.
func (s *Service) newLink(ctx context.Context, c *Campaign, memberID int64) (string, time.Time, error) {
	token, hash := newToken()
	now := s.now()
	expires := now.Add(time.Duration(c.LinkDays) * 24 * time.Hour)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE refresh_links SET superseded_at = $3 WHERE campaign_id = $1 AND member_id = $2 AND superseded_at IS NULL`,
			c.ID, memberID, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO refresh_links (campaign_id, member_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, memberID, hash, now, expires)
		return err
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// RefreshNumber is the member's current mobile.
func (s *Service) RefreshNumber(ctx context.Context, memberID int64) (string, error) {
	d, err := s.reg.Details(ctx, memberID)
	if err != nil {
		return "", err
	}
	return d.Mobile, nil
}
