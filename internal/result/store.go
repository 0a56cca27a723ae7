package result

// The tables of the duties after the close (migrations/0023): employers'
// contact addresses, the notices (whose sending is the outbox's,
// internal/gotv), their plans, and the log of requests for a copy of the
// s.231B report. This file is the only one that names them.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/gotv"
)

type afterStore struct{ pool *pgxpool.Pool }

// notice is one row of result_notices.
type notice struct {
	ID, BallotID        int64
	Kind, Channel       string
	MemberID, StaffID   int64
	EmployerKey, Remind string
}

func (s afterStore) notice(ctx context.Context, id int64) (notice, error) {
	var n notice
	err := s.pool.QueryRow(ctx, `SELECT id, ballot_id, kind, channel, coalesce(member_id, 0), coalesce(staff_id, 0),
		coalesce(employer_key, ''), coalesce(reminder, '') FROM result_notices WHERE id = $1`, id).
		Scan(&n.ID, &n.BallotID, &n.Kind, &n.Channel, &n.MemberID, &n.StaffID, &n.EmployerKey, &n.Remind)
	if err != nil {
		return n, fmt.Errorf("read notice %d: %w", id, err)
	}
	return n, nil
}

// planned reports whether the ballot's member notices are planned.
func (s afterStore) plan(ctx context.Context, ballotID int64) (*Plan, error) {
	p := &Plan{}
	err := s.pool.QueryRow(ctx, `SELECT planned_at, members, by_email, by_sms, by_post FROM result_notice_plans WHERE ballot_id = $1`, ballotID).
		Scan(&p.At, &p.Members, &p.ByEmail, &p.BySMS, &p.ByPost)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read notice plan: %w", err)
	}
	return p, nil
}

// savePlan creates the member notices (one per member and channel) and
// the plan, in one transaction: a crash leaves both or neither.
func (s afterStore) savePlan(ctx context.Context, ballotID int64, p Plan, email, text []int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO result_notice_plans (ballot_id, planned_at, members, by_email, by_sms, by_post)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ballot_id) DO NOTHING`, ballotID, p.At, p.Members, p.ByEmail, p.BySMS, p.ByPost)
		if err != nil || tag.RowsAffected() == 0 {
			return err // planned already (by another worker)
		}
		for _, ch := range []struct {
			name string
			ids  []int64
		}{{"email", email}, {"sms", text}} {
			if _, err := tx.Exec(ctx, `INSERT INTO result_notices (ballot_id, kind, channel, member_id, created_at)
				SELECT $1, 'member', $2, m, $4 FROM unnest($3::bigint[]) AS m ON CONFLICT DO NOTHING`, ballotID, ch.name, ch.ids, p.At); err != nil {
				return err
			}
		}
		return nil
	})
}

// addEmployerNotice creates the s.231A notice of one employer of a
// ballot (idempotent).
func (s afterStore) addEmployerNotice(ctx context.Context, ballotID int64, key string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO result_notices (ballot_id, kind, channel, employer_key, created_at)
		VALUES ($1, 'employer', 'email', $2, $3) ON CONFLICT DO NOTHING`, ballotID, key, at)
	if err != nil {
		return fmt.Errorf("add employer notice: %w", err)
	}
	return nil
}

