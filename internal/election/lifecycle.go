package election

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/sealed"
	"github.com/unionvote/eballot/internal/web/page"
)

// Errors of the ballot lifecycle, with their answers (internal/web/page
// writes them).
var (
	// ErrNotFound (404): no such ballot, or not one the staff member may see.
	ErrNotFound = page.NewError("election: ballot not found", http.StatusNotFound, "not_found", "error.notfound")
	// ErrNotDraft (409): the ballot has opened; its configuration and
	// register are frozen (s.227).
	ErrNotDraft = page.NewError("election: the ballot is no longer a draft, so it cannot be changed", http.StatusConflict, "not_draft", "admin.err.not_draft")
	// ErrWrongStatus (409): the ballot is not in the state the action needs.
	ErrWrongStatus = page.NewError("election: the ballot is not in the right state for that", http.StatusConflict, "wrong_status", "admin.err.wrong_status")
	// ErrInvalid (422): a value of the ballot's set-up is not acceptable; the
	// [MsgError] that wraps it says which.
	ErrInvalid = page.NewError("election: invalid configuration", http.StatusUnprocessableEntity, "invalid", "admin.err.invalid")
	// ErrElectionIDUsed (409): another ballot already has this election id.
	ErrElectionIDUsed = page.NewError("election: the election id is already used", http.StatusConflict, "election_id_used", "admin.err.id_used")
)

// OpenRefusedError lists every reason a ballot cannot open yet (pages show
// them in their language, the error text in English).
type OpenRefusedError struct {
	Reasons []page.Msg
}

func (e *OpenRefusedError) Error() string {
	return "election: the ballot cannot open: " + strings.Join(Englishes(e.Reasons), "; ")
}

// Problem is the answer: 422 with every reason.
func (e *OpenRefusedError) Problem() page.Problem {
	return page.Problem{Status: http.StatusUnprocessableEntity, Code: "cannot_open", Msg: page.M("admin.err.cannot_open", e.Reasons)}
}

// Ledger is what opening and closing a ballot need of the ledger: a log key
// for the manifest, and the manifest handed over at open. The ledger never
// learns anything else about the ballot (docs/architecture.md walls).
type Ledger interface {
	// LogKey returns the ledger's note verifier key for the election,
	// creating the signing key on first call (idempotent).
	LogKey(ctx context.Context, electionID string) (string, error)
	// OpenElection starts the ledger of the election from its canonical
	// manifest (idempotent for the same manifest).
	OpenElection(ctx context.Context, manifest []byte) error
	// CloseElection stops accepting casts and publishes the final
	// checkpoint, signed with the time voting stopped (at: the actual
	// close, which the result and the s.234 mandate use); idempotent.
	CloseElection(ctx context.Context, electionID string, at time.Time) error
}

// Admin changes ballots. Every change is recorded in the audit log in the
// same transaction.
type Admin struct {
	store     *Store
	register  *register.Store
	secretKey []byte
	ledger    Ledger
	now       func() time.Time
}

// NewAdmin returns an Admin over the ballots' store and the registers'.
// secretKey seals issuer private keys at rest.
func NewAdmin(store *Store, reg *register.Store, secretKey []byte, ledger Ledger) *Admin {
	return &Admin{store: store, register: reg, secretKey: secretKey, ledger: ledger, now: time.Now}
}

// BallotSetup is everything an organiser configures in draft.
type BallotSetup struct {
	Title       string
	Kind        string
	OpensAt     time.Time
	ClosesAt    time.Time
	Config      Config
	Aggregated  bool
	S228AGround string // "s228A(2)", "s228A(3)" or "s228A(4)" when aggregated
}

// refusedKind refuses a kind of ballot the service must not run, with the
// reason and the law (legal/regimes.json "refused_kinds"): CAC recognition
// and derecognition ballots are conducted by a qualified independent
// person the CAC appoints (TULRCA Schedule A1, paragraphs 25 and 117),
// not by the union.
func refusedKind(kind string) error {
	if rk, ok := RefusedKindOf(kind); ok {
		return invalid("admin.err.kind_refused", rk.Law)
	}
	return nil
}

