package election

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/admin_*.html
var adminTemplates embed.FS

//go:embed i18n/admin
var adminCatalog embed.FS

// AdminPages serves the organisers' and the scrutineer's pages. Organisers
// configure their union's ballots and see counts; only the scrutineer
// opens and closes a ballot, records its keys, confirms an unverified
// s.229(4) wording and approves the voting paper (statutory.md §5 A2).
// Neither ever sees a vote or a member↔ballot link.
type AdminPages struct {
	admin *Admin
	store *Store
	pages page.Renderer
	staff page.StaffFunc
	log   *slog.Logger
}

// NewAdminPages returns the module; register its templates and catalogue
// with [AdminTemplates] first.
func NewAdminPages(admin *Admin, store *Store, pages page.Renderer, staff page.StaffFunc, log *slog.Logger) *AdminPages {
	return &AdminPages{admin: admin, store: store, pages: pages, staff: staff, log: log}
}

// RegisterPages adds the home page, the admin pages and their catalogues
// (the register's messages too) to the site's pages.
func RegisterPages(p page.Registry) error {
	for _, step := range []func() error{
		func() error {
			return p.AddTemplates(adminTemplates, "templates/admin_list.html", "templates/admin_ballot.html",
				"templates/admin_edit.html", "templates/admin_register.html")
		},
		func() error { return p.AddCatalog(adminCatalog, "i18n/admin") },
		func() error { return register.AddMessages(p) }, // the register page shows the import's issues
		func() error { return p.AddTemplates(homeTemplate, "templates/home.html") },
		func() error { return registerElectionPages(p) }, // contests_http.go
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// Routes registers the organiser and scrutineer pages.
func (p *AdminPages) Routes(r chi.Router) {
	r.Get("/organiser", p.list("organiser"))
	r.Get("/organiser/ballots/new", p.editForm)
	r.Post("/organiser/ballots", p.create)
	r.Get("/organiser/ballots/{id}", p.ballot("organiser"))
	r.Get("/organiser/ballots/{id}/edit", p.editForm)
	r.Post("/organiser/ballots/{id}/edit", p.update)
	r.Get("/organiser/ballots/{id}/register", p.registerPage)
	r.Post("/organiser/ballots/{id}/register", p.registerPreview)
	r.Post("/organiser/ballots/{id}/register/commit", p.registerCommit)

	r.Get("/scrutineer", p.list("scrutineer"))
	r.Get("/scrutineer/ballots/{id}", p.ballot("scrutineer"))
	r.Post("/scrutineer/ballots/{id}/appoint", p.scrutineerAction(p.appoint))
	r.Post("/scrutineer/ballots/{id}/assessment", p.scrutineerAction(p.assessment))
	r.Post("/scrutineer/ballots/{id}/trustees", p.scrutineerAction(p.trustees))
	r.Post("/scrutineer/ballots/{id}/notices", p.scrutineerAction(p.recordNotices))
	r.Post("/scrutineer/ballots/{id}/wording", p.scrutineerAction(p.confirmWording))
	r.Post("/scrutineer/ballots/{id}/approve-paper", p.scrutineerAction(p.approvePaper))
	r.Post("/scrutineer/ballots/{id}/open", p.scrutineerAction(p.open))
	r.Post("/scrutineer/ballots/{id}/close", p.scrutineerAction(p.close))
	p.electionRoutes(r) // a union election's contests and addresses (contests_http.go)
}

// who returns the staff member if they have role, or answers 403/redirect.
func (p *AdminPages) who(w http.ResponseWriter, r *http.Request, role string) (page.Staff, bool) {
	return page.StaffOf(w, r, p.staff, p.pages, role)
}

type listData struct {
	Role    string
	Ballots []AdminBallot
	// Due is, for each closed ballot, the s.231B report's deadline.
	Due map[int64]*ReportDeadline
}

func (p *AdminPages) list(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := p.who(w, r, role)
		if !ok {
			return
		}
		bs, err := p.store.AdminBallots(r.Context(), s.UnionID)
		if err != nil {
			p.pages.Fail(w, r, err)
			return
		}
		due, err := p.store.ReportDeadlines(r.Context(), bs, p.admin.now())
		if err != nil {
			p.pages.Fail(w, r, err)
			return
		}
		p.pages.Render(w, r, http.StatusOK, "admin_list", listData{Role: role, Ballots: bs, Due: due})
	}
}

type ballotData struct {
	Role      string
	B         *AdminBallot
	Readiness []page.Text
	Message   string
	Error     *page.Text
	Rule      *ballotRule
	// Approvals is, for a draft, the scrutineer's part of the opening
	// checklist (the s.229(4) wording, the voting paper's approval).
	Approvals *Approvals
}

// ballotRule is what the legal regime of the ballot's opening day (or the
// one it opened under) says about its kind: the law it follows and the
// voting methods that law permits (legal/regimes.json "kinds").
type ballotRule struct {
	Regime, Law string
	Methods     []string
	// Electronic: electronic voting is permitted (the e-ballot order in
	// force); if not, the page warns that the service's online voting is
	// not a permitted method for this ballot.
	Electronic bool
}

// ruleOf is b's ballotRule (nil if no regime covers its opening day).
func ruleOf(b *AdminBallot, now time.Time) *ballotRule {
	r, err := RegimeByID(b.Regime)
	if b.Regime == "" {
		at := now
		if b.OpensAt != nil && b.OpensAt.After(now) {
			at = *b.OpensAt
		}
		r, err = RegimeFor(at)
	}
	k, ok := r.Kinds[b.Kind]
	if err != nil || !ok {
		return nil
	}
	return &ballotRule{Regime: r.ID, Law: k.Law, Methods: k.Methods, Electronic: slices.Contains(k.Methods, "electronic")}
}

// loadBallot reads the ballot if the staff member may see it: organisers
// only their union's (multi-tenant wall), scrutineers all.
func (p *AdminPages) loadBallot(w http.ResponseWriter, r *http.Request, s page.Staff) (*AdminBallot, bool) {
	return ballotOf(w, r, p.store, p.pages, s)
}

// ballotOf is the ballot of the URL's {id} that s may see (organisers:
// their union's only), or false once a 404 or 500 is answered.
func ballotOf(w http.ResponseWriter, r *http.Request, store *Store, pages page.Renderer, s page.Staff) (*AdminBallot, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return nil, false
	}
	b, err := store.AdminBallot(r.Context(), id, s.UnionID)
	if errors.Is(err, ErrNotFound) {
		pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return nil, false
	}
	if err != nil {
		pages.Fail(w, r, err)
		return nil, false
	}
	return b, true
}

