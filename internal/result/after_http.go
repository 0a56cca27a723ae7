package result

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/after.html templates/after_post.html templates/after_employer.html
var afterTemplates embed.FS

//go:embed i18n/after
var afterCatalog embed.FS

// afterEnglish is m in English (error texts).
var afterEnglish = page.EnglishOf(afterCatalog, "i18n/after")

// RegisterAfterPages adds the pages after the close and their catalogue
// (whose "after.*" keys also make the notices' texts).
func RegisterAfterPages(p page.Registry) error {
	if err := p.AddTemplates(afterTemplates, "templates/after.html", "templates/after_post.html", "templates/after_employer.html"); err != nil {
		return err
	}
	return p.AddCatalog(afterCatalog, "i18n/after")
}

// afterError is a refused step of the pages after the close (422).
type afterError struct{ m page.Msg }

func (e *afterError) Error() string { return "result: " + afterEnglish(e.m) }

// Problem is the answer: 422 with the reason.
func (e *afterError) Problem() page.Problem {
	return page.Problem{Status: http.StatusUnprocessableEntity, Code: "after_refused", Msg: e.m}
}

func refusedAfter(key string, args ...any) error { return &afterError{page.M(key, args...)} }

// AfterPages serves the staff pages after the close: the s.231 and s.231A
// notices and the employers' addresses, the s.231B deadline and the log
// of requests for a copy of the report, and the printable list of members
// to tell by post.
type AfterPages struct {
	after *After
	store *election.Store
	pages page.Renderer
	staff page.StaffFunc
}

// NewAfterPages returns the module; register its templates and catalogue
// with [RegisterAfterPages] first.
func NewAfterPages(after *After, store *election.Store, pages page.Renderer, staff page.StaffFunc) *AfterPages {
	return &AfterPages{after: after, store: store, pages: pages, staff: staff}
}

// Routes registers the pages.
func (p *AfterPages) Routes(r chi.Router) {
	r.Get("/organiser/ballots/{id}/after-close", p.show("organiser"))
	r.Get("/scrutineer/ballots/{id}/after-close", p.show("scrutineer"))
	r.Get("/organiser/ballots/{id}/after-close/post", p.postList)
	r.Post("/organiser/ballots/{id}/after-close/employer", p.setEmployer)
	r.Get("/organiser/ballots/{id}/after-close/employer-notice", p.employerPaper)
	r.Post("/organiser/ballots/{id}/after-close/employer-given", p.employerGiven)
	r.Post("/organiser/ballots/{id}/after-close/requests", p.addRequest)
	r.Post("/organiser/ballots/{id}/after-close/requests/{rid}/supplied", p.supplied)
}

// Status is the state of the duties after the close of one ballot.
type Status struct {
	// Closed is nil when the ballot has not closed or is not of a kind
	// with these duties (an industrial action ballot).
	Closed *election.ClosedBallot
	// DateOfBallot (s.246), ReportDue (s.231B, four weeks) and
	// RequestsUntil (s.231B(2), six months).
	DateOfBallot, ReportDue, RequestsUntil NoticeTime
	Overdue                                bool // not published and past ReportDue
	Plan                                   *Plan
	Members                                map[string]int // member notices by outbox state
	Employers                              []EmployerStatus
	Reminders                              map[string]int // reminders queued, "week"/"day" → scrutineers
	Requests                               []CopyRequest
}

// EmployerStatus is one employer's s.231A notice.
type EmployerStatus struct {
	Key, Name, Email string
	Members          int
	State, Reason    string // the outbox's ("" not planned)
	SentAt           *time.Time
	// Given is the notice given on paper, by post or by hand (nil: not
	// recorded).
	Given *EmployerDelivery
}

