package gotv

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
)

// Routes registers the pages, the JSON/CSV endpoints and the Twilio
// webhooks. Every state-changing route is a POST; forms carry the CSRF
// token in a field named "csrf" (checked by internal/auth's middleware,
// which exempts /webhooks/: they authenticate with X-Twilio-Signature).
//
//	GET  /organiser/gotv/ballots/{id}                  turnout dashboard
//	GET  /organiser/gotv/ballots/{id}/turnout.json     aggregates (suppressed)
//	GET  /organiser/gotv/ballots/{id}/turnout.csv      aggregates (suppressed)
//	GET  /organiser/gotv/ballots/{id}/campaigns/new    campaign form
//	POST /organiser/gotv/ballots/{id}/campaigns        create a draft
//	GET  /organiser/gotv/campaigns/{cid}               preview, counts, status
//	GET  /organiser/gotv/campaigns/{cid}/status.json   the same as JSON
//	POST /organiser/gotv/campaigns/{cid}/schedule      start sending when due
//	POST /organiser/gotv/campaigns/{cid}/cancel        stop
//	GET  /organiser/gotv/campaigns/{cid}/nonvoters.csv only if policy allows; audited
//	POST /scrutineer/gotv/ballots/{id}/reminders       enabled=on|off (D26)
//	POST /scrutineer/gotv/unions/{id}/policy           allow_export, min_cell
//	POST /webhooks/twilio/status                       delivery reports
//	POST /webhooks/twilio/inbound                      STOP / START
func (s *Service) Routes(r chi.Router) {
	r.Get("/organiser/gotv/ballots/{id}", s.dashboard)
	r.Get("/organiser/gotv/ballots/{id}/turnout.json", s.turnoutJSON)
	r.Get("/organiser/gotv/ballots/{id}/turnout.csv", s.turnoutCSV)
	r.Get("/organiser/gotv/ballots/{id}/campaigns/new", s.newCampaign)
	r.Post("/organiser/gotv/ballots/{id}/campaigns", s.createCampaign)
	r.Get("/organiser/gotv/campaigns/{cid}", s.campaignPage)
	r.Get("/organiser/gotv/campaigns/{cid}/status.json", s.campaignJSON)
	r.Post("/organiser/gotv/campaigns/{cid}/schedule", s.campaignAction(s.Schedule))
	r.Post("/organiser/gotv/campaigns/{cid}/cancel", s.campaignAction(s.Cancel))
	r.Get("/organiser/gotv/campaigns/{cid}/nonvoters.csv", s.exportCSV)
	r.Post("/scrutineer/gotv/ballots/{id}/reminders", s.setReminders)
	r.Post("/scrutineer/gotv/unions/{id}/policy", s.setPolicy)
	r.Post("/webhooks/twilio/status", s.statusWebhook)
	r.Post("/webhooks/twilio/inbound", s.inboundWebhook)
}

// who returns the signed-in staff member, or answers 303 to sign in / 403.
func (s *Service) who(w http.ResponseWriter, r *http.Request, roles ...string) (page.Staff, bool) {
	st, ok := s.staff(r)
	if !ok {
		http.Redirect(w, r, "/staff/signin", http.StatusSeeOther)
		return page.Staff{}, false
	}
	for _, role := range roles {
		if st.Role == role {
			return st, true
		}
	}
	s.fail(w, r, ErrForbidden)
	return page.Staff{}, false
}

// fail answers err with its status and message (page.ProblemOf).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if s.pages == nil {
		pr, _ := page.ProblemOf(err)
		http.Error(w, http.StatusText(pr.Status), pr.Status)
		return
	}
	s.pages.Fail(w, r, err)
}

func idParam(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	return id, err == nil && id > 0
}

// turnoutFor loads the turnout of the {id} ballot for the signed-in staff.
func (s *Service) turnoutFor(w http.ResponseWriter, r *http.Request) (*Turnout, page.Staff, string, bool) {
	st, id, ok := s.whoAndID(w, r, "id", "organiser", "scrutineer")
	if !ok {
		return nil, st, "", false
	}
	if _, err := s.ensureUnion(r.Context(), st, id); err != nil {
		s.fail(w, r, err)
		return nil, st, "", false
	}
	lang := "en"
	if s.pages != nil {
		lang = s.pages.Lang(w, r)
	}
	t, err := s.Turnout(r.Context(), id, s.t(lang, "gotv.other"))
	if err != nil {
		s.fail(w, r, err)
		return nil, st, "", false
	}
	return t, st, lang, true
}

