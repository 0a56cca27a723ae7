package issuance

// Pages of workplace voting (docs/paper.md): the scrutineer opens a box
// for a workplace session and creates its presiding officer's account;
// the presiding officer, on a phone or a desktop, marks the register by
// paper number or member lookup (which issues the paper) and closes the
// box. Each refusal shows its statutory reason. The officer's pages show
// only their own boxes, paper numbers typed and counts, never a vote.

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/workplace_boxes.html templates/workplace_officer.html templates/workplace_box.html
var workplaceTemplates embed.FS

// RolePresidingOfficer is the staff role of a presiding officer
// (internal/auth's RolePresidingOfficer).
const RolePresidingOfficer = "presiding_officer"

// InviteFunc creates a presiding officer's staff account and returns its
// id and one-time enrolment link (internal/app wires auth's CreateStaff).
// The account has no mobile: an officer who loses their passkey is given
// a new account and box by the scrutineer, not a recovery code.
type InviteFunc func(ctx context.Context, name string) (int64, string, error)

// WorkplacePages serves the workplace voting pages.
type WorkplacePages struct {
	svc    *Service
	store  *election.Store
	pages  page.Renderer
	staff  page.StaffFunc
	invite InviteFunc
	log    *slog.Logger
}

// NewWorkplacePages returns the module; RegisterWorkplacePages adds its
// templates.
func NewWorkplacePages(svc *Service, store *election.Store, pages page.Renderer, staff page.StaffFunc, invite InviteFunc, log *slog.Logger) *WorkplacePages {
	return &WorkplacePages{svc: svc, store: store, pages: pages, staff: staff, invite: invite, log: log}
}

// RegisterWorkplacePages adds the pages (their catalogue keys
// "issue.wp.…" are in the catalogue [RegisterStaffPages] adds).
func RegisterWorkplacePages(p page.Registry) error {
	return p.AddTemplates(workplaceTemplates, "templates/workplace_boxes.html", "templates/workplace_officer.html", "templates/workplace_box.html")
}

// Routes registers the pages.
func (p *WorkplacePages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/workplace", p.boxesPage)
	r.Post("/scrutineer/ballots/{id}/workplace", p.openBox)
	r.Post("/scrutineer/ballots/{id}/workplace/{box}/close", p.scrutineerClose)
	r.Get("/workplace", p.officerPage)
	r.Get("/workplace/boxes/{box}", p.boxPage)
	r.Post("/workplace/boxes/{box}/issue", p.issue)
	r.Post("/workplace/boxes/{box}/close", p.officerClose)
}

// boxesData is the data of templates/workplace_boxes.html.
type boxesData struct {
	B          *election.AdminBallot
	Styles     []string
	Boxes      []Box
	Form       map[string]string
	EnrolLink  string // the new officer's enrolment link, shown once
	Workplace  bool   // the ballot may have workplace voting
	Done, Fail string
	ErrorField string // the field in error: "officer", "box" or ""
}

func (p *WorkplacePages) showBoxes(w http.ResponseWriter, r *http.Request, status int, d boxesData) {
	ctx := r.Context()
	var err error
	if d.Boxes, err = p.svc.Boxes(ctx, d.B.ID); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	if d.Styles, err = p.store.StyleOrder(ctx, nil, d.B.ID); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d.Workplace = d.B.Kind == "industrial_action"
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	p.pages.Render(w, r, status, "workplace_boxes", d)
}

func (p *WorkplacePages) boxesPage(w http.ResponseWriter, r *http.Request) {
	_, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, "scrutineer")
	if !ok {
		return
	}
	d := boxesData{B: b}
	if r.URL.Query().Get("done") == "closed" {
		d.Done = p.msg(w, r, "issue.wp.done_closed")
	}
	p.showBoxes(w, r, http.StatusOK, d)
}

