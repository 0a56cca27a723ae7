package outreach

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// CampaignInput is an organiser's new campaign.
type CampaignInput struct {
	Name   string
	Source string // SourceSelfReported or SourceTurnout
	Script string // {first_name}, {volunteer}
}

// Campaign is a stored campaign.
type Campaign struct {
	ID, BallotID, UnionID int64
	Name, Source, Script  string
	Closed                bool
}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// validScript: 1–1000 characters, only {first_name} and {volunteer}, no
// stray braces.
func validScript(s string) bool {
	if strings.TrimSpace(s) == "" || len([]rune(s)) > 1000 {
		return false
	}
	for _, m := range placeholderRE.FindAllString(s, -1) {
		if m != "{first_name}" && m != "{volunteer}" {
			return false
		}
	}
	return !strings.ContainsAny(placeholderRE.ReplaceAllString(s, ""), "{}")
}

// render fills the script for one member.
func render(script, firstName, volunteer string) string {
	return strings.NewReplacer("{first_name}", firstName, "{volunteer}", volunteer).Replace(script)
}

// ballotOf reads the ballot for staff st: an organiser's own union's, or
// any for the scrutineer; otherwise ErrNotFound.
func (s *Service) ballotOf(ctx context.Context, st page.Staff, ballotID int64) (*election.AdminBallot, error) {
	union := st.UnionID
	if st.Role == "scrutineer" {
		union = 0
	} else if st.Role != "organiser" || union == 0 {
		return nil, ErrForbidden
	}
	b, err := s.ballots.AdminBallot(ctx, ballotID, union)
	if errors.Is(err, election.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read ballot: %w", err)
	}
	return b, nil
}

// Approval is the scrutineer's approval of turnout use for a ballot.
type Approval struct {
	BallotID   int64     `json:"ballot_id"`
	PolicyText string    `json:"policy_text"`
	ApprovedBy string    `json:"approved_by"`
	ApprovedAt time.Time `json:"approved_at"`
	// WithdrawnAt is set when the scrutineer withdrew it.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// Approve records (or, with approve false, withdraws) the scrutineer's
// approval that volunteers may text members not yet in the marked
// register of the ballot, with the wording of the union's published
// policy (statutory.md §5 D26). Audited as outreach.approval, whose
// detail `scrutineer report --audit` reads into the s.231B report
// (docs/audit-export.md): keep the detail's fields as documented there.
func (s *Service) Approve(ctx context.Context, st page.Staff, ballotID int64, policyText string, approve bool) error {
	if st.Role != "scrutineer" {
		return ErrForbidden
	}
	if _, err := s.ballotOf(ctx, st, ballotID); err != nil {
		return err
	}
	policyText = strings.TrimSpace(policyText)
	if approve && (policyText == "" || len([]rune(policyText)) > 2000) {
		return fmt.Errorf("%w: policy text", ErrInvalid)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	now := s.now()
	if approve {
		_, err = tx.Exec(ctx, `INSERT INTO outreach_approvals (ballot_id, policy_text, approved_by, approved_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (ballot_id) DO UPDATE SET policy_text = excluded.policy_text, approved_by = excluded.approved_by,
			approved_at = excluded.approved_at, withdrawn_at = NULL`, ballotID, policyText, st.Actor(), now)
	} else {
		_, err = tx.Exec(ctx, `UPDATE outreach_approvals SET withdrawn_at = $2 WHERE ballot_id = $1 AND withdrawn_at IS NULL`, ballotID, now)
	}
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	// The approval with its policy wording is in the ballot's audit export
	// (/scrutineer/ballots/{id}/audit.jsonl), the record the scrutineer's
	// s.231B report draws on.
	if err := audit.Append(ctx, tx, st.Actor(), "outreach.approval", &ballotID,
		map[string]any{"approved": approve, "policy_text": policyText}); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	return tx.Commit(ctx)
}

// ApprovalFor returns the ballot's approval record (nil when none was
// ever made), for the outreach ballot page.
func (s *Service) ApprovalFor(ctx context.Context, ballotID int64) (*Approval, error) {
	a := Approval{BallotID: ballotID}
	err := s.pool.QueryRow(ctx, `SELECT policy_text, approved_by, approved_at, withdrawn_at FROM outreach_approvals WHERE ballot_id = $1`,
		ballotID).Scan(&a.PolicyText, &a.ApprovedBy, &a.ApprovedAt, &a.WithdrawnAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read approval: %w", err)
	}
	return &a, nil
}

// approved reports whether turnout use is approved (and not withdrawn).
func approved(ctx context.Context, q pgx.Tx, ballotID int64) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outreach_approvals WHERE ballot_id = $1 AND withdrawn_at IS NULL)`, ballotID).Scan(&ok)
	return ok, err
}

// CreateCampaign stores a campaign of an organiser's ballot. A turnout
// campaign needs the scrutineer's approval (ErrNoApproval).
func (s *Service) CreateCampaign(ctx context.Context, st page.Staff, ballotID int64, in CampaignInput) (int64, error) {
	if st.Role != "organiser" {
		return 0, ErrForbidden
	}
	b, err := s.ballotOf(ctx, st, ballotID)
	if err != nil {
		return 0, err
	}
	if b.Status != "draft" && b.Status != "open" {
		return 0, ErrClosed
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len([]rune(in.Name)) > 200 || !validScript(in.Script) ||
		(in.Source != SourceSelfReported && in.Source != SourceTurnout) {
		return 0, ErrInvalid
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("create campaign: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if in.Source == SourceTurnout {
		ok, err := approved(ctx, tx, ballotID)
		if err != nil {
			return 0, fmt.Errorf("create campaign: %w", err)
		}
		if !ok {
			return 0, ErrNoApproval
		}
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO outreach_campaigns (ballot_id, name, source, script, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, ballotID, in.Name, in.Source, in.Script, st.Actor(), s.now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("create campaign: %w", err)
	}
	if err := audit.Append(ctx, tx, st.Actor(), "outreach.campaign", &ballotID, map[string]any{"campaign": id, "source": in.Source}); err != nil {
		return 0, fmt.Errorf("create campaign: %w", err)
	}
	return id, tx.Commit(ctx)
}

// campaign reads a campaign.
func (s *Service) campaign(ctx context.Context, id int64) (Campaign, error) {
	var c Campaign
	var closed *time.Time
	err := s.pool.QueryRow(ctx, `SELECT c.id, c.ballot_id, c.name, c.source, c.script, c.closed_at FROM outreach_campaigns c WHERE c.id = $1`, id).
		Scan(&c.ID, &c.BallotID, &c.Name, &c.Source, &c.Script, &closed)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read campaign: %w", err)
	}
	c.Closed = closed != nil
	return c, nil
}

// OrganiserCampaign reads a campaign of the organiser's union (or any,
// for the scrutineer).
func (s *Service) OrganiserCampaign(ctx context.Context, st page.Staff, id int64) (Campaign, *election.AdminBallot, error) {
	c, err := s.campaign(ctx, id)
	if err != nil {
		return c, nil, err
	}
	b, err := s.ballotOf(ctx, st, c.BallotID)
	if err != nil {
		return Campaign{}, nil, err
	}
	c.UnionID = b.UnionID
	return c, b, nil
}

// Campaigns lists a ballot's campaigns for its organisers.
func (s *Service) Campaigns(ctx context.Context, st page.Staff, ballotID int64) ([]Campaign, error) {
	if _, err := s.ballotOf(ctx, st, ballotID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, ballot_id, name, source, script, closed_at IS NOT NULL FROM outreach_campaigns
		WHERE ballot_id = $1 ORDER BY id`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) {
		var c Campaign
		err := r.Scan(&c.ID, &c.BallotID, &c.Name, &c.Source, &c.Script, &c.Closed)
		return c, err
	})
}

