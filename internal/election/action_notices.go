package election

// The s.234A notices of industrial action. After an industrial action
// ballot the union must give every employer of the members it will call
// on notice of the action (TULRCA s.234A(1)): the categories of employees
// and the workplaces concerned and the total number of affected employees
// (s.234A(3)(a), as simplified by ERA25), whether the action is
// continuous (and its first day) or discontinuous (and its days)
// (s.234A(3)(b)), given at least the regime's period before the first
// day of action (s.234A(4): 14 days under TUA16, 10 under ERA25). The
// action must also fall within the s.234 mandate, and the ballot must be
// over (s.233(3): action is called after the date of the ballot).
// Organisers draft each notice here, print it, and record when it was
// given; a notice whose day (planned or recorded) leaves less than the
// period before the action is refused with the rule named.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/web/page"
)

// ActionKinds are the kinds of industrial action a notice may give.
var ActionKinds = []string{"strike", "asos", "both"}

// MaxActionDays bounds the days of a discontinuous action in one notice.
const MaxActionDays = 366

// ActionNoticeInput is what an organiser gives for one notice.
type ActionNoticeInput struct {
	Employer   string
	Categories string // the categories of employees, one per line
	Workplaces string // the workplaces, one per line
	Employees  int    // the total number of affected employees
	Action     string // one of [ActionKinds]
	Continuous bool
	// Days: continuous, the first day of action only; discontinuous,
	// every day of action (each at midnight, Europe/London).
	Days     []time.Time
	NoticeOn time.Time // the day the notice is given
}

// ActionNotice is one recorded s.234A notice.
type ActionNotice struct {
	ID int64
	ActionNoticeInput
	Regime     string
	NoticeDays int
	CreatedAt  time.Time
	CreatedBy  string
	SentAt     *time.Time
	SentBy     string
}

// ActionTimes are the s.234/s.234A figures of a closed industrial action
// ballot.
type ActionTimes struct {
	Regime       Regime
	DateOfBallot time.Time // the last day votes could be cast (s.246), midnight Europe/London
	MandateEnds  time.Time // the mandate's last day (s.234), midnight Europe/London
}

// ErrNoActionNotice (404): no such notice of this ballot.
var ErrNoActionNotice = page.NewError("election: no such notice of industrial action", http.StatusNotFound, "not_found", "error.notfound")

// ActionTimesOf gives the s.234 and s.234A figures of a ballot: only an
// industrial action ballot that has closed has them (ok false otherwise).
// The date of the ballot is the day of the actual close, Europe/London,
// as the signed result gives it (crypto/tally).
func ActionTimesOf(b *AdminBallot) (ActionTimes, bool) {
	if b.Kind != "industrial_action" || b.ClosedAt == nil || b.Regime == "" {
		return ActionTimes{}, false
	}
	r, err := RegimeByID(b.Regime)
	if err != nil || !r.Kinds[b.Kind].Mandate {
		return ActionTimes{}, false
	}
	closed := *b.ClosedAt
	if b.ClosesAt != nil && b.ClosesAt.Before(closed) {
		closed = *b.ClosesAt
	}
	d := closed.In(london)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, london)
	return ActionTimes{Regime: r, DateOfBallot: day, MandateEnds: r.MandateExpiry(day)}, true
}

// MandateEnds is the last day of the ballot's s.234 mandate (nil for a
// ballot with none: not industrial action, or not closed yet).
func (b AdminBallot) MandateEnds() *page.Day {
	t, ok := ActionTimesOf(&b)
	if !ok {
		return nil
	}
	d := page.Day(t.MandateEnds)
	return &d
}

// day is t's calendar day in Europe/London, at midnight there.
func day(t time.Time) time.Time {
	d := t.In(london)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, london)
}

