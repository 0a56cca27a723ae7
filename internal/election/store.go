// Package election holds ballots, their lifecycle and the register of
// entitled members (TULRCA ss.227–229).
package election

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Ballot is one statutory ballot as listed publicly.
type Ballot struct {
	ID         int64
	ElectionID string
	UnionName  string
	Title      string
	Kind       string
	Status     string
	OpensAt    *time.Time
	ClosesAt   *time.Time
	Entitled   int
	// TitleCy is the Welsh title of a bilingual ballot, else "".
	TitleCy string
}

// TitleIn is the ballot's title in lang: Welsh where the ballot is
// bilingual and lang is "cy", else English.
func (b *Ballot) TitleIn(lang string) string {
	if lang == "cy" && b.TitleCy != "" {
		return b.TitleCy
	}
	return b.Title
}

// Store reads and writes ballots.
type Store struct {
	pool     *pgxpool.Pool
	counters []Counter
}

// NewStore returns a Store on pool. The counts its ballot lists show come
// from counters (none: every count is 0).
func NewStore(pool *pgxpool.Pool, counters ...Counter) *Store {
	return &Store{pool: pool, counters: counters}
}

// BallotCounts are the numbers the ballot lists show beside a ballot.
type BallotCounts struct {
	Entitled   int // members on the register
	Authorised int // online authorisations in the marked register
	Postal     int // postal and workplace returns recorded
}

// A Counter adds to counts, for each ballot of ids that counts holds, the
// numbers its owner keeps: the register's members (internal/register, see
// [RegisterCounter]), the marked register's authorisations and returns
// (internal/issuance) and the counts kept after the register's deletion
// (internal/retention). One query per counter for a whole list.
type Counter interface {
	AddBallotCounts(ctx context.Context, ids []int64, counts map[int64]*BallotCounts) error
}

// RegisterCounter counts the members on each ballot's register.
func RegisterCounter(reg *register.Store) Counter { return registerCounter{reg} }

type registerCounter struct{ reg *register.Store }

func (c registerCounter) AddBallotCounts(ctx context.Context, ids []int64, counts map[int64]*BallotCounts) error {
	n, err := c.reg.Entitled(ctx, ids)
	if err != nil {
		return err
	}
	for id, k := range n {
		if bc := counts[id]; bc != nil {
			bc.Entitled += k
		}
	}
	return nil
}

// count asks every counter for the counts of the ballots of ids.
func (s *Store) count(ctx context.Context, ids []int64) (map[int64]*BallotCounts, error) {
	counts := make(map[int64]*BallotCounts, len(ids))
	for _, id := range ids {
		counts[id] = &BallotCounts{}
	}
	for _, c := range s.counters {
		if err := c.AddBallotCounts(ctx, ids, counts); err != nil {
			return nil, fmt.Errorf("count ballots: %w", err)
		}
	}
	return counts, nil
}

// countBallots fills the counts of bs.
func (s *Store) countBallots(ctx context.Context, bs []*Ballot, authorised, postal []*int) error {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	counts, err := s.count(ctx, ids)
	if err != nil {
		return err
	}
	for i, b := range bs {
		c := counts[b.ID]
		b.Entitled = c.Entitled
		if authorised != nil {
			*authorised[i], *postal[i] = c.Authorised, c.Postal
		}
	}
	return nil
}

const publicBallotSelect = `
	SELECT b.id, b.election_id, u.name, b.title, b.kind, b.status, b.opens_at, b.closes_at,
	       CASE WHEN b.config->>'bilingual' = 'true' THEN coalesce(b.config->>'title_cy', '') ELSE '' END
	FROM ballots b JOIN unions u ON u.id = b.union_id`

func scanBallot(r pgx.Row) (Ballot, error) {
	var b Ballot
	err := r.Scan(&b.ID, &b.ElectionID, &b.UnionName, &b.Title, &b.Kind, &b.Status, &b.OpensAt, &b.ClosesAt, &b.TitleCy)
	return b, err
}

