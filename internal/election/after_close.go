package election

// The clocks after a ballot's close (statutory.md §5 points 32–33). The
// date of the ballot is the last day votes could be cast (s.246): the UK
// date of the actual close. The scrutineer's report is due "as soon as
// reasonably practicable after the date of the ballot and, in any event,
// not later than the end of the period of four weeks beginning with that
// date" (s.226B(1)(b) as applied to the s.231B report), and the union
// supplies a copy to any person entitled to vote, or their employer, who
// asks "within six months of the date of the ballot" (s.231B(2)).
// internal/result keeps the reminders and the request log; the
// scrutineer's dashboard shows the deadline.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AfterCloseDuties reports whether ballots of kind have the duties of
// ss.231–231B (industrial action ballots, TULRCA Part V); other kinds'
// duties after the close are not these.
func AfterCloseDuties(kind string) bool { return kind == "industrial_action" }

// DateOfBallot is the date of the ballot (s.246) of a ballot closed at
// closedAt: its day in Europe/London, at midnight there.
func DateOfBallot(closedAt time.Time) time.Time {
	l := closedAt.In(london)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, london)
}

// ReportDue is when the period for the scrutineer's s.231B report ends:
// the end of the four weeks beginning with the date of the ballot, i.e.
// midnight (Europe/London) at the end of its 28th day.
func ReportDue(closedAt time.Time) time.Time {
	return DateOfBallot(closedAt).AddDate(0, 0, 28)
}

// CopyRequestsUntil is when the six months of s.231B(2) beginning with
// the date of the ballot end: a request for a copy of the report made
// before then must be met.
func CopyRequestsUntil(closedAt time.Time) time.Time {
	return DateOfBallot(closedAt).AddDate(0, 6, 0)
}

// ClosedBallot is a ballot after its close, for the duties that follow.
type ClosedBallot struct {
	ID, UnionID       int64
	ElectionID, Title string
	Kind              string
	// SmallExemption: the s.226C exemption (50 or fewer entitled): no
	// scrutineer's report is required.
	SmallExemption bool
	Status         string // "closed" or "published"
	ClosedAt       time.Time
	PublishedAt    *time.Time
}

// ClosedSince lists the closed and published ballots that closed at or
// after since, in id order.
func (s *Store) ClosedSince(ctx context.Context, since time.Time) ([]ClosedBallot, error) {
	return s.closedBallots(ctx, `status IN ('closed', 'published') AND closed_at >= $1`, since)
}

// ClosedBallotsOf reads the ballots ids that have closed (the others are
// absent).
func (s *Store) ClosedBallotsOf(ctx context.Context, ids []int64) (map[int64]ClosedBallot, error) {
	list, err := s.closedBallots(ctx, `status IN ('closed', 'published') AND closed_at IS NOT NULL AND id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]ClosedBallot, len(list))
	for _, b := range list {
		out[b.ID] = b
	}
	return out, nil
}

func (s *Store) closedBallots(ctx context.Context, where string, arg any) ([]ClosedBallot, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, union_id, election_id, title, kind, small_ballot_exemption, status, closed_at, published_at
		FROM ballots WHERE `+where+` ORDER BY id`, arg)
	if err != nil {
		return nil, fmt.Errorf("closed ballots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClosedBallot, error) {
		var b ClosedBallot
		err := r.Scan(&b.ID, &b.UnionID, &b.ElectionID, &b.Title, &b.Kind, &b.SmallExemption, &b.Status, &b.ClosedAt, &b.PublishedAt)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("closed ballots: %w", err)
	}
	return out, nil
}

// ReportDeadline is a closed ballot's s.231B deadline as dashboards show
// it.
type ReportDeadline struct {
	By      time.Time  // the last minute of the period ([ReportDue])
	Given   *time.Time // when the report was published, if it was
	Overdue bool       // not given and past By
}

// ReportDeadlines returns the deadlines of the closed industrial action
// ballots among bs that need a scrutineer's report (not s.226C-exempt).
func (s *Store) ReportDeadlines(ctx context.Context, bs []AdminBallot, now time.Time) (map[int64]*ReportDeadline, error) {
	var ids []int64
	for _, b := range bs {
		if (b.Status == "closed" || b.Status == "published") && AfterCloseDuties(b.Kind) && !b.SmallExemption {
			ids = append(ids, b.ID)
		}
	}
	out := map[int64]*ReportDeadline{} // pointers: a template's index of a missing one is nil
	if len(ids) == 0 {
		return out, nil
	}
	closed, err := s.ClosedBallotsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, c := range closed {
		due := ReportDue(c.ClosedAt)
		d := ReportDeadline{By: due.Add(-time.Minute), Given: c.PublishedAt} // shown as 23:59 on the last day
		d.Overdue = d.Given == nil && !now.Before(due)
		out[id] = &d
	}
	return out, nil
}
