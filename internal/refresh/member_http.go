package refresh

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// memberData is the member's page: the details held, masked, and the
// correction form.
type memberData struct {
	Token      string
	Mobile     string // masked; "" none
	Email      string // masked
	HasAddress bool
	Postcode   string // outward code only
	Workplace  string
	Language   string
	BallotBy   string
	Workplaces []string
	PrivacyURL string
	Form       Form
	Problems   map[string]string // field → message, in the page's language
	Open       bool              // the correction form starts open (after a refusal)
}

// link resolves {token} and applies the per-address limit on personal
// links; on failure it answers.
func (s *Service) link(w http.ResponseWriter, r *http.Request, allowUsed bool) (*link, bool) {
	if err := s.codes.LimitLink(r); err != nil {
		s.pages.Fail(w, r, err)
		return nil, false
	}
	l, err := s.resolve(r.Context(), chi.URLParam(r, "token"), allowUsed)
	if err != nil {
		s.pages.Fail(w, r, err)
		return nil, false
	}
	return l, true
}

func (s *Service) memberPage(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, false)
	if !ok {
		return
	}
	s.renderMember(w, r, l, http.StatusOK, Form{}, nil)
}

func (s *Service) renderMember(w http.ResponseWriter, r *http.Request, l *link, status int, f Form, probs Problems) {
	ctx := r.Context()
	d, err := s.reg.Details(ctx, l.MemberID)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	wps, _, err := s.reg.UnionPlaces(ctx, l.UnionID)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	md := memberData{Token: chi.URLParam(r, "token"), Workplace: d.Workplace, Language: d.Language, BallotBy: d.BallotBy,
		Workplaces: wps, PrivacyURL: l.PrivacyURL, Form: f, HasAddress: d.Address != "", Open: len(probs) > 0}
	if d.Mobile != "" {
		md.Mobile = page.MaskMobile(d.Mobile)
	}
	if d.Email != "" {
		md.Email = page.MaskEmail(d.Email)
	}
	if out, _, ok := strings.Cut(d.Postcode, " "); ok {
		md.Postcode = out + " •••"
	}
	if len(probs) > 0 {
		lang := s.pages.Lang(w, r)
		md.Problems = map[string]string{}
		for k, m := range probs {
			md.Problems[k] = m.In(s.pages.T, lang)
		}
	}
	s.pages.Render(w, r, status, "refresh_member", md)
}

func (s *Service) confirm(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, false)
	if !ok {
		return
	}
	if err := s.Confirm(r.Context(), l); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "refresh_done", doneData{Token: chi.URLParam(r, "token"), Confirmed: true})
}

type doneData struct {
	Token     string
	Confirmed bool
	Changed   bool
	OptedOut  bool
}

func (s *Service) correct(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, false)
	if !ok {
		return
	}
	f := Form{Mobile: r.PostFormValue("mobile"), Email: r.PostFormValue("email"), Address: r.PostFormValue("address"),
		Postcode: r.PostFormValue("postcode"), Workplace: r.PostFormValue("workplace"), Language: r.PostFormValue("language"),
		BallotBy: r.PostFormValue("ballot_by")}
	if len(f.Mobile) > 64 || len(f.Email) > 320 || len(f.Address) > 2000 || len(f.Postcode) > 16 || len(f.Workplace) > 200 {
		s.renderMember(w, r, l, http.StatusBadRequest, Form{}, Problems{"mobile": page.M("refresh.err.toolong")})
		return
	}
	d, err := s.reg.Details(r.Context(), l.MemberID)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	wps, _, err := s.reg.UnionPlaces(r.Context(), l.UnionID)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	out, probs, err := s.Correct(r, l, d, f, wps, s.pages.Lang(w, r))
	if len(probs) > 0 {
		s.renderMember(w, r, l, http.StatusBadRequest, f, probs)
		return
	}
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	if len(out.Pending) > 0 {
		http.Redirect(w, r, "/r/"+chi.URLParam(r, "token")+"/verify", http.StatusSeeOther)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "refresh_done", doneData{Token: chi.URLParam(r, "token"), Changed: len(out.Changed) > 0})
}

// verifyData is the code page.
type verifyData struct {
	Token   string
	Email   bool   // the code went by email
	To      string // the new contact, masked
	Problem string // message beside the code field
	Locked  bool   // ask for a new code
}

func (s *Service) verifyPage(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, true)
	if !ok {
		return
	}
	s.renderVerify(w, r, l, http.StatusOK, "")
}

func (s *Service) renderVerify(w http.ResponseWriter, r *http.Request, l *link, status int, problemKey string) {
	p, err := s.nextPending(r.Context(), l)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	if p == nil {
		s.pages.Fail(w, r, ErrNoPending)
		return
	}
	vd := verifyData{Token: chi.URLParam(r, "token"), Email: p.Field == register.FieldEmail, Locked: problemKey == "auth.code_locked"}
	if vd.Email {
		vd.To = page.MaskEmail(p.Value)
	} else {
		vd.To = page.MaskMobile(p.Value)
	}
	if problemKey != "" {
		vd.Problem = s.pages.T(s.pages.Lang(w, r), problemKey)
	}
	s.pages.Render(w, r, status, "refresh_verify", vd)
}

func (s *Service) verify(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, true)
	if !ok {
		return
	}
	code := r.PostFormValue("code")
	more, err := s.Verify(r, l, code, s.pages.Lang(w, r))
	if err != nil {
		// A wrong or locked code: the page again, the message beside the
		// field; the new contact is not used.
		if pr, ok := page.ProblemOf(err); ok && pr.Status == http.StatusBadRequest {
			s.renderVerify(w, r, l, http.StatusBadRequest, pr.Msg.Key)
			return
		}
		s.pages.Fail(w, r, err)
		return
	}
	if more {
		http.Redirect(w, r, "/r/"+chi.URLParam(r, "token")+"/verify", http.StatusSeeOther)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "refresh_done", doneData{Token: chi.URLParam(r, "token"), Changed: true})
}

func (s *Service) resend(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, true)
	if !ok {
		return
	}
	if err := s.sendCode(r, l, s.pages.Lang(w, r)); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/r/"+chi.URLParam(r, "token")+"/verify", http.StatusSeeOther)
}