// Status reads the state after the close of a ballot.
func (a *After) Status(ctx context.Context, b *election.AdminBallot) (*Status, error) {
	cb, err := a.o.Ballots.ClosedBallotsOf(ctx, []int64{b.ID})
	if err != nil {
		return nil, err
	}
	c, ok := cb[b.ID]
	st := &Status{}
	if !ok || !election.AfterCloseDuties(c.Kind) {
		return st, nil
	}
	st.Closed = &c
	now := a.o.Now()
	st.DateOfBallot = NoticeTime{election.DateOfBallot(c.ClosedAt)}
	st.ReportDue = NoticeTime{election.ReportDue(c.ClosedAt).Add(-time.Second)}
	st.RequestsUntil = NoticeTime{election.CopyRequestsUntil(c.ClosedAt).Add(-time.Second)}
	st.Overdue = c.Status != "published" && !c.SmallExemption && !now.Before(election.ReportDue(c.ClosedAt))
	if st.Plan, err = a.store.plan(ctx, b.ID); err != nil {
		return nil, err
	}
	rows, err := a.store.notices(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	states, err := a.o.Outbox.ResultStates(ctx, ids)
	if err != nil {
		return nil, err
	}
	st.Members, st.Reminders = map[string]int{}, map[string]int{}
	byEmployer := map[string]int64{}
	for _, r := range rows {
		switch r.Kind {
		case "member":
			s := states[r.ID].State
			if s == "" {
				s = "pending"
			}
			st.Members[s]++
		case "employer":
			byEmployer[r.EmployerKey] = r.ID
		case "reminder":
			st.Reminders[r.Remind]++
		}
	}
	emps, err := a.employers(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	contacts, err := a.store.employerContacts(ctx, b.UnionID)
	if err != nil {
		return nil, err
	}
	given, err := a.store.employerDeliveries(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range emps {
		es := EmployerStatus{Key: e.Key, Name: e.Name, Members: e.Members, Email: contacts[e.Key].Email}
		if g, ok := given[e.Key]; ok {
			es.Given = &g
		}
		if id, ok := byEmployer[e.Key]; ok {
			s := states[id]
			es.State, es.Reason, es.SentAt = s.State, s.Reason, s.SentAt
			if es.State == "" {
				es.State = "pending"
			}
		}
		st.Employers = append(st.Employers, es)
	}
	if st.Requests, err = a.store.copyRequests(ctx, b.ID); err != nil {
		return nil, err
	}
	var members []int64
	for _, r := range st.Requests {
		if r.MemberID != 0 {
			members = append(members, r.MemberID)
		}
	}
	nums, err := a.o.Register.MemberNumbers(ctx, members)
	if err != nil {
		return nil, err
	}
	until := election.CopyRequestsUntil(c.ClosedAt)
	for i := range st.Requests {
		st.Requests[i].MemberNumber = nums[st.Requests[i].MemberID]
		st.Requests[i].Late = !st.Requests[i].RequestedAt.Before(until)
	}
	return st, nil
}

// SetEmployerContact records where an employer of the ballot's register
// takes its s.231A notice (for every ballot of the union); on a published
// ballot the notice is planned at once.
func (a *After) SetEmployerContact(ctx context.Context, actor string, b *election.AdminBallot, employerKey, email string) error {
	email = strings.TrimSpace(email)
	if _, err := mail.CheckAddress(email); err != nil {
		return refusedAfter("after.err.email")
	}
	emp, err := a.employer(ctx, b.ID, employerKey)
	if err != nil {
		return err
	}
	now := a.o.Now()
	if err := a.store.setEmployerContact(ctx, actor, b.ID, b.UnionID, EmployerContact{Key: emp.Key, Employer: emp.Name, Email: email, UpdatedAt: now}); err != nil {
		return err
	}
	if b.Status == "published" {
		if err := a.store.addEmployerNotice(ctx, b.ID, emp.Key, now); err != nil {
			return err
		}
		return a.queue(ctx, now)
	}
	return nil
}

// employer is the employer of the ballot's register whose key is key.
func (a *After) employer(ctx context.Context, ballotID int64, key string) (*registerEmployer, error) {
	emps, err := a.employers(ctx, ballotID)
	if err != nil {
		return nil, err
	}
	for i := range emps {
		if emps[i].Key == key {
			return &emps[i], nil
		}
	}
	return nil, refusedAfter("after.err.no_employer")
}

// RecordEmployerGiven records that the s.231A notice was given to an
// employer of the register on paper (method "post" or "hand") on the day
// givenAt: the notice of an employer without an email address, or one
// given as well as by email. The result must be published (the notice
// gives it), and the day is neither before the date of the ballot nor
// in the future. Recorded once per employer.
func (a *After) RecordEmployerGiven(ctx context.Context, actor string, b *election.AdminBallot, key, method string, givenAt time.Time) error {
	if b.Status != "published" {
		return refusedAfter("after.err.not_published")
	}
	if method != "post" && method != "hand" {
		return refusedAfter("after.err.given_method")
	}
	e, err := a.employer(ctx, b.ID, key)
	if err != nil {
		return err
	}
	cb, err := a.o.Ballots.ClosedBallotsOf(ctx, []int64{b.ID})
	if err != nil {
		return err
	}
	c, ok := cb[b.ID]
	if !ok {
		return refusedAfter("after.err.not_closed")
	}
	now := a.o.Now()
	if givenAt.After(now) || givenAt.Before(election.DateOfBallot(c.ClosedAt)) {
		return refusedAfter("after.err.given_date")
	}
	err = a.store.addEmployerDelivery(ctx, actor, b.ID, *e, EmployerDelivery{Method: method, GivenAt: givenAt, RecordedAt: now})
	if errors.Is(err, errDelivered) {
		return refusedAfter("after.err.given_twice", e.Name)
	}
	return err
}

// RecordCopyRequest logs a request for a copy of the s.231B report by a
// member on the ballot's register (by member number) or by an employer of
// the register, made at requestedAt (not in the future, not before the
// close).
func (a *After) RecordCopyRequest(ctx context.Context, actor string, b *election.AdminBallot, requester, who string, requestedAt time.Time) error {
	cb, err := a.o.Ballots.ClosedBallotsOf(ctx, []int64{b.ID})
	if err != nil {
		return err
	}
	c, ok := cb[b.ID]
	if !ok {
		return refusedAfter("after.err.not_closed")
	}
	now := a.o.Now()
	if requestedAt.After(now) || requestedAt.Before(election.DateOfBallot(c.ClosedAt)) {
		return refusedAfter("after.err.request_date")
	}
	req := CopyRequest{Requester: requester, RequestedAt: requestedAt}
	who = strings.TrimSpace(who)
	switch requester {
	case "member":
		// s.231B(2): a person entitled to vote in the ballot.
		id, err := a.o.Register.MemberByNumber(ctx, b.ID, who)
		if errors.Is(err, register.ErrNotOnRegister) || who == "" {
			return refusedAfter("after.err.not_entitled")
		}
		if err != nil {
			return err
		}
		req.MemberID = id
	case "employer":
		// s.231B(2): the employer of any such person.
		emps, err := a.employers(ctx, b.ID)
		if err != nil {
			return err
		}
		for _, e := range emps {
			if e.Key == election.EmployerKey(who) {
				req.Employer = e.Name
			}
		}
		if req.Employer == "" {
			return refusedAfter("after.err.no_employer")
		}
	default:
		return refusedAfter("after.err.requester")
	}
	return a.store.addCopyRequest(ctx, actor, b.ID, req, now)
}

// MarkCopySupplied records that the copy asked for by request id was
// supplied now.
func (a *After) MarkCopySupplied(ctx context.Context, actor string, ballotID, id int64) error {
	err := a.store.markSupplied(ctx, actor, ballotID, id, a.o.Now())
	if errors.Is(err, errNoRequest) {
		return refusedAfter("after.err.no_request")
	}
	return err
}

// afterPage is the data of templates/after.html.
type afterPage struct {
	Role    string
	B       *election.AdminBallot
	S       *Status
	Today   string // YYYY-MM-DD, Europe/London
	Message string
	Error   *page.Text
}

func (p *AfterPages) show(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, role)
		if !ok {
			return
		}
		p.render(w, r, s, b, http.StatusOK, r.URL.Query().Get("done"), nil)
	}
}

func (p *AfterPages) render(w http.ResponseWriter, r *http.Request, s page.Staff, b *election.AdminBallot, status int, msg string, actErr error) {
	st, err := p.after.Status(r.Context(), b)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	switch msg {
	case "employer", "request", "supplied", "given":
	default:
		msg = ""
	}
	d := afterPage{Role: s.Role, B: b, S: st, Message: msg, Today: p.after.o.Now().In(page.London).Format("2006-01-02")}
	if actErr != nil {
		pr, _ := page.ProblemOf(actErr)
		t := page.TextOf(p.pages, p.pages.Lang(w, r), pr.Msg)
		d.Error = &t
	}
	p.pages.Render(w, r, status, "after", d)
}

// act runs an organiser's step and redirects with done, or shows the
// page again with the reason it was refused.
func (p *AfterPages) act(w http.ResponseWriter, r *http.Request, done string, step func(page.Staff, *election.AdminBallot) error) {
	s, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	err := step(s, b)
	if pr, refused := page.Refused(err); err != nil && refused {
		p.render(w, r, s, b, pr.Status, "", err)
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d/after-close?done=%s", b.ID, done), http.StatusSeeOther)
}

func (p *AfterPages) setEmployer(w http.ResponseWriter, r *http.Request) {
	p.act(w, r, "employer", func(s page.Staff, b *election.AdminBallot) error {
		return p.after.SetEmployerContact(r.Context(), s.Actor(), b, r.PostFormValue("employer"), r.PostFormValue("email"))
	})
}

func (p *AfterPages) employerGiven(w http.ResponseWriter, r *http.Request) {
	p.act(w, r, "given", func(s page.Staff, b *election.AdminBallot) error {
		at, err := p.dayOrNow(r.PostFormValue("given_on"))
		if err != nil {
			return refusedAfter("after.err.given_date")
		}
		return p.after.RecordEmployerGiven(r.Context(), s.Actor(), b, r.PostFormValue("employer"), r.PostFormValue("method"), at)
	})
}

// dayOrNow reads a day (YYYY-MM-DD, Europe/London) from a form: today is
// this moment, an earlier day its start.
func (p *AfterPages) dayOrNow(v string) (time.Time, error) {
	day, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), page.London)
	if err != nil {
		return time.Time{}, err
	}
	if now := p.after.o.Now(); now.In(page.London).Format("2006-01-02") == day.Format("2006-01-02") {
		return now, nil
	}
	return day, nil
}

