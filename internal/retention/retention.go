// Package retention deletes a ballot's personal data once the statutory
// retention period after its result has passed (statutory.md §5 F39–F40;
// docs/ballots.md "Retention and deletion").
//
// The law: the scrutineer keeps custody of the returned voting papers for
// one year from the announcement of the result (TULRCA s.49(3)(d) for
// union elections, s.75(3)(d) for political fund ballots) and, if a
// complaint is made (s.79, or to the Certification Officer or a court),
// until the Certification Officer or the court authorises their disposal.
// Industrial action ballots have no statutory custody period; by design
// (F39) the same year applies. After retention, personal data is deleted
// (UK GDPR Art 5(1)(c) and (e); F40: "personal data minimised and deleted
// after retention; register copies deleted after the ballot").
//
// A ballot is due at the later of published_at + the retention period
// (EBALLOT_RETENTION_PERIOD, at least 8760h) and published_at plus one
// calendar year (8760h is a day short of a year that spans 29 February).
// published_at is the later of the ballot's publication time and the
// public board's (ledger_results). A ballot with an unreleased hold
// (retention_holds: a recorded complaint) is never due; a ballot whose
// result was never published is never deleted automatically (it is
// reported instead).
//
// [Service.Apply] deletes, in one transaction, every row of personal data
// and every member-to-ballot link of the ballot (each owner writes the SQL
// of its tables as an erasure.Part, lined up here by [erasureOrder];
// docs/ballots.md), keeps the counts the published result needs
// (retention_counts), writes retention_deletions and appends
// "retention.deleted" to the audit log. The append-only public ledger
// (ledger_* tables), the published result and the audit log are kept.
package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/erasure"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/outreach"
	"github.com/unionvote/eballot/internal/refresh"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/web/page"
)

// MinPeriod is the shortest retention period: one year from the
// announcement of the result (s.49(3)(d), s.75(3)(d)).
const MinPeriod = 8760 * time.Hour

// States of a ballot in [Service.Due].
const (
	StateDue         = "due"         // past its retention period, no hold: Apply deletes it
	StateHeld        = "held"        // a complaint is recorded (s.79, CO, court): kept until released
	StateNotDue      = "not_due"     // published, within the retention period
	StateUnpublished = "unpublished" // open or closed, no published result: never deleted automatically
	StateDeleted     = "deleted"     // personal data already deleted
)

// Errors of Apply, Hold and Release, with their answers.
var (
	// ErrNotFound (404): no such ballot.
	ErrNotFound = page.NewError("retention: no such ballot", http.StatusNotFound, "not_found", "error.notfound")
	// ErrNotDue (409): the ballot is within its retention period.
	ErrNotDue = page.NewError("retention: the ballot is not due for deletion", http.StatusConflict, "not_due", "ret.err.not_due")
	// ErrHeld (409): a complaint holds the ballot's data.
	ErrHeld = page.NewError("retention: the ballot is on hold", http.StatusConflict, "held", "ret.err.held")
	// ErrUnpublished (409): no published result: never deleted
	// automatically.
	ErrUnpublished = page.NewError("retention: the ballot's result is not published", http.StatusConflict, "unpublished", "ret.err.unpublished")
	// ErrDeleted (409): the personal data is already deleted.
	ErrDeleted = page.NewError("retention: the ballot's personal data is already deleted", http.StatusConflict, "deleted", "ret.err.deleted")
	// ErrNotAllowed (403): only an active scrutineer account may record or
	// release a hold.
	ErrNotAllowed = page.NewError("retention: only an active scrutineer account may record or release a hold", http.StatusForbidden, "not_allowed", "ret.err.not_allowed")
	// ErrNoHold (409): no open hold to release.
	ErrNoHold = page.NewError("retention: no open hold", http.StatusConflict, "no_hold", "ret.err.no_hold")
	// ErrInvalid (422): a reason that is empty or too long; the page says
	// which field.
	ErrInvalid = page.NewError("retention: invalid", http.StatusUnprocessableEntity, "invalid", "ret.err.action")
)