// CreateBallot creates a draft ballot for a union.
func (a *Admin) CreateBallot(ctx context.Context, actor string, unionID int64, electionID string, setup BallotSetup) (int64, error) {
	if !slugRE.MatchString(electionID) {
		return 0, invalid("admin.err.election_id")
	}
	if err := refusedKind(setup.Kind); err != nil {
		return 0, err
	}
	var id int64
	err := pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO ballots (union_id, election_id, title, kind) VALUES ($1, $2, $3, $4) RETURNING id`,
			unionID, electionID, setup.Title, setup.Kind).Scan(&id)
		if err != nil {
			return fmt.Errorf("create ballot: %w", err)
		}
		if err := a.configure(ctx, tx, id, setup); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.create", &id, map[string]string{"election_id": electionID})
	})
	return id, constraintError(err)
}

// Configure replaces a draft ballot's configuration.
func (a *Admin) Configure(ctx context.Context, actor string, ballotID int64, setup BallotSetup) error {
	return constraintError(a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		if err := a.configure(ctx, tx, ballotID, setup); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.configure", &ballotID, nil)
	}))
}

func (a *Admin) configure(ctx context.Context, tx pgx.Tx, id int64, s BallotSetup) error {
	if err := refusedKind(s.Kind); err != nil {
		return err
	}
	if err := s.Config.Validate(); err != nil {
		if m, ok := ErrorMsg(err); ok {
			return &MsgError{Base: ErrInvalid, Msg: m}
		}
		return &MsgError{Base: ErrInvalid, Msg: page.English(err.Error())}
	}
	if strings.TrimSpace(s.Title) == "" || len(s.Title) > 300 {
		return invalid("admin.err.title")
	}
	if !s.OpensAt.IsZero() && !s.ClosesAt.IsZero() && !s.OpensAt.Before(s.ClosesAt) {
		return invalid("admin.err.close_after_open")
	}
	agg := "separate"
	var ground *string
	if s.Aggregated {
		agg = "aggregated"
		switch s.S228AGround {
		case "s228A(2)", "s228A(3)", "s228A(4)":
			ground = &s.S228AGround
		default:
			return invalid("admin.err.ground")
		}
	}
	cfg, _ := json.Marshal(s.Config)
	_, err := tx.Exec(ctx, `UPDATE ballots SET title = $2, kind = $3, opens_at = $4, closes_at = $5, config = $6,
		aggregation = $7, s228a_ground = $8 WHERE id = $1`,
		id, s.Title, s.Kind, nullTime(s.OpensAt), nullTime(s.ClosesAt), cfg, agg, ground)
	if err != nil {
		return fmt.Errorf("configure ballot: %w", err)
	}
	return nil
}

// AppointScrutineer records the appointed independent scrutineer (s.226B),
// or the s.226C small-ballot exemption (no scrutineer when at most 50 are
// entitled to vote).
func (a *Admin) AppointScrutineer(ctx context.Context, actor string, ballotID int64, name string, smallBallotExemption bool) error {
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		name = strings.TrimSpace(name)
		if name == "" && !smallBallotExemption {
			return invalid("admin.err.scrutineer")
		}
		if _, err := tx.Exec(ctx, `UPDATE ballots SET scrutineer_name = NULLIF($2, ''), small_ballot_exemption = $3 WHERE id = $1`,
			ballotID, name, smallBallotExemption); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.scrutineer", &ballotID, map[string]any{"name": name, "s226c_exemption": smallBallotExemption})
	})
}

// SignOffSecurityAssessment records the signed-off pre-ballot security
// assessment (e-ballot Code; statutory.md §5 A4).
func (a *Admin) SignOffSecurityAssessment(ctx context.Context, actor string, ballotID int64, by string) error {
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		if strings.TrimSpace(by) == "" {
			return invalid("admin.err.assessment")
		}
		if _, err := tx.Exec(ctx, `UPDATE ballots SET security_assessment_by = $2, security_assessment_at = $3 WHERE id = $1`,
			ballotID, by, a.now()); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.security_assessment", &ballotID, map[string]string{"by": by})
	})
}

// SetTrustees records the key ceremony's public output (the trustees'
// public key file made by `scrutineer`): threshold, joint election key and
// each trustee's public share.
func (a *Admin) SetTrustees(ctx context.Context, actor string, ballotID int64, file []byte) error {
	var pk threshold.PublicKey
	if m, wrong := page.WrongFile("file.kind.trustees", file); wrong {
		return &MsgError{Base: ErrInvalid, Msg: m}
	}
	if err := pk.UnmarshalJSON(file); err != nil {
		return invalid("admin.err.trustees_parse", err.Error())
	}
	canon, err := pk.MarshalJSON()
	if err != nil {
		return err
	}
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE ballots SET trustees = $2 WHERE id = $1`, ballotID, canon); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.trustees", &ballotID, map[string]int{"threshold": pk.Threshold, "trustees": len(pk.Shares)})
	})
}

