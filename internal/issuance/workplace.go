package issuance

// Workplace voting (industrial action ballots only, the 2026 Order;
// docs/paper.md): the scrutineer opens a box per workplace session, run
// by a presiding officer (a staff account of role presiding_officer). The
// officer marks the register by paper number or member lookup, which is
// the issue of the paper (first recorded wins, s.230(4)(b)), and closes
// the box; the closed box's slips are counted as paper batches naming the
// box (internal/paper asks [Service.WorkplaceBox]).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// Refusals of workplace voting (catalogue keys issue.api.*).
var (
	// ErrNoBox (404): no such box, or not this presiding officer's.
	ErrNoBox = page.NewError("issuance: no such workplace box", http.StatusNotFound, "no_box", "issue.api.no_box")
	// ErrBoxClosed (409): the box is closed: no paper is issued in it.
	ErrBoxClosed = page.NewError("issuance: the workplace box is closed", http.StatusConflict, "box_closed", "issue.api.box_closed")
	// ErrOtherWorkplace (409): the member is in another workplace ballot
	// (s.228): their paper goes in that workplace's box.
	ErrOtherWorkplace = page.NewError("issuance: the member votes in another workplace ballot", http.StatusConflict, "other_workplace", "issue.api.other_workplace")
	// ErrBadBox (422): the box's id, workplace ballot or place is not valid,
	// or the id is taken in this ballot.
	ErrBadBox = page.NewError("issuance: the workplace box is not valid", http.StatusUnprocessableEntity, "bad_box", "issue.api.bad_box")
)

// Box is a workplace ballot box.
type Box struct {
	ID        int64
	BallotID  int64
	B         *election.AdminBallot // its ballot (OfficerBox, OfficerBoxes)
	Box       string                // the public id the paper batches name
	Style     string                // the workplace ballot (style id)
	Place     string
	OfficerID int64
	ClosedAt  *time.Time
	Issued    int // papers issued in the box (accepted marks)
	Refused   int // papers refused at the box (voted already, late)
}

// BoxInput opens a box.
type BoxInput struct {
	Box, Style, Place string
	// Officer gives the presiding officer's staff id (making their
	// account), called once every check has passed.
	Officer func(ctx context.Context) (int64, error)
}

var boxRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// OpenBox opens a workplace box of an open industrial action ballot for
// a presiding officer. Errors: ErrNoWorkplace (not industrial action),
// ErrNotOpen (the papers are numbered at the opening; none after the
// close), ErrBadBox.
func (s *Service) OpenBox(ctx context.Context, actor, electionID string, in BoxInput) (int64, error) {
	if !boxRE.MatchString(in.Box) {
		return 0, fmt.Errorf("%w: the box id must be 1 to 64 letters, digits, '.', '_' or '-'", ErrBadBox)
	}
	if in.Place == "" || len(in.Place) > 200 {
		return 0, fmt.Errorf("%w: name the place (1 to 200 characters)", ErrBadBox)
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b, err := s.ballots.Window(ctx, tx, electionID)
		if errors.Is(err, election.ErrNotFound) {
			return ErrUnknownBallot
		}
		if err != nil {
			return err
		}
		if b.Kind != "industrial_action" {
			return ErrNoWorkplace
		}
		if b.Status != "open" || (b.ClosesAt != nil && !s.now().Before(*b.ClosesAt)) {
			return ErrNotOpen
		}
		order, err := s.ballots.StyleOrder(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(order, in.Style) {
			return fmt.Errorf("%w: no workplace ballot %q", ErrBadBox, in.Style)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('eballot-box/' || $1::bigint, 0))`, b.ID); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workplace_boxes WHERE ballot_id = $1 AND box = $2)`, b.ID, in.Box).Scan(&taken); err != nil {
			return fmt.Errorf("open box: %w", err)
		}
		if taken {
			return fmt.Errorf("%w: box %q exists in this ballot", ErrBadBox, in.Box)
		}
		officer, err := in.Officer(ctx)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO workplace_boxes (ballot_id, box, style, place, officer_id, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			b.ID, in.Box, in.Style, in.Place, officer, actor, s.now()).Scan(&id); err != nil {
			return fmt.Errorf("open box: %w", err)
		}
		return audit.Append(ctx, tx, actor, "workplace.box_opened", &b.ID, map[string]any{"box": in.Box, "style": in.Style, "officer": officer})
	})
	return id, err
}

const boxColumns = `SELECT w.id, w.ballot_id, w.box, w.style, w.place, w.officer_id, w.closed_at,
	(SELECT count(*) FROM mark_log l WHERE l.box_id = w.id AND l.outcome = 'accepted'),
	(SELECT count(*) FROM mark_log l WHERE l.box_id = w.id AND l.outcome <> 'accepted')
	FROM workplace_boxes w `

