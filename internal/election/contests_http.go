package election

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/addresses.html
var addressesTemplate embed.FS

//go:embed i18n/election
var electionCatalog embed.FS

// registerElectionPages adds the union election pages' templates and
// catalogue (called by [RegisterPages]).
func registerElectionPages(p page.Registry) error {
	if err := p.AddTemplates(adminTemplates, "templates/admin_election.html", "templates/admin_address.html"); err != nil {
		return err
	}
	if err := p.AddTemplates(addressesTemplate, "templates/addresses.html"); err != nil {
		return err
	}
	return p.AddCatalog(electionCatalog, "i18n/election")
}

// electionRoutes registers the organiser's pages of a union election:
// contests, candidates' election addresses, the address limit and the
// independent person.
func (p *AdminPages) electionRoutes(r chi.Router) {
	r.Get("/organiser/ballots/{id}/election", p.electionPage)
	r.Post("/organiser/ballots/{id}/election/settings", p.electionAction(p.saveSettings))
	r.Post("/organiser/ballots/{id}/election/contests", p.electionAction(p.addContest))
	r.Post("/organiser/ballots/{id}/election/contests/{contest}/remove", p.electionAction(p.removeContest))
	r.Get("/organiser/ballots/{id}/election/contests/{contest}/candidates/{candidate}/address", p.addressForm)
	r.Post("/organiser/ballots/{id}/election/contests/{contest}/candidates/{candidate}/address", p.saveAddress)
	r.Get("/organiser/ballots/{id}/election/contests/{contest}/candidates/{candidate}/photo", p.organiserPhoto)
}

// contestForm is the add-a-contest form, as strings so a bad value is
// shown back.
type contestForm struct {
	Title, TitleCy, Candidates, Method, Rule, Seats, Min, Max string
}

// settingsForm is the address limit and independent person form.
type settingsForm struct {
	Words, Name, Organisation, Trustee string
	KeyRequired                        bool
}

type electionData struct {
	B        *AdminBallot
	Draft    bool
	Contests []contestView
	Contest  contestForm
	Settings settingsForm
	Rules    []string
	Message  string
	Error    *page.Text
}

// contestView is a contest with its candidates' addresses.
type contestView struct {
	Question
	Candidates []candidateView
}

type candidateView struct {
	Option
	Address *ElectionAddress
}

func contestViews(c Config, addrs map[[2]string]ElectionAddress) []contestView {
	var out []contestView
	for _, q := range c.Questions {
		v := contestView{Question: q}
		for _, o := range q.Options {
			cv := candidateView{Option: o}
			if a, ok := addrs[[2]string{q.ID, o.ID}]; ok {
				cv.Address = &a
			}
			v.Candidates = append(v.Candidates, cv)
		}
		out = append(out, v)
	}
	return out
}

// electionBallot is the organiser's union election of the URL, or false
// once the answer is written (a ballot of another kind is 404 here).
func (p *AdminPages) electionBallot(w http.ResponseWriter, r *http.Request) (page.Staff, *AdminBallot, bool) {
	s, b, ok := p.staffBallot(w, r, "organiser")
	if ok && (b.Kind != "union_election" || b.Config.Election == nil) {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return s, b, false
	}
	return s, b, ok
}

func (p *AdminPages) electionPage(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.electionBallot(w, r)
	if !ok {
		return
	}
	p.showElection(w, r, b, http.StatusOK, electionData{Message: r.URL.Query().Get("done"),
		Contest: contestForm{Method: MethodRanked, Rule: Rules[0], Seats: "1", Min: "1"}})
}