// checkActionNotice refuses a notice the law does not allow, naming the
// rule: every day of action at least the regime's s.234A period after
// the day the notice is given, within the s.234 mandate, and the notice
// given after the date of the ballot.
func checkActionNotice(t ActionTimes, in ActionNoticeInput) error {
	noticeOn := day(in.NoticeOn)
	if noticeOn.Before(t.DateOfBallot) {
		return invalid("action.err.before_ballot", page.Day(t.DateOfBallot))
	}
	earliest := noticeOn.AddDate(0, 0, t.Regime.ActionNoticeDays)
	for _, d := range in.Days {
		d = day(d)
		if d.Before(earliest) {
			// s.234A(4)(b): given not later than the Nth day before the
			// day (or the first of the days) specified in the notice.
			return invalid("action.err.period", page.Day(d), t.Regime.ActionNoticeDays, page.Day(noticeOn), page.Day(earliest), t.Regime.ID)
		}
		if d.After(t.MandateEnds) {
			return invalid("action.err.mandate", page.Day(d), page.Day(t.MandateEnds), t.Regime.MandateMonths)
		}
	}
	return nil
}

// validate checks the notice's own fields.
func (in *ActionNoticeInput) validate() error {
	in.Employer = strings.Join(strings.Fields(in.Employer), " ")
	in.Categories, in.Workplaces = strings.TrimSpace(in.Categories), strings.TrimSpace(in.Workplaces)
	switch {
	case in.Employer == "" || len(in.Employer) > 300:
		return invalid("action.err.employer")
	case in.Categories == "" || len(in.Categories) > 2000:
		return invalid("action.err.categories")
	case in.Workplaces == "" || len(in.Workplaces) > 2000:
		return invalid("action.err.workplaces")
	case in.Employees < 1 || in.Employees > 10_000_000:
		return invalid("action.err.employees")
	case !slices.Contains(ActionKinds, in.Action):
		return invalid("action.err.action")
	case len(in.Days) == 0 || len(in.Days) > MaxActionDays:
		return invalid("action.err.days")
	case in.Continuous && len(in.Days) != 1:
		return invalid("action.err.continuous")
	case in.NoticeOn.IsZero():
		return invalid("action.err.notice_on")
	}
	for i := range in.Days {
		in.Days[i] = day(in.Days[i])
	}
	slices.SortFunc(in.Days, func(a, b time.Time) int { return a.Compare(b) })
	in.Days = slices.CompactFunc(in.Days, func(a, b time.Time) bool { return a.Equal(b) })
	in.NoticeOn = day(in.NoticeOn)
	return nil
}

// CreateActionNotice records a draft s.234A notice for one employer of a
// closed industrial action ballot, refused (naming the rule) when its
// days break the regime's notice period or the mandate.
func (a *Admin) CreateActionNotice(ctx context.Context, actor string, b *AdminBallot, in ActionNoticeInput) (int64, error) {
	t, ok := ActionTimesOf(b)
	if !ok {
		return 0, invalid("action.err.not_closed")
	}
	if err := in.validate(); err != nil {
		return 0, err
	}
	if err := checkActionNotice(t, in); err != nil {
		return 0, err
	}
	var id int64
	err := pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO action_notices (ballot_id, employer, categories, workplaces, employees, action, continuous,
			days, notice_on, regime, notice_days, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			b.ID, in.Employer, in.Categories, in.Workplaces, in.Employees, in.Action, in.Continuous, dates(in.Days), dateOf(in.NoticeOn),
			t.Regime.ID, t.Regime.ActionNoticeDays, actor).Scan(&id); err != nil {
			return fmt.Errorf("action notice: %w", err)
		}
		return audit.Append(ctx, tx, actor, "action_notice.create", &b.ID, map[string]any{"notice": id, "employer": in.Employer,
			"employees": in.Employees, "first_day": dateOf(in.Days[0]), "notice_on": dateOf(in.NoticeOn)})
	})
	return id, err
}