// Hold is a recorded complaint that stops deletion.
type Hold struct {
	ID            int64
	BallotID      int64
	Reason        string
	RecordedBy    int64
	RecordedAt    time.Time
	ReleasedAt    *time.Time
	ReleasedBy    *int64
	ReleaseReason string
}

// Ballot is one ballot's retention state.
type Ballot struct {
	ID          int64
	ElectionID  string
	Union       string // the union's slug
	Kind        string
	Status      string
	PublishedAt *time.Time // announcement of the result (nil if never published)
	DueAt       *time.Time // when its personal data may be deleted (nil if never published)
	DeletedAt   *time.Time
	State       string // one of the State constants
	Reason      string // why, in one sentence, with the section
	Holds       []Hold // open holds
}

// Service lists and applies retention.
type Service struct {
	pool   *pgxpool.Pool
	period time.Duration
	others Others
}

// Others are what retention asks the modules that own the tables it reads
// (internal/app wires their stores).
type Others struct {
	// Ballots is election's store: the ballots, their publication, their
	// locks.
	Ballots *election.Store
	// ResultPublished gives when the ledger's public board published each
	// election's result (internal/ledger); nil for none. A result is
	// announced once it is on the board, even if the ballot's own record
	// of its publication was not made.
	ResultPublished func(ctx context.Context, electionIDs []string) (map[string]time.Time, error)
	// Staff is auth's directory of staff accounts.
	Staff Staff
	// Addresses is the register's store: it fills retention_addresses
	// with the sealed mobiles and emails of the members who go, opened
	// (internal/erasure).
	Addresses Addresses
}

// Addresses fills retention_addresses in the erasure's transaction
// (internal/register Store.RetentionAddresses).
type Addresses interface {
	RetentionAddresses(ctx context.Context, tx pgx.Tx) error
}

// Staff is what retention needs of the staff accounts (internal/auth).
type Staff interface {
	// ActiveScrutineer reports whether the account is an active scrutineer.
	ActiveScrutineer(ctx context.Context, staffID int64) (bool, error)
	// StaffNames gives the accounts' names.
	StaffNames(ctx context.Context, ids []int64) (map[int64]string, error)
}

// New returns the retention service; period below MinPeriod is refused.
func New(pool *pgxpool.Pool, period time.Duration, others Others) (*Service, error) {
	if period < MinPeriod {
		return nil, fmt.Errorf("%w: retention period %s is shorter than one year (8760h, s.49(3)(d), s.75(3)(d))", ErrInvalid, period)
	}
	if others.Ballots == nil || others.Staff == nil || others.Addresses == nil {
		return nil, errors.New("retention: the ballots' store, the staff directory and the register's store are needed")
	}
	return &Service{pool: pool, period: period, others: others}, nil
}

// Period is the configured retention period.
func (s *Service) Period() time.Duration { return s.period }

// DueAt is when a ballot whose result was announced at published may be
// deleted: the later of published + period and published + one calendar
// year (s.49(3)(d), s.75(3)(d) count "one year from the announcement").
func DueAt(published time.Time, period time.Duration) time.Time {
	due := published.Add(period)
	if y := published.AddDate(1, 0, 0); y.After(due) {
		due = y
	}
	return due
}

// law names the rule that fixes a ballot kind's retention.
func law(kind string) string {
	switch kind {
	case "union_election":
		return "TULRCA s.49(3)(d)"
	case "political_fund":
		return "TULRCA s.75(3)(d)"
	default:
		return "statutory.md F39: one year, as s.49(3)(d)"
	}
}

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Due lists every ballot that is not a draft with its retention state at
// now: due, held, not yet due, unpublished or deleted, oldest first.
func (s *Service) Due(ctx context.Context, now time.Time) ([]Ballot, error) {
	return s.list(ctx, s.pool, now, 0)
}

// State is one ballot's retention state at now.
func (s *Service) State(ctx context.Context, ballotID int64, now time.Time) (*Ballot, error) {
	return s.state(ctx, s.pool, ballotID, now)
}

