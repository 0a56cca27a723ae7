package election

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/verify"
)

//go:embed templates/result.html templates/result_verify.html
var resultTemplates embed.FS

//go:embed i18n/result
var resultCatalog embed.FS

// RegisterResultPages adds the result pages and their catalogue.
func RegisterResultPages(p PageRegistry) error {
	if err := p.AddTemplates(resultTemplates, "templates/result.html", "templates/result_verify.html"); err != nil {
		return err
	}
	return p.AddCatalog(resultCatalog, "i18n/result")
}

// ResultPages serves the result: the scrutineer's page to record the
// signing key and publish the signed files, the organiser's view, the
// public s.231 result page and the in-browser verifier page.
type ResultPages struct {
	results *Results
	admin   *AdminPages
}

// NewResultPages returns the module.
func NewResultPages(results *Results, admin *Admin, store *Store, pages Renderer, staff StaffFunc, log *slog.Logger) *ResultPages {
	return &ResultPages{results: results, admin: &AdminPages{admin: admin, store: store, pages: pages, staff: staff, log: log}}
}

// Routes registers the pages.
func (p *ResultPages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/result", p.manage("scrutineer"))
	r.Post("/scrutineer/ballots/{id}/result/key", p.recordKey)
	r.Post("/scrutineer/ballots/{id}/result", p.publish)
	r.Get("/organiser/ballots/{id}/result", p.manage("organiser"))
	r.Get("/results/{election}", p.public)
	r.Get("/verify/{election}", p.verifier)
}

// resultPage is the data of templates/result.html.
type resultPage struct {
	Mode       string // "public", "scrutineer" or "organiser"
	BallotID   int64
	ElectionID string
	Title      string
	UnionName  string
	Status     string
	State      *ResultState
	Rep        *report.Report
	Styles     []styleView // the s.231 particulars, once published
	Message    string
	Problems   []pageText
	MaxKiB     int
}

func (p *ResultPages) manage(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, b, ok := p.admin.staffBallot(w, r, role)
		if !ok {
			return
		}
		p.show(w, r, s, b, http.StatusOK, r.URL.Query().Get("done"), nil)
	}
}

func (p *ResultPages) show(w http.ResponseWriter, r *http.Request, s Staff, b *AdminBallot, status int, msg string, problems []Msg) {
	st, err := p.results.State(r.Context(), b.ID)
	if err != nil {
		p.admin.pages.InternalError(w, r, err)
		return
	}
	switch msg {
	case "", "key", "published":
	default:
		msg = ""
	}
	p.admin.pages.Render(w, r, status, "result", resultPage{Mode: s.Role, BallotID: b.ID, ElectionID: b.ElectionID, Title: b.Title,
		UnionName: b.UnionName, Status: st.Status, State: st, Rep: st.Report, Styles: viewOf(st.Report), Message: msg,
		Problems: texts(p.admin.pages, p.admin.pages.Lang(w, r), problems), MaxKiB: MaxResultUpload >> 10})
}

func (p *ResultPages) recordKey(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.admin.staffBallot(w, r, "scrutineer")
	if !ok {
		return
	}
	err := p.admin.admin.SetScrutineerKey(r.Context(), s.Actor(), b.ID, r.PostFormValue("key"))
	if err != nil {
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotDraft) {
			m, ok := ErrorMsg(err)
			if !ok {
				m = englishOnly(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "election: "), "invalid configuration: "))
			}
			p.show(w, r, s, b, http.StatusUnprocessableEntity, "", []Msg{m})
			return
		}
		p.admin.pages.InternalError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/result?done=key", b.ID), http.StatusSeeOther)
}

// MaxResultUpload bounds the whole upload: the report and up to MaxPartials
// partial decryption files.
const MaxResultUpload = 4 << 20