func (p *AfterPages) addRequest(w http.ResponseWriter, r *http.Request) {
	p.act(w, r, "request", func(s page.Staff, b *election.AdminBallot) error {
		// A request made today is recorded at this moment; an earlier
		// one at the start of its day.
		at, err := p.dayOrNow(r.PostFormValue("requested_on"))
		if err != nil {
			return refusedAfter("after.err.request_date")
		}
		who := r.PostFormValue("member_number")
		if r.PostFormValue("requester") == "employer" {
			who = r.PostFormValue("employer")
		}
		return p.after.RecordCopyRequest(r.Context(), s.Actor(), b, r.PostFormValue("requester"), who, at)
	})
}

func (p *AfterPages) supplied(w http.ResponseWriter, r *http.Request) {
	p.act(w, r, "supplied", func(s page.Staff, b *election.AdminBallot) error {
		id, err := strconv.ParseInt(chi.URLParam(r, "rid"), 10, 64)
		if err != nil {
			return refusedAfter("after.err.no_request")
		}
		return p.after.MarkCopySupplied(r.Context(), s.Actor(), b.ID, id)
	})
}

// postPage is the data of templates/after_post.html: the s.231 notice to
// print, in English and Welsh, and the members to post it to.
type postPage struct {
	B          *election.AdminBallot
	English    string
	Welsh      string
	Recipients []register.PackRecipient
}