// VolunteerInput is an organiser's invitation of a volunteer.
type VolunteerInput struct {
	Name      string // shown to the organiser, and as {volunteer} in texts
	Mobile    string // E.164: the volunteer's own, for the SMS-code fallback
	ScopeKind string // "branch" or "workplace"
	Scope     string // the branch or workplace name
}

// InviteVolunteer creates a volunteer for one campaign of the organiser's
// union, limited to one branch or workplace, and returns the one-time
// enrolment link (register a passkey) to give them. Audited.
func (s *Service) InviteVolunteer(ctx context.Context, st page.Staff, campaignID int64, in VolunteerInput) (string, error) {
	if st.Role != "organiser" || s.invite == nil {
		return "", ErrForbidden
	}
	c, _, err := s.OrganiserCampaign(ctx, st, campaignID)
	if err != nil {
		return "", err
	}
	if c.Closed {
		return "", ErrClosed
	}
	in.Name, in.Scope = strings.TrimSpace(in.Name), strings.TrimSpace(in.Scope)
	if in.Name == "" || len([]rune(in.Name)) > 100 || in.Scope == "" || len([]rune(in.Scope)) > 200 ||
		(in.ScopeKind != "branch" && in.ScopeKind != "workplace") || !e164RE.MatchString(in.Mobile) {
		return "", ErrInvalid
	}
	staffID, link, err := s.invite(ctx, c.UnionID, in.Name, in.Mobile)
	if err != nil {
		return "", fmt.Errorf("invite volunteer: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("invite volunteer: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var vid int64
	if err := tx.QueryRow(ctx, `INSERT INTO outreach_volunteers (campaign_id, staff_id, display_name, scope_kind, scope, invited_by, invited_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, c.ID, staffID, in.Name, in.ScopeKind, in.Scope, st.Actor(), s.now()).Scan(&vid); err != nil {
		return "", fmt.Errorf("invite volunteer: %w", err)
	}
	if err := audit.Append(ctx, tx, st.Actor(), "outreach.volunteer_invited", &c.BallotID,
		map[string]any{"campaign": c.ID, "volunteer": vid, "staff": staffID, "scope_kind": in.ScopeKind}); err != nil {
		return "", fmt.Errorf("invite volunteer: %w", err)
	}
	return link, tx.Commit(ctx)
}

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// CloseCampaign stops a campaign: no claim, text or tag after it.
func (s *Service) CloseCampaign(ctx context.Context, st page.Staff, id int64) error {
	if st.Role != "organiser" {
		return ErrForbidden
	}
	c, _, err := s.OrganiserCampaign(ctx, st, id)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("close campaign: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `UPDATE outreach_campaigns SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL`, id, s.now()); err != nil {
		return fmt.Errorf("close campaign: %w", err)
	}
	if err := audit.Append(ctx, tx, st.Actor(), "outreach.campaign_closed", &c.BallotID, map[string]any{"campaign": id}); err != nil {
		return fmt.Errorf("close campaign: %w", err)
	}
	return tx.Commit(ctx)
}