func (p *AdminPages) showElection(w http.ResponseWriter, r *http.Request, b *AdminBallot, status int, d electionData) {
	addrs, err := p.store.Addresses(r.Context(), nil, b.ID, "")
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d.B, d.Draft, d.Rules, d.Contests = b, b.Status == "draft", Rules, contestViews(b.Config, addrs)
	if d.Settings == (settingsForm{}) {
		e := b.Config.Election
		d.Settings.Words = strconv.Itoa(e.AddressWords)
		if ip := e.Independent; ip != nil {
			d.Settings = settingsForm{Words: d.Settings.Words, Name: ip.Name, Organisation: ip.Organisation, KeyRequired: ip.KeyRequired}
			if ip.Trustee > 0 {
				d.Settings.Trustee = strconv.Itoa(ip.Trustee)
			}
		}
	}
	switch d.Message {
	case "", "contest", "removed", "settings", "address":
	default:
		d.Message = ""
	}
	p.pages.Render(w, r, status, "admin_election", d)
}

// electionAction runs an organiser's POST on a union election and shows
// the page again with the outcome; d carries the form as sent.
func (p *AdminPages) electionAction(f func(r *http.Request, s page.Staff, b *AdminBallot, d *electionData) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, b, ok := p.electionBallot(w, r)
		if !ok {
			return
		}
		d := electionData{}
		done, err := f(r, s, b, &d)
		if err != nil {
			pr, ok := page.Refused(err)
			if !ok {
				p.pages.Fail(w, r, err)
				return
			}
			e := page.TextOf(p.pages, p.pages.Lang(w, r), pr.Msg)
			d.Error = &e
			p.showElection(w, r, b, pr.Status, d)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d/election?done=%s", b.ID, done), http.StatusSeeOther)
	}
}

// formInt reads a whole number field; bad is the message if it is not one.
func formInt(s, bad string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, invalid(bad)
	}
	return n, nil
}

func (p *AdminPages) addContest(r *http.Request, s page.Staff, b *AdminBallot, d *electionData) (string, error) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := contestForm{Title: v("title"), TitleCy: v("title_cy"), Candidates: v("candidates"), Method: v("method"),
		Rule: v("rule"), Seats: v("seats"), Min: v("min"), Max: v("max")}
	d.Contest = f
	in := ContestInput{Title: f.Title, TitleCy: f.TitleCy, Candidates: f.Candidates, Method: f.Method, Rule: f.Rule}
	var err error
	if in.Seats, err = formInt(f.Seats, "elec.err.number_seats"); err != nil {
		return "", err
	}
	if in.Min, err = formInt(f.Min, "elec.err.number_min"); err != nil {
		return "", err
	}
	if in.Max, err = formInt(f.Max, "elec.err.number_max"); err != nil {
		return "", err
	}
	if _, err := p.admin.AddContest(r.Context(), s.Actor(), b.ID, in); err != nil {
		return "", err
	}
	return "contest", nil
}

func (p *AdminPages) removeContest(r *http.Request, s page.Staff, b *AdminBallot, _ *electionData) (string, error) {
	return "removed", p.admin.RemoveContest(r.Context(), s.Actor(), b.ID, chi.URLParam(r, "contest"))
}

func (p *AdminPages) saveSettings(r *http.Request, s page.Staff, b *AdminBallot, d *electionData) (string, error) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := settingsForm{Words: v("address_words"), Name: v("independent_name"), Organisation: v("independent_organisation"),
		Trustee: v("independent_trustee"), KeyRequired: v("key_required") == "on"}
	d.Settings = f
	words, err := formInt(f.Words, "elec.err.number_words")
	if err != nil {
		return "", err
	}
	var ip *IndependentPerson
	if f.Name != "" || f.Organisation != "" || f.Trustee != "" || f.KeyRequired {
		ip = &IndependentPerson{Name: f.Name, Organisation: f.Organisation, KeyRequired: f.KeyRequired}
		if f.Trustee != "" {
			if ip.Trustee, err = formInt(f.Trustee, "elec.err.number_trustee"); err != nil {
				return "", err
			}
		}
	}
	return "settings", p.admin.SetElectionSettings(r.Context(), s.Actor(), b.ID, words, ip)
}

type addressData struct {
	B         *AdminBallot
	Draft     bool
	Contest   Question
	Candidate Option
	Address   ElectionAddress
	Words     int
	Error     *page.Text
}

