// Package result holds what a ballot says after it closes and what the
// law has the union tell people: the scrutineer's signed result, checked
// and published (TULRCA s.231, s.231B), the public result page and the
// in-browser verifier, and the printable s.226A notices to employers and
// the sample voting paper.
package result

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// The result of a ballot (TULRCA s.231, s.231B). The independent scrutineer
// controls the count (statutory.md §5 A2): the trustees decrypt the totals
// and the scrutineer signs the result and report with `scrutineer report`,
// offline. The scrutineer — not the organiser — then uploads the signed
// files on their ballot page and the service publishes them: it checks
// them with crypto/ alone (the signature under the scrutineer key bound in
// the manifest at open; the ledger re-verified from its own export with the
// authorisations issued; the tally decrypted with the trustees' partials
// and compared with the signed counts) and refuses with every reason
// otherwise. Once published, the ballot's status is "published", the board
// serves the files (/ledger/v1/{e}/result, /result/signature, /partials),
// members read the s.231 particulars on /results/{e}, and organisers see
// the result on their ballot page to tell employers (s.231A).

// Board is what publishing needs of the ledger: the closed ledger's
// export to re-verify, and the board to publish on (internal/app adapts
// internal/ledger to it).
type Board interface {
	// Export writes the export of the election's closed ledger.
	Export(ctx context.Context, electionID string, w io.Writer) error
	// PublishResult puts the signed report, its signature and the JSON
	// array of partial decryptions on the board (idempotent).
	PublishResult(ctx context.Context, electionID string, report, signature, partials []byte) error
}

// IssuedFunc returns the authorisations issued per style (the marked
// register's online authorisations, replaced ones included: what
// /issuance/v1/{e}/counts publishes).
type IssuedFunc func(ctx context.Context, electionID string) (map[string]int64, error)

// Upload is what the scrutineer uploads: report.json and
// report.json.sig as `scrutineer report` wrote them, and the trustees'
// partial decryption files used by `scrutineer tally`.
type Upload struct {
	Report, Signature []byte
	Partials          [][]byte
}

// Bounds of an upload.
const (
	MaxReportFile  = 1 << 20
	MaxPartialFile = 1 << 20
	MaxPartials    = 64
)

// RefusedError lists every reason the files cannot be published
// (pages show them in their language, the error text in English).
type RefusedError struct{ Reasons []page.Msg }

func (e *RefusedError) Error() string {
	return "result: the result cannot be published: " + strings.Join(englishes(e.Reasons), "; ")
}

// Problem is the answer: 422 with every reason.
func (e *RefusedError) Problem() page.Problem {
	return page.Problem{Status: http.StatusUnprocessableEntity, Code: "result_refused", Msg: page.M("result.err.refused", e.Reasons)}
}

// Service publishes ballots' results.
type Service struct {
	pool   *pgxpool.Pool // result_election_reports (election.go)
	store  *election.Store
	board  Board
	issued IssuedFunc
	now    func() time.Time
}

// New returns the result publisher: the ballot's result on the board, and
// the election reports of its ranked contests in pool.
func New(pool *pgxpool.Pool, store *election.Store, board Board, issued IssuedFunc) *Service {
	return &Service{pool: pool, store: store, board: board, issued: issued, now: time.Now}
}

// State is a ballot's result as the pages show it.
type State struct {
	ElectionID    string
	Status        string
	ScrutineerKey string // recorded in draft ("" if none)
	BoundKey      string // in the manifest ("" if none, or not open yet)
	PublishedAt   *time.Time
	Report        *report.Report // once published
}

// State reads the ballot's result state.
func (r *Service) State(ctx context.Context, ballotID int64) (*State, error) {
	rec, err := r.store.ResultRecord(ctx, ballotID, "")
	if err != nil {
		return nil, err
	}
	return stateOf(rec)
}

// Published reads the published result of an election (election's
// ErrNotFound when there is no such ballot or its result is not
// published).
func (r *Service) Published(ctx context.Context, electionID string) (*State, *election.Ballot, error) {
	rec, err := r.store.ResultRecord(ctx, 0, electionID)
	if err != nil {
		return nil, nil, err
	}
	st, err := stateOf(rec)
	if err != nil {
		return nil, nil, err
	}
	if st.Report == nil {
		return nil, nil, election.ErrNotFound
	}
	b, err := r.store.PublicBallot(ctx, electionID)
	if err != nil {
		return nil, nil, err
	}
	return st, b, nil
}

func stateOf(rec *election.ResultRecord) (*State, error) {
	st := &State{ElectionID: rec.ElectionID, Status: rec.Status, ScrutineerKey: rec.ScrutineerKey, PublishedAt: rec.PublishedAt}
	if rec.Manifest != nil {
		mf, err := manifest.Parse(rec.Manifest)
		if err != nil {
			return nil, fmt.Errorf("ballot manifest: %w", err)
		}
		st.BoundKey = mf.Texts[report.ManifestKeyText]
	}
	if st.Status == "published" && rec.Result != nil {
		var err error
		if st.Report, err = report.Parse(rec.Result); err != nil {
			return nil, fmt.Errorf("published report: %w", err)
		}
	}
	return st, nil
}

