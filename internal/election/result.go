package election

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/audit"
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

// ResultBoard is what publishing needs of the ledger: the closed ledger's
// export to re-verify, and the board to publish on (internal/app adapts
// internal/ledger to it).
type ResultBoard interface {
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

// ResultUpload is what the scrutineer uploads: report.json and
// report.json.sig as `scrutineer report` wrote them, and the trustees'
// partial decryption files used by `scrutineer tally`.
type ResultUpload struct {
	Report, Signature []byte
	Partials          [][]byte
}

// Bounds of an upload.
const (
	MaxReportFile  = 1 << 20
	MaxPartialFile = 1 << 20
	MaxPartials    = 64
)

// ResultRefusedError lists every reason the files cannot be published
// (pages show them in their language, the error text in English).
type ResultRefusedError struct{ Reasons []page.Msg }

func (e *ResultRefusedError) Error() string {
	return "election: the result cannot be published: " + strings.Join(Englishes(e.Reasons), "; ")
}

// Problem is the answer: 422 with every reason.
func (e *ResultRefusedError) Problem() page.Problem {
	return page.Problem{Status: http.StatusUnprocessableEntity, Code: "result_refused", Msg: page.M("result.err.refused", e.Reasons)}
}

// Results publishes ballots' results.
type Results struct {
	store  *Store
	board  ResultBoard
	issued IssuedFunc
	now    func() time.Time
}

// NewResults returns the result publisher.
func NewResults(store *Store, board ResultBoard, issued IssuedFunc) *Results {
	return &Results{store: store, board: board, issued: issued, now: time.Now}
}

// SetScrutineerKey records, in draft, the scrutineer's public signing key
// (a note verifier key, `scrutineer keygen`'s .pub file). Open binds it into
// the manifest (texts.scrutineer_key); only a result signed by it is
// published.
func (a *Admin) SetScrutineerKey(ctx context.Context, actor string, ballotID int64, key string) error {
	key = strings.TrimSpace(key)
	v, err := note.NewVerifier(key)
	if err != nil || len(key) > 512 {
		return invalid("result.err.key")
	}
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE ballots SET scrutineer_key = $2 WHERE id = $1`, ballotID, key); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.scrutineer_key", &ballotID, map[string]string{"key_name": v.Name(), "key": key})
	})
}

// ResultState is a ballot's result as the pages show it.
type ResultState struct {
	ElectionID    string
	Status        string
	ScrutineerKey string // recorded in draft ("" if none)
	BoundKey      string // in the manifest ("" if none, or not open yet)
	PublishedAt   *time.Time
	Report        *report.Report // once published
}

// State reads the ballot's result state.
func (r *Results) State(ctx context.Context, ballotID int64) (*ResultState, error) {
	return r.state(ctx, `b.id = $1`, ballotID)
}

// Published reads the published result of an election (ErrNotFound when
// there is no such ballot or its result is not published).
func (r *Results) Published(ctx context.Context, electionID string) (*ResultState, *Ballot, error) {
	st, err := r.state(ctx, `b.election_id = $1`, electionID)
	if err != nil {
		return nil, nil, err
	}
	if st.Report == nil {
		return nil, nil, ErrNotFound
	}
	var b Ballot
	err = r.store.pool.QueryRow(ctx, `SELECT b.id, b.election_id, u.name, b.title, b.kind, b.status, b.opens_at, b.closes_at,
		(SELECT count(*) FROM register_entries e WHERE e.ballot_id = b.id) + (SELECT coalesce(sum(rc.entitled), 0) FROM retention_counts rc WHERE rc.ballot_id = b.id) FROM ballots b JOIN unions u ON u.id = b.union_id
		WHERE b.election_id = $1`, electionID).Scan(&b.ID, &b.ElectionID, &b.UnionName, &b.Title, &b.Kind, &b.Status, &b.OpensAt, &b.ClosesAt, &b.Entitled)
	if err != nil {
		return nil, nil, err
	}
	return st, &b, nil
}

func (r *Results) state(ctx context.Context, where string, arg any) (*ResultState, error) {
	var st ResultState
	var m, res []byte
	err := r.store.pool.QueryRow(ctx, `SELECT b.election_id, b.status, coalesce(b.scrutineer_key, ''), b.manifest, b.published_at, b.result
		FROM ballots b WHERE `+where, arg).Scan(&st.ElectionID, &st.Status, &st.ScrutineerKey, &m, &st.PublishedAt, &res)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	if m != nil {
		mf, err := manifest.Parse(m)
		if err != nil {
			return nil, fmt.Errorf("ballot manifest: %w", err)
		}
		st.BoundKey = mf.Texts[report.ManifestKeyText]
	}
	if st.Status == "published" && res != nil {
		if st.Report, err = report.Parse(res); err != nil {
			return nil, fmt.Errorf("published report: %w", err)
		}
	}
	return &st, nil
}

// Publish checks the scrutineer's signed files against the ballot and, when
// every check passes, publishes them and moves the ballot to "published".
// It returns a *ResultRefusedError naming every problem otherwise.
func (r *Results) Publish(ctx context.Context, actor string, ballotID int64, up ResultUpload) error {
	var electionID, status string
	var m []byte
	err := r.store.pool.QueryRow(ctx, `SELECT election_id, status, manifest FROM ballots WHERE id = $1`, ballotID).Scan(&electionID, &status, &m)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	switch status {
	case "published":
		return &ResultRefusedError{[]page.Msg{page.M("result.err.already")}}
	case "closed":
	default:
		return &ResultRefusedError{[]page.Msg{page.M("result.err.not_closed")}}
	}
	mf, err := manifest.Parse(m)
	if err != nil {
		return fmt.Errorf("ballot manifest: %w", err)
	}
	key := mf.Texts[report.ManifestKeyText]
	if key == "" {
		return &ResultRefusedError{[]page.Msg{page.M("result.err.no_key")}}
	}
	rep, err := report.Open(up.Report, up.Signature, key)
	if err != nil {
		return &ResultRefusedError{[]page.Msg{resultSigProblem(err, key)}}
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
	if len(reasons) > 0 {
		return &ResultRefusedError{reasons}
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
		return &ResultRefusedError{reasons}
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
	return pgx.BeginFunc(ctx, r.store.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE ballots SET status = 'published', published_at = $2, result = $3 WHERE id = $1 AND status = 'closed'`,
			ballotID, r.now(), up.Report)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return &ResultRefusedError{[]page.Msg{page.M("result.err.already")}}
		}
		return audit.Append(ctx, tx, actor, "ballot.result_publish", &ballotID, map[string]any{
			"report_sha256": fmt.Sprintf("%x", sum), "signed_by": rep.SignedBy, "trustees": rep.Result.Trustees})
	})
}

// verifyLedger re-verifies the election's closed ledger from its export.
func (r *Results) verifyLedger(ctx context.Context, electionID string, issued []int64) (*verify.Result, error) {
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
