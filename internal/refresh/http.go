package refresh

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var catalogFS embed.FS

// RegisterPages adds the pages and their catalogue.
func RegisterPages(p page.Registry) error {
	if err := p.AddTemplates(templateFS, "templates/refresh_home.html", "templates/refresh_campaign.html",
		"templates/refresh_member.html", "templates/refresh_verify.html", "templates/refresh_done.html", "templates/refresh_staff_member.html"); err != nil {
		return err
	}
	return p.AddCatalog(catalogFS, "i18n")
}

// MaxImport bounds the union's file (POST /organiser/refresh/import).
const MaxImport = 20 << 20

// Routes registers the pages. Every form is a POST with the CSRF token in
// the field "csrf" (internal/auth's middleware; the member's page has the
// pre-session cookie's token, no sign-in).
//
//	GET  /organiser/refresh                         coverage, trend, campaigns, new campaign, export, import
//	POST /organiser/refresh/campaigns               start a campaign
//	GET  /organiser/refresh/campaigns/{id}          a campaign's texts and answers
//	POST /organiser/refresh/campaigns/{id}/cancel   stop it
//	GET  /organiser/refresh/changes.csv?since=D     changes by members and staff since day D
//	POST /organiser/refresh/import                  the union's file back (CSV)
//	GET  /organiser/refresh/member?number=N         a member's contacts, to correct (staff)
//	POST /organiser/refresh/member                  the organiser's correction (source staff)
//	GET  /r/{token}                                 the member's page (details held, masked)
//	POST /r/{token}/confirm                         "these are right"
//	POST /r/{token}/correct                         the correction form
//	GET  /r/{token}/verify                          enter the code sent to the new mobile or email
//	POST /r/{token}/verify                          check it
//	POST /r/{token}/resend                          a new code
//	POST /r/{token}/optout                          no more messages asking to check my details
func (s *Service) Routes(r chi.Router) {
	r.Get("/organiser/refresh", s.home)
	r.Post("/organiser/refresh/campaigns", s.create)
	r.Get("/organiser/refresh/campaigns/{id}", s.campaignPage)
	r.Post("/organiser/refresh/campaigns/{id}/cancel", s.cancel)
	r.Get("/organiser/refresh/changes.csv", s.changesCSV)
	r.Post("/organiser/refresh/import", s.importFile)
	r.Get("/organiser/refresh/member", s.staffMember)
	r.Post("/organiser/refresh/member", s.staffCorrect)
	r.Get("/r/{token}", s.memberPage)
	r.Post("/r/{token}/confirm", s.confirm)
	r.Post("/r/{token}/correct", s.correct)
	r.Get("/r/{token}/verify", s.verifyPage)
	r.Post("/r/{token}/verify", s.verify)
	r.Post("/r/{token}/resend", s.resend)
	r.Post("/r/{token}/optout", s.optOut)
}

// ---- Organiser ----

type homeData struct {
	Staff      page.Staff
	Coverage   *Coverage
	Chart      template.HTML
	Campaigns  []Campaign
	Segments   []string
	Workplaces []string
	Employers  []string
	Form       map[string]string
	Problem    *FieldError
	// ProblemText is Problem's message in the page's language.
	ProblemText string
	Since       string
	Imported    *register.ImportReport
	ImportBad   int
	ImportErr   string // catalogue key
}

// Invalid: the form's refused field is field.
func (d *homeData) Invalid(field string) bool { return d.Problem != nil && d.Problem.Field == field }

func (s *Service) home(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	s.renderHome(w, r, st, http.StatusOK, &homeData{Form: map[string]string{"link_days": "14"}})
}

func (s *Service) renderHome(w http.ResponseWriter, r *http.Request, st page.Staff, status int, d *homeData) {
	ctx := r.Context()
	var err error
	d.Staff, d.Segments = st, Segments
	if d.Coverage, err = s.Coverage(ctx, st.UnionID); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	if d.Campaigns, err = s.Campaigns(ctx, st.UnionID); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	if d.Workplaces, d.Employers, err = s.reg.UnionPlaces(ctx, st.UnionID); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	if d.Since == "" {
		d.Since = s.now().In(page.London).AddDate(0, 0, -30).Format("2006-01-02")
	}
	lang := s.pages.Lang(w, r)
	if d.Problem != nil {
		d.ProblemText = d.Problem.Msg.In(s.pages.T, lang)
	}
	d.Chart = TrendChart(d.Coverage, chartText{Title: s.pages.T(lang, "refresh.o.trend"), Desc: s.pages.T(lang, "refresh.o.trend_desc"),
		Mobile: s.pages.T(lang, "refresh.o.mobile"), Email: s.pages.T(lang, "refresh.o.email")}, "trend")
	s.pages.Render(w, r, status, "refresh_home", d)
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	form := map[string]string{}
	for _, k := range []string{"segment", "workplace", "employer", "member_number", "message_en", "message_cy", "privacy_url", "link_days", "starts"} {
		form[k] = r.PostFormValue(k)
	}
	in := CampaignInput{Segment: form["segment"], MessageEN: form["message_en"], MessageCY: form["message_cy"], PrivacyURL: form["privacy_url"]}
	switch in.Segment {
	case register.SegmentWorkplace:
		in.Value = form["workplace"]
	case register.SegmentEmployer:
		in.Value = form["employer"]
	case register.SegmentOneMember:
		in.Value = form["member_number"]
	}
	in.LinkDays, _ = strconv.Atoi(strings.TrimSpace(form["link_days"]))
	if v := strings.TrimSpace(form["starts"]); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, page.London)
		if err != nil {
			s.renderHome(w, r, st, http.StatusBadRequest, &homeData{Form: form, Problem: &FieldError{"starts", page.M("refresh.err.starts")}})
			return
		}
		in.StartsAt = t
	}
	c, err := s.Create(r.Context(), st, in)
	var fe *FieldError
	if errors.As(err, &fe) {
		s.renderHome(w, r, st, http.StatusBadRequest, &homeData{Form: form, Problem: fe})
		return
	}
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/refresh/campaigns/%d", c.ID), http.StatusSeeOther)
}