// Publish checks the scrutineer's signed files against the ballot and, when
// every check passes, publishes them and moves the ballot to "published".
// It returns a *RefusedError naming every problem otherwise.
func (r *Service) Publish(ctx context.Context, actor string, ballotID int64, up Upload) error {
	rec, err := r.store.ResultRecord(ctx, ballotID, "")
	if err != nil {
		return err
	}
	electionID, m := rec.ElectionID, rec.Manifest
	switch rec.Status {
	case "published":
		return &RefusedError{[]page.Msg{page.M("result.err.already")}}
	case "closed":
	default:
		return &RefusedError{[]page.Msg{page.M("result.err.not_closed")}}
	}
	mf, err := manifest.Parse(m)
	if err != nil {
		return fmt.Errorf("ballot manifest: %w", err)
	}
	key := mf.Texts[report.ManifestKeyText]
	if key == "" {
		return &RefusedError{[]page.Msg{page.M("result.err.no_key")}}
	}
	rep, err := report.Open(up.Report, up.Signature, key)
	if err != nil {
		return &RefusedError{[]page.Msg{resultSigProblem(err, key)}}
	}
	var partials []*threshold.Partial
	var reasons []page.Msg
	for i, b := range up.Partials {
		var p threshold.Partial
		if err := p.UnmarshalJSON(trimSpace(b)); err != nil {
			reasons = append(reasons, page.M("result.err.partial", i+1, err.Error()))
			continue
		}
		partials = append(partials, &p)
	}
	if len(up.Partials) == 0 {
		reasons = append(reasons, page.M("result.err.no_partials"))
	}
	// A union election whose rules require it: the count cannot be made
	// without the independent person's key share (s.51A), so their
	// partial decryption must be among those used. The signed manifest
	// states it (protocol 7); a ballot opened before it did, by its
	// configuration.
	t, err := r.requiredTrustee(ctx, ballotID, mf)
	if err != nil {
		return err
	}
	if t > 0 && len(up.Partials) > 0 && !slices.ContainsFunc(partials, func(p *threshold.Partial) bool { return p.Trustee == t }) {
		reasons = append(reasons, page.M("result.err.independent_share", t))
	}
	if len(reasons) > 0 {
		return &RefusedError{reasons}
	}
	issuedBy, err := r.issued(ctx, electionID)
	if err != nil {
		return fmt.Errorf("issued counts: %w", err)
	}
	issued := make([]int64, len(mf.Styles))
	for i, s := range mf.Styles {
		issued[i] = issuedBy[s.ID]
	}
	v, err := r.verifyLedger(ctx, electionID, issued)
	if err != nil {
		return err
	}
	if problems := report.Check(rep, v, partials, issued); len(problems) > 0 {
		// The checks of crypto/report name their problems in English.
		var reasons []page.Msg
		for _, p := range problems {
			reasons = append(reasons, page.English(p))
		}
		return &RefusedError{reasons}
	}
	// The partials as published: their canonical encodings, in the order given.
	var pj []json.RawMessage
	for _, p := range partials {
		b, err := p.MarshalJSON()
		if err != nil {
			return err
		}
		pj = append(pj, b)
	}
	parr, _ := json.Marshal(pj)
	if err := r.board.PublishResult(ctx, electionID, up.Report, up.Signature, parr); err != nil {
		return fmt.Errorf("publish on the board: %w", err)
	}
	sum := sha256.Sum256(up.Report)
	err = r.store.RecordResult(ctx, actor, ballotID, r.now(), up.Report, map[string]any{
		"report_sha256": fmt.Sprintf("%x", sum), "signed_by": rep.SignedBy, "trustees": rep.Result.Trustees})
	if errors.Is(err, election.ErrWrongStatus) {
		return &RefusedError{[]page.Msg{page.M("result.err.already")}}
	}
	return err
}

// verifyLedger re-verifies the election's closed ledger from its export.
func (r *Service) verifyLedger(ctx context.Context, electionID string, issued []int64) (*verify.Result, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.board.Export(ctx, electionID, pw)) }()
	v, err := verify.Verify(ctx, pr, verify.Options{Issued: issued})
	_ = pr.CloseWithError(errors.New("verification done"))
	if err != nil {
		return nil, fmt.Errorf("verify the ledger: %w", err)
	}
	return v, nil
}

func resultSigProblem(err error, key string) page.Msg {
	name := key
	if v, e := note.NewVerifier(key); e == nil {
		name = v.Name()
	}
	if errors.Is(err, report.ErrSignature) {
		return page.M("result.err.signature", name)
	}
	return page.English(strings.TrimPrefix(err.Error(), "report: "))
}

func trimSpace(b []byte) []byte { return []byte(strings.TrimSpace(string(b))) }

// requiredTrustee is the trustee whose partial decryption the count needs
// (the s.51A independent person's, where the union's rules require it), or
// 0: as the signed manifest states it (protocol 7), or, for a ballot opened
// before the manifest did, as its configuration does.
func (r *Service) requiredTrustee(ctx context.Context, ballotID int64, mf *manifest.Manifest) (int, error) {
	if mf.IndependentPerson != nil {
		return mf.RequiredTrustee(), nil
	}
	b, err := r.store.AdminBallot(ctx, ballotID, 0)
	if err != nil {
		return 0, err
	}
	return b.Config.RequiredTrustee(), nil
}
