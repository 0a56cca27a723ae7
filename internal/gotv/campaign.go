package gotv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/jackc/pgx/v5"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/register"
)

// Sentinel errors of the campaign API, with their answers.
var (
	// ErrForbidden (403): the staff member may not do this.
	ErrForbidden = page.NewError("gotv: forbidden", http.StatusForbidden, "forbidden", "gotv.err.forbidden")
	// ErrInvalid (400): bad input.
	ErrInvalid = page.NewError("gotv: invalid campaign", http.StatusBadRequest, "invalid", "gotv.err.invalid")
	// ErrSegmentTooSmall (400): the segment has fewer members than the
	// minimum cell, so its counts would reveal individuals.
	ErrSegmentTooSmall = page.NewError("gotv: segment smaller than the minimum cell", http.StatusBadRequest, "segment_too_small", "gotv.err.small")
	// ErrRemindersOff (409): the scrutineer has not enabled reminders for
	// the ballot (statutory.md §5 D26).
	ErrRemindersOff = page.NewError("gotv: reminders are not enabled for this ballot", http.StatusConflict, "reminders_off", "gotv.err.off")
	// ErrState (409): the campaign is not in a state that allows this.
	ErrState = page.NewError("gotv: campaign state does not allow this", http.StatusConflict, "wrong_state", "gotv.err.state")
)

// StepInput is one step of a campaign.
type StepInput struct {
	Template   string
	TemplateCy string    // the Welsh text; "" none (refused when the ballot is bilingual or a member prefers Welsh)
	DueAt      time.Time // zero = now
}

// CampaignInput describes a new campaign.
type CampaignInput struct {
	Name       string
	Workplaces []string // empty = all
	Branches   []string // empty = all
	Steps      []StepInput
}

// Campaign is a campaign as the organiser sees it.
type Campaign struct {
	ID         int64
	BallotID   int64
	Name       string
	Workplaces []string
	Branches   []string
	Status     string
	CreatedAt  time.Time
	Steps      []Step
}

// Step is one step of a campaign with its progress counts. The counts do
// not depend on who has voted (issue 21, docs/threat-model.md "Turnout
// release"): a step's rows are every member of the segment with a number
// who had not opted out when it became due, voters included; rows of
// members who had voted by sending time are left out at the send and
// counted with the sent ones as done. How many were sent and how many left
// out because they had voted is never shown: set against the turnout
// release, that split would tell who voted between two snapshots.
type Step struct {
	ID           int64     `json:"id"`
	Seq          int       `json:"seq"`
	Template     string    `json:"template"`
	TemplateCy   string    `json:"template_cy,omitempty"` // "" none
	DueAt        time.Time `json:"due_at"`
	Materialised bool      `json:"materialised"`
	Members      int       `json:"members"` // rows: members with a number, not opted out, when due
	Done         int       `json:"done"`    // sent, left out (voted, opted out since, caps …) or refused by the provider
	Waiting      int       `json:"waiting"` // not yet handled (quiet hours, rate, retry)
	Unknown      int       `json:"unknown"` // sent or not: reconciled by hand, never resent
}

// Plan is what a campaign would send now: counts and cost, never names.
// No figure depends on who has voted but VotedAbout, which is computed
// from the turnout release only (so it tells no more than the release).
type Plan struct {
	Segment  int `json:"segment"`   // members of the register in the segment
	NoNumber int `json:"no_number"` // excluded: no mobile
	OptedOut int `json:"opted_out"` // excluded: replied STOP
	// Recipients is the most a step sends: the segment's members with a
	// number who have not opted out. Members who have voted by the time
	// a step is sent are left out then.
	Recipients int `json:"recipients"`
	// VotedAbout estimates how many of the segment had voted by
	// VotedAsOf, from the latest turnout release: each released cell's
	// count shared out over the segment's members in that cell.
	VotedAbout int       `json:"voted_about"`
	VotedAsOf  time.Time `json:"voted_as_of,omitzero"`
	Parts      int       `json:"parts"`      // SMS parts per step, at most (all recipients)
	CostPence  float64   `json:"cost_pence"` // per step, at most
	Encoding   string    `json:"encoding"`   // of the preview
	Preview    string    `json:"preview"`    // rendered for a fictitious member
	PartsEach  int       `json:"parts_each"` // parts of the preview
	TotalCost  float64   `json:"total_cost_pence"`
	// PreviewCy is the Welsh text for the fictitious member ("" when the
	// step has none); PreferWelsh counts the members of the segment whose
	// preferred language is Welsh, voted or not (register data: never a
	// count of who has voted).
	PreviewCy   string `json:"preview_cy,omitempty"`
	PreferWelsh int    `json:"prefer_welsh"`
}