func (s *Service) state(ctx context.Context, q querier, ballotID int64, now time.Time) (*Ballot, error) {
	bs, err := s.list(ctx, q, now, ballotID)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, ErrNotFound
	}
	return &bs[0], nil
}

// list is the ballot ballotID, or (0) every ballot that is not a draft,
// with its state at now; q is the caller's transaction or the pool.
func (s *Service) list(ctx context.Context, q querier, now time.Time, ballotID int64) ([]Ballot, error) {
	sums, err := s.others.Ballots.Summaries(ctx, q, ballotID)
	if err != nil {
		return nil, fmt.Errorf("retention: list: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT ballot_id, deleted_at FROM retention_deletions WHERE $1 = 0 OR ballot_id = $1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("retention: list: %w", err)
	}
	deleted := map[int64]time.Time{}
	type row struct {
		id int64
		at time.Time
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.at)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("retention: list: %w", err)
	}
	for _, d := range ds {
		deleted[d.id] = d.at
	}
	onBoard := map[string]time.Time{}
	if s.others.ResultPublished != nil && len(sums) > 0 {
		ids := make([]string, len(sums))
		for i, b := range sums {
			ids[i] = b.ElectionID
		}
		if onBoard, err = s.others.ResultPublished(ctx, ids); err != nil {
			return nil, fmt.Errorf("retention: list: %w", err)
		}
	}
	bs := make([]Ballot, len(sums))
	for i, sum := range sums {
		b := Ballot{ID: sum.ID, ElectionID: sum.ElectionID, Union: sum.UnionSlug, Kind: sum.Kind, Status: sum.Status, PublishedAt: sum.PublishedAt}
		if t, ok := onBoard[sum.ElectionID]; ok && (b.PublishedAt == nil || t.After(*b.PublishedAt)) {
			b.PublishedAt = &t
		}
		if t, ok := deleted[sum.ID]; ok {
			b.DeletedAt = &t
		}
		bs[i] = b
	}
	holds, err := openHolds(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		b := &bs[i]
		b.Holds = holds[b.ID]
		s.classify(b, now)
	}
	return bs, nil
}

// classify sets State, DueAt and Reason.
func (s *Service) classify(b *Ballot, now time.Time) {
	if b.PublishedAt != nil {
		due := DueAt(*b.PublishedAt, s.period)
		b.DueAt = &due
	}
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	switch {
	case b.DeletedAt != nil:
		b.State = StateDeleted
		b.Reason = "personal data deleted on " + day(*b.DeletedAt)
	case b.Status == "draft":
		b.State = StateUnpublished
		b.Reason = "a draft: retention starts at the announcement of the result"
	case b.PublishedAt == nil:
		b.State = StateUnpublished
		b.Reason = fmt.Sprintf("%s, no result published on the service: never deleted automatically (retention runs from the announcement of the result, %s); publish the result, or decide with the scrutineer", b.Status, law(b.Kind))
	case len(b.Holds) > 0:
		b.State = StateHeld
		var rs []string
		for _, h := range b.Holds {
			rs = append(rs, fmt.Sprintf("hold %d since %s: %s", h.ID, day(h.RecordedAt), h.Reason))
		}
		b.Reason = "on hold until disposal is authorised (s.79; Certification Officer or court): " + strings.Join(rs, "; ")
	case now.Before(*b.DueAt):
		b.State = StateNotDue
		b.Reason = fmt.Sprintf("result published %s; kept until %s (%s)", day(*b.PublishedAt), day(*b.DueAt), law(b.Kind))
	default:
		b.State = StateDue
		b.Reason = fmt.Sprintf("result published %s; retention (%s) ended %s", day(*b.PublishedAt), law(b.Kind), day(*b.DueAt))
	}
}