// addReminders creates one reminder (which: "week" or "day") per
// scrutineer (idempotent).
func (s afterStore) addReminders(ctx context.Context, ballotID int64, which string, staff []int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO result_notices (ballot_id, kind, channel, staff_id, reminder, created_at)
		SELECT $1, 'reminder', 'sms', x, $2, $4 FROM unnest($3::bigint[]) AS x ON CONFLICT DO NOTHING`, ballotID, which, staff, at)
	if err != nil {
		return fmt.Errorf("add reminders: %w", err)
	}
	return nil
}

// unqueued lists notices not yet put in the outbox.
func (s afterStore) unqueued(ctx context.Context, limit int) ([]gotv.ResultRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, ballot_id, coalesce(member_id, 0), channel FROM result_notices
		WHERE queued_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("unqueued notices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (gotv.ResultRow, error) {
		var x gotv.ResultRow
		err := r.Scan(&x.ID, &x.BallotID, &x.MemberID, &x.Channel)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("unqueued notices: %w", err)
	}
	return out, nil
}

func (s afterStore) markQueued(ctx context.Context, ids []int64, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE result_notices SET queued_at = $2 WHERE id = ANY($1) AND queued_at IS NULL`, ids, at); err != nil {
		return fmt.Errorf("mark notices queued: %w", err)
	}
	return nil
}

// noticeRow is a notice of a ballot as its staff page lists it.
type noticeRow struct {
	ID                         int64
	Kind, Channel, EmployerKey string
	Remind                     string
	StaffID                    int64
}

func (s afterStore) notices(ctx context.Context, ballotID int64) ([]noticeRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, channel, coalesce(employer_key, ''), coalesce(reminder, ''), coalesce(staff_id, 0)
		FROM result_notices WHERE ballot_id = $1 ORDER BY id`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("ballot notices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (noticeRow, error) {
		var x noticeRow
		err := r.Scan(&x.ID, &x.Kind, &x.Channel, &x.EmployerKey, &x.Remind, &x.StaffID)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("ballot notices: %w", err)
	}
	return out, nil
}

// EmployerContact is where an employer of a union takes its s.231A notice.
type EmployerContact struct {
	Key, Employer, Email string
	UpdatedBy            string
	UpdatedAt            time.Time
}

func (s afterStore) employerContacts(ctx context.Context, unionID int64) (map[string]EmployerContact, error) {
	rows, err := s.pool.Query(ctx, `SELECT employer_key, employer, email, updated_by, updated_at FROM result_employer_contacts
		WHERE union_id = $1`, unionID)
	if err != nil {
		return nil, fmt.Errorf("employer contacts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EmployerContact, error) {
		var c EmployerContact
		err := r.Scan(&c.Key, &c.Employer, &c.Email, &c.UpdatedBy, &c.UpdatedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("employer contacts: %w", err)
	}
	out := make(map[string]EmployerContact, len(list))
	for _, c := range list {
		out[c.Key] = c
	}
	return out, nil
}

func (s afterStore) employerContact(ctx context.Context, unionID int64, key string) (string, error) {
	var email string
	err := s.pool.QueryRow(ctx, `SELECT email FROM result_employer_contacts WHERE union_id = $1 AND employer_key = $2`, unionID, key).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return email, err
}

// setEmployerContact records an employer's address (with the audit
// entry), in one transaction.
func (s afterStore) setEmployerContact(ctx context.Context, actor string, ballotID, unionID int64, c EmployerContact) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO result_employer_contacts (union_id, employer_key, employer, email, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (union_id, employer_key) DO UPDATE SET employer = EXCLUDED.employer,
			email = EXCLUDED.email, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
			unionID, c.Key, c.Employer, c.Email, actor, c.UpdatedAt); err != nil {
			return fmt.Errorf("set employer contact: %w", err)
		}
		// The address is the employer's, not a member's: audited in full.
		return audit.Append(ctx, tx, actor, "result.employer_contact", &ballotID, map[string]string{"employer": c.Employer, "email": c.Email})
	})
}

// CopyRequest is one request for a copy of the s.231B report.
type CopyRequest struct {
	ID          int64
	Requester   string // "member" or "employer"
	MemberID    int64
	Employer    string
	RequestedAt time.Time
	RecordedBy  string
	SuppliedAt  *time.Time
	SuppliedBy  string
	// MemberNumber is the member's number on the register (pages).
	MemberNumber string
	// Late: made after the six months of s.231B(2).
	Late bool
}

func (s afterStore) copyRequests(ctx context.Context, ballotID int64) ([]CopyRequest, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, requester, coalesce(member_id, 0), coalesce(employer, ''), requested_at, recorded_by,
		supplied_at, coalesce(supplied_by, '') FROM result_report_requests WHERE ballot_id = $1 ORDER BY requested_at, id`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("copy requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CopyRequest, error) {
		var c CopyRequest
		err := r.Scan(&c.ID, &c.Requester, &c.MemberID, &c.Employer, &c.RequestedAt, &c.RecordedBy, &c.SuppliedAt, &c.SuppliedBy)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("copy requests: %w", err)
	}
	return out, nil
}