// RecordEmployerNotices records when the s.226A notice and the sample
// voting paper were sent to every employer: the same times for each
// employer of the current register (employer_notices.go records them one
// employer at a time).
func (a *Admin) RecordEmployerNotices(ctx context.Context, actor string, ballotID int64, noticeAt, sampleAt time.Time) error {
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE ballots SET notice_sent_at = $2, sample_sent_at = $3 WHERE id = $1`,
			ballotID, nullTime(noticeAt), nullTime(sampleAt)); err != nil {
			return err
		}
		if err := a.recordAllEmployerNotices(ctx, tx, actor, ballotID, noticeAt, sampleAt, a.now()); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.employer_notices", &ballotID, map[string]string{
			"notice_sent_at": noticeAt.UTC().Format(time.RFC3339), "sample_sent_at": sampleAt.UTC().Format(time.RFC3339)})
	})
}

func (a *Admin) inDraft(ctx context.Context, ballotID int64, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM ballots WHERE id = $1 FOR UPDATE`, ballotID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != "draft" {
			return ErrNotDraft
		}
		return f(tx)
	})
}

// draft is a ballot row as Open reads it.
type draft struct {
	id                              int64
	electionID, title, kind, status string
	opensAt, closesAt               *time.Time
	config                          Config
	aggregated                      bool
	s228aGround, scrutineer         *string
	smallExemption                  bool
	assessmentBy                    *string
	trustees                        []byte
	noticeAt, sampleAt              *time.Time
	manifest                        []byte
	scrutineerKey                   string // note verifier key that signs the result (result.go)
	// The scrutineer's confirmation of the s.229(4) wording (regime id and
	// hash of the texts confirmed) and approval of the voting paper (its
	// [paperHash]); empty until given.
	wordingRegime             string
	wordingHash, paperHash    []byte
	wordingBy, paperBy        string
	wordingAt, paperApproveAt *time.Time
	// addresses are the address hashes of a union election's candidates
	// by contest and candidate (in the manifest, so in the approved paper).
	addresses map[[2]string]string
}