// staffBallot is who + loadBallot: the staff member with role and the
// ballot of the URL they may see, or false once the answer is written.
func (p *AdminPages) staffBallot(w http.ResponseWriter, r *http.Request, role string) (page.Staff, *AdminBallot, bool) {
	return StaffBallot(w, r, p.staff, p.store, p.pages, role)
}

// StaffBallot is, for the staff pages of other modules, the signed-in
// staff member with role and the ballot of the URL's {id} they may see
// (organisers: their union's only, else 404), or false once the answer
// (sign-in redirect, 403, 404, 500) is written.
func StaffBallot(w http.ResponseWriter, r *http.Request, staff page.StaffFunc, store *Store, pages page.Renderer, role string) (page.Staff, *AdminBallot, bool) {
	s, ok := page.StaffOf(w, r, staff, pages, role)
	if !ok {
		return s, nil, false
	}
	b, ok := ballotOf(w, r, store, pages, s)
	return s, b, ok
}

func (p *AdminPages) ballot(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := p.who(w, r, role)
		if !ok {
			return
		}
		p.showBallot(w, r, s, http.StatusOK, r.URL.Query().Get("done"), nil)
	}
}

// showBallot shows the ballot's page, with the outcome of an action: msg
// the done message, or actErr its error.
func (p *AdminPages) showBallot(w http.ResponseWriter, r *http.Request, s page.Staff, status int, msg string, actErr error) {
	b, ok := p.loadBallot(w, r, s)
	if !ok {
		return
	}
	lang := p.pages.Lang(w, r)
	d := ballotData{Role: s.Role, B: b, Message: msg, Rule: ruleOf(b, p.admin.now())}
	if actErr != nil {
		e := errorText(p.pages, lang, actErr)
		d.Error = &e
	}
	if b.Status == "draft" {
		reasons, err := p.admin.Readiness(r.Context(), b.ID)
		if err != nil {
			p.pages.Fail(w, r, err)
			return
		}
		d.Readiness = page.Texts(p.pages, lang, reasons)
		if d.Approvals, err = p.admin.Approvals(r.Context(), b.ID); err != nil {
			p.pages.Fail(w, r, err)
			return
		}
	}
	p.pages.Render(w, r, status, "admin_ballot", d)
}