func (p *ResultPages) publish(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.admin.staffBallot(w, r, "scrutineer")
	if !ok {
		return
	}
	refuse := func(reasons ...Msg) {
		p.show(w, r, s, b, http.StatusUnprocessableEntity, "", reasons)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxResultUpload)
	if err := r.ParseMultipartForm(MaxResultUpload); err != nil {
		refuse(msgf("result.err.upload", MaxResultUpload>>10))
		return
	}
	defer r.MultipartForm.RemoveAll()
	read := func(field, name string, max int64) ([]byte, *Msg) {
		fhs := r.MultipartForm.File[field]
		if len(fhs) != 1 {
			m := msgf("result.err.choose", name)
			return nil, &m
		}
		b, err := readPart(fhs[0], max)
		if err != nil {
			m := partProblem(name, err)
			return nil, &m
		}
		return b, nil
	}
	var up ResultUpload
	var problems []Msg
	var msg *Msg
	if up.Report, msg = read("report", "report.json", MaxReportFile); msg != nil {
		problems = append(problems, *msg)
	}
	if up.Signature, msg = read("signature", "report.json.sig", 64<<10); msg != nil {
		problems = append(problems, *msg)
	}
	fhs := r.MultipartForm.File["partials"]
	if len(fhs) > MaxPartials {
		problems = append(problems, msgf("result.err.too_many", MaxPartials))
		fhs = nil
	}
	for _, fh := range fhs {
		b, err := readPart(fh, MaxPartialFile)
		if err != nil {
			problems = append(problems, partProblem(fh.Filename, err))
			continue
		}
		up.Partials = append(up.Partials, b)
	}
	if len(fhs) == 0 && len(problems) == 0 {
		problems = append(problems, msgf("result.err.choose_partials"))
	}
	if len(problems) > 0 {
		refuse(problems...)
		return
	}
	err := p.results.Publish(r.Context(), s.Actor(), b.ID, up)
	var rr *ResultRefusedError
	switch {
	case errors.As(err, &rr):
		refuse(rr.Reasons...)
		return
	case err != nil:
		p.admin.pages.InternalError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/result?done=published", b.ID), http.StatusSeeOther)
}

// errPartTooBig is readPart's error for a file over its bound.
type errPartTooBig struct{ kib int64 }

func (e errPartTooBig) Error() string { return fmt.Sprintf("over %d KiB", e.kib) }

// partProblem is the problem with an uploaded file.
func partProblem(name string, err error) Msg {
	var big errPartTooBig
	if errors.As(err, &big) {
		return msgf("result.err.part", name, msgf("result.err.over", big.kib))
	}
	return msgf("result.err.part", name, err.Error())
}

func readPart(fh *multipart.FileHeader, max int64) ([]byte, error) {
	if fh.Size > max {
		return nil, errPartTooBig{max >> 10}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errPartTooBig{max >> 10}
	}
	return b, nil
}

func (p *ResultPages) public(w http.ResponseWriter, r *http.Request) {
	st, b, err := p.results.Published(r.Context(), chi.URLParam(r, "election"))
	if errors.Is(err, ErrNotFound) {
		p.admin.pages.RenderError(w, r, http.StatusNotFound, "result.not_published")
		return
	}
	if err != nil {
		p.admin.pages.InternalError(w, r, err)
		return
	}
	p.admin.pages.Render(w, r, http.StatusOK, "result", resultPage{Mode: "public", BallotID: b.ID, ElectionID: b.ElectionID, Title: b.Title,
		UnionName: b.UnionName, Status: b.Status, State: st, Rep: st.Report, Styles: viewOf(st.Report)})
}

// verifyPage is the data of templates/result_verify.html.
type verifyPage struct {
	ElectionID, Title string
	Published         bool
	Checks, Failures  []string
}

// VerifierChecks are the groups of checks the verifier page shows, in
// order (crypto/verify.Groups, the same as crypto/js/src/checks.mjs).
var VerifierChecks = verify.Groups

// VerifierFailures are the names of every check and limit of
// docs/protocol.md §8 (crypto/verify.Checks and Limits; the browser
// verifier names the same), "fetch", the page's own, and the words of a
// place in the result ("where.*"): the page carries their text,
// "verify.fail.<name>" in the catalogue, in the reader's language, so the
// bundle carries no English (crypto/js/test/verifier.test.mjs checks that
// the lists and the catalogues agree).
var VerifierFailures = append(append(slices.Clone(verify.Checks), verify.Limits...),
	"fetch", "where.workplace", "where.question", "where.option", "where.field")

func (p *ResultPages) verifier(w http.ResponseWriter, r *http.Request) {
	e := chi.URLParam(r, "election")
	var title, status string
	err := p.results.store.pool.QueryRow(r.Context(), `SELECT title, status FROM ballots WHERE election_id = $1 AND status <> 'draft'`, e).Scan(&title, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		p.admin.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		p.admin.pages.InternalError(w, r, err)
		return
	}
	p.admin.pages.Render(w, r, http.StatusOK, "result_verify", verifyPage{ElectionID: e, Title: title, Published: status == "published", Checks: VerifierChecks, Failures: VerifierFailures})
}

// styleView is one workplace ballot's s.231 particulars, ready to show.
type styleView struct {
	Name                string
	Aggregate           bool
	Entitled, VotesCast int64 // s.231(a), (b)
	Turnout             string
	TurnoutShown        bool // the 50% test applies (s.231(f))
	TurnoutMet          bool
	Questions           []questionView
}

type questionView struct {
	Text              string
	YesNo             bool
	Yes, No           int64 // s.231(c), (d)
	Spoilt            string
	Options           []tally.OptionCount
	SupportShown      bool // the 40% test applies (s.231(g))
	SupportMet        bool
	Majority, Support bool
}

func viewOf(rep *report.Report) []styleView {
	if rep == nil || rep.Result == nil {
		return nil
	}
	var out []styleView
	all := append(append([]tally.StyleResult{}, rep.Result.Styles...), rep.Result.Aggregate)
	for i, s := range all {
		v := styleView{Name: s.Name, Aggregate: i == len(all)-1, Entitled: s.Entitled, VotesCast: s.VotesCast, Turnout: s.Turnout}
		if s.TurnoutMet != nil {
			v.TurnoutShown, v.TurnoutMet = true, *s.TurnoutMet
		}
		for _, q := range s.Questions {
			qv := questionView{Text: q.Text, YesNo: q.YesNo, Yes: q.Yes, No: q.No, Options: q.Counts, Majority: q.Majority, Support: q.Supported}
			qv.Spoilt = fmt.Sprint(q.Spoilt)
			if q.Spoilt < 0 {
				qv.Spoilt = "–"
			}
			if q.SupportMet != nil {
				qv.SupportShown, qv.SupportMet = true, *q.SupportMet
			}
			v.Questions = append(v.Questions, qv)
		}
		out = append(out, v)
	}
	// One workplace ballot: the aggregate repeats it.
	if len(out) == 2 {
		out = out[:1]
	}
	return out
}