// postList shows the printable s.231 notice and the list of members
// whose frozen contacts have neither email nor mobile (or who asked for
// post), with their addresses.
func (p *AfterPages) postList(w http.ResponseWriter, r *http.Request) {
	_, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	if b.Status != "published" {
		p.pages.RenderError(w, r, http.StatusNotFound, "result.not_published")
		return
	}
	rep, rec, err := p.after.published(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	recips, err := p.after.o.Register.PackRecipients(r.Context(), b.ID, false)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	a := p.after
	link := a.o.PublicURL + "/results/" + rec.ElectionID
	text := func(l string) string {
		return a.tf(l, "after.member.intro", rep.Result.Title, a.dateOfBallot(l, rep)) + "\n\n" + a.particulars(l, rep) + a.tf(l, "after.member.more", link)
	}
	p.pages.Render(w, r, http.StatusOK, "after_post", postPage{B: b, English: text("en"), Welsh: text("cy"), Recipients: recips})
}

// employerPage is the data of templates/after_employer.html: one
// employer's s.231A notice to print, in English and Welsh.
type employerPage struct {
	B        *election.AdminBallot
	Employer string
	English  string
	Welsh    string
}

// employerPaper shows an employer's s.231A notice to print and give by
// post or by hand: the words of the email.
func (p *AfterPages) employerPaper(w http.ResponseWriter, r *http.Request) {
	_, b, ok := election.StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	if b.Status != "published" {
		p.pages.RenderError(w, r, http.StatusNotFound, "result.not_published")
		return
	}
	a := p.after
	e, err := a.employer(r.Context(), b.ID, r.URL.Query().Get("employer"))
	if _, refused := page.Refused(err); refused {
		p.pages.RenderError(w, r, http.StatusNotFound, "after.err.no_employer")
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	rep, rec, err := a.published(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	h, err := a.o.Ballots.Heading(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, http.StatusOK, "after_employer", employerPage{B: b, Employer: e.Name,
		English: a.employerText("en", e.Name, h.Union, rep, rec), Welsh: a.employerText("cy", e.Name, h.Union, rep, rec)})
}