func (p *WorkplacePages) openBox(w http.ResponseWriter, r *http.Request) {
	s, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, "scrutineer")
	if !ok {
		return
	}
	d := boxesData{B: b, Form: map[string]string{}}
	for _, k := range []string{"box", "style", "place", "officer"} {
		d.Form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	fail := func(status int, msg string) {
		d.Fail = msg
		p.showBoxes(w, r, status, d)
	}
	failField := func(field, key string) {
		d.ErrorField = field
		fail(http.StatusUnprocessableEntity, p.msg(w, r, key))
	}
	if b.Kind != "industrial_action" {
		fail(http.StatusConflict, p.msg(w, r, "issue.err.no_workplace"))
		return
	}
	name := d.Form["officer"]
	if name == "" || len(name) > 200 {
		failField("officer", "issue.wp.err.officer")
		return
	}
	// The box is checked before the account is made (OpenBox calls
	// invite last): a refused box leaves no account behind.
	if !boxRE.MatchString(d.Form["box"]) || d.Form["place"] == "" || len(d.Form["place"]) > 200 {
		failField("box", "issue.wp.err.box")
		return
	}
	var link string
	_, err := p.svc.OpenBox(r.Context(), s.Actor(), b.ElectionID, BoxInput{Box: d.Form["box"], Style: d.Form["style"], Place: d.Form["place"],
		Officer: func(ctx context.Context) (int64, error) {
			id, l, err := p.invite(ctx, name)
			link = l
			return id, err
		}})
	if err != nil {
		if msg, status, known := p.refusal(w, r, err, 0); known {
			if errors.Is(err, ErrBadBox) {
				d.ErrorField = "box"
			}
			fail(status, msg)
			return
		}
		p.pages.Fail(w, r, err)
		return
	}
	d = boxesData{B: b, EnrolLink: link, Done: p.msg(w, r, "issue.wp.done_opened")}
	p.showBoxes(w, r, http.StatusOK, d)
}

func (p *WorkplacePages) scrutineerClose(w http.ResponseWriter, r *http.Request) {
	s, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, "scrutineer")
	if !ok {
		return
	}
	box, ok := p.box(w, r, 0)
	if !ok {
		return
	}
	if box.BallotID != b.ID {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	p.closeBox(w, r, s, box, fmt.Sprintf("/scrutineer/ballots/%d/workplace?done=closed", b.ID), func(status int, msg string) {
		p.showBoxes(w, r, status, boxesData{B: b, Fail: msg})
	})
}

// closeBox closes box for s and sends them to done, or shows the refusal.
func (p *WorkplacePages) closeBox(w http.ResponseWriter, r *http.Request, s page.Staff, box Box, done string, refused func(status int, msg string)) {
	if err := p.svc.CloseBox(r.Context(), s.Actor(), box); err != nil {
		if msg, status, known := p.refusal(w, r, err, 0); known {
			refused(status, msg)
			return
		}
		p.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, done, http.StatusSeeOther)
}

// box is the box of the URL run by officerID (0: any), or false once a
// 404 is written.
func (p *WorkplacePages) box(w http.ResponseWriter, r *http.Request, officerID int64) (Box, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "box"), 10, 64)
	var b Box
	if err == nil {
		b, err = p.svc.OfficerBox(r.Context(), officerID, id)
	}
	if errors.Is(err, ErrNoBox) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange) {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return Box{}, false
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return Box{}, false
	}
	return b, true
}

// officerBox is the signed-in presiding officer and their box of the
// URL, or false once the answer is written.
func (p *WorkplacePages) officerBox(w http.ResponseWriter, r *http.Request) (page.Staff, Box, bool) {
	s, ok := page.StaffOf(w, r, p.staff, p.pages, RolePresidingOfficer)
	if !ok {
		return s, Box{}, false
	}
	box, ok := p.box(w, r, s.ID)
	return s, box, ok
}

func (p *WorkplacePages) officerPage(w http.ResponseWriter, r *http.Request) {
	s, ok := page.StaffOf(w, r, p.staff, p.pages, RolePresidingOfficer)
	if !ok {
		return
	}
	bs, err := p.svc.OfficerBoxes(r.Context(), s.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, http.StatusOK, "workplace_officer", bs)
}

// boxData is the data of templates/workplace_box.html.
type boxData struct {
	Box
	Paper, Member string // as typed, shown back on an error
	Issued        int    // the paper just issued
	Done, Fail    string
	ErrorField    string // the field in error: "paper", "member_number" or ""
}

func (p *WorkplacePages) showBox(w http.ResponseWriter, r *http.Request, status int, d boxData) {
	p.pages.Render(w, r, status, "workplace_box", d)
}

func (p *WorkplacePages) boxPage(w http.ResponseWriter, r *http.Request) {
	_, box, ok := p.officerBox(w, r)
	if !ok {
		return
	}
	d := boxData{Box: box}
	if n, err := strconv.Atoi(r.URL.Query().Get("issued")); err == nil && n > 0 {
		d.Issued = n
	}
	if r.URL.Query().Get("done") == "closed" {
		d.Done = p.msg(w, r, "issue.wp.done_closed")
	}
	p.showBox(w, r, http.StatusOK, d)
}

