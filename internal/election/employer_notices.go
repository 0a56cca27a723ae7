package election

// Per-employer s.226A records. The notice of the ballot (s.226A(1)(a), not
// later than the seventh day before the opening day) and the sample voting
// paper (s.226A(1)(b), not later than the third day before) are given to
// every employer the union reasonably believes employs members entitled
// to vote, so each employer has its own pair of clocks. The union gives
// them, so organisers record them here, while the ballot is a draft; the
// opening check names every employer whose notice or sample paper is
// missing or too recent, by the one notice-day rule of notices.go
// ([earliestOpening]).

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// EmployerKey is how employers are matched between the register and the
// notice records: lower case, surrounding and repeated spaces removed (as
// [EmployerNotices] groups the register).
func EmployerKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// EmployerNoticeRecord is what is recorded for one employer of a ballot's
// register, with what the s.226A clocks allow.
type EmployerNoticeRecord struct {
	Key      string // [EmployerKey]
	Employer string // as on the register; "" when the register records none
	Members  int    // members on the register employed there
	Notice   *time.Time
	Sample   *time.Time
	// StatedMembers and StatedOpensOn are what the notice stated when it
	// was recorded as given (nil: recorded before they were kept).
	StatedMembers *int
	StatedOpensOn *time.Time
	// Stale says the notice's figures or opening day no longer match the
	// ballot: it must be given again before the ballot opens. StaleWhy
	// says what changed, in words for the organiser.
	Stale    bool
	StaleWhy []page.Msg
	// Earliest is the earliest opening both allow (nil while one is
	// missing); TooLate says the planned opening is before it.
	Earliest *time.Time
	TooLate  bool
}