// PublicBallots lists every ballot that is not a draft, and drafts too when
// includeDrafts is set (development only), newest first.
func (s *Store) PublicBallots(ctx context.Context, includeDrafts bool) ([]Ballot, error) {
	rows, err := s.pool.Query(ctx, publicBallotSelect+`
		WHERE $1 OR b.status <> 'draft'
		ORDER BY b.created_at DESC, b.id DESC
		LIMIT 200`, includeDrafts)
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ballot, error) { return scanBallot(r) })
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	bs := make([]*Ballot, len(out))
	for i := range out {
		bs[i] = &out[i]
	}
	if err := s.countBallots(ctx, bs, nil, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// PublicBallot reads the ballot of electionID as listed publicly
// ([ErrNotFound] if there is none).
func (s *Store) PublicBallot(ctx context.Context, electionID string) (*Ballot, error) {
	b, err := scanBallot(s.pool.QueryRow(ctx, publicBallotSelect+` WHERE b.election_id = $1`, electionID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read ballot: %w", err)
	}
	if err := s.countBallots(ctx, []*Ballot{&b}, nil, nil); err != nil {
		return nil, err
	}
	return &b, nil
}

// AdminBallot is a ballot as organisers and the scrutineer see it: its
// configuration and counts, never anything about how anyone voted.
type AdminBallot struct {
	Ballot
	UnionID        int64
	Config         Config
	Aggregated     bool
	S228AGround    string
	ScrutineerName string
	SmallExemption bool
	AssessmentBy   string
	HasTrustees    bool
	NoticeAt       *time.Time
	SampleAt       *time.Time
	Regime         string
	ManifestHash   string // hex, once open
	Authorised     int    // online authorisations in the marked register
	Postal         int    // postal returns recorded
	// ClosedAt is when voting actually stopped (nil while not closed).
	ClosedAt *time.Time
	// The scrutineer's approvals before opening (opening_checks.go): the
	// voting paper (staff account, time, paper hash in hex) and the
	// s.229(4) wording (account, time, regime).
	PaperApprovedBy, PaperApprovedHash string
	PaperApprovedAt                    *time.Time
	WordingConfirmedBy, WordingRegime  string
	WordingConfirmedAt                 *time.Time
}

// StyleName is the workplace name of a ballot style ("" for the
// aggregated style "all" and for an id not in the configuration).
func (b *AdminBallot) StyleName(style string) string {
	for _, w := range b.Config.Workplaces {
		if w.ID == style {
			return w.Name
		}
	}
	return ""
}

const adminBallotSelect = `
	SELECT b.id, b.election_id, u.name, b.title, b.kind, b.status, b.opens_at, b.closes_at,
	       b.union_id, b.config, b.aggregation = 'aggregated', coalesce(b.s228a_ground, ''), coalesce(b.scrutineer_name, ''),
	       b.small_ballot_exemption, coalesce(b.security_assessment_by, ''), b.trustees IS NOT NULL,
	       b.notice_sent_at, b.sample_sent_at, coalesce(b.regime, ''), coalesce(encode(b.manifest_hash, 'hex'), ''), b.closed_at,
	       coalesce(b.paper_approved_by, ''), coalesce(encode(b.paper_approved_hash, 'hex'), ''), b.paper_approved_at,
	       coalesce(b.wording_confirmed_by, ''), coalesce(b.wording_confirmed_regime, ''), b.wording_confirmed_at
	FROM ballots b JOIN unions u ON u.id = b.union_id`

func scanAdminBallot(row pgx.Row) (AdminBallot, error) {
	var b AdminBallot
	var cfg []byte
	err := row.Scan(&b.ID, &b.ElectionID, &b.UnionName, &b.Title, &b.Kind, &b.Status, &b.OpensAt, &b.ClosesAt,
		&b.UnionID, &cfg, &b.Aggregated, &b.S228AGround, &b.ScrutineerName, &b.SmallExemption, &b.AssessmentBy, &b.HasTrustees,
		&b.NoticeAt, &b.SampleAt, &b.Regime, &b.ManifestHash, &b.ClosedAt,
		&b.PaperApprovedBy, &b.PaperApprovedHash, &b.PaperApprovedAt, &b.WordingConfirmedBy, &b.WordingRegime, &b.WordingConfirmedAt)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(cfg, &b.Config); err != nil {
		return b, fmt.Errorf("ballot config: %w", err)
	}
	if b.Config.Bilingual {
		b.TitleCy = b.Config.TitleCy
	}
	return b, nil
}

// AdminBallots lists the ballots of a union (unionID 0: every union, for
// the scrutineer), newest first.
func (s *Store) AdminBallots(ctx context.Context, unionID int64) ([]AdminBallot, error) {
	rows, err := s.pool.Query(ctx, adminBallotSelect+` WHERE $1 = 0 OR b.union_id = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT 500`, unionID)
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AdminBallot, error) { return scanAdminBallot(r) })
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	if err := s.countAdminBallots(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// countAdminBallots fills the counts of bs.
func (s *Store) countAdminBallots(ctx context.Context, bs []AdminBallot) error {
	ptrs, auth, postal := make([]*Ballot, len(bs)), make([]*int, len(bs)), make([]*int, len(bs))
	for i := range bs {
		ptrs[i], auth[i], postal[i] = &bs[i].Ballot, &bs[i].Authorised, &bs[i].Postal
	}
	return s.countBallots(ctx, ptrs, auth, postal)
}

// AdminBallot reads one ballot; with unionID ≠ 0 only if it belongs to
// that union (an organiser never reaches another union's ballot: the answer
// is ErrNotFound, as if it did not exist).
func (s *Store) AdminBallot(ctx context.Context, id, unionID int64) (*AdminBallot, error) {
	b, err := scanAdminBallot(s.pool.QueryRow(ctx, adminBallotSelect+` WHERE b.id = $1 AND ($2 = 0 OR b.union_id = $2)`, id, unionID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read ballot: %w", err)
	}
	one := []AdminBallot{b}
	if err := s.countAdminBallots(ctx, one); err != nil {
		return nil, err
	}
	return &one[0], nil
}

// constraintError turns the ballots table's constraint violations into
// errors people read: a unique violation is [ErrElectionIDUsed] (the
// election id is the only unique value a ballot's set-up chooses), a check
// violation an [ErrInvalid] with the bounds. Other errors are returned as
// they are.
func constraintError(err error) error {
	const pgUniqueViolation, pgCheckViolation = "23505", "23514" // SQLSTATE
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &pg) && pg.Code == pgUniqueViolation:
		return fmt.Errorf("%w: %w", ErrElectionIDUsed, err)
	case errors.As(err, &pg) && pg.Code == pgCheckViolation:
		return &MsgError{Base: ErrInvalid, Msg: page.M("admin.err.bounds")}
	}
	return err
}

// ImportBallot is what a register import needs of the ballot
// (register.Ballots): its union, workplaces, aggregation, the union's
// employer channels and the union's open ballots. With lock set (in the
// import's transaction) the ballot row is locked, so an import and the
// opening serialise; a ballot that is not a draft is [ErrNotDraft].
func (s *Store) ImportBallot(ctx context.Context, q register.Querier, ballotID int64, lock bool) (*register.Ballot, error) {
	if q == nil {
		q = s.pool
	}
	sql := `SELECT b.union_id, b.status, b.aggregation, b.config, u.employer_email_domains, u.work_phone_numbers,
		       array(SELECT o.id FROM ballots o WHERE o.union_id = b.union_id AND o.status = 'open')
		FROM ballots b JOIN unions u ON u.id = b.union_id WHERE b.id = $1`
	if lock {
		sql += ` FOR UPDATE OF b`
	}
	b := &register.Ballot{ID: ballotID}
	var status, agg string
	var raw []byte
	err := q.QueryRow(ctx, sql, ballotID).Scan(&b.UnionID, &status, &agg, &raw,
		&b.Policy.EmployerEmailDomains, &b.Policy.WorkPhoneNumbers, &b.OpenBallots)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read ballot for import: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("read ballot for import: config: %w", err)
	}
	if status != "draft" {
		return nil, ErrNotDraft
	}
	b.Workplaces, b.Aggregated = cfg.Workplaces, agg == "aggregated"
	return b, nil
}