func openHolds(ctx context.Context, q querier) (map[int64][]Hold, error) {
	rows, err := q.Query(ctx, `SELECT id, ballot_id, reason, recorded_by, recorded_at FROM retention_holds
		WHERE released_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	hs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hold, error) {
		var h Hold
		err := r.Scan(&h.ID, &h.BallotID, &h.Reason, &h.RecordedBy, &h.RecordedAt)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	out := map[int64][]Hold{}
	for _, h := range hs {
		out[h.BallotID] = append(out[h.BallotID], h)
	}
	return out, nil
}

// Deletion is what Apply deleted.
type Deletion struct {
	BallotID    int64
	ElectionID  string
	At          time.Time
	Actor       string
	PublishedAt time.Time
	DueAt       time.Time
	Counts      []Count // per table, in deletion order
	Digest      []byte  // SHA-256 over what was deleted
	// Already is true when the ballot had been deleted before: nothing was
	// done, and the fields describe the earlier deletion.
	Already bool
}

// Count is the rows deleted from one table.
type Count struct {
	Table string
	Rows  int64
}

// Total is the number of rows deleted.
func (d *Deletion) Total() int64 {
	var n int64
	for _, c := range d.Counts {
		n += c.Rows
	}
	return n
}

// parts are the owners' shares of the erasure (internal/erasure): each
// owner writes the SQL of its own tables.
var parts = []erasure.Part{register.Erasure, issuance.Erasure, auth.Erasure, outreach.Erasure, gotv.Erasure, sms.Erasure, mail.Erasure,
	election.Erasure, refresh.Erasure, result.Erasure}

// erasureOrder is every deletion, children before parents (foreign keys). Tables
// not named here are kept: the decision per table is in docs/ballots.md
// "Retention and deletion", and TestEveryMemberTableDecided fails when a
// new table refers to members or ballots without a decision. Every step of
// every part is named here once, and nothing else (stepsInOrder)..
var erasureOrder = []string{
	"register_uploads",
	"replaced_authorisations", "replacement_requests", "impersonation_reports", "mark_log", "marked_register",
	"outreach_queue", "outreach_tags", "outreach_messages", "outreach_conversations",
	"gotv_messages", "result_notices", "result_report_requests",
	"auth_invitations", "auth_pack_codes", "auth_sessions", "auth_events",
	"ballot_contacts", "register_entries",
	"auth_otp_codes", "auth_webauthn_ceremonies", "auth_webauthn_credentials", "auth_webauthn_users", "auth_rate_limits",
	"gotv_contacts", "gotv_contact_issues",
	"sms_outbox", "mail_outbox",
	"member_contact_events", "member_contact_fields",
	"refresh_pending", "refresh_notices", "refresh_optouts", "refresh_emails", "refresh_links",
	"members",
	"ballot_styles.issuer_private",
}

// steps are the parts' steps in erasureOrder.
var steps = mustSteps(stepsInOrder(erasureOrder, parts))

// stepsInOrder lines the parts' steps up in order, refusing a step order
// does not name, a name no step has, and a table named twice.
func stepsInOrder(order []string, parts []erasure.Part) ([]erasure.Step, error) {
	byTable := map[string]erasure.Step{}
	for _, p := range parts {
		for _, st := range p.Steps {
			if _, dup := byTable[st.Table]; dup {
				return nil, fmt.Errorf("retention: two erasure steps for %s", st.Table)
			}
			byTable[st.Table] = st
		}
	}
	out := make([]erasure.Step, 0, len(order))
	for _, t := range order {
		st, ok := byTable[t]
		if !ok {
			return nil, fmt.Errorf("retention: no erasure step for %s", t)
		}
		delete(byTable, t)
		out = append(out, st)
	}
	for t := range byTable {
		return nil, fmt.Errorf("retention: erasure step for %s is not in the order", t)
	}
	return out, nil
}

func mustSteps(s []erasure.Step, err error) []erasure.Step {
	if err != nil {
		panic(err)
	}
	return s
}

// Apply deletes the ballot's personal data in one transaction (see the
// package comment). It refuses a ballot that is not due, on hold or never
// published, with an error wrapping ErrNotDue, ErrHeld or ErrUnpublished
// that says why. A ballot already deleted is not touched again: the
// earlier record is returned with Already set.
func (s *Service) Apply(ctx context.Context, ballotID int64, now time.Time, actor string) (*Deletion, error) {
	if strings.TrimSpace(actor) == "" {
		return nil, fmt.Errorf("%w: no actor", ErrInvalid)
	}
	var out *Deletion
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise with holds and with another Apply of the same ballot.
		electionID, err := s.others.Ballots.Lock(ctx, tx, ballotID)
		if errors.Is(err, election.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		b, err := s.state(ctx, tx, ballotID, now)
		if err != nil {
			return err
		}
		switch b.State {
		case StateDeleted:
			out, err = previous(ctx, tx, ballotID, electionID)
			return err
		case StateHeld:
			return fmt.Errorf("%w: ballot %d (%s) is %s", ErrHeld, b.ID, b.ElectionID, b.Reason)
		case StateNotDue:
			return fmt.Errorf("%w: ballot %d (%s): %s", ErrNotDue, b.ID, b.ElectionID, b.Reason)
		case StateUnpublished:
			return fmt.Errorf("%w: ballot %d (%s) is %s", ErrUnpublished, b.ID, b.ElectionID, b.Reason)
		case StateDue:
		default:
			return fmt.Errorf("retention: ballot %d in state %q", b.ID, b.State)
		}
		d := &Deletion{BallotID: ballotID, ElectionID: electionID, At: now.UTC().Truncate(time.Microsecond), Actor: actor,
			PublishedAt: *b.PublishedAt, DueAt: *b.DueAt}
		if err := collectMembers(ctx, tx, ballotID); err != nil {
			return err
		}
		for _, p := range parts {
			for _, q := range p.Prepare {
				var args []any
				if strings.Contains(q, "$1") {
					args = append(args, ballotID)
				}
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return fmt.Errorf("retention: prepare: %w", err)
				}
			}
		}
		if err := s.others.Addresses.RetentionAddresses(ctx, tx); err != nil {
			return fmt.Errorf("retention: prepare: %w", err)
		}
		if err := keepCounts(ctx, tx, ballotID); err != nil {
			return err
		}
		h := sha256.New()
		for _, st := range steps {
			var n int64
			var sum []byte
			var args []any
			if strings.Contains(st.SQL, "$1") {
				args = append(args, ballotID)
			}
			err := tx.QueryRow(ctx, `WITH d AS (`+st.SQL+`)
				SELECT count(*), sha256(convert_to(coalesce(string_agg(row_to_json(d)::text, E'\n' ORDER BY row_to_json(d)::text), ''), 'UTF8')) FROM d`,
				args...).Scan(&n, &sum)
			if err != nil {
				return fmt.Errorf("retention: delete %s: %w", st.Table, err)
			}
			d.Counts = append(d.Counts, Count{st.Table, n})
			fmt.Fprintf(h, "%s %d %x\n", st.Table, n, sum)
		}
		d.Digest = h.Sum(nil)
		counts := d.countMap()
		cj, _ := json.Marshal(counts)
		if _, err := tx.Exec(ctx, `INSERT INTO retention_deletions (ballot_id, deleted_at, actor, published_at, due_at, counts, digest)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ballotID, d.At, actor, d.PublishedAt, d.DueAt, cj, d.Digest); err != nil {
			return fmt.Errorf("retention: record: %w", err)
		}
		if err := audit.Append(ctx, tx, actor, "retention.deleted", &ballotID, map[string]any{
			"counts": counts, "digest": hex.EncodeToString(d.Digest),
			"published_at": d.PublishedAt.UTC().Format(time.RFC3339), "due_at": d.DueAt.UTC().Format(time.RFC3339),
		}); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Deletion) countMap() map[string]int64 {
	m := map[string]int64{}
	for _, c := range d.Counts {
		m[c.Table] = c.Rows
	}
	return m
}

