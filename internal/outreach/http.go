package outreach

import (
	"embed"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the page templates and the message catalogue, for
// web.Pages.AddTemplates and AddCatalog.
func Templates() (tmpl embed.FS, files []string, catalog embed.FS, dir string) {
	return templateFS, []string{"templates/outreach_volunteer.html", "templates/outreach_conversation.html",
		"templates/outreach_ballot.html", "templates/outreach_campaign.html"}, catalogFS, "i18n"
}

// Routes registers the pages. Every state-changing route is a POST with
// the CSRF token in the field "csrf" (internal/auth's middleware). There is
// no list, CSV or JSON route for volunteers: nothing to export.
//
//	GET  /volunteer                                   code of conduct, or the batch
//	POST /volunteer/conduct                           accept the code of conduct
//	POST /volunteer/claim                             claim a batch (scope: own only)
//	GET  /volunteer/conversations/{id}                one member's conversation
//	POST /volunteer/conversations/{id}/send           text the script (one press, one text)
//	POST /volunteer/conversations/{id}/reply          canned=thanks|postal|help|sorry
//	POST /volunteer/conversations/{id}/tag            tag=voted|wrong_number|postal_pack|opt_out|needs_help
//	GET  /organiser/outreach/ballots/{id}             campaigns, new campaign form; approval (scrutineer)
//	POST /organiser/outreach/ballots/{id}/campaigns   create a campaign
//	GET  /organiser/outreach/campaigns/{cid}          dashboard, queue, invite form
//	POST /organiser/outreach/campaigns/{cid}/volunteers   invite (shows the enrolment link once)
//	POST /organiser/outreach/campaigns/{cid}/queue/{qid}  mark a queue item done
//	POST /organiser/outreach/campaigns/{cid}/close    close the campaign
//	POST /scrutineer/outreach/ballots/{id}/approval   approve=on|off, policy (D26)
func (s *Service) Routes(r chi.Router) {
	r.Get("/volunteer", s.volunteerHome)
	r.Post("/volunteer/conduct", s.conduct)
	r.Post("/volunteer/claim", s.claim)
	r.Get("/volunteer/conversations/{id}", s.conversationPage)
	r.Post("/volunteer/conversations/{id}/send", s.convAction(func(w http.ResponseWriter, r *http.Request, st page.Staff, id int64) error {
		return s.Send(r.Context(), st, id)
	}))
	r.Post("/volunteer/conversations/{id}/reply", s.convAction(func(w http.ResponseWriter, r *http.Request, st page.Staff, id int64) error {
		return s.Reply(r.Context(), st, id, r.PostFormValue("canned"))
	}))
	r.Post("/volunteer/conversations/{id}/tag", s.convAction(func(w http.ResponseWriter, r *http.Request, st page.Staff, id int64) error {
		return s.Tag(r.Context(), st, id, r.PostFormValue("tag"))
	}))
	r.Get("/organiser/outreach/ballots/{id}", s.ballotPage)
	r.Post("/organiser/outreach/ballots/{id}/campaigns", s.createCampaign)
	r.Get("/organiser/outreach/campaigns/{cid}", s.campaignPage)
	r.Post("/organiser/outreach/campaigns/{cid}/volunteers", s.inviteVolunteer)
	r.Post("/organiser/outreach/campaigns/{cid}/queue/{qid}", s.resolveQueue)
	r.Post("/organiser/outreach/campaigns/{cid}/close", s.closeCampaign)
	r.Post("/scrutineer/outreach/ballots/{id}/approval", s.approval)
}

func idParam(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	return id, err == nil && id > 0
}

// staffAnd is the signed-in staff member with one of roles and the id in
// the path parameter param; when there is none it has answered (sign-in,
// forbidden or not found) and ok is false.
func (s *Service) staffAnd(w http.ResponseWriter, r *http.Request, param string, roles ...string) (st page.Staff, id int64, ok bool) {
	if st, ok = page.StaffOf(w, r, s.staff, s.pages, roles...); !ok {
		return st, 0, false
	}
	if id, ok = idParam(r, param); !ok {
		s.fail(w, r, ErrNotFound)
	}
	return st, id, ok
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if s.pages == nil {
		pr, _ := page.ProblemOf(err)
		http.Error(w, http.StatusText(pr.Status), pr.Status)
		return
	}
	s.pages.Fail(w, r, err)
}

type volunteerData struct {
	V     *Volunteer
	Batch []Summary
	Open  int // unsent claims
}

func (s *Service) volunteerHome(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "volunteer")
	if !ok {
		return
	}
	v, list, err := s.Batch(r.Context(), st)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := volunteerData{V: v, Batch: list}
	for _, x := range list {
		if !x.Sent {
			d.Open++
		}
	}
	s.pages.Render(w, r, http.StatusOK, "outreach_volunteer", d)
}