// ResultRecord is what a ballot's row holds about its result.
type ResultRecord struct {
	ID            int64
	ElectionID    string
	Status        string
	ScrutineerKey string     // recorded in draft ("" if none)
	Manifest      []byte     // canonical, once open
	PublishedAt   *time.Time // once published
	Result        []byte     // the signed report, once published
}

// ResultRecord reads the result record of the ballot id, or (id 0) of the
// ballot of electionID: [ErrNotFound] if there is none.
func (s *Store) ResultRecord(ctx context.Context, id int64, electionID string) (*ResultRecord, error) {
	rec := &ResultRecord{}
	err := s.pool.QueryRow(ctx, `SELECT id, election_id, status, coalesce(scrutineer_key, ''), manifest, published_at, result
		FROM ballots WHERE id = $1 OR ($1 = 0 AND election_id = $2)`, id, electionID).
		Scan(&rec.ID, &rec.ElectionID, &rec.Status, &rec.ScrutineerKey, &rec.Manifest, &rec.PublishedAt, &rec.Result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	return rec, nil
}

// RecordResult records a closed ballot's published result (the signed
// report) and moves it to "published", with the audit entry
// "ballot.result_publish" carrying details, in one transaction.
// [ErrWrongStatus] if the ballot is no longer closed.
func (s *Store) RecordResult(ctx context.Context, actor string, ballotID int64, at time.Time, report []byte, details map[string]any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE ballots SET status = 'published', published_at = $2, result = $3 WHERE id = $1 AND status = 'closed'`,
			ballotID, at, report)
		if err != nil {
			return fmt.Errorf("record result: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return ErrWrongStatus
		}
		return audit.Append(ctx, tx, actor, "ballot.result_publish", &ballotID, details)
	})
}

// Opened is a ballot as the voting pages need it once it has opened: its
// frozen manifest and the manifest's hash.
type Opened struct {
	ID           int64
	Title        string
	Status       string
	Manifest     []byte // canonical (docs/protocol.md §3)
	ManifestHash []byte
	// ClosedAt is when voting actually stopped (nil while open): the
	// notified close, or earlier when the scrutineer closed early.
	ClosedAt *time.Time
}

// Opened reads the ballot of electionID if it has opened ([ErrNotFound]
// if there is none, or it is still a draft).
func (s *Store) Opened(ctx context.Context, electionID string) (*Opened, error) {
	o := &Opened{}
	err := s.pool.QueryRow(ctx, `SELECT id, title, status, manifest, manifest_hash, closed_at FROM ballots WHERE election_id = $1 AND manifest IS NOT NULL`,
		electionID).Scan(&o.ID, &o.Title, &o.Status, &o.Manifest, &o.ManifestHash, &o.ClosedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read opened ballot: %w", err)
	}
	return o, nil
}

// UnionID is the id of the union with slug; an error naming the slug if
// there is none.
func (s *Store) UnionID(ctx context.Context, slug string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM unions WHERE slug = $1`, slug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("no union with slug %q", slug)
	}
	if err != nil {
		return 0, fmt.Errorf("read union: %w", err)
	}
	return id, nil
}

