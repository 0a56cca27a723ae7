package result

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// The result of a union election's ranked contest and the scrutineer's
// s.52 report on it (TULRCA 1992 s.52; docs/protocol.md §9.8). The
// scrutineer counts each ranked contest offline and signs its report with
// `scrutineer ranked report` (election-report.json and its .sig), then
// uploads the two files on the ballot's result page, as the ballot's
// result. The service checks them with crypto/report alone: the signature
// under the scrutineer key the manifest binds and the strict form
// (report.OpenElection), that the report is of this ballot's manifest and
// of one of its ranked questions with its candidates, and, where the
// union's rules require it, that the independent person's trustee is
// among those whose decryptions the count used (s.51A). It stores the
// signed bytes unchanged (result_election_reports) and publishes them:
// s.52(4)–(6) have the union tell the members the report's contents, so
// members read it on /results/{e}/election/{q}, and anyone downloads the
// signed files to check them with `scrutineer check-result`. The count
// itself is not recounted here: its recount needs the mixed ballots and
// the trustees' decryptions of the contest, which `scrutineer
// check-result --export` re-does from the board.

// ElectionUpload is what the scrutineer uploads for one ranked contest:
// election-report.json and election-report.json.sig as `scrutineer ranked
// report` wrote them.
type ElectionUpload struct{ Report, Signature []byte }

// ElectionReport is a published election report.
type ElectionReport struct {
	Question string
	// Titles is the contest's title by language, as the manifest gives it
	// ("en": the question's text; "cy" when the paper is bilingual).
	Titles      map[string]string
	Contest     int
	Report      *report.ElectionReport
	JSON, Sig   []byte // the signed bytes, as uploaded
	PublishedBy string
	PublishedAt time.Time
}

// RankedContest is a ranked question of a ballot's manifest and its
// published report (nil until published).
type RankedContest struct {
	Question string
	Titles   map[string]string // by language, as ElectionReport's
	Report   *ElectionReport
}