// DeletionRecord is the record of the ballot's deletion (Already set), or
// nil when its personal data has not been deleted.
func (s *Service) DeletionRecord(ctx context.Context, ballotID int64) (*Deletion, error) {
	sums, err := s.others.Ballots.Summaries(ctx, nil, ballotID)
	if err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, ErrNotFound
	}
	var deleted bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM retention_deletions WHERE ballot_id = $1)`, ballotID).Scan(&deleted); err != nil || !deleted {
		return nil, err
	}
	return previous(ctx, s.pool, ballotID, sums[0].ElectionID)
}

// previous reads the record of an earlier deletion.
func previous(ctx context.Context, q querier, ballotID int64, electionID string) (*Deletion, error) {
	d := &Deletion{BallotID: ballotID, ElectionID: electionID, Already: true}
	var cj []byte
	err := q.QueryRow(ctx, `SELECT deleted_at, actor, published_at, due_at, counts, digest FROM retention_deletions WHERE ballot_id = $1`,
		ballotID).Scan(&d.At, &d.Actor, &d.PublishedAt, &d.DueAt, &cj, &d.Digest)
	if err != nil {
		return nil, fmt.Errorf("retention: read deletion: %w", err)
	}
	var m map[string]int64
	if err := json.Unmarshal(cj, &m); err != nil {
		return nil, fmt.Errorf("retention: read deletion: %w", err)
	}
	order := map[string]int{}
	for i, st := range steps {
		order[st.Table] = i
	}
	for t, n := range m {
		d.Counts = append(d.Counts, Count{t, n})
	}
	sort.Slice(d.Counts, func(i, j int) bool { return order[d.Counts[i].Table] < order[d.Counts[j].Table] })
	return d, nil
}

// keepCounts stores the issuance counts per style (what
// /issuance/v1/{e}/counts publishes), kept by issuance's part in
// retention_style_counts, before the register goes.
func keepCounts(ctx context.Context, tx pgx.Tx, ballotID int64) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO retention_counts (ballot_id, style, entitled, online, postal, replaced)
		SELECT $1, style, entitled, online, postal, replaced FROM retention_style_counts
		ON CONFLICT (ballot_id, style) DO NOTHING`, ballotID)
	if err != nil {
		return fmt.Errorf("retention: keep counts: %w", err)
	}
	return nil
}