func (s *Service) conduct(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "volunteer")
	if !ok {
		return
	}
	if r.PostFormValue("accept") != "on" {
		s.fail(w, r, ErrConduct)
		return
	}
	if err := s.AcceptConduct(r.Context(), st); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/volunteer", http.StatusSeeOther)
}

func (s *Service) claim(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "volunteer")
	if !ok {
		return
	}
	if _, err := s.Claim(r.Context(), st, strings.TrimSpace(r.PostFormValue("scope"))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/volunteer", http.StatusSeeOther)
}

type conversationData struct {
	V       *Volunteer
	C       *Conversation
	Preview string // the script as the member will read it
	Tags    []string
	Canned  []string
	Tagged  map[string]bool
}

func (s *Service) conversationPage(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.staffAnd(w, r, "id", "volunteer")
	if !ok {
		return
	}
	v, c, err := s.Conversation(r.Context(), st, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := conversationData{V: v, C: c, Tags: Tags, Canned: Canned, Tagged: map[string]bool{},
		Preview: render(v.Campaign.Script, c.FirstName, v.Name)}
	for _, t := range c.Tags {
		d.Tagged[t] = true
	}
	// A masked number in a reply reads in the page's language.
	removed := s.pages.T(s.pages.Lang(w, r), "outreach.number_removed")
	for i := range d.C.Messages {
		d.C.Messages[i].Body = strings.ReplaceAll(d.C.Messages[i].Body, numberRemoved, removed)
	}
	s.pages.Render(w, r, http.StatusOK, "outreach_conversation", d)
}

// convAction runs a volunteer's action on conversation {id} and goes back
// to it; a refusal shows its message (nothing was sent).
func (s *Service) convAction(do func(w http.ResponseWriter, r *http.Request, st page.Staff, id int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, id, ok := s.staffAnd(w, r, "id", "volunteer")
		if !ok {
			return
		}
		if err := do(w, r, st, id); err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/volunteer/conversations/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	}
}

type ballotData struct {
	Staff     page.Staff
	BallotID  int64
	Title     string
	Campaigns []Campaign
	Approval  *Approval
	Error     string // catalogue key
	Form      map[string]string
}

func (s *Service) ballotPage(w http.ResponseWriter, r *http.Request) {
	s.showBallot(w, r, http.StatusOK, "", nil)
}

func (s *Service) showBallot(w http.ResponseWriter, r *http.Request, status int, errKey string, form map[string]string) {
	st, id, ok := s.staffAnd(w, r, "id", "organiser", "scrutineer")
	if !ok {
		return
	}
	b, err := s.ballotOf(r.Context(), st, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Campaigns(r.Context(), st, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ap, err := s.ApprovalFor(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form == nil {
		form = map[string]string{"source": SourceSelfReported}
	}
	s.pages.Render(w, r, status, "outreach_ballot", ballotData{Staff: st, BallotID: id, Title: b.Title, Campaigns: list,
		Approval: ap, Error: errKey, Form: form})
}

func (s *Service) createCampaign(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.staffAnd(w, r, "id", "organiser")
	if !ok {
		return
	}
	in := CampaignInput{Name: r.PostFormValue("name"), Source: r.PostFormValue("source"), Script: r.PostFormValue("script")}
	cid, err := s.CreateCampaign(r.Context(), st, id, in)
	if err != nil {
		pr, _ := page.ProblemOf(err)
		if pr.Status == http.StatusBadRequest || pr.Status == http.StatusConflict {
			s.showBallot(w, r, pr.Status, pr.Msg.Key, map[string]string{"name": in.Name, "source": in.Source, "script": in.Script})
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/organiser/outreach/campaigns/"+strconv.FormatInt(cid, 10), http.StatusSeeOther)
}

type campaignData struct {
	Staff    page.Staff
	D        *Dashboard
	Queue    []QueueItem
	Link     string // a new volunteer's enrolment link, shown once
	Error    string
	Form     map[string]string
	BallotID int64
	Tables   []table
}

// table is one breakdown of the dashboard.
type table struct {
	Caption, Head string // catalogue keys
	Rows          []Row
}

func (s *Service) campaignPage(w http.ResponseWriter, r *http.Request) {
	s.showCampaign(w, r, http.StatusOK, "", "", nil)
}

func (s *Service) showCampaign(w http.ResponseWriter, r *http.Request, status int, link, errKey string, form map[string]string) {
	st, cid, ok := s.staffAnd(w, r, "cid", "organiser")
	if !ok {
		return
	}
	lang := s.pages.Lang(w, r)
	d, err := s.Dashboard(r.Context(), st, cid, s.pages.T(lang, "outreach.other"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := s.Queue(r.Context(), st, cid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form == nil {
		form = map[string]string{"scope_kind": "branch"}
	}
	tables := []table{{"outreach.o.byvolunteer", "outreach.o.volunteer", d.ByVolunteer},
		{"outreach.o.byworkplace", "outreach.o.workplace", d.ByWorkplace}}
	if d.Released {
		// a turnout campaign: the release's cells only (no volunteer breakdown)
		tables = tables[1:]
	}
	s.pages.Render(w, r, status, "outreach_campaign", campaignData{Staff: st, D: d, Queue: q, Link: link, Error: errKey, Form: form,
		BallotID: d.Campaign.BallotID, Tables: tables})
}

func (s *Service) inviteVolunteer(w http.ResponseWriter, r *http.Request) {
	st, cid, ok := s.staffAnd(w, r, "cid", "organiser")
	if !ok {
		return
	}
	in := VolunteerInput{Name: r.PostFormValue("name"), Mobile: strings.ReplaceAll(r.PostFormValue("mobile"), " ", ""),
		ScopeKind: r.PostFormValue("scope_kind"), Scope: r.PostFormValue("scope")}
	link, err := s.InviteVolunteer(r.Context(), st, cid, in)
	if err != nil {
		pr, _ := page.ProblemOf(err)
		if pr.Status == http.StatusBadRequest {
			s.showCampaign(w, r, pr.Status, "", pr.Msg.Key, map[string]string{"name": in.Name, "scope_kind": in.ScopeKind, "scope": in.Scope})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.showCampaign(w, r, http.StatusOK, link, "", nil)
}

func (s *Service) resolveQueue(w http.ResponseWriter, r *http.Request) {
	st, cid, ok := s.staffAnd(w, r, "cid", "organiser")
	if !ok {
		return
	}
	qid, ok := idParam(r, "qid")
	if !ok {
		s.fail(w, r, ErrNotFound)
		return
	}
	if err := s.ResolveQueue(r.Context(), st, cid, qid); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/organiser/outreach/campaigns/"+strconv.FormatInt(cid, 10), http.StatusSeeOther)
}

func (s *Service) closeCampaign(w http.ResponseWriter, r *http.Request) {
	st, cid, ok := s.staffAnd(w, r, "cid", "organiser")
	if !ok {
		return
	}
	if err := s.CloseCampaign(r.Context(), st, cid); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/organiser/outreach/campaigns/"+strconv.FormatInt(cid, 10), http.StatusSeeOther)
}

func (s *Service) approval(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.staffAnd(w, r, "id", "scrutineer")
	if !ok {
		return
	}
	if err := s.Approve(r.Context(), st, id, r.PostFormValue("policy"), r.PostFormValue("approve") == "on"); err != nil {
		pr, _ := page.ProblemOf(err)
		if pr.Status == http.StatusBadRequest {
			s.showBallot(w, r, pr.Status, "outreach.err.policy", nil)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/organiser/outreach/ballots/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