func readDraft(ctx context.Context, tx pgx.Tx, ballotID int64, lock bool) (*draft, error) {
	forUpdate := ""
	if lock {
		forUpdate = " FOR UPDATE"
	}
	d := &draft{id: ballotID}
	var cfg []byte
	var agg string
	err := tx.QueryRow(ctx, `SELECT election_id, title, kind, status, opens_at, closes_at, config, aggregation, s228a_ground,
		scrutineer_name, small_ballot_exemption, security_assessment_by, trustees, notice_sent_at, sample_sent_at, manifest,
		coalesce(scrutineer_key, ''), coalesce(wording_confirmed_regime, ''), wording_confirmed_hash, coalesce(wording_confirmed_by, ''),
		wording_confirmed_at, paper_approved_hash, coalesce(paper_approved_by, ''), paper_approved_at
		FROM ballots WHERE id = $1`+forUpdate, ballotID).Scan(&d.electionID, &d.title, &d.kind, &d.status, &d.opensAt, &d.closesAt,
		&cfg, &agg, &d.s228aGround, &d.scrutineer, &d.smallExemption, &d.assessmentBy, &d.trustees, &d.noticeAt, &d.sampleAt, &d.manifest,
		&d.scrutineerKey, &d.wordingRegime, &d.wordingHash, &d.wordingBy, &d.wordingAt, &d.paperHash, &d.paperBy, &d.paperApproveAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.aggregated = agg == "aggregated"
	if err := json.Unmarshal(cfg, &d.config); err != nil {
		return nil, fmt.Errorf("ballot config: %w", err)
	}
	if d.kind == "union_election" { // candidates' election addresses (contests.go)
		if d.addresses, err = addressHashes(ctx, tx, ballotID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Open checks that the ballot may open, freezes the register (voting-paper
// numbers 1..N, s.229(1A)(c)), creates each style's issuer key, builds and
// freezes the manifest, and hands it to the ledger. Every reason it cannot
// open is reported at once. Calling Open on a ballot that is already open
// finishes the ledger hand-over if an earlier call was interrupted.
func (a *Admin) Open(ctx context.Context, actor string, ballotID int64) error {
	now := a.now()
	var manifest []byte
	err := pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		d, err := readDraft(ctx, tx, ballotID, true)
		if err != nil {
			return err
		}
		if d.status == "open" || d.status == "scheduled" {
			manifest = d.manifest
			return nil
		}
		if d.status != "draft" {
			return ErrWrongStatus
		}
		regime, entitled, styles, reasons, err := a.checkOpen(ctx, tx, d, now)
		if err != nil {
			return err
		}
		if len(reasons) > 0 {
			return &OpenRefusedError{Reasons: reasons}
		}
		// Freeze the register: voting-paper numbers, its hash, and the
		// contacts credentials and reminders go to (internal/register).
		regHash, err := a.register.Freeze(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ballots SET contacts_frozen_at = now() WHERE id = $1`, ballotID); err != nil {
			return fmt.Errorf("freeze contacts: %w", err)
		}
		logKey, err := a.ledger.LogKey(ctx, d.electionID)
		if err != nil {
			return fmt.Errorf("ledger log key: %w", err)
		}
		var mstyles []manifestStyle
		for i, st := range styles {
			sk, err := blind.GenerateIssuerKey(rand.Reader)
			if err != nil {
				return err
			}
			pub, err := blind.MarshalPublicKey(&sk.PublicKey)
			if err != nil {
				return err
			}
			priv, err := sealed.Seal(a.secretKey, x509.MarshalPKCS1PrivateKey(sk), IssuerKeyAD(d.electionID, st.id))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ballot_styles (ballot_id, style, idx, name, issuer_public, issuer_private)
				VALUES ($1, $2, $3, $4, $5, $6)`, ballotID, st.id, i, st.name, pub, priv); err != nil {
				return fmt.Errorf("store issuer key: %w", err)
			}
			mstyles = append(mstyles, manifestStyle{id: st.id, name: st.name, issuerKey: pub, entitled: entitled[st.id]})
		}
		manifest, err = buildManifest(d, regime, mstyles, logKey, now)
		if err != nil {
			return err
		}
		mh := sha256.Sum256(manifest)
		// Nothing before the notified opening (s.226A(1), the opening day
		// the notices gave): pressed early, Open freezes everything but
		// only schedules the opening; the scheduler (schedule.go) opens
		// the ballot at opens_at, and every vote path (invitations, codes,
		// pack codes, authorisation) needs status "open".
		status, openedAt := "open", &now
		if d.opensAt != nil && d.opensAt.After(now) {
			status, openedAt = "scheduled", nil
		}
		if _, err := tx.Exec(ctx, `UPDATE ballots SET status = $7, regime = $2, manifest = $3, manifest_hash = $4,
			register_hash = $5, opened_at = $6 WHERE id = $1`, ballotID, regime.ID, manifest, mh[:], regHash, openedAt, status); err != nil {
			return err
		}
		details := map[string]any{"regime": regime.ID, "manifest_hash": fmt.Sprintf("%x", mh), "register_hash": fmt.Sprintf("%x", regHash),
			"paper_hash": fmt.Sprintf("%x", d.paperHash), "paper_approved_by": d.paperBy}
		if status == "scheduled" {
			details["opens_at"] = d.opensAt.UTC().Format(time.RFC3339)
			return audit.Append(ctx, tx, actor, "ballot.schedule", &ballotID, details)
		}
		return audit.Append(ctx, tx, actor, "ballot.open", &ballotID, details)
	})
	if err != nil {
		return err
	}
	if err := a.ledger.OpenElection(ctx, manifest); err != nil {
		return fmt.Errorf("the ballot is open but its ledger did not start (open it again to retry): %w", err)
	}
	return nil
}

type styleInfo struct{ id, name string }

// checkOpen collects every reason the ballot cannot open.
func (a *Admin) checkOpen(ctx context.Context, tx pgx.Tx, d *draft, now time.Time) (Regime, map[string]int, []styleInfo, []page.Msg, error) {
	var reasons []page.Msg
	add := func(key string, args ...any) { reasons = append(reasons, page.M(key, args...)) }
	if err := d.config.Validate(); err != nil {
		if m, ok := ErrorMsg(err); ok {
			add("admin.why.configuration", m)
		} else {
			add("admin.why.configuration", err.Error())
		}
	}
	opening := now
	if d.opensAt != nil && d.opensAt.After(now) {
		opening = *d.opensAt
	}
	regime, err := RegimeFor(opening)
	if err != nil {
		add("admin.why.no_regime", opening.In(london).Format("2006-01-02"))
	}
	if d.closesAt == nil || !d.closesAt.After(now) {
		add("admin.why.closing")
	}
	entitled, err := a.register.EntitledByStyle(ctx, tx, d.id)
	if err != nil {
		return regime, nil, nil, nil, err
	}
	total := 0
	for _, n := range entitled {
		total += n
	}
	if total == 0 {
		add("admin.why.register")
	}
	styles := d.styles(entitled)
	known := map[string]bool{}
	for _, s := range styles {
		known[s.id] = true
	}
	for s := range entitled {
		if !known[s] {
			add("admin.why.style", s)
		}
	}
	// s.226B / s.226C: a scrutineer, unless an IA ballot with ≤ 50 entitled.
	if deref(d.scrutineer) == "" {
		if !d.smallExemption {
			add("admin.why.scrutineer")
		} else if d.kind != "industrial_action" || total > 50 {
			add("admin.why.s226c", total)
		}
	}
	if deref(d.assessmentBy) == "" {
		add("admin.why.assessment")
	}
	// A bilingual ballot: every text a member sees in Welsh as well.
	reasons = append(reasons, d.config.MissingWelsh()...)
	if d.config.Bilingual && d.kind == "industrial_action" && regime.ID != "" && regime.Texts["s229_4"].TextCy == "" {
		add("admin.why.cy_statement")
	}
	// The trustees' joint election key: the key ceremony has finished and
	// its public output is recorded (SetTrustees); every vote is encrypted
	// to it, so without it nothing can be cast.
	if len(d.trustees) == 0 {
		add("admin.why.trustees")
	}
	// The scrutineer's result signing key (SetScrutineerKey): Open binds it
	// into the manifest, and only a result signed by it is published
	// (result.go), so a ballot opened without it could never publish its
	// result (s.231, s.231B).
	if d.scrutineerKey == "" {
		add("admin.why.scrutineer_key")
	}
	if regime.ID != "" {
		reasons = append(reasons, methodReasons(regime, d)...)
	}
	// s.229(4): a statement whose wording in regimes.json is not verified
	// against the legislation in force is printed only once the scrutineer
	// has confirmed it for this ballot (ConfirmWording).
	if d.kind == "industrial_action" && regime.ID != "" && !wordingConfirmed(d, regime) {
		add("admin.why.wording", regime.ID)
	}
	// Postal packs (a hybrid ballot with a paper to everyone, s.230(2)):
	// packs carry voting-paper numbers (s.229(1A)(c)) and codes, which exist
	// only once Open has frozen the register, and must be posted before
	// voting opens. So such a ballot is opened ahead of its notified
	// opening (it is scheduled), the packs are printed and posted from the
	// packs page, and the scheduler opens it on time; opened on the spot
	// it would be open with no pack posted.
	if d.config.PaperToEveryone && (d.opensAt == nil || !d.opensAt.After(now)) {
		add("admin.why.packs")
	}
	// A ranked contest is counted from the decrypted online ballots alone
	// (docs/protocol.md §9): the paper count (§10) records counts per
	// candidate, not rankings, so a ranked paper returned by post could not
	// be counted, and every member who votes on paper would lose their
	// vote (s.51(1), s.51(4)). Until paper rankings are counted, a ballot
	// with a ranked contest opens only when no member would be posted a
	// paper.
	if d.config.HasRanked() {
		if d.config.PaperToEveryone {
			add("admin.why.ranked_paper_everyone")
		} else if n, err := a.register.PaperVoters(ctx, tx, d.id); err != nil {
			return regime, nil, nil, nil, err
		} else if n > 0 {
			add("admin.why.ranked_paper", n)
		}
	}
	// The scrutineer's approval of the voting paper, as it will be signed
	// (ApprovePaper); any change since (questions, texts, dates, register,
	// styles, keys) gives another hash and needs a new approval.
	if regime.ID != "" {
		h, err := paperHash(d, regime, styles, entitled)
		if err != nil {
			return regime, nil, nil, nil, err
		}
		switch {
		case len(d.paperHash) == 0:
			add("admin.why.paper_approval")
		case !bytes.Equal(h, d.paperHash) && d.paperApproveAt != nil:
			add("admin.why.paper_stale", d.paperBy, page.Day(d.paperApproveAt.In(london)))
		}
	}
	if d.kind == "industrial_action" && regime.ID != "" {
		if strings.TrimSpace(d.config.Texts["authorised_person"]) == "" {
			add("admin.why.authorised")
		}
		if regime.ExtraPaperContent && strings.TrimSpace(d.config.Texts["dispute_summary"]) == "" {
			add("admin.why.dispute")
		}
		// s.226A: each employer's notice and sample voting paper, each on
		// its own clock (employer_notices.go).
		recs, err := a.employerNoticeRecords(ctx, tx, d.id)
		if err != nil {
			return regime, nil, nil, nil, err
		}
		reasons = append(reasons, checkEmployerNotices(regime, opening, recs)...)
	}
	reasons = append(reasons, electionReasons(d)...) // a union election's (contests.go)
	return regime, entitled, styles, reasons, nil
}

// Close stops voting before the notified close: issuance and the ledger
// refuse from now on, and the ledger publishes its final checkpoint. It is
// the scrutineer's action and needs a reason, recorded with the close
// (closing early may breach what the s.226A notices told employers and
// what the voting paper told members, s.229(1A)(b)); closed_at is the
// actual close, which the result and the mandate use. A ballot at or past
// its notified close is closed by the scheduler (schedule.go) at closes_at.
func (a *Admin) Close(ctx context.Context, actor string, ballotID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return invalid("admin.err.close_reason")
	}
	var electionID string
	var at time.Time
	err := pgx.BeginFunc(ctx, a.store.pool, func(tx pgx.Tx) error {
		var status string
		var closes, closedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT election_id, status, closes_at, closed_at FROM ballots WHERE id = $1 FOR UPDATE`, ballotID).Scan(&electionID, &status, &closes, &closedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == "closed" {
			// Closed already: tell the ledger again, with the time it closed.
			if closedAt != nil {
				at = *closedAt
			} else {
				at = a.now()
			}
			return nil
		}
		if status != "open" {
			return ErrWrongStatus
		}
		now := a.now()
		var early bool
		at, early = now, true
		if closes != nil && !now.Before(*closes) {
			// Already past the notified close: it closed then.
			at, early = *closes, false
		}
		var why *string
		if early {
			why = &reason
		}
		if _, err := tx.Exec(ctx, `UPDATE ballots SET status = 'closed', closed_at = $2, close_reason = $3 WHERE id = $1`, ballotID, at, why); err != nil {
			return err
		}
		details := map[string]any{"closed_at": at.UTC().Format(time.RFC3339), "early": early}
		if early {
			details["reason"] = reason
			details["notified_close"] = closes.UTC().Format(time.RFC3339)
		}
		return audit.Append(ctx, tx, actor, "ballot.close", &ballotID, details)
	})
	if err != nil {
		return err
	}
	return a.ledger.CloseElection(ctx, electionID, at)
}

// IssuerKeyAD is the additional data that binds a sealed issuer key to its
// election and style.
func IssuerKeyAD(electionID, style string) string { return "issuer:" + electionID + ":" + style }

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Readiness lists what still stops a draft ballot from opening (the same
// checks as Open, without changing anything); nil when it can open.
// [Englishes] gives their English texts.
func (a *Admin) Readiness(ctx context.Context, ballotID int64) ([]page.Msg, error) {
	var reasons []page.Msg
	err := pgx.BeginTxFunc(ctx, a.store.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		d, err := readDraft(ctx, tx, ballotID, false)
		if err != nil {
			return err
		}
		if d.status != "draft" {
			return nil
		}
		_, _, _, reasons, err = a.checkOpen(ctx, tx, d, a.now())
		return err
	})
	return reasons, err
}

// SetScrutineerKey records, in draft, the scrutineer's public signing key
// (a note verifier key, `scrutineer keygen`'s .pub file). Open binds it into
// the manifest (texts.scrutineer_key); only a result signed by it is
// published.
func (a *Admin) SetScrutineerKey(ctx context.Context, actor string, ballotID int64, key string) error {
	key = strings.TrimSpace(key)
	v, err := note.NewVerifier(key)
	if err != nil || len(key) > 512 {
		return invalid("admin.err.scrutineer_key")
	}
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE ballots SET scrutineer_key = $2 WHERE id = $1`, ballotID, key); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.scrutineer_key", &ballotID, map[string]string{"key_name": v.Name(), "key": key})
	})
}