// collectMembers fills the temporary table retention_members with every
// member linked to the ballot by a part's Links table; gone marks those
// linked to no other ballot, whose member row and member-level records are
// deleted too.
func collectMembers(ctx context.Context, tx pgx.Tx, ballotID int64) error {
	var union, others []string
	for _, p := range parts {
		for _, t := range p.Links {
			// (Some rows name no member: an employer's notice in the outbox.)
			union = append(union, "SELECT member_id FROM "+t+" WHERE ballot_id = $1 AND member_id IS NOT NULL")
			others = append(others, "SELECT 1 FROM "+t+" x WHERE x.member_id = u.member_id AND x.ballot_id <> $1")
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE retention_members (id bigint PRIMARY KEY, gone boolean NOT NULL) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("retention: members: %w", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO retention_members (id, gone)
		SELECT u.member_id, NOT EXISTS (`+strings.Join(others, " UNION ALL ")+`)
		FROM (`+strings.Join(union, " UNION ")+`) u`, ballotID)
	if err != nil {
		return fmt.Errorf("retention: members: %w", err)
	}
	return nil
}

// Tables lists the tables Apply deletes from (or, for
// "ballot_styles.issuer_private", overwrites), in order.
func Tables() []string {
	var out []string
	for _, st := range steps {
		out = append(out, st.Table)
	}
	return out
}

// RecordHold records a complaint about the ballot (s.79, or to the
// Certification Officer or a court): the ballot is not deleted until every
// hold is released. staffID must be an active scrutineer; reason is the
// complaint's reference (it goes to the audit log: no names).
func (s *Service) RecordHold(ctx context.Context, ballotID, staffID int64, reason string, now time.Time) (int64, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return 0, fmt.Errorf("%w: give the complaint's reference as the reason (1 to 1000 characters)", ErrInvalid)
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.lockBallot(ctx, tx, ballotID); err != nil {
			return err
		}
		if err := s.scrutineer(ctx, staffID); err != nil {
			return err
		}
		var deleted bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM retention_deletions WHERE ballot_id = $1)`, ballotID).Scan(&deleted); err != nil {
			return err
		}
		if deleted {
			return fmt.Errorf("%w: ballot %d", ErrDeleted, ballotID)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO retention_holds (ballot_id, reason, recorded_by, recorded_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			ballotID, reason, staffID, now).Scan(&id); err != nil {
			return fmt.Errorf("retention: hold: %w", err)
		}
		return audit.Append(ctx, tx, fmt.Sprintf("scrutineer:%d", staffID), "retention.hold", &ballotID, map[string]any{"hold": id, "reason": reason})
	})
	return id, err
}

// ReleaseHolds releases the ballot's open hold holdID (or every open hold
// when holdID is 0) once the Certification Officer or the court has
// authorised disposal (s.75(3)(d)); reason says who authorised it. It
// returns the holds released.
func (s *Service) ReleaseHolds(ctx context.Context, ballotID, holdID, staffID int64, reason string, now time.Time) ([]int64, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return nil, fmt.Errorf("%w: say who authorised disposal as the reason (1 to 1000 characters)", ErrInvalid)
	}
	var ids []int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.lockBallot(ctx, tx, ballotID); err != nil {
			return err
		}
		if err := s.scrutineer(ctx, staffID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE retention_holds SET released_at = $3, released_by = $4, release_reason = $5
			WHERE ballot_id = $1 AND released_at IS NULL AND ($2 = 0 OR id = $2) RETURNING id`, ballotID, holdID, now, staffID, reason)
		if err != nil {
			return fmt.Errorf("retention: release: %w", err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("retention: release: %w", err)
		}
		if len(ids) == 0 {
			if holdID != 0 {
				return fmt.Errorf("%w %d on ballot %d", ErrNoHold, holdID, ballotID)
			}
			return fmt.Errorf("%w on ballot %d", ErrNoHold, ballotID)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		return audit.Append(ctx, tx, fmt.Sprintf("scrutineer:%d", staffID), "retention.release", &ballotID, map[string]any{"holds": ids, "reason": reason})
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// Holds lists every hold of the ballot, released or not.
func (s *Service) Holds(ctx context.Context, ballotID int64) ([]Hold, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, ballot_id, reason, recorded_by, recorded_at, released_at, released_by, coalesce(release_reason, '')
		FROM retention_holds WHERE ballot_id = $1 ORDER BY id`, ballotID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hold, error) {
		var h Hold
		err := r.Scan(&h.ID, &h.BallotID, &h.Reason, &h.RecordedBy, &h.RecordedAt, &h.ReleasedAt, &h.ReleasedBy, &h.ReleaseReason)
		return h, err
	})
}

// BallotID resolves a ballot given by its number or its election id.
func (s *Service) BallotID(ctx context.Context, ref string) (int64, error) {
	id, err := s.others.Ballots.Resolve(ctx, strings.TrimSpace(ref))
	if errors.Is(err, election.ErrNotFound) {
		return 0, fmt.Errorf("%w %q", ErrNotFound, ref)
	}
	return id, err
}

func (s *Service) lockBallot(ctx context.Context, tx pgx.Tx, ballotID int64) error {
	_, err := s.others.Ballots.Lock(ctx, tx, ballotID)
	if errors.Is(err, election.ErrNotFound) {
		return fmt.Errorf("%w %d", ErrNotFound, ballotID)
	}
	return err
}

func (s *Service) scrutineer(ctx context.Context, staffID int64) error {
	ok, err := s.others.Staff.ActiveScrutineer(ctx, staffID)
	if err == nil && !ok {
		return fmt.Errorf("%w (staff %d)", ErrNotAllowed, staffID)
	}
	return err
}