type editData struct {
	New     bool
	ID      int64
	Form    ballotForm
	Error   *page.Text
	Kinds   []string
	Grounds []string
}

// ballotForm is the set-up form, as strings so a bad value is shown back.
type ballotForm struct {
	ElectionID, Title, Kind, OpensAt, ClosesAt string
	Strike, ASOS                               bool
	QuestionText, Options                      string // other kinds: one question, options one per line
	DisputeSummary, TypesOfAction, Period      string
	AuthorisedPerson, Workplaces               string // workplaces: "Name | Employer" per line
	Aggregated, PaperToEveryone                bool
	Ground                                     string
	// Welsh for a bilingual ballot (Config.Bilingual).
	Bilingual                                   bool
	TitleCy, QuestionTextCy, OptionsCy          string
	DisputeSummaryCy, TypesOfActionCy, PeriodCy string
	AuthorisedPersonCy                          string
}

// kinds are the kinds of ballot the service offers (each has a rule in
// every legal regime, legal/regimes.json); CAC recognition and
// derecognition ballots are refused with the reason ([RefusedKindOf]).
var kinds = []string{"industrial_action", "union_election", "political_fund", "merger", "other"}
var grounds = []string{"s228A(2)", "s228A(3)", "s228A(4)"}

const formTime = "2006-01-02T15:04"

func (p *AdminPages) editForm(w http.ResponseWriter, r *http.Request) {
	s, ok := p.who(w, r, "organiser")
	if !ok {
		return
	}
	d := editData{New: chi.URLParam(r, "id") == "", Kinds: kinds, Grounds: grounds}
	if d.New {
		d.Form = ballotForm{Kind: "industrial_action", Strike: true}
	} else {
		b, ok := p.loadBallot(w, r, s)
		if !ok {
			return
		}
		d.ID = b.ID
		d.Form = formOf(b)
	}
	p.pages.Render(w, r, http.StatusOK, "admin_edit", d)
}

func formOf(b *AdminBallot) ballotForm {
	f := ballotForm{ElectionID: b.ElectionID, Title: b.Title, Kind: b.Kind, Aggregated: b.Aggregated, Ground: b.S228AGround,
		DisputeSummary: b.Config.Texts["dispute_summary"], TypesOfAction: b.Config.Texts["types_of_action"],
		Period: b.Config.Texts["period"], AuthorisedPerson: b.Config.Texts["authorised_person"],
		Bilingual: b.Config.Bilingual, TitleCy: b.Config.TitleCy, PaperToEveryone: b.Config.PaperToEveryone,
		DisputeSummaryCy: b.Config.TextsCy["dispute_summary"], TypesOfActionCy: b.Config.TextsCy["types_of_action"],
		PeriodCy: b.Config.TextsCy["period"], AuthorisedPersonCy: b.Config.TextsCy["authorised_person"]}
	if b.OpensAt != nil {
		f.OpensAt = b.OpensAt.In(london).Format(formTime)
	}
	if b.ClosesAt != nil {
		f.ClosesAt = b.ClosesAt.In(london).Format(formTime)
	}
	for _, q := range b.Config.Questions {
		switch q.ID {
		case "strike":
			f.Strike = true
		case "asos":
			f.ASOS = true
		default:
			f.QuestionText, f.QuestionTextCy = q.Text, q.TextCy
			var opts, optsCy []string
			for _, o := range q.Options {
				opts, optsCy = append(opts, o.Label), append(optsCy, o.LabelCy)
			}
			f.Options = strings.Join(opts, "\n")
			f.OptionsCy = strings.TrimRight(strings.Join(optsCy, "\n"), "\n")
		}
	}
	var ws []string
	for _, w := range b.Config.Workplaces {
		ws = append(ws, w.Name+" | "+w.Employer)
	}
	f.Workplaces = strings.Join(ws, "\n")
	return f
}