// Summary is a ballot's record as retention reads it.
type Summary struct {
	ID          int64
	ElectionID  string
	UnionSlug   string
	Kind        string
	Status      string
	PublishedAt *time.Time // the ballot's record of its result's publication
}

// Summaries lists the ballot ballotID, or (0) every ballot that is not a
// draft, by id; q is the caller's transaction (nil: the pool).
func (s *Store) Summaries(ctx context.Context, q register.Querier, ballotID int64) ([]Summary, error) {
	if q == nil {
		q = s.pool
	}
	rows, err := q.Query(ctx, `SELECT b.id, b.election_id, u.slug, b.kind, b.status, b.published_at
		FROM ballots b JOIN unions u ON u.id = b.union_id
		WHERE ($1 = 0 AND b.status <> 'draft') OR b.id = $1 ORDER BY b.id`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
		var b Summary
		err := r.Scan(&b.ID, &b.ElectionID, &b.UnionSlug, &b.Kind, &b.Status, &b.PublishedAt)
		return b, err
	})
}

// Lock locks the ballot's row in the caller's transaction (so that work
// on the ballot serialises) and returns its election id; [ErrNotFound] if
// there is none.
func (s *Store) Lock(ctx context.Context, tx pgx.Tx, ballotID int64) (string, error) {
	var electionID string
	err := tx.QueryRow(ctx, `SELECT election_id FROM ballots WHERE id = $1 FOR UPDATE`, ballotID).Scan(&electionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("lock ballot: %w", err)
	}
	return electionID, nil
}