// PublishElection checks a signed election report against the ballot and
// publishes it, or returns a *RefusedError naming every problem.
func (r *Service) PublishElection(ctx context.Context, actor string, ballotID int64, up ElectionUpload) (*report.ElectionReport, error) {
	rec, err := r.store.ResultRecord(ctx, ballotID, "")
	if err != nil {
		return nil, err
	}
	switch rec.Status {
	case "closed", "published":
	default:
		return nil, &RefusedError{[]page.Msg{page.M("result.err.election_not_closed")}}
	}
	mf, err := manifest.Parse(rec.Manifest)
	if err != nil {
		return nil, fmt.Errorf("ballot manifest: %w", err)
	}
	key := mf.Texts[report.ManifestKeyText]
	if key == "" {
		return nil, &RefusedError{[]page.Msg{page.M("result.err.no_key")}}
	}
	if !report.IsElection(up.Report) {
		if _, err := report.Parse(up.Report); err == nil {
			return nil, &RefusedError{[]page.Msg{page.M("result.err.election_ballot_report")}}
		}
	}
	rep, err := report.OpenElection(up.Report, up.Signature, key)
	if err != nil {
		return nil, &RefusedError{[]page.Msg{electionSigProblem(err, key)}}
	}
	t, err := r.requiredTrustee(ctx, ballotID, mf)
	if err != nil {
		return nil, err
	}
	// s.51A: the count is not made without the independent person's key
	// share where the union's rules require it.
	reasons := belongs(rep, mf)
	if t > 0 && !slices.Contains(rep.Count.DecryptedBy, t) {
		reasons = append(reasons, page.M("result.err.election_independent", t))
	}
	if len(reasons) > 0 {
		return nil, &RefusedError{reasons}
	}
	sum := sha256.Sum256(up.Report)
	err = electionStore{r.pool}.add(ctx, actor, ballotID, rep, up, r.now(), map[string]any{
		"question": rep.Question, "contest": rep.Contest, "report_sha256": hex.EncodeToString(sum[:]),
		"signed_by": rep.SignedBy, "elected": rep.Count.Elected, "decrypted_by": rep.Count.DecryptedBy})
	if errors.Is(err, errElectionPublished) {
		return nil, &RefusedError{[]page.Msg{page.M("result.err.election_already", rep.Question)}}
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// belongs: the report is of this ballot (its manifest's hash) and of one
// of its ranked questions (index, id and candidates), and names the
// independent person the manifest names.
func belongs(rep *report.ElectionReport, mf *manifest.Manifest) []page.Msg {
	h, err := mf.Hash()
	if err != nil || rep.ManifestHash != hex.EncodeToString(h[:]) {
		return []page.Msg{page.M("result.err.election_other_ballot", rep.ManifestHash)}
	}
	if rep.Contest >= len(mf.Questions) || !mf.Questions[rep.Contest].Ranked() || mf.Questions[rep.Contest].ID != rep.Question {
		return []page.Msg{page.M("result.err.election_question", rep.Question, rep.Contest+1)}
	}
	q := mf.Questions[rep.Contest]
	var names []string
	for _, o := range q.Options {
		names = append(names, o.Label)
	}
	if !slices.Equal(names, rep.Count.Candidates) || rep.Count.STV.Seats != q.Seats {
		return []page.Msg{page.M("result.err.election_candidates", rep.Question)}
	}
	if ip := mf.IndependentPerson; ip != nil {
		ps := rep.IndependentPersons
		if len(ps) != 1 || ps[0].Name != ip.Name || ps[0].Trustee != ip.Trustee {
			return []page.Msg{page.M("result.err.election_person", ip.Name)}
		}
	}
	return nil
}

func electionSigProblem(err error, key string) page.Msg {
	if errors.Is(err, report.ErrSignature) {
		return resultSigProblem(err, key)
	}
	return page.M("result.err.election_malformed", err.Error())
}

// RankedContests lists the ranked questions of an opened ballot's
// manifest with their published reports, in manifest order.
func (r *Service) RankedContests(ctx context.Context, ballotID int64) ([]RankedContest, error) {
	rec, err := r.store.ResultRecord(ctx, ballotID, "")
	if err != nil {
		return nil, err
	}
	return r.rankedContests(ctx, rec)
}

func (r *Service) rankedContests(ctx context.Context, rec *election.ResultRecord) ([]RankedContest, error) {
	if rec.Manifest == nil {
		return nil, nil
	}
	mf, err := manifest.Parse(rec.Manifest)
	if err != nil {
		return nil, fmt.Errorf("ballot manifest: %w", err)
	}
	reps, err := electionStore{r.pool}.list(ctx, rec.ID, "")
	if err != nil {
		return nil, err
	}
	var out []RankedContest
	for _, q := range mf.Questions {
		if !q.Ranked() {
			continue
		}
		c := RankedContest{Question: q.ID, Titles: titles(mf, q.ID)}
		for i := range reps {
			if reps[i].Question == q.ID {
				c.Report = &reps[i]
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// PublishedElection reads the published report of question of the
// ballot of electionID (election's ErrNotFound when there is none).
func (r *Service) PublishedElection(ctx context.Context, electionID, question string) (*ElectionReport, *election.Ballot, error) {
	rec, err := r.store.ResultRecord(ctx, 0, electionID)
	if err != nil {
		return nil, nil, err
	}
	reps, err := electionStore{r.pool}.list(ctx, rec.ID, question)
	if err != nil {
		return nil, nil, err
	}
	if len(reps) != 1 {
		return nil, nil, election.ErrNotFound
	}
	mf, err := manifest.Parse(rec.Manifest)
	if err != nil {
		return nil, nil, fmt.Errorf("ballot manifest: %w", err)
	}
	reps[0].Titles = titles(mf, question)
	b, err := r.store.PublicBallot(ctx, electionID)
	if err != nil {
		return nil, nil, err
	}
	return &reps[0], b, nil
}

// titles is the text of question id in each language of the manifest.
func titles(mf *manifest.Manifest, id string) map[string]string {
	out := map[string]string{}
	for _, q := range mf.Questions {
		if q.ID == id {
			out["en"] = q.Text
		}
	}
	for l, t := range mf.Translations {
		for _, q := range t.Questions {
			if q.ID == id && q.Text != "" {
				out[l] = q.Text
			}
		}
	}
	return out
}

// Title is the title in lang, else in English.
func (e *ElectionReport) Title(lang string) string { return pick(e.Titles, lang) }

// Title is the contest's title in lang, else in English.
func (c RankedContest) Title(lang string) string { return pick(c.Titles, lang) }

func pick(m map[string]string, lang string) string {
	if s := m[lang]; s != "" {
		return s
	}
	return m["en"]
}

// electionStore is the one place that names result_election_reports
// (migrations/0035).
type electionStore struct{ pool *pgxpool.Pool }

var errElectionPublished = errors.New("result: this contest's election report is published already")

// add stores a checked report with the audit entry, in one transaction.
func (s electionStore) add(ctx context.Context, actor string, ballotID int64, rep *report.ElectionReport, up ElectionUpload, at time.Time, detail map[string]any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO result_election_reports (ballot_id, question, contest, report, signature, published_by, published_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ballot_id, question) DO NOTHING`,
			ballotID, rep.Question, rep.Contest, up.Report, up.Signature, actor, at)
		if err != nil {
			return fmt.Errorf("record election report: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errElectionPublished
		}
		return audit.Append(ctx, tx, actor, "ballot.election_report_publish", &ballotID, detail)
	})
}

// list reads a ballot's published reports (of question only, unless "").
// They were checked when stored; they are parsed again to be shown.
func (s electionStore) list(ctx context.Context, ballotID int64, question string) ([]ElectionReport, error) {
	rows, err := s.pool.Query(ctx, `SELECT question, contest, report, signature, published_by, published_at FROM result_election_reports
		WHERE ballot_id = $1 AND ($2 = '' OR question = $2) ORDER BY contest`, ballotID, question)
	if err != nil {
		return nil, fmt.Errorf("election reports: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ElectionReport, error) {
		var e ElectionReport
		err := row.Scan(&e.Question, &e.Contest, &e.JSON, &e.Sig, &e.PublishedBy, &e.PublishedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("election reports: %w", err)
	}
	for i := range out {
		if out[i].Report, err = report.ParseElection(out[i].JSON); err != nil {
			return nil, fmt.Errorf("published election report %q: %w", out[i].Question, err)
		}
	}
	return out, nil
}