func readForm(r *http.Request) ballotForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return ballotForm{ElectionID: v("election_id"), Title: v("title"), Kind: v("kind"), OpensAt: v("opens_at"), ClosesAt: v("closes_at"),
		Strike: v("strike") == "on", ASOS: v("asos") == "on", QuestionText: v("question_text"), Options: v("options"),
		DisputeSummary: v("dispute_summary"), TypesOfAction: v("types_of_action"), Period: v("period"),
		AuthorisedPerson: v("authorised_person"), Workplaces: v("workplaces"), Aggregated: v("aggregated") == "on", Ground: v("ground"),
		Bilingual: v("bilingual") == "on", PaperToEveryone: v("paper_to_everyone") == "on", TitleCy: v("title_cy"), QuestionTextCy: v("question_text_cy"), OptionsCy: v("options_cy"),
		DisputeSummaryCy: v("dispute_summary_cy"), TypesOfActionCy: v("types_of_action_cy"), PeriodCy: v("period_cy"),
		AuthorisedPersonCy: v("authorised_person_cy")}
}

// setup turns the form into a BallotSetup, or says what is wrong.
func (f ballotForm) setup() (BallotSetup, error) {
	s := BallotSetup{Title: f.Title, Kind: f.Kind, Aggregated: f.Aggregated, S228AGround: f.Ground}
	if err := refusedKind(f.Kind); err != nil {
		return s, err
	}
	known := false
	for _, k := range kinds {
		known = known || k == f.Kind
	}
	if !known {
		return s, invalid("admin.err.kind")
	}
	for _, t := range []struct {
		in  string
		out *time.Time
		bad string // message key
	}{{f.OpensAt, &s.OpensAt, "admin.err.opens_at"}, {f.ClosesAt, &s.ClosesAt, "admin.err.closes_at"}} {
		if t.in == "" {
			continue
		}
		v, err := time.ParseInLocation(formTime, t.in, london)
		if err != nil {
			return s, invalid(t.bad)
		}
		*t.out = v
	}
	s.Config.Texts = map[string]string{"dispute_summary": f.DisputeSummary, "types_of_action": f.TypesOfAction,
		"period": f.Period, "authorised_person": f.AuthorisedPerson}
	s.Config.Bilingual, s.Config.TitleCy, s.Config.PaperToEveryone = f.Bilingual, f.TitleCy, f.PaperToEveryone
	s.Config.TextsCy = map[string]string{}
	for k, v := range map[string]string{"dispute_summary": f.DisputeSummaryCy, "types_of_action": f.TypesOfActionCy,
		"period": f.PeriodCy, "authorised_person": f.AuthorisedPersonCy} {
		if v != "" {
			s.Config.TextsCy[k] = v
		}
	}
	if f.Kind == "industrial_action" {
		if f.Strike {
			s.Config.Questions = append(s.Config.Questions, StrikeQuestion)
		}
		if f.ASOS {
			s.Config.Questions = append(s.Config.Questions, ASOSQuestion)
		}
		if len(s.Config.Questions) == 0 {
			return s, invalid("admin.err.ia_questions")
		}
	} else if f.Kind != "union_election" { // a union election's contests have their own page (contests_http.go)
		q := Question{ID: "q1", Text: f.QuestionText, TextCy: f.QuestionTextCy, Min: 0, Max: 1}
		var cy []string // the Welsh answers, line by line with the English
		for _, l := range strings.Split(f.OptionsCy, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				cy = append(cy, l)
			}
		}
		for i, l := range strings.Split(f.Options, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				o := Option{ID: fmt.Sprintf("o%d", i+1), Label: l}
				if n := len(q.Options); n < len(cy) {
					o.LabelCy = cy[n]
				}
				q.Options = append(q.Options, o)
			}
		}
		s.Config.Questions = []Question{q}
	}
	for _, line := range strings.Split(f.Workplaces, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, employer, _ := strings.Cut(line, "|")
		name, employer = strings.TrimSpace(name), strings.TrimSpace(employer)
		s.Config.Workplaces = append(s.Config.Workplaces, register.Workplace{ID: Slug(name), Name: name, Employer: employer})
	}
	return s, nil
}