// issue marks the register for a member at the box, by the paper number
// or the membership number typed, and issues their paper.
func (p *WorkplacePages) issue(w http.ResponseWriter, r *http.Request) {
	s, box, ok := p.officerBox(w, r)
	if !ok {
		return
	}
	d := boxData{Box: box, Paper: strings.TrimSpace(r.PostFormValue("paper")), Member: strings.TrimSpace(r.PostFormValue("member_number"))}
	fail := func(status int, msg string) {
		if b, err := p.svc.OfficerBox(r.Context(), s.ID, box.ID); err == nil {
			d.Box = b // the counts after a refusal logged
		}
		d.Fail = msg
		d.ErrorField = "paper"
		if d.Paper == "" && d.Member != "" {
			d.ErrorField = "member_number"
		}
		p.showBox(w, r, status, d)
	}
	var n int
	var err error
	switch {
	case d.Paper != "" && d.Member != "", d.Paper == "" && d.Member == "":
		fail(http.StatusUnprocessableEntity, p.msg(w, r, "issue.wp.err.one_of"))
		return
	case d.Paper != "":
		if !paperRE.MatchString(d.Paper) || strings.HasPrefix(d.Paper, "0") {
			fail(http.StatusUnprocessableEntity, p.msg(w, r, "issue.err.paper_format"))
			return
		}
		n, _ = strconv.Atoi(d.Paper)
		err = p.svc.IssueAtBox(r.Context(), s.Actor(), box, n)
	default:
		if !memberNumberRE.MatchString(d.Member) {
			fail(http.StatusUnprocessableEntity, p.msg(w, r, "issue.err.member_number"))
			return
		}
		n, err = p.svc.IssueToMember(r.Context(), s.Actor(), box, d.Member)
	}
	if err != nil {
		if msg, status, known := p.refusal(w, r, err, n); known {
			fail(status, msg)
			return
		}
		p.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/workplace/boxes/%d?issued=%d", box.ID, n), http.StatusSeeOther)
}

func (p *WorkplacePages) officerClose(w http.ResponseWriter, r *http.Request) {
	s, box, ok := p.officerBox(w, r)
	if !ok {
		return
	}
	p.closeBox(w, r, s, box, fmt.Sprintf("/workplace/boxes/%d?done=closed", box.ID), func(status int, msg string) {
		p.showBox(w, r, status, boxData{Box: box, Fail: msg})
	})
}

// refusal is the page's message for a refusal of workplace voting, with
// its statutory reason; n is the paper number concerned.
func (p *WorkplacePages) refusal(w http.ResponseWriter, r *http.Request, err error, n int) (string, int, bool) {
	for _, e := range []struct {
		err    error
		key    string
		status int
	}{
		{ErrNoWorkplace, "issue.err.no_workplace", http.StatusConflict},
		{ErrBoxClosed, "issue.wp.err.closed", http.StatusConflict},
		{ErrOtherWorkplace, "issue.wp.err.other_workplace", http.StatusConflict},
		{ErrNotEntitled, "issue.err.paper_unknown", http.StatusUnprocessableEntity},
		{register.ErrNotOnRegister, "issue.err.not_on_register", http.StatusUnprocessableEntity},
		{ErrPostalRecorded, "issue.wp.err.paper_twice", http.StatusConflict},
		{ErrAlreadyAuthorised, "issue.wp.err.online", http.StatusConflict},
		{ErrLate, "issue.wp.err.late", http.StatusConflict},
		{ErrNotOpen, "issue.wp.err.window", http.StatusConflict},
	} {
		if !errors.Is(err, e.err) {
			continue
		}
		msg := p.msg(w, r, e.key)
		if strings.Contains(msg, "%d") {
			msg = fmt.Sprintf(msg, n)
		}
		return msg, e.status, true
	}
	if errors.Is(err, ErrBadBox) {
		return p.msg(w, r, "issue.wp.err.box") + " (" + strings.TrimPrefix(strings.TrimPrefix(err.Error(), ErrBadBox.Error()), ": ") + ")", http.StatusUnprocessableEntity, true
	}
	return "", 0, false
}

func (p *WorkplacePages) msg(w http.ResponseWriter, r *http.Request, key string) string {
	return p.pages.T(p.pages.Lang(w, r), key)
}
