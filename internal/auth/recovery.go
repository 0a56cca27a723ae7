package auth

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Staff account recovery pages (docs/auth.md, Staff). A staff member who
// lost their passkey enters their mobile number at /staff/recover; if it
// is the number of exactly one active staff account a code is texted to
// it, and the pages look the same whether or not it is. With the code,
// a recovery request is opened; another staff member of the right role
// approves or refuses it at /staff/recoveries; on approval the requester
// is texted a one-time enrolment link (never shown to the approver: two
// people are needed) to add a new passkey at /staff/enrol/{token}.

// recoverPage is the data of auth_staff_recover.
type recoverPage struct {
	Step  string // "mobile" or "code"
	Error string // catalogue key or ""
}

// messagePage is the data of auth_message: a title and a paragraph.
type messagePage struct {
	Title, Text    string // catalogue keys
	Name           string // substituted for {name} in Text
	Link, LinkText string
}

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// normaliseMobile turns what a person types ("07700 900500",
// "+44 (0)7700-900500", "0044…") into E.164 (GB by default), or "".
func normaliseMobile(in string) string {
	if len(in) > 40 {
		return ""
	}
	in = strings.ReplaceAll(in, "(0)", "")
	m := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.', '\t':
			return -1
		}
		return r
	}, in)
	switch {
	case strings.HasPrefix(m, "00"):
		m = "+" + m[2:]
	case strings.HasPrefix(m, "0"):
		m = "+44" + m[1:]
	}
	if !e164RE.MatchString(m) {
		return ""
	}
	return m
}

func (s *Service) recoverForm(w http.ResponseWriter, r *http.Request) {
	s.pages.Render(w, r, http.StatusOK, "auth_staff_recover", recoverPage{Step: "mobile"})
}

// recoverStart answers the same whatever the number: a new
// staff_recovery session (bound to the account, if exactly one has this
// mobile) and a redirect to the code page.
func (s *Service) recoverStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	mobile := normaliseMobile(r.PostFormValue("mobile"))
	if mobile == "" {
		s.pages.Render(w, r, http.StatusBadRequest, "auth_staff_recover", recoverPage{Step: "mobile", Error: "auth.recover_mobile_invalid"})
		return
	}
	// The per-number limit applies to every number, a staff member's or
	// not, so hitting it says nothing about the account.
	if err := s.allow(ctx, s.ipLimit("staff_recovery", r, s.limits.RecoveryIP), global("staff_recovery", s.limits.RecoveryGlobal),
		limitKey{name: "staff_recovery:mobile", id: s.keyedID(mobile), rate: s.limits.RecoveryMobile}); err != nil {
		s.fail(w, r, err, false)
		return
	}
	staffID, err := s.staffByMobile(ctx, mobile)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	if err := s.startSession(ctx, w, r, "staff_recovery", 0, staffID, 0, "recovery"); err != nil {
		s.fail(w, r, err, false)
		return
	}
	if staffID != 0 {
		if err := s.StartStaffRecovery(ctx, staffID); err != nil {
			s.fail(w, r, err, false)
			return
		}
	}
	http.Redirect(w, r, "/staff/recover/code", http.StatusSeeOther)
}

func (s *Service) recoverySession(w http.ResponseWriter, r *http.Request) *session {
	se := s.sess(r)
	if se == nil || se.kind != "staff_recovery" {
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.recover_expired")
		return nil
	}
	return se
}