// RecordActionNoticeSent records when a notice was given (once): the
// day it was given must still leave the s.234A period before the action
// (a notice given later than planned may not), and it cannot be in the
// future.
func (a *Admin) RecordActionNoticeSent(ctx context.Context, actor string, b *AdminBallot, noticeID int64, at time.Time) error {
	t, ok := ActionTimesOf(b)
	if !ok {
		return invalid("action.err.not_closed")
	}
	if at.After(a.now()) {
		return invalid("action.err.future")
	}
	return pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		n, err := scanActionNotice(tx.QueryRow(ctx, actionNoticeSelect+` WHERE ballot_id = $1 AND id = $2 FOR UPDATE`, b.ID, noticeID))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoActionNotice
		}
		if err != nil {
			return fmt.Errorf("action notice: %w", err)
		}
		if n.SentAt != nil {
			return invalid("action.err.sent", n.SentAt.In(london).Format("2006-01-02 15:04"))
		}
		in := n.ActionNoticeInput
		in.NoticeOn = at
		if err := checkActionNotice(t, in); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE action_notices SET sent_at = $3, sent_by = $4, notice_on = $5 WHERE ballot_id = $1 AND id = $2`,
			b.ID, noticeID, at, actor, dateOf(at)); err != nil {
			return fmt.Errorf("action notice: %w", err)
		}
		return audit.Append(ctx, tx, actor, "action_notice.sent", &b.ID, map[string]any{"notice": noticeID, "employer": n.Employer,
			"sent_at": at.UTC().Format(time.RFC3339)})
	})
}

// ActionNotices lists a ballot's s.234A notices, oldest first.
func (s *Store) ActionNotices(ctx context.Context, ballotID int64) ([]ActionNotice, error) {
	rows, err := s.pool.Query(ctx, actionNoticeSelect+` WHERE ballot_id = $1 ORDER BY id`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("action notices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActionNotice, error) { return scanActionNotice(r) })
	if err != nil {
		return nil, fmt.Errorf("action notices: %w", err)
	}
	return out, nil
}

// ActionNotice is one notice of a ballot ([ErrNoActionNotice] if none).
func (s *Store) ActionNotice(ctx context.Context, ballotID, id int64) (*ActionNotice, error) {
	n, err := scanActionNotice(s.pool.QueryRow(ctx, actionNoticeSelect+` WHERE ballot_id = $1 AND id = $2`, ballotID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoActionNotice
	}
	if err != nil {
		return nil, fmt.Errorf("action notice: %w", err)
	}
	return &n, nil
}

const actionNoticeSelect = `SELECT id, employer, categories, workplaces, employees, action, continuous, days::text[], notice_on::text,
	regime, notice_days, created_at, created_by, sent_at, coalesce(sent_by, '') FROM action_notices`

func scanActionNotice(row pgx.Row) (ActionNotice, error) {
	var n ActionNotice
	var days []string
	var noticeOn string
	err := row.Scan(&n.ID, &n.Employer, &n.Categories, &n.Workplaces, &n.Employees, &n.Action, &n.Continuous, &days, &noticeOn,
		&n.Regime, &n.NoticeDays, &n.CreatedAt, &n.CreatedBy, &n.SentAt, &n.SentBy)
	if err != nil {
		return n, err
	}
	for _, d := range days {
		t, err := time.ParseInLocation("2006-01-02", d, london)
		if err != nil {
			return n, fmt.Errorf("action notice day %q: %w", d, err)
		}
		n.Days = append(n.Days, t)
	}
	n.NoticeOn, err = time.ParseInLocation("2006-01-02", noticeOn, london)
	return n, err
}

// dateOf is t's day in Europe/London as PostgreSQL reads a date.
func dateOf(t time.Time) string { return t.In(london).Format("2006-01-02") }

func dates(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = dateOf(t)
	}
	return out
}

// Lines splits a list given one per line (categories, workplaces).
func (n ActionNotice) Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// BallotDay and MandateDay are the date of the ballot and the mandate's
// last day as pages show them ({{.BallotDay.In $.Lang}}).
func (t ActionTimes) BallotDay() page.Day  { return page.Day(t.DateOfBallot) }
func (t ActionTimes) MandateDay() page.Day { return page.Day(t.MandateEnds) }

// NoticeDay is the day the notice is (or was) given; ActionDays the days
// of action; EarliestDay the first day of action the notice's day allows
// (s.234A(4)).
func (n ActionNotice) NoticeDay() page.Day { return page.Day(n.NoticeOn) }
func (n ActionNotice) ActionDays() []page.Day {
	out := make([]page.Day, len(n.Days))
	for i, d := range n.Days {
		out[i] = page.Day(d)
	}
	return out
}
func (n ActionNotice) EarliestDay() page.Day { return page.Day(n.NoticeOn.AddDate(0, 0, n.NoticeDays)) }