// employerNoticeRecords lists the employers of the ballot's current
// register (by key, first spelling) with their recorded times, sorted by
// name, "not recorded" last.
func (a *Admin) employerNoticeRecords(ctx context.Context, q register.Querier, ballotID int64) ([]EmployerNoticeRecord, error) {
	groups, err := a.register.EntitledGroups(ctx, q, ballotID)
	if err != nil {
		return nil, fmt.Errorf("employer notices: %w", err)
	}
	by := map[string]*EmployerNoticeRecord{}
	var order []string
	for _, g := range groups {
		k := EmployerKey(g.Employer)
		if by[k] == nil {
			by[k] = &EmployerNoticeRecord{Key: k, Employer: strings.Join(strings.Fields(g.Employer), " ")}
			order = append(order, k)
		}
		by[k].Members += g.Members
	}
	if q == nil {
		q = a.store.pool
	}
	rows, err := q.Query(ctx, `SELECT employer_key, notice_sent_at, sample_sent_at, stated_members, stated_opens_on
		FROM employer_notices WHERE ballot_id = $1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("employer notices: %w", err)
	}
	for rows.Next() {
		var k string
		var n, s, on *time.Time
		var members *int
		if err := rows.Scan(&k, &n, &s, &members, &on); err != nil {
			rows.Close()
			return nil, fmt.Errorf("employer notices: %w", err)
		}
		if e := by[k]; e != nil {
			e.Notice, e.Sample, e.StatedMembers, e.StatedOpensOn = n, s, members, on
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("employer notices: %w", err)
	}
	out := make([]EmployerNoticeRecord, 0, len(order))
	for _, k := range order {
		out = append(out, *by[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Key == "") != (out[j].Key == "") {
			return out[j].Key == ""
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// checkEmployerNotices applies the s.226A clocks of regime r to each
// employer for a ballot opening at opening, filling Earliest and TooLate,
// and returns the reasons opening is refused, each naming its employer.
func checkEmployerNotices(r Regime, opening time.Time, recs []EmployerNoticeRecord) []page.Msg {
	var reasons []page.Msg
	open := opening.In(london)
	for i := range recs {
		e := &recs[i]
		var name any = e.Employer
		if e.Employer == "" {
			name = page.M("admin.why.no_employer")
		}
		if e.Notice == nil {
			reasons = append(reasons, page.M("admin.why.notice_missing", name))
		}
		if e.Sample == nil {
			reasons = append(reasons, page.M("admin.why.sample_missing", name))
		}
		// s.226A(2): the notice states the opening day and the number of
		// employees concerned; one that no longer matches is stale.
		if e.Notice != nil && e.StatedMembers != nil && *e.StatedMembers != e.Members {
			e.Stale = true
			e.StaleWhy = append(e.StaleWhy, page.M("admin.why.notice_stale_members", name, *e.StatedMembers, e.Members))
			reasons = append(reasons, e.StaleWhy[len(e.StaleWhy)-1])
		}
		if e.Notice != nil && e.StatedOpensOn != nil && e.StatedOpensOn.Format("2006-01-02") != open.Format("2006-01-02") {
			e.Stale = true
			e.StaleWhy = append(e.StaleWhy, page.M("admin.why.notice_stale_opening", name, page.Day(*e.StatedOpensOn), page.Day(open)))
			reasons = append(reasons, e.StaleWhy[len(e.StaleWhy)-1])
		}
		if e.Notice != nil {
			if earliest := earliestOpening(*e.Notice, r.NoticeDays); open.Before(earliest) {
				e.TooLate = true
				reasons = append(reasons, page.M("admin.why.notice_late", name, r.NoticeDays, page.Day(earliest)))
			}
		}
		if e.Sample != nil {
			if earliest := earliestOpening(*e.Sample, r.SamplePaperDays); open.Before(earliest) {
				e.TooLate = true
				reasons = append(reasons, page.M("admin.why.sample_late", name, r.SamplePaperDays, page.Day(earliest)))
			}
		}
		if e.Notice != nil && e.Sample != nil {
			t := EarliestOpening(r, *e.Notice, *e.Sample)
			e.Earliest = &t
		}
	}
	return reasons
}

// EmployerNoticeStatus lists the employers of a draft ballot's register
// with their recorded notices and what the clocks allow for its planned
// opening (now, when none is planned or it is past).
func (a *Admin) EmployerNoticeStatus(ctx context.Context, ballotID int64) ([]EmployerNoticeRecord, error) {
	var opens *time.Time
	if err := a.store.pool.QueryRow(ctx, `SELECT opens_at FROM ballots WHERE id = $1`, ballotID).Scan(&opens); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	recs, err := a.employerNoticeRecords(ctx, nil, ballotID)
	if err != nil {
		return nil, err
	}
	opening := a.now()
	if opens != nil && opens.After(opening) {
		opening = *opens
	}
	if r, err := RegimeFor(opening); err == nil {
		checkEmployerNotices(r, opening, recs)
	}
	return recs, nil
}

// RecordEmployerNotice records when one employer (named as on the
// register, matched by [EmployerKey]) was given the s.226A notice and the
// sample voting paper; a zero time means not given yet. Times in the
// future are refused: a notice is recorded once given.
func (a *Admin) RecordEmployerNotice(ctx context.Context, actor string, ballotID int64, employer string, notice, sample time.Time) error {
	now := a.now()
	for _, t := range []time.Time{notice, sample} {
		if t.After(now.Add(5 * time.Minute)) {
			return invalid("records.err.future")
		}
	}
	key := EmployerKey(employer)
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		recs, err := a.employerNoticeRecords(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		opensOn, err := plannedOpeningDay(ctx, tx, ballotID, now)
		if err != nil {
			return err
		}
		var rec *EmployerNoticeRecord
		for i := range recs {
			if recs[i].Key == key {
				rec = &recs[i]
			}
		}
		if rec == nil {
			return invalid("records.err.no_employer")
		}
		if _, err := tx.Exec(ctx, upsertEmployerNotice,
			ballotID, key, rec.Employer, nullTime(notice), nullTime(sample), actor, now, rec.Members, opensOn); err != nil {
			return fmt.Errorf("record employer notice: %w", err)
		}
		return audit.Append(ctx, tx, actor, "ballot.employer_notice", &ballotID, map[string]string{
			"employer": rec.Employer, "notice_sent_at": auditTime(notice), "sample_sent_at": auditTime(sample)})
	})
}

// recordAllEmployerNotices records the same times for every employer of
// the register (RecordEmployerNotices, in its transaction).
func (a *Admin) recordAllEmployerNotices(ctx context.Context, tx pgx.Tx, actor string, ballotID int64, notice, sample, now time.Time) error {
	recs, err := a.employerNoticeRecords(ctx, tx, ballotID)
	if err != nil {
		return err
	}
	opensOn, err := plannedOpeningDay(ctx, tx, ballotID, now)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if _, err := tx.Exec(ctx, upsertEmployerNotice,
			ballotID, rec.Key, rec.Employer, nullTime(notice), nullTime(sample), actor, now, rec.Members, opensOn); err != nil {
			return fmt.Errorf("record employer notices: %w", err)
		}
	}
	return nil
}

func auditTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// upsertEmployerNotice records one employer's notice times with what the
// notice stated (its employees on the register, the opening day).
const upsertEmployerNotice = `INSERT INTO employer_notices (ballot_id, employer_key, employer, notice_sent_at, sample_sent_at, recorded_by, recorded_at,
		stated_members, stated_opens_on)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (ballot_id, employer_key) DO UPDATE SET employer = EXCLUDED.employer, notice_sent_at = EXCLUDED.notice_sent_at,
		sample_sent_at = EXCLUDED.sample_sent_at, recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at,
		stated_members = EXCLUDED.stated_members, stated_opens_on = EXCLUDED.stated_opens_on`

// plannedOpeningDay is the opening day (Europe/London, YYYY-MM-DD) the
// ballot's notices state: the day of opens_at, or of now when none is
// planned or it is past (the day the opening check uses).
func plannedOpeningDay(ctx context.Context, tx pgx.Tx, ballotID int64, now time.Time) (string, error) {
	var opens *time.Time
	if err := tx.QueryRow(ctx, `SELECT opens_at FROM ballots WHERE id = $1`, ballotID).Scan(&opens); err != nil {
		return "", fmt.Errorf("record employer notice: %w", err)
	}
	opening := now
	if opens != nil && opens.After(now) {
		opening = *opens
	}
	return opening.In(london).Format("2006-01-02"), nil
}