// candidateOf is the contest and candidate of the URL, or false once a
// 404 is answered.
func (p *AdminPages) candidateOf(w http.ResponseWriter, r *http.Request, b *AdminBallot) (Question, Option, bool) {
	q, o, ok := b.Config.Candidate(chi.URLParam(r, "contest"), chi.URLParam(r, "candidate"))
	if !ok {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
	}
	return q, o, ok
}

func (p *AdminPages) addressForm(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.electionBallot(w, r)
	if !ok {
		return
	}
	q, o, ok := p.candidateOf(w, r, b)
	if !ok {
		return
	}
	p.showAddress(w, r, b, q, o, http.StatusOK, nil, nil)
}

func (p *AdminPages) showAddress(w http.ResponseWriter, r *http.Request, b *AdminBallot, q Question, o Option, status int, sent *ElectionAddress, e *page.Text) {
	d := addressData{B: b, Draft: b.Status == "draft", Contest: q, Candidate: o, Words: b.Config.Election.AddressWords, Error: e}
	addrs, err := p.store.Addresses(r.Context(), nil, b.ID, "")
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d.Address = addrs[[2]string{q.ID, o.ID}]
	if sent != nil {
		d.Address.TextEn, d.Address.TextCy = sent.TextEn, sent.TextCy
	}
	p.pages.Render(w, r, status, "admin_address", d)
}

// saveAddress records a candidate's address from its multipart form (the
// "csrf" field first, internal/auth), the photo at most MaxPhotoUpload
// bytes (the route's body limit, internal/app LargeBodies).
func (p *AdminPages) saveAddress(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.electionBallot(w, r)
	if !ok {
		return
	}
	q, o, ok := p.candidateOf(w, r, b)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxPhotoUpload+1<<20)
	in := AddressInput{}
	err := r.ParseMultipartForm(1 << 20)
	if err == nil {
		in.TextEn, in.TextCy, in.RemovePhoto = r.PostFormValue("text_en"), r.PostFormValue("text_cy"), r.PostFormValue("remove_photo") == "on"
		in.Photo, err = uploadedPhoto(r)
	} else {
		err = invalid("elec.err.photo_size", MaxPhotoUpload>>20)
	}
	if err == nil {
		err = p.admin.SetAddress(r.Context(), s.Actor(), b.ID, q.ID, o.ID, in)
	}
	if err != nil {
		pr, ok := page.Refused(err)
		if !ok {
			p.pages.Fail(w, r, err)
			return
		}
		e := page.TextOf(p.pages, p.pages.Lang(w, r), pr.Msg)
		p.showAddress(w, r, b, q, o, pr.Status, &ElectionAddress{TextEn: in.TextEn, TextCy: in.TextCy}, &e)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d/election?done=address#%s", b.ID, q.ID), http.StatusSeeOther)
}

// uploadedPhoto is the form's photo file, nil if none was chosen.
func uploadedPhoto(r *http.Request) ([]byte, error) {
	f, h, err := r.FormFile("photo")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, invalid("elec.err.photo_type")
	}
	defer f.Close()
	if h.Size == 0 {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPhotoUpload+1))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// organiserPhoto serves a draft's photo to its organisers, never cached
// (it may still change).
func (p *AdminPages) organiserPhoto(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.electionBallot(w, r)
	if !ok {
		return
	}
	ph, _, err := p.store.AddressPhoto(r.Context(), b.ID, "", chi.URLParam(r, "contest"), chi.URLParam(r, "candidate"))
	if errors.Is(err, ErrNotFound) {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	servePhoto(w, ph)
}

// servePhoto writes a photo with its own media type (the type its header
// was decoded as, never sniffed) and nothing a browser could run.
func servePhoto(w http.ResponseWriter, ph Photo) {
	h := w.Header()
	h.Set("Content-Type", ph.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", "inline")
	h.Set("Content-Length", strconv.Itoa(len(ph.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ph.Data)
}
