package result

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/result.html templates/result_verify.html templates/result_verify_ranked.html templates/result_election.html
var resultTemplates embed.FS

// RegisterPages adds the result pages, the printable notices, their
// catalogues and the notices' print stylesheet.
func RegisterPages(p page.Registry) error {
	css, err := NoticeFiles.ReadFile(NoticeStylesheet)
	if err != nil {
		return err
	}
	for _, step := range []func() error{
		func() error {
			return p.AddTemplates(resultTemplates, "templates/result.html", "templates/result_verify.html", "templates/result_verify_ranked.html", "templates/result_election.html")
		},
		func() error { return p.AddCatalog(resultCatalog, "i18n/result") },
		func() error { return p.AddTemplates(NoticeFiles, NoticePages...) },
		func() error { return p.AddCatalog(NoticeFiles, NoticeCatalogDir) },
		func() error { return p.AddAsset("notice-print.css", css) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// Pages serves the result: the scrutineer's page to record the signing key
// and publish the signed files, the organiser's view, the public s.231
// result page and the in-browser verifier page; and the organiser's
// printable s.226A notices and sample voting paper.
type Pages struct {
	svc      *Service
	admin    *election.Admin
	store    *election.Store
	register *register.Store
	pages    page.Renderer
	staff    page.StaffFunc
	// publicURL is where members vote (printed on the sample voting paper).
	publicURL string
}

// NewPages returns the module.
func NewPages(svc *Service, admin *election.Admin, store *election.Store, reg *register.Store, pages page.Renderer, staff page.StaffFunc, publicURL string) *Pages {
	return &Pages{svc: svc, admin: admin, store: store, register: reg, pages: pages, staff: staff, publicURL: publicURL}
}

// staffBallot is the staff member of role and the ballot of the URL they
// may see, or false once the answer is written.
func (p *Pages) staffBallot(w http.ResponseWriter, r *http.Request, role string) (page.Staff, *election.AdminBallot, bool) {
	return election.StaffBallot(w, r, p.staff, p.store, p.pages, role)
}

// Routes registers the pages.
func (p *Pages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/result", p.manage("scrutineer"))
	r.Post("/scrutineer/ballots/{id}/result/key", p.recordKey)
	r.Post("/scrutineer/ballots/{id}/result", p.publish)
	r.Get("/organiser/ballots/{id}/result", p.manage("organiser"))
	r.Get("/results/{election}", p.public)
	r.Get("/verify/{election}", p.verifier)
	r.Get("/verify-ranked", p.rankedVerifier)
	r.Get("/organiser/ballots/{id}/notices", p.notices)
	r.Get("/organiser/ballots/{id}/sample-paper", p.samplePaper)
	p.electionRoutes(r)
}

// resultPage is the data of templates/result.html.
type resultPage struct {
	Mode       string // "public", "scrutineer" or "organiser"
	BallotID   int64
	ElectionID string
	Title      string
	UnionName  string
	Status     string
	State      *State
	Rep        *report.Report
	// ClosedAt is when voting stopped as the signed result states it (the
	// ledger's signed close, protocol version 4): nil when it states none.
	ClosedAt *time.Time
	Styles   []styleView // the s.231 particulars, once published
	Message  string
	Problems []page.Text
	MaxKiB   int
	// Contests are the ranked contests of a union election and their
	// published election reports (s.52; election.go).
	Contests []RankedContest
}

func (p *Pages) manage(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, b, ok := p.staffBallot(w, r, role)
		if !ok {
			return
		}
		p.show(w, r, s, b, http.StatusOK, r.URL.Query().Get("done"), nil)
	}
}

func (p *Pages) show(w http.ResponseWriter, r *http.Request, s page.Staff, b *election.AdminBallot, status int, msg string, problems []page.Msg) {
	st, err := p.svc.State(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	contests, err := p.svc.RankedContests(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	switch msg {
	case "", "key", "published", "election":
	default:
		msg = ""
	}
	p.pages.Render(w, r, status, "result", resultPage{Mode: s.Role, BallotID: b.ID, ElectionID: b.ElectionID, Title: b.TitleIn(p.pages.Lang(w, r)),
		UnionName: b.UnionName, Status: st.Status, State: st, Rep: st.Report, ClosedAt: closedAtOf(st.Report), Styles: viewOf(st.Report), Message: msg,
		Problems: page.Texts(p.pages, p.pages.Lang(w, r), problems), MaxKiB: MaxUpload >> 10, Contests: contests})
}

func (p *Pages) recordKey(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.staffBallot(w, r, "scrutineer")
	if !ok {
		return
	}
	err := p.admin.SetScrutineerKey(r.Context(), s.Actor(), b.ID, r.PostFormValue("key"))
	if err != nil {
		if pr, ok := page.Refused(err); ok {
			p.show(w, r, s, b, pr.Status, "", []page.Msg{pr.Msg})
			return
		}
		p.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/result?done=key", b.ID), http.StatusSeeOther)
}

// MaxUpload bounds the whole upload: the report and up to MaxPartials
// partial decryption files.
const MaxUpload = 4 << 20

// uploadForm is the scrutineer and ballot of an upload of signed files,
// with its multipart form parsed (at most MaxUpload; the caller removes
// it), and refuse, which answers with the result page and its reasons;
// false once the answer is written.
func (p *Pages) uploadForm(w http.ResponseWriter, r *http.Request) (page.Staff, *election.AdminBallot, func(...page.Msg), bool) {
	s, b, ok := p.staffBallot(w, r, "scrutineer")
	if !ok {
		return s, nil, nil, false
	}
	refuse := func(reasons ...page.Msg) {
		p.show(w, r, s, b, http.StatusUnprocessableEntity, "", reasons)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUpload)
	if err := r.ParseMultipartForm(MaxUpload); err != nil {
		refuse(page.M("result.err.upload", MaxUpload>>10))
		return s, nil, nil, false
	}
	return s, b, refuse, true
}

func (p *Pages) publish(w http.ResponseWriter, r *http.Request) {
	s, b, refuse, ok := p.uploadForm(w, r)
	if !ok {
		return
	}
	defer r.MultipartForm.RemoveAll()
	// read reads the one file of field, which must look like the file of
	// kind (a "file.kind.…" key): a wrong file is named as such.
	read := func(field, name, kind string, max int64) ([]byte, *page.Msg) {
		fhs := r.MultipartForm.File[field]
		if len(fhs) != 1 {
			m := page.M("result.err.choose", name)
			return nil, &m
		}
		b, err := readPart(fhs[0], max)
		if err != nil {
			m := partProblem(name, err)
			return nil, &m
		}
		if m, wrong := page.WrongFile(kind, b); wrong {
			m = page.M("result.err.part", fhs[0].Filename, m)
			return nil, &m
		}
		return b, nil
	}
	var up Upload
	var problems []page.Msg
	var msg *page.Msg
	if up.Report, msg = read("report", "report.json", "file.kind.report", MaxReportFile); msg != nil {
		problems = append(problems, *msg)
	}
	if up.Signature, msg = read("signature", "report.json.sig", "file.kind.signature", 64<<10); msg != nil {
		problems = append(problems, *msg)
	}
	fhs := r.MultipartForm.File["partials"]
	if len(fhs) > MaxPartials {
		problems = append(problems, page.M("result.err.too_many", MaxPartials))
		fhs = nil
	}
	for _, fh := range fhs {
		b, err := readPart(fh, MaxPartialFile)
		if err != nil {
			problems = append(problems, partProblem(fh.Filename, err))
			continue
		}
		if m, wrong := page.WrongFile("file.kind.partial", b); wrong {
			problems = append(problems, page.M("result.err.part", fh.Filename, m))
			continue
		}
		up.Partials = append(up.Partials, b)
	}
	if len(fhs) == 0 && len(problems) == 0 {
		problems = append(problems, page.M("result.err.choose_partials"))
	}
	if len(problems) > 0 {
		refuse(problems...)
		return
	}
	err := p.svc.Publish(r.Context(), s.Actor(), b.ID, up)
	var rr *RefusedError
	switch {
	case errors.As(err, &rr):
		refuse(rr.Reasons...)
		return
	case err != nil:
		p.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/result?done=published", b.ID), http.StatusSeeOther)
}

// partTooBigError is readPart's error for a file over its bound.
type partTooBigError struct{ kib int64 }

func (e partTooBigError) Error() string { return fmt.Sprintf("over %d KiB", e.kib) }

// partProblem is the problem with an uploaded file.
func partProblem(name string, err error) page.Msg {
	var big partTooBigError
	if errors.As(err, &big) {
		return page.M("result.err.part", name, page.M("result.err.over", big.kib))
	}
	return page.M("result.err.part", name, err.Error())
}

func readPart(fh *multipart.FileHeader, max int64) ([]byte, error) {
	if fh.Size > max {
		return nil, partTooBigError{max >> 10}
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
		return nil, partTooBigError{max >> 10}
	}
	return b, nil
}

func (p *Pages) public(w http.ResponseWriter, r *http.Request) {
	st, b, err := p.svc.Published(r.Context(), chi.URLParam(r, "election"))
	if errors.Is(err, election.ErrNotFound) {
		p.publicContests(w, r)
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	contests, err := p.svc.RankedContests(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, http.StatusOK, "result", resultPage{Mode: "public", BallotID: b.ID, ElectionID: b.ElectionID, Title: b.TitleIn(p.pages.Lang(w, r)),
		UnionName: b.UnionName, Status: b.Status, State: st, Rep: st.Report, ClosedAt: closedAtOf(st.Report), Styles: viewOf(st.Report),
		Contests: contests})
}

// publicContests is the public result page of a union election whose
// ballot result is not published but some of whose ranked contests'
// election reports are: the list of them (s.52).
func (p *Pages) publicContests(w http.ResponseWriter, r *http.Request) {
	b, err := p.store.PublicBallot(r.Context(), chi.URLParam(r, "election"))
	var contests []RankedContest
	if err == nil {
		contests, err = p.svc.RankedContests(r.Context(), b.ID)
	}
	published := slices.ContainsFunc(contests, func(c RankedContest) bool { return c.Report != nil })
	if errors.Is(err, election.ErrNotFound) || err == nil && !published {
		p.pages.RenderError(w, r, http.StatusNotFound, "result.not_published")
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, http.StatusOK, "result", resultPage{Mode: "public", BallotID: b.ID, ElectionID: b.ElectionID, Title: b.TitleIn(p.pages.Lang(w, r)),
		UnionName: b.UnionName, Status: b.Status, Contests: contests})
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

func (p *Pages) verifier(w http.ResponseWriter, r *http.Request) {
	e := chi.URLParam(r, "election")
	b, err := p.store.PublicBallot(r.Context(), e)
	if errors.Is(err, election.ErrNotFound) || (err == nil && b.Status == "draft") {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, http.StatusOK, "result_verify", verifyPage{ElectionID: e, Title: b.TitleIn(p.pages.Lang(w, r)), Published: b.Status == "published", Checks: VerifierChecks, Failures: VerifierFailures})
}

// RankedFailures are the names of what the ranked count verifier page
// (/verify-ranked) can report: the checks of the browser's recount
// (crypto/js/src/rankedcount.mjs recountRanked: a ballot set aside, a
// mixer, a trustee's decryption, the count …), a file missing from those
// chosen and files that cannot be read. The page carries their text,
// "vranked.fail.<name>" in the catalogue, in the reader's language.
var RankedFailures = []string{"file", "missing", "ranked.ballot", "ranked.spoilt", "ranked.shuffle", "ranked.shuffles", "ranked.final_list",
	"ranked.contest", "ranked.decryption", "ranked.decrypted_by", "ranked.independent_person", "ranked.threshold", "ranked.decode",
	"ranked.lot", "ranked.ballots", "ranked.count"}

// RankedPhases are the phases of the ranked recount the page shows as it
// goes (recountRanked's onProgress): "vranked.progress.<phase>" in the
// catalogue, in the reader's language.
var RankedPhases = []string{"ballots", "mixes", "decryptions", "count"}

// rankedVerifier is the page on which anyone re-checks a ranked (STV)
// count from the files the scrutineer published (docs/scrutineer-guide.md
// "Ranked contests (STV)"): every ballot's proofs, every mixer's shuffle,
// every trustee's decryption and the count, in the browser.
func (p *Pages) rankedVerifier(w http.ResponseWriter, r *http.Request) {
	p.pages.Render(w, r, http.StatusOK, "result_verify_ranked", struct{ Failures, Phases []string }{RankedFailures, RankedPhases})
}

// closedAtOf is the actual close a published result states (nil when none).
func closedAtOf(rep *report.Report) *time.Time {
	if rep == nil || rep.Result == nil || rep.Result.ClosedAt == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, rep.Result.ClosedAt)
	if err != nil {
		return nil
	}
	return &t
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

// notices shows the printable s.226A notice to employers.
func (p *Pages) notices(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	n, err := EmployerNotices(r.Context(), b, p.register)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	// ?employer=KEY: the notice of one employer only (EmployerKey).
	if q := r.URL.Query(); q.Has("employer") {
		k := q.Get("employer")
		var one []EmployerNotice
		for _, e := range n.Employers {
			if election.EmployerKey(e.Employer) == k {
				one = append(one, e)
			}
		}
		if len(one) == 0 {
			p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
			return
		}
		n.Employers = one
	}
	p.pages.Render(w, r, http.StatusOK, PageEmployerNotice, n)
}

// samplePaper shows the printable sample voting paper (s.226A(1)(b)).
func (p *Pages) samplePaper(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	sp, err := SampleVotingPaper(b)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	sp.ReturnTo = p.publicURL + "/vote/" + b.ElectionID
	p.pages.Render(w, r, http.StatusOK, PageSamplePaper, sp)
}