func (s *Service) t(lang, key string) string {
	if s.pages == nil {
		return key
	}
	return s.pages.T(lang, key)
}

type chartView struct {
	Dimension string
	Title     string
	SVG       template.HTML
	Breakdown Breakdown
}

type dashboardData struct {
	Staff            page.Staff
	T                *Turnout
	Line             template.HTML
	Charts           []chartView
	Campaigns        []Campaign
	Issues           map[int]int
	RemindersEnabled bool
	Saved            bool // the reminder setting was just saved
}

func (s *Service) dashboard(w http.ResponseWriter, r *http.Request) {
	t, st, lang, ok := s.turnoutFor(w, r)
	if !ok {
		return
	}
	d := dashboardData{Staff: st, T: t, Saved: r.URL.Query().Get("done") == "reminders"}
	if !t.Suppressed {
		d.Line = LineChart(t, chartText{
			Title:      s.t(lang, "gotv.chart.time.title"),
			Desc:       s.timeDesc(lang, t),
			Threshold:  fmt.Sprintf(s.t(lang, "gotv.chart.threshold"), t.ThresholdPct),
			Projection: s.t(lang, "gotv.chart.projection"),
		}, "chart-time")
		for _, b := range t.Breakdowns {
			cv := chartView{Dimension: b.Dimension, Title: s.t(lang, "gotv.dim."+b.Dimension), Breakdown: b}
			if !b.Hidden && b.Dimension == "workplace" {
				cv.SVG = BarChart(b.Cells, t.ThresholdPct, chartText{
					Title: cv.Title,
					Desc:  fmt.Sprintf(s.t(lang, "gotv.chart.bars.desc"), len(b.Cells), t.ThresholdPct),
				}, "chart-"+b.Dimension)
			}
			d.Charts = append(d.Charts, cv)
		}
	}
	var err error
	if d.Campaigns, err = s.Campaigns(r.Context(), st, t.BallotID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Issues, err = s.ContactIssues(r.Context(), t.BallotID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.RemindersEnabled, err = s.remindersOn(r.Context(), t.BallotID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "gotv_dashboard", d)
}

// timeDesc is the turnout chart's description, with the projection's
// range once there is one.
func (s *Service) timeDesc(lang string, t *Turnout) string {
	if !t.Projection.Ready {
		return fmt.Sprintf(s.t(lang, "gotv.chart.time.desc_none"), t.Voted, t.Entitled, t.Pct(), t.ThresholdPct)
	}
	return fmt.Sprintf(s.t(lang, "gotv.chart.time.desc"), t.Voted, t.Entitled, t.Pct(), t.Projection.LowPct, t.Projection.HighPct, t.ThresholdPct)
}

func (s *Service) turnoutJSON(w http.ResponseWriter, r *http.Request) {
	t, _, _, ok := s.turnoutFor(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(t)
}

// WriteTurnoutCSV writes the suppressed aggregates: one row per cell
// (dimension, group, entitled, voted, turnout %) and the hourly series.
func WriteTurnoutCSV(w *csv.Writer, t *Turnout) error {
	_ = w.Write([]string{"dimension", "group", "entitled", "voted", "turnout_pct"})
	if t.Suppressed {
		_ = w.Write([]string{"total", "suppressed", "", "", ""})
		w.Flush()
		return w.Error()
	}
	row := func(dim, group string, n, v int) {
		_ = w.Write([]string{dim, page.CSVCell(group), strconv.Itoa(n), strconv.Itoa(v),
			strconv.FormatFloat(Cell{Entitled: n, Voted: v}.Pct(), 'f', 1, 64)})
	}
	row("total", "all", t.Entitled, t.Voted)
	for _, b := range t.Breakdowns {
		for _, c := range b.Cells {
			row(b.Dimension, c.Label, c.Entitled, c.Voted)
		}
	}
	for _, p := range t.Series {
		_ = w.Write([]string{"hour", p.At.UTC().Format(time.RFC3339), "", strconv.Itoa(p.Voted), ""})
	}
	if t.Projection.Ready {
		_ = w.Write([]string{"projection", "close", "", strconv.Itoa(t.Projection.Voted),
			strconv.FormatFloat(t.Projection.Pct, 'f', 1, 64)})
		_ = w.Write([]string{"projection", "close_low", "", strconv.Itoa(t.Projection.LowVoted),
			strconv.FormatFloat(t.Projection.LowPct, 'f', 1, 64)})
		_ = w.Write([]string{"projection", "close_high", "", strconv.Itoa(t.Projection.HighVoted),
			strconv.FormatFloat(t.Projection.HighPct, 'f', 1, 64)})
	}
	w.Flush()
	return w.Error()
}

func (s *Service) turnoutCSV(w http.ResponseWriter, r *http.Request) {
	t, _, _, ok := s.turnoutFor(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="turnout-%s.csv"`, t.ElectionID))
	w.Header().Set("Cache-Control", "no-store")
	_ = WriteTurnoutCSV(csv.NewWriter(w), t)
}

type newCampaignData struct {
	BallotID     int64
	Title        string
	Workplaces   []string
	Branches     []string
	Placeholders []string
	Error        string
	ErrorField   string // the id of the input in error, or ""
	Form         map[string]string
	Off          bool // reminders are off: no campaign can be scheduled, so no form
}

// remindersOn reports whether the scrutineer has allowed reminders for the
// ballot (off until they do, D26).
func (s *Service) remindersOn(ctx context.Context, ballotID int64) (bool, error) {
	var on bool
	err := s.pool.QueryRow(ctx, `SELECT reminders_enabled FROM gotv_ballot_settings WHERE ballot_id = $1`, ballotID).Scan(&on)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read reminder setting: %w", err)
	}
	return on, nil
}

// renderNewCampaign shows the form, with the error errKey (a catalogue
// key) on field (an input's id, or "" for the form) if not "".
func (s *Service) renderNewCampaign(w http.ResponseWriter, r *http.Request, st page.Staff, ballotID int64, status int, errKey, field string) {
	b, err := s.ensureUnion(r.Context(), st, ballotID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wps, brs, err := s.reg.Segments(r.Context(), ballotID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := map[string]string{}
	for _, k := range []string{"name", "template1", "template2", "template_cy1", "template_cy2", "when1", "at1", "at2"} {
		form[k] = r.PostFormValue(k)
	}
	on, err := s.remindersOn(r.Context(), ballotID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.pages.Render(w, r, status, "gotv_campaign_new", newCampaignData{BallotID: ballotID, Title: b.Title, Workplaces: wps,
		Branches: brs, Placeholders: Placeholders, Error: errKey, ErrorField: field, Form: form, Off: !on})
}

func (s *Service) newCampaign(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.whoAndID(w, r, "id", "organiser")
	if !ok {
		return
	}
	s.renderNewCampaign(w, r, st, id, http.StatusOK, "", "")
}

// parseLocal reads an <input type="datetime-local"> value in Europe/London.
func parseLocal(v string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), london())
}

func (s *Service) createCampaign(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.whoAndID(w, r, "id", "organiser")
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, ErrInvalid)
		return
	}
	in := CampaignInput{Name: r.PostForm.Get("name"), Workplaces: r.PostForm["workplace"], Branches: r.PostForm["branch"]}
	for i := 1; i <= 3; i++ {
		tmpl := strings.TrimSpace(r.PostForm.Get(fmt.Sprintf("template%d", i)))
		at := r.PostForm.Get(fmt.Sprintf("at%d", i))
		if tmpl == "" {
			continue
		}
		stp := StepInput{Template: tmpl, TemplateCy: strings.TrimSpace(r.PostForm.Get(fmt.Sprintf("template_cy%d", i)))}
		if at == "" && (i > 1 || r.PostForm.Get("when1") == "at") {
			s.renderNewCampaign(w, r, st, id, http.StatusBadRequest, "gotv.err.time", fmt.Sprintf("at%d", i))
			return
		}
		if at != "" && !(i == 1 && r.PostForm.Get("when1") == "now") {
			due, err := parseLocal(at)
			if err != nil {
				s.renderNewCampaign(w, r, st, id, http.StatusBadRequest, "gotv.err.time", fmt.Sprintf("at%d", i))
				return
			}
			stp.DueAt = due
		}
		in.Steps = append(in.Steps, stp)
	}
	cid, err := s.CreateCampaign(r.Context(), st, id, in)
	if pr, ok := page.Refused(err); ok && pr.Status == http.StatusBadRequest {
		// bad input: the form again, with what is wrong
		s.renderNewCampaign(w, r, st, id, pr.Status, pr.Msg.Key, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/gotv/campaigns/%d", cid), http.StatusSeeOther)
}

type campaignData struct {
	C         *Campaign
	Plan      *Plan
	PlanError string
	Pounds    string
	CanExport bool
}

func (s *Service) loadCampaign(w http.ResponseWriter, r *http.Request) (*Campaign, *Plan, page.Staff, bool) {
	st, cid, ok := s.whoAndID(w, r, "cid", "organiser", "scrutineer")
	if !ok {
		return nil, nil, st, false
	}
	c, err := s.Campaign(r.Context(), st, cid)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, st, false
	}
	p, err := s.PlanCampaign(r.Context(), st, c)
	if err != nil && !errors.Is(err, ErrSegmentTooSmall) {
		s.fail(w, r, err)
		return nil, nil, st, false
	}
	return c, p, st, true
}

func (s *Service) campaignPage(w http.ResponseWriter, r *http.Request) {
	c, p, _, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	d := campaignData{C: c, Plan: p}
	if p == nil {
		d.PlanError = "gotv.err.small"
	} else {
		d.Pounds = fmt.Sprintf("£%.2f", p.TotalCost/100)
	}
	if b, err := s.ballot(r.Context(), c.BallotID); err == nil {
		d.CanExport, _ = s.exportAllowed(r.Context(), nil, b.UnionID)
	}
	s.pages.Render(w, r, http.StatusOK, "gotv_campaign", d)
}

func (s *Service) campaignJSON(w http.ResponseWriter, r *http.Request) {
	c, p, _, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"campaign": c, "plan": p})
}

func (s *Service) campaignAction(f func(ctx context.Context, st page.Staff, id int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, cid, ok := s.whoAndID(w, r, "cid", "organiser")
		if !ok {
			return
		}
		if err := f(r.Context(), st, cid); err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/organiser/gotv/campaigns/%d", cid), http.StatusSeeOther)
	}
}

// whoAndID is who followed by idParam(param): the staff member with one of
// roles and the id in the URL, or false once the answer is written (an id
// that does not parse is "not found").
func (s *Service) whoAndID(w http.ResponseWriter, r *http.Request, param string, roles ...string) (page.Staff, int64, bool) {
	st, ok := s.who(w, r, roles...)
	if !ok {
		return st, 0, false
	}
	id, ok := idParam(r, param)
	if !ok {
		s.fail(w, r, ErrNotFound)
		return st, 0, false
	}
	return st, id, true
}

func (s *Service) exportCSV(w http.ResponseWriter, r *http.Request) {
	st, cid, ok := s.whoAndID(w, r, "cid", "organiser")
	if !ok {
		return
	}
	list, asOf, err := s.ExportNonVoters(r.Context(), st, cid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	stamp := "before-opening"
	if !asOf.IsZero() {
		stamp = asOf.UTC().Format("20060102T15Z")
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="nonvoters-%d-as-of-%s.csv"`, cid, stamp))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"member_number", "name", "mobile", "workplace", "branch"})
	for _, n := range list {
		_ = cw.Write([]string{page.CSVCell(n.MemberNumber), page.CSVCell(n.Name), n.Mobile, page.CSVCell(n.Workplace), page.CSVCell(n.Branch)})
	}
	cw.Flush()
}

func (s *Service) setReminders(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.whoAndID(w, r, "id", "scrutineer")
	if !ok {
		return
	}
	if err := s.SetReminders(r.Context(), st, id, r.PostFormValue("enabled") == "on"); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/gotv/ballots/%d?done=reminders#reminders", id), http.StatusSeeOther)
}

func (s *Service) setPolicy(w http.ResponseWriter, r *http.Request) {
	st, id, ok := s.whoAndID(w, r, "id", "scrutineer")
	if !ok {
		return
	}
	k, _ := strconv.Atoi(r.PostFormValue("min_cell"))
	if err := s.SetPolicy(r.Context(), st, id, Policy{AllowNonVoterExport: r.PostFormValue("allow_export") == "on", MinCell: k}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