func (s *Service) recoverCodeForm(w http.ResponseWriter, r *http.Request) {
	if s.recoverySession(w, r) == nil {
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_staff_recover", recoverPage{Step: "code"})
}

func (s *Service) recoverCode(w http.ResponseWriter, r *http.Request) {
	se := s.recoverySession(w, r)
	if se == nil {
		return
	}
	ctx := r.Context()
	keys := []limitKey{s.ipLimit("staff_recovery_verify", r, s.limits.OTPVerifyIP), global("staff_recovery_verify", s.limits.OTPVerifyGlobal),
		subjectLimit("staff_recovery_verify", "b"+s.keyedID(se.raw), s.limits.OTPVerifyMember)}
	if se.staffID != 0 {
		keys = append(keys, subjectLimit("staff_recovery_verify", staffSubject(se.staffID), s.limits.OTPVerifyMember))
	}
	if err := s.allow(ctx, keys...); err != nil {
		s.fail(w, r, err, false)
		return
	}
	var err error
	if se.staffID != 0 {
		_, err = s.ConfirmStaffRecovery(ctx, se.staffID, r.PostFormValue("code"))
	} else {
		// No account: wrong, and locked after as many tries as a real code.
		err = ErrInvalidCode
		if lerr := s.allow(ctx, limitKey{name: "staff_recovery_none", id: s.keyedID(se.raw), rate: Rate{codeMaxAttempts - 1, pendingAbs}}); errors.Is(lerr, ErrRateLimited) {
			err = ErrCodeLocked
		} else if lerr != nil {
			err = lerr
		}
	}
	switch {
	case errors.Is(err, ErrCodeLocked):
		s.pages.Render(w, r, http.StatusBadRequest, "auth_staff_recover", recoverPage{Step: "code", Error: "auth.recover_code_locked"})
		return
	case errors.Is(err, ErrInvalidCode):
		s.pages.Render(w, r, http.StatusBadRequest, "auth_staff_recover", recoverPage{Step: "code", Error: "auth.code_wrong"})
		return
	case err != nil:
		s.fail(w, r, err, false)
		return
	}
	if err := s.endSession(ctx, w, r); err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_message", messagePage{Title: "auth.recover_requested_title", Text: "auth.recover_requested_text"})
}

// recoveriesPage is the data of auth_staff_recoveries.
type recoveriesPage struct {
	Requests []StaffRecovery
}

func (s *Service) recoveriesList(w http.ResponseWriter, r *http.Request) {
	st, _ := Staff(r.Context())
	list, err := s.PendingStaffRecoveries(r.Context(), st)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_staff_recoveries", recoveriesPage{Requests: list})
}

func (s *Service) recoveryApprove(w http.ResponseWriter, r *http.Request) {
	s.recoveryDecide(w, r, true)
}
func (s *Service) recoveryDeny(w http.ResponseWriter, r *http.Request) { s.recoveryDecide(w, r, false) }

func (s *Service) recoveryDecide(w http.ResponseWriter, r *http.Request, approve bool) {
	ctx := r.Context()
	st, _ := Staff(ctx)
	if err := s.allow(ctx, s.ipLimit("staff_recovery_decide", r, s.limits.StaffIP), global("staff_recovery_decide", s.limits.StaffGlobal),
		subjectLimit("staff_recovery_decide", staffSubject(st.ID), s.limits.RecoveryDecide)); err != nil {
		s.fail(w, r, err, false)
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.recover_gone")
		return
	}
	// The requester's name for the answer, from the list this approver may
	// see (nothing about other unions' staff leaks through the id).
	var name string
	if list, err := s.PendingStaffRecoveries(ctx, st); err == nil {
		for _, x := range list {
			if x.ID == id {
				name = x.Staff.Name
			}
		}
	}
	if approve {
		_, err = s.ApproveStaffRecovery(ctx, id, st) // the link is texted to the requester, never shown here
	} else {
		err = s.DenyStaffRecovery(ctx, id, st)
	}
	switch {
	case errors.Is(err, ErrNotAllowed):
		s.pages.RenderError(w, r, http.StatusForbidden, "auth.recover_not_allowed")
		return
	case errors.Is(err, ErrInvalidLink):
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.recover_gone")
		return
	case err != nil:
		s.fail(w, r, err, false)
		return
	}
	p := messagePage{Title: "auth.recover_approved_title", Text: "auth.recover_approved_text", Name: name,
		Link: "/staff/recoveries", LinkText: "auth.recover_back"}
	if !approve {
		p.Title, p.Text = "auth.recover_denied_title", "auth.recover_denied_text"
	}
	s.pages.Render(w, r, http.StatusOK, "auth_message", p)
}
