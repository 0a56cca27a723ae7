package election

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/web/page"
)

// actionNoticesData is the data of templates/records_action.html.
type actionNoticesData struct {
	B       *AdminBallot
	Times   ActionTimes
	Notices []ActionNotice
	// Employers are the employers of the register, with their members
	// (a starting point for the notice's figures).
	Employers []EmployerNoticeRecord
	Form      actionNoticeForm
	Message   string
	Error     *page.Text
	Kinds     []string
	Today     string // YYYY-MM-DD, Europe/London: the notice day by default
}

// actionNoticeForm is the form as typed, shown back when refused.
type actionNoticeForm struct {
	Employer, Categories, Workplaces, Employees, Action, Days, NoticeOn string
	Continuous                                                          bool
}

func (p *RecordsPages) actionNotices(w http.ResponseWriter, r *http.Request) {
	_, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	msg := r.URL.Query().Get("done")
	if msg != "created" && msg != "sent" {
		msg = ""
	}
	p.showActionNotices(w, r, b, http.StatusOK, msg, actionNoticeForm{Action: "strike", Continuous: true}, nil)
}

func (p *RecordsPages) showActionNotices(w http.ResponseWriter, r *http.Request, b *AdminBallot, status int, msg string, f actionNoticeForm, actErr error) {
	t, ok := ActionTimesOf(b)
	if !ok {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	ns, err := p.store.ActionNotices(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	emps, err := p.admin.EmployerNoticeStatus(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d := actionNoticesData{B: b, Times: t, Notices: ns, Employers: emps, Form: f, Message: msg, Kinds: ActionKinds,
		Today: p.admin.now().In(london).Format("2006-01-02")}
	if d.Form.NoticeOn == "" {
		d.Form.NoticeOn = d.Today
	}
	if actErr != nil {
		e := errorText(p.pages, p.pages.Lang(w, r), actErr)
		d.Error = &e
	}
	p.pages.Render(w, r, status, "records_action", d)
}

// readActionNotice reads the form: days one per line (or separated by
// commas or spaces) as YYYY-MM-DD, the notice day as YYYY-MM-DD.
func readActionNotice(r *http.Request) (actionNoticeForm, ActionNoticeInput, error) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := actionNoticeForm{Employer: v("employer"), Categories: v("categories"), Workplaces: v("workplaces"), Employees: v("employees"),
		Action: v("action"), Days: v("days"), NoticeOn: v("notice_on"), Continuous: v("pattern") != "discontinuous"}
	in := ActionNoticeInput{Employer: f.Employer, Categories: f.Categories, Workplaces: f.Workplaces, Action: f.Action, Continuous: f.Continuous}
	n, err := strconv.Atoi(f.Employees)
	if err != nil {
		return f, in, invalid("action.err.employees")
	}
	in.Employees = n
	days := strings.FieldsFunc(f.Days, func(c rune) bool { return c == '\n' || c == '\r' || c == ',' || c == ' ' || c == '\t' })
	if len(days) > MaxActionDays {
		return f, in, invalid("action.err.days")
	}
	for _, s := range days {
		t, err := time.ParseInLocation("2006-01-02", s, london)
		if err != nil {
			return f, in, invalid("action.err.day", s)
		}
		in.Days = append(in.Days, t)
	}
	if in.NoticeOn, err = time.ParseInLocation("2006-01-02", f.NoticeOn, london); err != nil {
		return f, in, invalid("action.err.notice_on")
	}
	return f, in, nil
}

func (p *RecordsPages) createActionNotice(w http.ResponseWriter, r *http.Request) {
	s, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	f, in, err := readActionNotice(r)
	if err == nil {
		_, err = p.admin.CreateActionNotice(r.Context(), s.Actor(), b, in)
	}
	p.actionDone(w, r, b, "created", f, err)
}

func (p *RecordsPages) recordActionNoticeSent(w http.ResponseWriter, r *http.Request) {
	s, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	id, perr := strconv.ParseInt(chi.URLParam(r, "n"), 10, 64)
	at, terr := time.ParseInLocation(formTime, strings.TrimSpace(r.PostFormValue("sent_at")), london)
	var err error
	switch {
	case perr != nil:
		err = ErrNoActionNotice
	case terr != nil:
		err = invalid("action.err.sent_at")
	default:
		err = p.admin.RecordActionNoticeSent(r.Context(), s.Actor(), b, id, at)
	}
	p.actionDone(w, r, b, "sent", actionNoticeForm{Action: "strike", Continuous: true}, err)
}

// actionDone redirects after a change, or shows the page with the refusal.
func (p *RecordsPages) actionDone(w http.ResponseWriter, r *http.Request, b *AdminBallot, done string, f actionNoticeForm, err error) {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d/action-notices?done=%s", b.ID, done), http.StatusSeeOther)
	} else if pr, ok := page.Refused(err); ok {
		p.showActionNotices(w, r, b, pr.Status, "", f, err)
	} else {
		p.pages.Fail(w, r, err)
	}
}

// actionNoticePrint is the data of templates/records_action_print.html.
type actionNoticePrint struct {
	B      *AdminBallot
	Times  ActionTimes
	N      *ActionNotice
	Regime Regime
}

// printActionNotice shows one notice as an A4 document to print and give
// the employer.
func (p *RecordsPages) printActionNotice(w http.ResponseWriter, r *http.Request) {
	_, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	t, ok := ActionTimesOf(b)
	id, err := strconv.ParseInt(chi.URLParam(r, "n"), 10, 64)
	if !ok || err != nil {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	n, err := p.store.ActionNotice(r.Context(), b.ID, id)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, http.StatusOK, "records_action_print", actionNoticePrint{B: b, Times: t, N: n, Regime: t.Regime})
}