// Resolve finds a ballot by its number or its election id; [ErrNotFound]
// if there is none.
func (s *Store) Resolve(ctx context.Context, ref string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM ballots WHERE id::text = $1 OR election_id = $1`, ref).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find ballot: %w", err)
	}
	return id, nil
}

// UnionPolicy is a union's employer channels (credentials and contact
// details go to personal contacts only): what a member's new mobile or
// email is checked against (internal/refresh). [ErrNotFound] if there is
// no such union.
func (s *Store) UnionPolicy(ctx context.Context, unionID int64) (register.ContactPolicy, error) {
	var p register.ContactPolicy
	err := s.pool.QueryRow(ctx, `SELECT employer_email_domains, work_phone_numbers FROM unions WHERE id = $1`, unionID).
		Scan(&p.EmployerEmailDomains, &p.WorkPhoneNumbers)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("union policy: %w", err)
	}
	return p, nil
}

// Window is what issuance checks of a ballot before it authorises a
// member or records a returned paper: its state, kind and voting window.
type Window struct {
	ID       int64
	Status   string
	Kind     string
	OpensAt  *time.Time
	ClosesAt *time.Time
}

// Window reads the ballot of electionID, or [ErrNotFound]; q is the
// caller's transaction (nil: the pool).
func (s *Store) Window(ctx context.Context, q register.Querier, electionID string) (*Window, error) {
	if q == nil {
		q = s.pool
	}
	w := &Window{}
	if err := scanWindow(q.QueryRow(ctx, windowSQL, electionID), w); err != nil {
		return nil, err
	}
	return w, nil
}

// QueueWindow queues [Store.Window] into b: when b's results are read, w
// is the ballot's window, or *err is [ErrNotFound]; a database error is
// b's. It saves a round trip to the database over Window.
func (s *Store) QueueWindow(b *pgx.Batch, electionID string, w *Window, err *error) {
	b.Queue(windowSQL, electionID).QueryRow(func(row pgx.Row) error {
		*err = scanWindow(row, w)
		if errors.Is(*err, ErrNotFound) {
			return nil
		}
		return *err
	})
}

const windowSQL = `SELECT id, status, kind, opens_at, closes_at FROM ballots WHERE election_id = $1`

func scanWindow(row pgx.Row, w *Window) error {
	err := row.Scan(&w.ID, &w.Status, &w.Kind, &w.OpensAt, &w.ClosesAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read ballot: %w", err)
	}
	return nil
}

// StyleIndex is the index of style in the ballot's manifest, or
// [ErrNotFound]; q is the caller's transaction (nil: the pool).
func (s *Store) StyleIndex(ctx context.Context, q register.Querier, ballotID int64, style string) (int, error) {
	if q == nil {
		q = s.pool
	}
	var idx int
	err := q.QueryRow(ctx, `SELECT idx FROM ballot_styles WHERE ballot_id = $1 AND style = $2`, ballotID, style).Scan(&idx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("read ballot style: %w", err)
	}
	return idx, nil
}

// SealedIssuerKey is the style's issuer private key, sealed with
// EBALLOT_SECRET_KEY under [IssuerKeyAD]; q is the caller's transaction
// (nil: the pool).
func (s *Store) SealedIssuerKey(ctx context.Context, q register.Querier, ballotID int64, style string) ([]byte, error) {
	if q == nil {
		q = s.pool
	}
	var key []byte
	if err := q.QueryRow(ctx, `SELECT issuer_private FROM ballot_styles WHERE ballot_id = $1 AND style = $2`, ballotID, style).Scan(&key); err != nil {
		return nil, fmt.Errorf("read issuer key: %w", err)
	}
	return key, nil
}

// StyleOrder lists the ballot's styles in the manifest's order; q is the
// caller's transaction (nil: the pool).
func (s *Store) StyleOrder(ctx context.Context, q register.Querier, ballotID int64) ([]string, error) {
	if q == nil {
		q = s.pool
	}
	rows, err := q.Query(ctx, `SELECT style FROM ballot_styles WHERE ballot_id = $1 ORDER BY idx`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("read ballot styles: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read ballot styles: %w", err)
	}
	return out, nil
}

// Heading is what invitations, the member's sign-in pages and their list
// of ballots (internal/auth) and turnout and reminders (internal/gotv)
// show or check of a ballot, with its union's employer channels, to which
// no credential is ever sent.
type Heading struct {
	ID, UnionID       int64
	ElectionID, Title string
	TitleCy           string // the Welsh title of a bilingual ballot, else ""
	Bilingual         bool   // the organiser made the paper bilingual (Config.Bilingual)
	Union, Status     string
	Regime            string     // "" if none chosen
	Opens             *time.Time // when it opened, else when it is to open
	ClosesAt          *time.Time
	WorkPhones        []string
	EmployerDomains   []string
}

const headingSQL = `SELECT b.id, b.union_id, b.election_id, b.title,
	coalesce(CASE WHEN (b.config->>'bilingual')::boolean THEN b.config->>'title_cy' END, ''),
	coalesce((b.config->>'bilingual')::boolean, false),
	u.name, b.status, coalesce(b.regime, ''), coalesce(b.opened_at, b.opens_at), b.closes_at,
	u.work_phone_numbers, u.employer_email_domains
	FROM ballots b JOIN unions u ON u.id = b.union_id`

func scanHeading(r pgx.Row) (Heading, error) {
	var h Heading
	err := r.Scan(&h.ID, &h.UnionID, &h.ElectionID, &h.Title, &h.TitleCy, &h.Bilingual, &h.Union, &h.Status, &h.Regime,
		&h.Opens, &h.ClosesAt, &h.WorkPhones, &h.EmployerDomains)
	return h, err
}

// Heading reads the ballot's [Heading], or [ErrNotFound].
func (s *Store) Heading(ctx context.Context, ballotID int64) (Heading, error) {
	h, err := scanHeading(s.pool.QueryRow(ctx, headingSQL+` WHERE b.id = $1`, ballotID))
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("read ballot heading: %w", err)
	}
	return h, nil
}

// Headings reads the headings of the ballots ids, the latest closing
// first (a ballot without a closing time first of all); q is the
// caller's transaction (nil: the pool).
func (s *Store) Headings(ctx context.Context, q register.Querier, ids []int64) ([]Heading, error) {
	return s.headings(ctx, q, ` WHERE b.id = ANY($1) ORDER BY b.closes_at DESC NULLS LAST, b.id`, ids)
}

// OpenBallots reads the headings of the ballots whose status is open, in
// id order (the invitation sweep's and the reminders' ballots).
func (s *Store) OpenBallots(ctx context.Context) ([]Heading, error) {
	return s.headings(ctx, nil, ` WHERE b.status = 'open' ORDER BY b.id`)
}

func (s *Store) headings(ctx context.Context, q register.Querier, where string, args ...any) ([]Heading, error) {
	if q == nil {
		q = s.pool
	}
	rows, err := q.Query(ctx, headingSQL+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read ballot headings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Heading, error) { return scanHeading(r) })
	if err != nil {
		return nil, fmt.Errorf("read ballot headings: %w", err)
	}
	return out, nil
}

// UnionLabel is how a union is named on pages and in passkey names.
type UnionLabel struct{ Name, Slug string }

// UnionLabels reads the names and slugs of the unions ids (a union not
// found is absent from the map).
func (s *Store) UnionLabels(ctx context.Context, ids []int64) (map[int64]UnionLabel, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, slug FROM unions WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read unions: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]UnionLabel, len(ids))
	for rows.Next() {
		var id int64
		var u UnionLabel
		if err := rows.Scan(&id, &u.Name, &u.Slug); err != nil {
			return nil, fmt.Errorf("read unions: %w", err)
		}
		out[id] = u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read unions: %w", err)
	}
	return out, nil
}

// ElectionAddress is a candidate's election address as recorded (the
// table election_addresses), without the photo's bytes.
type ElectionAddress struct {
	Contest, Candidate string
	TextEn, TextCy     string
	PhotoType          string // "" without a photo
	PhotoWidth         int
	PhotoHeight        int
	// Hash is address_hash (docs/protocol.md §3.2): the manifest's
	// "address" of the candidate once the ballot has opened.
	Hash string
}

// HasPhoto reports whether the address has a photo.
func (a ElectionAddress) HasPhoto() bool { return a.PhotoType != "" }

// Addresses reads the election addresses of the ballot ballotID, or (0)
// of the ballot of electionID once it has opened (a draft's are the
// organiser's only), keyed by contest and candidate; q is the caller's
// transaction (nil: the pool).
func (s *Store) Addresses(ctx context.Context, q register.Querier, ballotID int64, electionID string) (map[[2]string]ElectionAddress, error) {
	if q == nil {
		q = s.pool
	}
	return addresses(ctx, q, ballotID, electionID)
}

// addresses is [Store.Addresses] read with q.
func addresses(ctx context.Context, q register.Querier, ballotID int64, electionID string) (map[[2]string]ElectionAddress, error) {
	rows, err := q.Query(ctx, `SELECT a.contest, a.candidate, a.text_en, a.text_cy, a.photo_type, a.photo_width, a.photo_height, a.hash
		FROM election_addresses a JOIN ballots b ON b.id = a.ballot_id
		WHERE b.id = $1 OR ($1 = 0 AND b.election_id = $2 AND b.manifest IS NOT NULL)`, ballotID, electionID)
	if err != nil {
		return nil, fmt.Errorf("read election addresses: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ElectionAddress, error) {
		var a ElectionAddress
		err := r.Scan(&a.Contest, &a.Candidate, &a.TextEn, &a.TextCy, &a.PhotoType, &a.PhotoWidth, &a.PhotoHeight, &a.Hash)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read election addresses: %w", err)
	}
	out := make(map[[2]string]ElectionAddress, len(list))
	for _, a := range list {
		out[[2]string{a.Contest, a.Candidate}] = a
	}
	return out, nil
}

// AddressPhoto reads a candidate's photo, of the ballot ballotID or (0)
// of the opened ballot of electionID, with its address hash;
// [ErrNotFound] if there is none.
func (s *Store) AddressPhoto(ctx context.Context, ballotID int64, electionID, contest, candidate string) (Photo, string, error) {
	var p Photo
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT a.photo_type, a.photo, a.photo_width, a.photo_height, a.hash
		FROM election_addresses a JOIN ballots b ON b.id = a.ballot_id
		WHERE (b.id = $1 OR ($1 = 0 AND b.election_id = $2 AND b.manifest IS NOT NULL))
		  AND a.contest = $3 AND a.candidate = $4 AND a.photo_type <> ''`, ballotID, electionID, contest, candidate).
		Scan(&p.Type, &p.Data, &p.Width, &p.Height, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, "", ErrNotFound
	}
	if err != nil {
		return p, "", fmt.Errorf("read photo: %w", err)
	}
	return p, hash, nil
}