func (s afterStore) addCopyRequest(ctx context.Context, actor string, ballotID int64, c CopyRequest, at time.Time) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var member *int64
		var employer *string
		if c.Requester == "member" {
			member = &c.MemberID
		} else {
			employer = &c.Employer
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO result_report_requests (ballot_id, requester, member_id, employer, requested_at, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, ballotID, c.Requester, member, employer, c.RequestedAt, actor, at).Scan(&id); err != nil {
			return fmt.Errorf("record copy request: %w", err)
		}
		// No member identity in the audit log: the request's id only.
		return audit.Append(ctx, tx, actor, "result.copy_request", &ballotID, map[string]any{"request": id, "requester": c.Requester,
			"requested_at": c.RequestedAt.UTC().Format(time.RFC3339)})
	})
}

// errNoRequest: no such request of the ballot, or supplied already.
var errNoRequest = errors.New("result: no such request waiting for a copy")

func (s afterStore) markSupplied(ctx context.Context, actor string, ballotID, id int64, at time.Time) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE result_report_requests SET supplied_at = $3, supplied_by = $4
			WHERE id = $1 AND ballot_id = $2 AND supplied_at IS NULL`, id, ballotID, at, actor)
		if err != nil {
			return fmt.Errorf("mark copy supplied: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return errNoRequest
		}
		return audit.Append(ctx, tx, actor, "result.copy_supplied", &ballotID, map[string]any{"request": id,
			"supplied_at": at.UTC().Format(time.RFC3339)})
	})
}

// EmployerDelivery is an s.231A notice given to an employer on paper.
type EmployerDelivery struct {
	Method     string // "post" or "hand"
	GivenAt    time.Time
	RecordedBy string
	RecordedAt time.Time
}

// errDelivered: the employer's paper notice is recorded already.
var errDelivered = errors.New("result: the employer's notice on paper is recorded already")

func (s afterStore) employerDeliveries(ctx context.Context, ballotID int64) (map[string]EmployerDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT employer_key, method, given_at, recorded_by, recorded_at FROM result_employer_deliveries
		WHERE ballot_id = $1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("employer deliveries: %w", err)
	}
	out := map[string]EmployerDelivery{}
	var key string
	var d EmployerDelivery
	_, err = pgx.ForEachRow(rows, []any{&key, &d.Method, &d.GivenAt, &d.RecordedBy, &d.RecordedAt}, func() error {
		out[key] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("employer deliveries: %w", err)
	}
	return out, nil
}

// addEmployerDelivery records an employer's notice given on paper (with
// the audit entry), once per ballot and employer.
func (s afterStore) addEmployerDelivery(ctx context.Context, actor string, ballotID int64, e registerEmployer, d EmployerDelivery) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO result_employer_deliveries (ballot_id, employer_key, employer, method, given_at, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ballot_id, employer_key) DO NOTHING`,
			ballotID, e.Key, e.Name, d.Method, d.GivenAt, actor, d.RecordedAt)
		if err != nil {
			return fmt.Errorf("employer delivery: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errDelivered
		}
		return audit.Append(ctx, tx, actor, "result.employer_notice_given", &ballotID, map[string]string{
			"employer": e.Name, "method": d.Method, "given_at": d.GivenAt.UTC().Format(time.RFC3339)})
	})
}