func idParam(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

type campaignData struct {
	C      *Campaign
	Counts map[string]int // texts by state
	Emails map[string]int // emails by state
}

func (s *Service) campaignPage(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	id, ok := idParam(r)
	if !ok {
		s.pages.Fail(w, r, ErrNotFound)
		return
	}
	c, err := s.Campaign(r.Context(), st, id)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	counts, err := s.outbox.RefreshCounts(r.Context(), id)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	emails, err := s.EmailCounts(r.Context(), id)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "refresh_campaign", campaignData{C: c, Counts: counts, Emails: emails})
}

func (s *Service) cancel(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	id, ok := idParam(r)
	if !ok {
		s.pages.Fail(w, r, ErrNotFound)
		return
	}
	if err := s.Cancel(r.Context(), st, id); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/refresh/campaigns/%d", id), http.StatusSeeOther)
}

// changesCSV is the export for the union's membership system: one row per
// member and field changed by the member or staff since the day given
// (current value). Free text is defused for spreadsheets.
func (s *Service) changesCSV(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	since, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("since"), page.London)
	if err != nil {
		s.pages.Fail(w, r, ErrInvalid)
		return
	}
	rows, err := s.reg.ChangesSince(r.Context(), st.UnionID, since)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-changes-since-%s.csv"`, since.Format("2006-01-02")))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"member_number", "field", "value", "postcode", "source", "changed_at", "verified_at"})
	for _, x := range rows {
		value, postcode := x.Value, ""
		if x.Field == register.FieldAddress {
			if i := strings.LastIndexByte(value, '\n'); i >= 0 {
				value, postcode = value[:i], value[i+1:]
			}
		}
		ver := ""
		if x.VerifiedAt != nil {
			ver = x.VerifiedAt.UTC().Format(time.RFC3339)
		}
		if x.Field != register.FieldMobile { // a mobile is E.164, checked: "+" and digits only
			value = page.CSVCell(value)
		}
		_ = cw.Write([]string{page.CSVCell(x.MemberNumber), x.Field, value, page.CSVCell(postcode), x.Source,
			x.ChangedAt.UTC().Format(time.RFC3339), ver})
	}
	cw.Flush()
	s.log.InfoContext(r.Context(), "refresh changes exported", "union", st.UnionID, "rows", len(rows))
}

// importFile takes the union membership system's file back: CSV with the
// header member_number,mobile,email,address,postcode,updated_at. A newer
// value the member verified is kept (internal/register ImportUnionFile).
func (s *Service) importFile(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		s.renderHome(w, r, st, http.StatusBadRequest, &homeData{ImportErr: "refresh.err.import_file"})
		return
	}
	defer f.Close()
	policy, err := s.policy(r.Context(), st.UnionID)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	policy.AllowFictionalNumbers = s.fictional
	rows, bad, err := ParseUnionFile(io.LimitReader(f, MaxImport), policy)
	if err != nil {
		s.renderHome(w, r, st, http.StatusBadRequest, &homeData{ImportErr: "refresh.err.import_format"})
		return
	}
	rep, err := s.reg.ImportUnionFile(r.Context(), st.UnionID, st.Actor(), rows, s.now())
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	s.renderHome(w, r, st, http.StatusOK, &homeData{Imported: &rep, ImportBad: bad, Form: map[string]string{"link_days": "14"}})
}

// ParseUnionFile reads the union's file: the header
// member_number,mobile,email,address,postcode,updated_at (any order;
// mobile, email, address and postcode may be absent), updated_at as
// RFC 3339 or YYYY-MM-DD. A row whose mobile, email or postcode is not
// acceptable is left out and counted in bad; a file without the
// member_number and updated_at columns is an error.
func ParseUnionFile(in io.Reader, policy register.ContactPolicy) ([]register.UnionRow, int, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, 0, fmt.Errorf("union file: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["member_number"]; !ok {
		return nil, 0, errors.New("union file: no member_number column")
	}
	if _, ok := col["updated_at"]; !ok {
		return nil, 0, errors.New("union file: no updated_at column")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []register.UnionRow
	bad := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("union file: %w", err)
		}
		u := register.UnionRow{MemberNumber: get(rec, "member_number")}
		at := get(rec, "updated_at")
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t, err = time.ParseInLocation("2006-01-02", at, page.London)
		}
		ok := err == nil && u.MemberNumber != "" && len(u.MemberNumber) <= 64
		u.UpdatedAt = t
		if v := get(rec, "mobile"); ok && v != "" {
			u.Mobile, _, ok = register.CheckMobile(v, policy)
		}
		if v := get(rec, "email"); ok && v != "" {
			u.Email, _, ok = register.CheckEmail(v, policy)
		}
		if a := get(rec, "address"); ok && a != "" {
			u.Address, ok = register.CheckAddress(a)
			if ok {
				u.Postcode, ok = register.CheckPostcode(get(rec, "postcode"))
			}
		}
		if !ok {
			bad++
			continue
		}
		rows = append(rows, u)
	}
	return rows, bad, nil
}