// addressPhoto is the recorded photo of a candidate in tx (nil if none).
func (s *Store) addressPhoto(ctx context.Context, tx pgx.Tx, ballotID int64, contest, candidate string) (*Photo, error) {
	var p Photo
	err := tx.QueryRow(ctx, `SELECT photo_type, photo, photo_width, photo_height FROM election_addresses
		WHERE ballot_id = $1 AND contest = $2 AND candidate = $3 AND photo_type <> ''`, ballotID, contest, candidate).
		Scan(&p.Type, &p.Data, &p.Width, &p.Height)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read photo: %w", err)
	}
	return &p, nil
}

// putAddress writes a candidate's address (photo nil: none) with its hash.
func (s *Store) putAddress(ctx context.Context, tx pgx.Tx, ballotID int64, contest, candidate string, a manifest.Address, photo *Photo, hash string) error {
	var w, h int
	if photo != nil {
		w, h = photo.Width, photo.Height
	}
	photoBytes := a.Photo
	if photoBytes == nil {
		photoBytes = []byte{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO election_addresses (ballot_id, contest, candidate, text_en, text_cy, photo_type, photo,
			photo_width, photo_height, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (ballot_id, contest, candidate) DO UPDATE SET text_en = excluded.text_en, text_cy = excluded.text_cy,
			photo_type = excluded.photo_type, photo = excluded.photo, photo_width = excluded.photo_width,
			photo_height = excluded.photo_height, hash = excluded.hash, updated_at = now()`,
		ballotID, contest, candidate, a.TextEn, a.TextCy, a.PhotoType, photoBytes, w, h, hash)
	if err != nil {
		return fmt.Errorf("record election address: %w", err)
	}
	return nil
}

// deleteAddresses deletes the addresses of a contest's candidates.
func (s *Store) deleteAddresses(ctx context.Context, tx pgx.Tx, ballotID int64, contest string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM election_addresses WHERE ballot_id = $1 AND contest = $2`, ballotID, contest); err != nil {
		return fmt.Errorf("delete election addresses: %w", err)
	}
	return nil
}

// addressHashes are the address hashes of the ballot's candidates, by
// contest and candidate, in tx.
func addressHashes(ctx context.Context, tx pgx.Tx, ballotID int64) (map[[2]string]string, error) {
	addrs, err := addresses(ctx, tx, ballotID, "")
	if err != nil {
		return nil, err
	}
	out := make(map[[2]string]string, len(addrs))
	for k, a := range addrs {
		out[k] = a.Hash
	}
	return out, nil
}