func (s *Service) boxes(ctx context.Context, where string, args ...any) ([]Box, error) {
	rows, err := s.pool.Query(ctx, boxColumns+where+` ORDER BY w.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read boxes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Box, error) {
		var b Box
		err := r.Scan(&b.ID, &b.BallotID, &b.Box, &b.Style, &b.Place, &b.OfficerID, &b.ClosedAt, &b.Issued, &b.Refused)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("read boxes: %w", err)
	}
	return out, nil
}

// Boxes lists a ballot's workplace boxes.
func (s *Service) Boxes(ctx context.Context, ballotID int64) ([]Box, error) {
	return s.boxes(ctx, `WHERE w.ballot_id = $1`, ballotID)
}

// OfficerBoxes lists the boxes of a presiding officer, with their ballots.
func (s *Service) OfficerBoxes(ctx context.Context, officerID int64) ([]Box, error) {
	bs, err := s.boxes(ctx, `WHERE w.officer_id = $1`, officerID)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		if err := s.withBallot(ctx, &bs[i]); err != nil {
			return nil, err
		}
	}
	return bs, nil
}

func (s *Service) withBallot(ctx context.Context, b *Box) error {
	ab, err := s.ballots.AdminBallot(ctx, b.BallotID, 0)
	if err != nil {
		return fmt.Errorf("read box ballot: %w", err)
	}
	b.B = ab
	return nil
}

// OfficerBox is box id if officerID runs it (officerID 0: any box, for
// the scrutineer), else ErrNoBox.
func (s *Service) OfficerBox(ctx context.Context, officerID, id int64) (Box, error) {
	bs, err := s.boxes(ctx, `WHERE w.id = $1 AND ($2 = 0 OR w.officer_id = $2)`, id, officerID)
	if err != nil {
		return Box{}, err
	}
	if len(bs) == 0 {
		return Box{}, ErrNoBox
	}
	return bs[0], s.withBallot(ctx, &bs[0])
}

// IssueAtBox marks the register for the member of paperNumber at the box
// and issues their paper: the refusals of [Service.RecordReturn] (logged
// with their reason), and ErrNoBox, ErrBoxClosed, ErrOtherWorkplace.
func (s *Service) IssueAtBox(ctx context.Context, actor string, box Box, paperNumber int) error {
	return s.mark(ctx, actor, box.B.ElectionID, "workplace", paperNumber, box.ID)
}

// IssueToMember is IssueAtBox for the member found by their membership
// number (the member lookup); it returns the member's paper number.
// [register.ErrNotOnRegister] when no member of the ballot has the number.
func (s *Service) IssueToMember(ctx context.Context, actor string, box Box, memberNumber string) (int, error) {
	memberID, err := s.reg.MemberByNumber(ctx, box.BallotID, memberNumber)
	if err != nil {
		return 0, err
	}
	e, err := s.reg.Entry(ctx, nil, box.BallotID, memberID)
	if err != nil {
		return 0, err
	}
	if e.PaperNumber == 0 {
		return 0, ErrNotOpen
	}
	return e.PaperNumber, s.IssueAtBox(ctx, actor, box, e.PaperNumber)
}

// CloseBox closes a box: no paper is issued in it afterwards, and its
// slips may be counted. ErrBoxClosed if it was closed already.
func (s *Service) CloseBox(ctx context.Context, actor string, box Box) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE workplace_boxes SET closed_at = $2, closed_by = $3 WHERE id = $1 AND closed_at IS NULL`,
			box.ID, s.now(), actor)
		if err != nil {
			return fmt.Errorf("close box: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrBoxClosed
		}
		return audit.Append(ctx, tx, actor, "workplace.box_closed", &box.BallotID, map[string]any{"box": box.Box})
	})
}

// WorkplaceBox is the box named box of an election as the paper count
// needs it: its workplace ballot (style index in the manifest's order),
// the papers issued in it and whether it is closed; style -1 when the
// election has no such box.
func (s *Service) WorkplaceBox(ctx context.Context, electionID, box string) (style int, issued int64, closed bool, err error) {
	b, err := s.ballots.Window(ctx, nil, electionID)
	if errors.Is(err, election.ErrNotFound) {
		return -1, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	bs, err := s.boxes(ctx, `WHERE w.ballot_id = $1 AND w.box = $2`, b.ID, box)
	if err != nil || len(bs) == 0 {
		return -1, 0, false, err
	}
	order, err := s.ballots.StyleOrder(ctx, nil, b.ID)
	if err != nil {
		return 0, 0, false, err
	}
	return slices.Index(order, bs[0].Style), int64(bs[0].Issued), bs[0].ClosedAt != nil, nil
}

// EndedOfficers lists the presiding officers whose work is over: every
// box they run is closed and every ballot of those boxes has closed. The
// service disables their accounts ([auth.Service.DisableOfficers]): an
// officer's account exists for one workplace session, and an account
// left open after the ballot is a way in that nobody needs. An officer
// whose box is still open after the close keeps the account to close it.
func (s *Service) EndedOfficers(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT officer_id, array_agg(DISTINCT ballot_id) FROM workplace_boxes
		GROUP BY officer_id HAVING bool_and(closed_at IS NOT NULL) ORDER BY officer_id`)
	if err != nil {
		return nil, fmt.Errorf("ended officers: %w", err)
	}
	type officer struct {
		id      int64
		ballots []int64
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (officer, error) {
		var o officer
		err := r.Scan(&o.id, &o.ballots)
		return o, err
	})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	var ids []int64
	for _, o := range list {
		ids = append(ids, o.ballots...)
	}
	closed, err := s.ballots.ClosedBallotsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, o := range list {
		if !slices.ContainsFunc(o.ballots, func(b int64) bool { _, ok := closed[b]; return !ok }) {
			out = append(out, o.id)
		}
	}
	return out, nil
}