// ensureUnion checks that ballotID belongs to the staff member's union
// (scrutineers may see every ballot), answering ErrNotFound otherwise.
func (s *Service) ensureUnion(ctx context.Context, st page.Staff, ballotID int64) (ballotInfo, error) {
	b, err := s.ballot(ctx, ballotID)
	if err != nil {
		return b, err
	}
	if st.Role == "scrutineer" || (st.Role == "organiser" && st.UnionID == b.UnionID) {
		return b, nil
	}
	return ballotInfo{}, ErrNotFound
}

// CreateCampaign stores a draft campaign of an organiser's ballot.
func (s *Service) CreateCampaign(ctx context.Context, st page.Staff, ballotID int64, in CampaignInput) (int64, error) {
	if st.Role != "organiser" {
		return 0, ErrForbidden
	}
	if _, err := s.ensureUnion(ctx, st, ballotID); err != nil {
		return 0, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return 0, fmt.Errorf("%w: name", ErrInvalid)
	}
	if len(in.Steps) == 0 || len(in.Steps) > 5 {
		return 0, fmt.Errorf("%w: between 1 and 5 steps", ErrInvalid)
	}
	for _, stp := range in.Steps {
		if err := ValidateTemplate(stp.Template); err != nil {
			return 0, err
		}
		if stp.TemplateCy != "" {
			if err := ValidateTemplate(stp.TemplateCy); err != nil {
				return 0, err
			}
		}
	}
	p, err := s.plan(ctx, ballotID, in.Workplaces, in.Branches, in.Steps[0].Template, in.Steps[0].TemplateCy)
	if err != nil {
		return 0, err
	}
	b, err := s.ballot(ctx, ballotID)
	if err != nil {
		return 0, err
	}
	if b.Bilingual || p.PreferWelsh > 0 {
		for _, stp := range in.Steps {
			if stp.TemplateCy == "" {
				return 0, ErrWelshMissing
			}
		}
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("create campaign: %w", err)
	}
	defer tx.Rollback(ctx)
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO gotv_campaigns (ballot_id, name, workplaces, branches, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, ballotID, in.Name, nonNil(in.Workplaces), nonNil(in.Branches),
		st.Actor(), now).Scan(&id); err != nil {
		return 0, fmt.Errorf("create campaign: %w", err)
	}
	for i, stp := range in.Steps {
		due := stp.DueAt
		if due.IsZero() {
			due = now
		}
		var cy any
		if stp.TemplateCy != "" {
			cy = stp.TemplateCy
		}
		if _, err := tx.Exec(ctx, `INSERT INTO gotv_steps (campaign_id, seq, template, template_cy, due_at) VALUES ($1, $2, $3, $4, $5)`,
			id, i+1, stp.Template, cy, due); err != nil {
			return 0, fmt.Errorf("create campaign: %w", err)
		}
	}
	if err := audit.Append(ctx, tx, st.Actor(), "gotv.campaign.create", &ballotID, map[string]any{"campaign": id,
		"steps": len(in.Steps), "workplaces": len(in.Workplaces), "branches": len(in.Branches)}); err != nil {
		return 0, fmt.Errorf("create campaign: %w", err)
	}
	return id, tx.Commit(ctx)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Campaign loads a campaign with its steps' progress.
func (s *Service) Campaign(ctx context.Context, st page.Staff, id int64) (*Campaign, error) {
	c := &Campaign{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT ballot_id, name, workplaces, branches, status, created_at FROM gotv_campaigns WHERE id = $1`, id).
		Scan(&c.BallotID, &c.Name, &c.Workplaces, &c.Branches, &c.Status, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	if _, err := s.ensureUnion(ctx, st, c.BallotID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT st.id, st.seq, st.template, coalesce(st.template_cy, ''), st.due_at, st.materialised_at IS NOT NULL,
		count(g.id), count(g.id) FILTER (WHERE g.state IN ('sent', 'skipped', 'failed')),
		count(g.id) FILTER (WHERE g.state IN ('pending', 'sending')), count(g.id) FILTER (WHERE g.state = 'unknown')
		FROM gotv_steps st LEFT JOIN gotv_messages g ON g.step_id = st.id
		WHERE st.campaign_id = $1 GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY st.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var stp Step
		if err := rows.Scan(&stp.ID, &stp.Seq, &stp.Template, &stp.TemplateCy, &stp.DueAt, &stp.Materialised, &stp.Members, &stp.Done,
			&stp.Waiting, &stp.Unknown); err != nil {
			return nil, fmt.Errorf("load campaign: %w", err)
		}
		c.Steps = append(c.Steps, stp)
	}
	return c, rows.Err()
}

// Campaigns lists the campaigns of a ballot.
func (s *Service) Campaigns(ctx context.Context, st page.Staff, ballotID int64) ([]Campaign, error) {
	if _, err := s.ensureUnion(ctx, st, ballotID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, name, status, created_at FROM gotv_campaigns WHERE ballot_id = $1 ORDER BY id DESC`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c := Campaign{BallotID: ballotID}
		if err := rows.Scan(&c.ID, &c.Name, &c.Status, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PlanCampaign returns the counts, cost and preview of a campaign's first
// step as it would be sent now.
func (s *Service) PlanCampaign(ctx context.Context, st page.Staff, c *Campaign) (*Plan, error) {
	if _, err := s.ensureUnion(ctx, st, c.BallotID); err != nil {
		return nil, err
	}
	if len(c.Steps) == 0 {
		return nil, ErrInvalid
	}
	p, err := s.plan(ctx, c.BallotID, c.Workplaces, c.Branches, c.Steps[0].Template, c.Steps[0].TemplateCy)
	if err != nil {
		return nil, err
	}
	p.TotalCost = p.CostPence * float64(len(c.Steps))
	return p, nil
}

// sampleName is the fictitious member of previews.
const sampleName = "Alex"

// plan counts a segment and estimates the cost of one step (English text
// tmpl, Welsh text tmplCy, each member in their language). Counts of a
// segment smaller than the minimum cell are refused.
func (s *Service) plan(ctx context.Context, ballotID int64, wps, brs []string, tmpl, tmplCy string) (*Plan, error) {
	b, err := s.ballot(ctx, ballotID)
	if err != nil {
		return nil, err
	}
	k, err := s.MinCell(ctx, b.UnionID)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	// Nothing here reads the marked register: the estimate of who has
	// voted comes from the turnout release.
	members, err := s.reg.Segment(ctx, nil, ballotID, wps, brs)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	optouts, err := s.optedOut(ctx, nil, mobilesIn(members))
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	link := strings.Repeat("x", s.cfg.LinkLength)
	inWorkplace := map[string]int{}
	for _, m := range members {
		name, wp, lang := m.Name, m.Workplace, m.Lang
		noNumber, opted := m.Mobile == "", optouts[m.Mobile]
		p.Segment++
		inWorkplace[wp]++
		if lang == "cy" {
			p.PreferWelsh++
		}
		switch {
		case noNumber:
			p.NoNumber++
		case opted:
			p.OptedOut++
		default:
			// Every member who can be texted, voted or not: the parts
			// depend on who is in the segment, never on who has voted.
			p.Recipients++
			p.Parts += CountSegments(s.reminder(tmpl, tmplCy, lang, b.Bilingual, firstName(name), link, b.Closes)).Parts
		}
	}
	if p.Segment < k {
		return nil, ErrSegmentTooSmall
	}
	if err := s.estimateVoted(ctx, b, k, inWorkplace, p); err != nil {
		return nil, err
	}
	p.CostPence = math.Round(float64(p.Parts)*s.cfg.PricePerPart*100) / 100
	sample := s.cfg.PublicURL + "/i/" + strings.Repeat("X", 43)
	p.Preview = s.reminder(tmpl, "", "en", false, sampleName, sample, b.Closes)
	if tmplCy != "" {
		p.PreviewCy = s.reminder(tmpl, tmplCy, "cy", false, sampleName, sample, b.Closes)
	}
	seg := CountSegments(p.Preview)
	p.Encoding, p.PartsEach = string(seg.Encoding), seg.Parts
	return p, nil
}

// estimateVoted sets p.VotedAbout from the latest turnout release: each
// released cell's count times the share of the cell's members in the
// segment (inWorkplace: the segment's members by workplace). It is a
// function of released figures and the register only.
func (s *Service) estimateVoted(ctx context.Context, b ballotInfo, k int, inWorkplace map[string]int, p *Plan) error {
	part, err := s.partition(ctx, b.ID, k, "")
	if err != nil || part == nil {
		return err
	}
	rel, err := s.releases(ctx, b, part, s.now().UTC())
	if err != nil || len(rel) == 0 {
		return err
	}
	last := rel[len(rel)-1]
	seg := make([]int, len(part.Cells))
	for wp, n := range inWorkplace {
		if c := part.Cell(wp); c >= 0 {
			seg[c] += n
		}
	}
	est := 0.0
	for c, cell := range last.Cells {
		if cell.Entitled > 0 {
			est += float64(cell.Voted) * float64(seg[c]) / float64(cell.Entitled)
		}
	}
	p.VotedAbout, p.VotedAsOf = int(math.Round(est)), last.At
	return nil
}

// Schedule starts a draft campaign: its steps are sent when due.
func (s *Service) Schedule(ctx context.Context, st page.Staff, id int64) error {
	return s.setStatus(ctx, st, id, "draft", "scheduled")
}

// Cancel stops a campaign: rows not yet started are skipped at claim time.
func (s *Service) Cancel(ctx context.Context, st page.Staff, id int64) error {
	return s.setStatus(ctx, st, id, "", "cancelled")
}

func (s *Service) setStatus(ctx context.Context, st page.Staff, id int64, from, to string) error {
	if st.Role != "organiser" {
		return ErrForbidden
	}
	c, err := s.Campaign(ctx, st, id)
	if err != nil {
		return err
	}
	if to == "scheduled" {
		var enabled bool
		err := s.pool.QueryRow(ctx, `SELECT reminders_enabled FROM gotv_ballot_settings WHERE ballot_id = $1`, c.BallotID).Scan(&enabled)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("schedule: %w", err)
		}
		if !enabled {
			return ErrRemindersOff
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("campaign status: %w", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE gotv_campaigns SET status = $2 WHERE id = $1 AND ($3 = '' OR status = $3) AND status <> 'cancelled'`,
		id, to, from)
	if err != nil {
		return fmt.Errorf("campaign status: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrState
	}
	if err := audit.Append(ctx, tx, st.Actor(), "gotv.campaign."+to, &c.BallotID, map[string]any{"campaign": id}); err != nil {
		return fmt.Errorf("campaign status: %w", err)
	}
	return tx.Commit(ctx)
}

// SetReminders lets the scrutineer switch member-level reminders on or off
// for a ballot (statutory.md §5 D26: off by default). Audited.
func (s *Service) SetReminders(ctx context.Context, st page.Staff, ballotID int64, enabled bool) error {
	if st.Role != "scrutineer" {
		return ErrForbidden
	}
	if _, err := s.ballot(ctx, ballotID); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("set reminders: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO gotv_ballot_settings (ballot_id, reminders_enabled, decided_by, decided_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (ballot_id) DO UPDATE SET reminders_enabled = excluded.reminders_enabled,
		decided_by = excluded.decided_by, decided_at = excluded.decided_at`, ballotID, enabled, st.Actor(), s.now()); err != nil {
		return fmt.Errorf("set reminders: %w", err)
	}
	if err := audit.Append(ctx, tx, st.Actor(), "gotv.reminders", &ballotID, map[string]any{"enabled": enabled}); err != nil {
		return fmt.Errorf("set reminders: %w", err)
	}
	return tx.Commit(ctx)
}

// Policy is a union's GOTV policy.
type Policy struct {
	AllowNonVoterExport bool
	MinCell             int
}

// SetPolicy sets a union's policy (scrutineer only; audited). MinCell
// below the service minimum is raised to it.
func (s *Service) SetPolicy(ctx context.Context, st page.Staff, unionID int64, p Policy) error {
	if st.Role != "scrutineer" {
		return ErrForbidden
	}
	if p.MinCell < s.cfg.MinCell {
		p.MinCell = s.cfg.MinCell
	}
	if p.MinCell > 1000 {
		return fmt.Errorf("%w: minimum cell", ErrInvalid)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("set policy: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO gotv_policies (union_id, allow_nonvoter_export, min_cell, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (union_id) DO UPDATE SET allow_nonvoter_export = excluded.allow_nonvoter_export,
		min_cell = excluded.min_cell, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		unionID, p.AllowNonVoterExport, p.MinCell, st.Actor(), s.now()); err != nil {
		return fmt.Errorf("set policy: %w", err)
	}
	if err := audit.Append(ctx, tx, st.Actor(), "gotv.policy", nil, map[string]any{"union": unionID,
		"allow_nonvoter_export": p.AllowNonVoterExport, "min_cell": p.MinCell}); err != nil {
		return fmt.Errorf("set policy: %w", err)
	}
	return tx.Commit(ctx)
}

// NonVoter is one row of a phone-banking export.
type NonVoter struct {
	MemberNumber, Name, Mobile, Workplace, Branch string
}

// ExportNonVoters returns the members of a campaign's segment who had not
// voted by the latest turnout snapshot (asOf; zero before the first), for
// phone banking, only if the union's policy allows it (ErrForbidden
// otherwise). The export is recorded with audit.Append in the same
// transaction that reads the list.
//
// The list is member-level by design: the scrutineer's policy decision
// (statutory.md §5 D26) is what allows it. It follows the release
// schedule (issue 21): a member marked after the latest snapshot is still
// listed, so downloads between two snapshots are the same and cannot
// follow votes minute by minute.
func (s *Service) ExportNonVoters(ctx context.Context, st page.Staff, campaignID int64) (list []NonVoter, asOf time.Time, err error) {
	if st.Role != "organiser" {
		return nil, asOf, ErrForbidden
	}
	c, err := s.Campaign(ctx, st, campaignID)
	if err != nil {
		return nil, asOf, err
	}
	b, err := s.ballot(ctx, c.BallotID)
	if err != nil {
		return nil, asOf, err
	}
	if at := Snapshots(b.Opens, b.Closes, s.now().UTC(), s.cfg.ReleaseEvery); len(at) > 0 {
		asOf = at[len(at)-1]
	}
	list, err = s.exportNonVoters(ctx, st, c, b.UnionID, asOf)
	return list, asOf, err
}

func (s *Service) exportNonVoters(ctx context.Context, st page.Staff, c *Campaign, unionID int64, asOf time.Time) ([]NonVoter, error) {
	campaignID := c.ID
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback(ctx)
	allowed, err := s.exportAllowed(ctx, tx, unionID)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if !allowed {
		return nil, ErrForbidden
	}
	// One snapshot: the segment, the marked register and the opt-outs.
	members, err := s.reg.Segment(ctx, tx, c.BallotID, c.Workplaces, c.Branches)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	marked, _, err := s.marks.Before(ctx, tx, c.BallotID, asOf)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	voted := make(map[int64]bool, len(marked))
	for _, id := range marked {
		voted[id] = true
	}
	optouts, err := s.optedOut(ctx, tx, mobilesIn(members))
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var out []NonVoter
	for _, m := range members {
		if voted[m.MemberID] || optouts[m.Mobile] {
			continue
		}
		out = append(out, NonVoter{MemberNumber: m.Number, Name: m.Name, Mobile: m.Mobile, Workplace: m.Workplace, Branch: m.Branch})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MemberNumber < out[j].MemberNumber })
	if err := audit.Append(ctx, tx, st.Actor(), "gotv.nonvoters.export", &c.BallotID,
		map[string]any{"campaign": campaignID, "rows": len(out), "as_of": asOf}); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return out, nil
}

// ContactIssues counts members of a ballot's campaigns whose numbers
// failed, by error code (the organiser fixes contact data in the register).
func (s *Service) ContactIssues(ctx context.Context, ballotID int64) (map[int]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT ci.error_code, count(*) FROM gotv_contact_issues ci
		WHERE ci.member_id IN (SELECT member_id FROM gotv_messages WHERE ballot_id = $1) GROUP BY 1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("contact issues: %w", err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var code, n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, fmt.Errorf("contact issues: %w", err)
		}
		out[code] = n
	}
	return out, rows.Err()
}

// exportAllowed reports whether the union's policy allows non-voter
// exports; q is the caller's transaction (nil: the pool).
func (s *Service) exportAllowed(ctx context.Context, q register.Querier, unionID int64) (bool, error) {
	if q == nil {
		q = s.pool
	}
	var allowed bool
	err := q.QueryRow(ctx, `SELECT allow_nonvoter_export FROM gotv_policies WHERE union_id = $1`, unionID).Scan(&allowed)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("read policy: %w", err)
	}
	return allowed, nil
}