func (p *AdminPages) create(w http.ResponseWriter, r *http.Request) {
	s, ok := p.who(w, r, "organiser")
	if !ok {
		return
	}
	f := readForm(r)
	setup, err := f.setup()
	electionSetup(&setup, nil)
	var id int64
	if err == nil {
		id, err = p.admin.CreateBallot(r.Context(), s.Actor(), s.UnionID, f.ElectionID, setup)
	}
	if err != nil {
		p.formError(w, r, editData{New: true, Form: f}, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d?done=created", id), http.StatusSeeOther)
}

func (p *AdminPages) update(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	f := readForm(r)
	f.ElectionID = b.ElectionID
	setup, err := f.setup()
	electionSetup(&setup, b)
	if err == nil {
		err = p.admin.Configure(r.Context(), s.Actor(), b.ID, setup)
	}
	if err != nil {
		p.formError(w, r, editData{ID: b.ID, Form: f}, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d?done=saved", b.ID), http.StatusSeeOther)
}

func (p *AdminPages) formError(w http.ResponseWriter, r *http.Request, d editData, err error) {
	pr, ok := page.Refused(err)
	if !ok {
		p.pages.Fail(w, r, err)
		return
	}
	d.Kinds, d.Grounds = kinds, grounds
	e := page.TextOf(p.pages, p.pages.Lang(w, r), pr.Msg)
	d.Error = &e
	p.pages.Render(w, r, pr.Status, "admin_edit", d)
}

// scrutineerAction runs a scrutineer's POST on a ballot and shows the
// ballot again with the outcome.
func (p *AdminPages) scrutineerAction(f func(r *http.Request, s page.Staff, b *AdminBallot) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, b, ok := p.staffBallot(w, r, "scrutineer")
		if !ok {
			return
		}
		done, err := f(r, s, b)
		if err != nil {
			if pr, ok := page.Refused(err); ok {
				p.showBallot(w, r, s, pr.Status, "", err)
			} else {
				p.pages.Fail(w, r, err)
			}
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d?done=%s", b.ID, done), http.StatusSeeOther)
	}
}

func (p *AdminPages) appoint(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	return "appointed", p.admin.AppointScrutineer(r.Context(), s.Actor(), b.ID, r.PostFormValue("name"), r.PostFormValue("s226c") == "on")
}

func (p *AdminPages) assessment(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	return "assessed", p.admin.SignOffSecurityAssessment(r.Context(), s.Actor(), b.ID, strings.TrimSpace(r.PostFormValue("by")))
}

func (p *AdminPages) trustees(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return "", invalid("admin.err.trustees_upload")
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return "", invalid("admin.err.trustees_choose")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return "", err
	}
	return "trustees", p.admin.SetTrustees(r.Context(), s.Actor(), b.ID, data)
}

func (p *AdminPages) recordNotices(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	var ts [2]time.Time
	for i, k := range []string{"notice_sent_at", "sample_sent_at"} {
		t, err := time.ParseInLocation(formTime, strings.TrimSpace(r.PostFormValue(k)), london)
		if err != nil {
			return "", invalid("admin.err.notice_times")
		}
		ts[i] = t
	}
	return "notices", p.admin.RecordEmployerNotices(r.Context(), s.Actor(), b.ID, ts[0], ts[1])
}

// confirmWording: the scrutineer confirms the s.229(4) wording in force
// (opening_checks.go).
func (p *AdminPages) confirmWording(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	return "wording", p.admin.ConfirmWording(r.Context(), s.Actor(), b.ID, r.PostFormValue("regime"))
}

// approvePaper: the scrutineer approves the voting paper whose hash the
// page showed (opening_checks.go).
func (p *AdminPages) approvePaper(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	return "paper", p.admin.ApprovePaper(r.Context(), s.Actor(), b.ID, r.PostFormValue("paper_hash"))
}

func (p *AdminPages) open(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	if r.PostFormValue("confirm") != b.ElectionID {
		return "", invalid("admin.err.confirm_open", b.ElectionID)
	}
	return "opened", p.admin.Open(r.Context(), s.Actor(), b.ID)
}

func (p *AdminPages) close(r *http.Request, s page.Staff, b *AdminBallot) (string, error) {
	if r.PostFormValue("confirm") != b.ElectionID {
		return "", invalid("admin.err.confirm_close", b.ElectionID)
	}
	return "closed", p.admin.Close(r.Context(), s.Actor(), b.ID, r.PostFormValue("reason"))
}
