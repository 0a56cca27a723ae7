package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/unionvote/eballot/internal/web/page"
)

// Routes registers the module's routes (docs/auth.md lists them).
func (s *Service) Routes(r chi.Router) {
	r.Get(s.jsURL, s.serveJS)
	r.Get("/i/{token}", s.inviteLanding)
	r.Post("/i/{token}", s.inviteSendCode)
	r.Get("/auth/code", s.codePage)
	r.Post("/auth/code", s.codeVerify)
	r.Post("/auth/code/resend", s.codeResend)
	r.Get("/auth/signin", s.signinPage)
	r.Get(packPath, s.packForm)
	r.Post(packPath, s.packSignin)
	r.Post("/auth/passkey/login/begin", s.memberLoginBegin)
	r.Post("/auth/passkey/login/finish", s.memberLoginFinish)
	r.With(RequireMember).Get("/auth/passkey", s.passkeyOffer)
	r.With(RequireMember).Post("/auth/passkey/register/begin", s.memberRegisterBegin)
	r.With(RequireMember).Post("/auth/passkey/register/finish", s.memberRegisterFinish)
	r.Post("/auth/logout", s.logout)
	r.With(RequireMember).Get("/me", s.me)

	r.Get("/staff/signin", s.staffSigninPage)
	r.Post("/staff/passkey/login/begin", s.staffLoginBegin)
	r.Post("/staff/passkey/login/finish", s.staffLoginFinish)
	r.Get("/staff/enrol/{token}", s.enrolLanding)
	r.Post("/staff/enrol/{token}", s.enrolRedeem)
	r.Get("/staff/enrol", s.enrolPage)
	r.Post("/staff/passkey/register/begin", s.staffRegisterBegin)
	r.Post("/staff/passkey/register/finish", s.staffRegisterFinish)
	r.With(RequireStaff()).Get("/staff", s.staffHome)
	r.Get("/staff/recover", s.recoverForm)
	r.Post("/staff/recover", s.recoverStart)
	r.Get("/staff/recover/code", s.recoverCodeForm)
	r.Post("/staff/recover/code", s.recoverCode)
	r.With(RequireStaff()).Get("/staff/recoveries", s.recoveriesList)
	r.With(RequireStaff()).Post("/staff/recoveries/{id}/approve", s.recoveryApprove)
	r.With(RequireStaff()).Post("/staff/recoveries/{id}/deny", s.recoveryDeny)
	s.deliveryRoutes(r)
}

func (s *Service) serveJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(s.js)
}

// ceremonyPage is the data of pages with a passkey button.
type ceremonyPage struct {
	Script, Begin, Finish string
	Error                 string // catalogue key or ""
	Data                  any
}

func (s *Service) sess(r *http.Request) *session {
	if st := state(r.Context()); st != nil {
		return st.sess
	}
	return nil
}

// binding ties a WebAuthn ceremony to this browser.
func (s *Service) binding(r *http.Request) []byte {
	st := state(r.Context())
	switch {
	case st == nil:
		return nil
	case st.sess != nil:
		return sha([]byte("s" + st.sess.raw))
	case st.pre != "":
		return sha([]byte("p" + st.pre))
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) { page.WriteJSON(w, status, "no-store", v) }

// fail answers err, as a page or (asJSON) a JSON problem, with its status
// and message: rate limits "try again in N minutes" (429, Retry-After),
// a provider that sent nothing 503, anything unexpected 500.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error, asJSON bool) {
	if errors.Is(err, ErrRateLimited) {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			s.log.InfoContext(r.Context(), "auth rate limit", "limit", rl.Key)
		}
	}
	if errors.Is(err, ErrCodeNotSent) {
		// The text or email provider is down: nothing was sent, nothing
		// counted; the member tries again in a minute.
		s.log.WarnContext(r.Context(), "sign-in code not sent: provider unavailable", "err", err)
	}
	if asJSON {
		s.pages.FailJSON(w, r, err)
		return
	}
	s.pages.Fail(w, r, err)
}

func (s *Service) ipLimit(name string, r *http.Request, rate Rate) limitKey {
	return limitKey{name: name + ":ip", id: s.ipID(r), rate: rate}
}

func global(name string, rate Rate) limitKey {
	return limitKey{name: name + ":global", id: "", rate: rate}
}

func subjectLimit(name, subject string, rate Rate) limitKey {
	return limitKey{name: name + ":subject", id: subject, rate: rate}
}

// --- invitation and one-time code ---

type invitePage struct {
	Action, Title, Union string
	ClosesAt             time.Time
	HasPasskey           bool
	// EmailHelp, when the code goes by email, says so with the masked
	// address; "" when it goes by text.
	EmailHelp string
}

func (s *Service) resolveForPage(w http.ResponseWriter, r *http.Request) (Invitation, bool) {
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("invite", r, s.limits.InviteIP), global("invite", s.limits.InviteGlobal)); err != nil {
		s.fail(w, r, err, false)
		return Invitation{}, false
	}
	inv, err := s.ResolveInvitation(ctx, chi.URLParam(r, "token"))
	if errors.Is(err, ErrInvalidLink) {
		s.audit(ctx, "invitation_open", "invalid", 0, 0, 0)
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.link_invalid")
		return Invitation{}, false
	}
	if err != nil {
		s.fail(w, r, err, false)
		return Invitation{}, false
	}
	if err := s.allow(ctx, subjectLimit("invite", memberSubject(inv.MemberID), s.limits.InviteMember)); err != nil {
		s.fail(w, r, err, false)
		return Invitation{}, false
	}
	return inv, true
}

func (s *Service) inviteLanding(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.resolveForPage(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p := invitePage{Action: r.URL.Path}
	h, err := s.ballots.Heading(ctx, inv.BallotID)
	if err == nil && h.ClosesAt == nil {
		err = fmt.Errorf("ballot %d has no closing time", inv.BallotID)
	}
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	p.Title, p.Union, p.ClosesAt = h.Title, h.Union, *h.ClosesAt
	has, err := s.HasPasskey(ctx, inv.MemberID)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	p.HasPasskey = has
	lang := s.pages.Lang(w, r)
	d, err := s.memberDest(ctx, inv.BallotID, inv.MemberID, lang)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	if e := d.delivery(false).Email; e != "" {
		p.EmailHelp = strings.ReplaceAll(s.pages.T(lang, "auth.invite_send_help_email"), "{email}", e)
	}
	s.audit(ctx, "invitation_open", "ok", inv.MemberID, 0, inv.BallotID)
	s.pages.Render(w, r, http.StatusOK, "auth_invite", p)
}

// inviteSendCode starts a pending session for the invited member (a new
// session id) and sends a code (a text, or an email to a member without a
// personal mobile).
func (s *Service) inviteSendCode(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.resolveForPage(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("otp_send", r, s.limits.OTPSendIP), global("otp_send", s.limits.OTPSendGlobal)); err != nil {
		s.fail(w, r, err, false)
		return
	}
	// Every limit before the first write: a rate-limited sign-in leaves
	// no pending session behind.
	if err := s.codeQuota(ctx, memberSubject(inv.MemberID)); err != nil {
		s.audit(ctx, "otp_send", outcomeOf(err), inv.MemberID, 0, inv.BallotID)
		s.fail(w, r, err, false)
		return
	}
	if err := s.startSession(ctx, w, r, "pending", inv.MemberID, 0, inv.BallotID, "invitation"); err != nil {
		s.fail(w, r, err, false)
		return
	}
	cd, err := s.SendSigninCode(ctx, inv.BallotID, inv.MemberID, s.pages.Lang(w, r))
	s.audit(ctx, "otp_send", sendOutcome(cd, err), inv.MemberID, 0, inv.BallotID)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	next := "/auth/code"
	if cd.Uncertain {
		next += "?slow=1" // only changes a notice on the page
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// sendOutcome is the audit outcome of a code send: ok[_email],
// uncertain[_email], or the error's.
func sendOutcome(cd CodeDelivery, err error) string {
	if err != nil {
		return outcomeOf(err)
	}
	o := "ok"
	if cd.Uncertain {
		o = "uncertain"
	}
	if cd.Email != "" {
		o += "_email"
	}
	return o
}

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrCodeLocked):
		return "locked"
	case errors.Is(err, ErrInvalidCode):
		return "wrong_code"
	case errors.Is(err, ErrCodeNotSent):
		return "not_sent"
	case errors.Is(err, ErrCloneWarning):
		return "clone_warning"
	case errors.Is(err, ErrPasskey):
		return "failed"
	}
	return "error"
}

type codePage struct {
	Error  string
	Resent bool
	// Uncertain: the last code may take a while (its send is uncertain).
	Uncertain bool
	// EmailSent, when the code goes by email, says so with the masked
	// address; "" when it goes by text.
	EmailSent string
}

func (s *Service) pending(w http.ResponseWriter, r *http.Request) *session {
	se := s.sess(r)
	if se == nil || se.kind != "pending" {
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.expired")
		return nil
	}
	return se
}

// renderCode renders the code page for the pending session se; cd, if
// not nil, is the answer of a send just made.
func (s *Service) renderCode(w http.ResponseWriter, r *http.Request, status int, se *session, p codePage, cd *CodeDelivery) {
	lang := s.pages.Lang(w, r)
	var email string
	if cd != nil {
		email = cd.Email
	} else {
		d, err := s.memberDest(r.Context(), se.ballotID, se.memberID, lang)
		if err != nil {
			s.fail(w, r, err, false)
			return
		}
		email = d.delivery(false).Email
	}
	if email != "" {
		p.EmailSent = strings.ReplaceAll(s.pages.T(lang, "auth.code_sent_email"), "{email}", email)
	}
	s.pages.Render(w, r, status, "auth_code", p)
}

func (s *Service) codePage(w http.ResponseWriter, r *http.Request) {
	se := s.pending(w, r)
	if se == nil {
		return
	}
	s.renderCode(w, r, http.StatusOK, se, codePage{Uncertain: r.URL.Query().Get("slow") == "1"}, nil)
}

func (s *Service) codeResend(w http.ResponseWriter, r *http.Request) {
	se := s.pending(w, r)
	if se == nil {
		return
	}
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("otp_send", r, s.limits.OTPSendIP), global("otp_send", s.limits.OTPSendGlobal)); err != nil {
		s.fail(w, r, err, false)
		return
	}
	cd, err := s.SendSigninCode(ctx, se.ballotID, se.memberID, s.pages.Lang(w, r))
	s.audit(ctx, "otp_send", sendOutcome(cd, err), se.memberID, 0, se.ballotID)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.renderCode(w, r, http.StatusOK, se, codePage{Resent: !cd.Uncertain, Uncertain: cd.Uncertain}, &cd)
}

func (s *Service) codeVerify(w http.ResponseWriter, r *http.Request) {
	se := s.pending(w, r)
	if se == nil {
		return
	}
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("otp_verify", r, s.limits.OTPVerifyIP), global("otp_verify", s.limits.OTPVerifyGlobal),
		subjectLimit("otp_verify", memberSubject(se.memberID), s.limits.OTPVerifyMember)); err != nil {
		s.audit(ctx, "otp_verify", "rate_limited", se.memberID, 0, se.ballotID)
		s.fail(w, r, err, false)
		return
	}
	channel, err := s.verifyCodeChannel(ctx, memberSubject(se.memberID), "signin", r.PostFormValue("code"))
	s.audit(ctx, "otp_verify", outcomeOf(err), se.memberID, 0, se.ballotID)
	switch {
	case errors.Is(err, ErrCodeLocked):
		s.renderCode(w, r, http.StatusBadRequest, se, codePage{Error: "auth.code_locked"}, nil)
		return
	case errors.Is(err, ErrInvalidCode):
		s.renderCode(w, r, http.StatusBadRequest, se, codePage{Error: "auth.code_wrong"}, nil)
		return
	case err != nil:
		s.fail(w, r, err, false)
		return
	}
	memberID, ballotID := se.memberID, se.ballotID
	if err := s.startSession(ctx, w, r, "member", memberID, 0, ballotID, channel); err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.audit(ctx, "signin", "ok_"+channel, memberID, 0, ballotID)
	next := "/auth/passkey"
	if has, err := s.HasPasskey(ctx, memberID); err == nil && has {
		next = "/me"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// --- member passkeys ---

// signinPage is the passkey sign-in; ?next= (a voting paper only, see
// returnPath) is where the member goes back to once signed in.
func (s *Service) signinPage(w http.ResponseWriter, r *http.Request) {
	finish := "/auth/passkey/login/finish"
	if next := returnPath(r.URL.Query().Get("next")); next != "" {
		finish += "?next=" + url.QueryEscape(next)
	}
	s.pages.Render(w, r, http.StatusOK, "auth_signin", ceremonyPage{Script: s.jsURL, Begin: "/auth/passkey/login/begin", Finish: finish})
}

// passkeyOffer offers a passkey; "not now" leads to the voting paper when
// the member has exactly one open ballot, else to /me (which lists them).
func (s *Service) passkeyOffer(w http.ResponseWriter, r *http.Request) {
	id, _ := Member(r.Context())
	ballots, err := s.MemberBallots(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_passkey", ceremonyPage{Script: s.jsURL, Begin: "/auth/passkey/register/begin", Finish: "/auth/passkey/register/finish",
		Data: onlyOpen(ballots)})
}

// onlyOpen is the election id of the member's one open ballot, or "".
func onlyOpen(ballots []MemberBallot) string {
	open := ""
	for _, b := range ballots {
		if b.Status == "open" {
			if open != "" {
				return ""
			}
			open = b.ElectionID
		}
	}
	return open
}

func (s *Service) passkeyLimits(r *http.Request, name string) []limitKey {
	return []limitKey{s.ipLimit(name, r, s.limits.PasskeyIP), global(name, s.limits.PasskeyGlobal)}
}

func (s *Service) memberRegisterBegin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, _ := Member(ctx)
	if err := s.allow(ctx, append(s.passkeyLimits(r, "passkey_register"), subjectLimit("passkey", memberSubject(id), s.limits.PasskeySubject))...); err != nil {
		s.fail(w, r, err, true)
		return
	}
	creation, err := s.beginRegistration(ctx, s.binding(r), "member_register", memberSubject(id))
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, creation)
}

func (s *Service) memberRegisterFinish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, _ := Member(ctx)
	if err := s.allow(ctx, append(s.passkeyLimits(r, "passkey_register"), subjectLimit("passkey", memberSubject(id), s.limits.PasskeySubject))...); err != nil {
		s.fail(w, r, err, true)
		return
	}
	err := s.finishRegistration(ctx, s.binding(r), "member_register", memberSubject(id), r.Body)
	s.audit(ctx, "passkey_register", outcomeOf(err), id, 0, 0)
	if errors.Is(err, ErrPasskey) {
		s.log.InfoContext(ctx, "passkey registration refused", "err", err)
		s.fail(w, r, err, true)
		return
	}
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/me"})
}

func (s *Service) memberLoginBegin(w http.ResponseWriter, r *http.Request) {
	s.loginBegin(w, r, "member_login", "passkey_login")
}

func (s *Service) staffLoginBegin(w http.ResponseWriter, r *http.Request) {
	s.loginBegin(w, r, "staff_login", "staff_login")
}

func (s *Service) loginBegin(w http.ResponseWriter, r *http.Request, purpose, limit string) {
	ctx := r.Context()
	keys := s.passkeyLimits(r, limit)
	if purpose == "staff_login" {
		keys = []limitKey{s.ipLimit(limit, r, s.limits.StaffIP), global(limit, s.limits.StaffGlobal)}
	}
	if err := s.allow(ctx, keys...); err != nil {
		s.fail(w, r, err, true)
		return
	}
	assertion, err := s.beginLogin(ctx, s.binding(r), purpose)
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, assertion)
}

func (s *Service) memberLoginFinish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.allow(ctx, s.passkeyLimits(r, "passkey_login")...); err != nil {
		s.fail(w, r, err, true)
		return
	}
	subject, err := s.finishLogin(ctx, s.binding(r), "member_login", "m", r.Body)
	memberID := subjectID(subject)
	if subject != "" {
		if lerr := s.allow(ctx, subjectLimit("passkey", subject, s.limits.PasskeySubject)); lerr != nil {
			s.audit(ctx, "passkey_login", "rate_limited", memberID, 0, 0)
			s.fail(w, r, lerr, true)
			return
		}
	}
	s.audit(ctx, "passkey_login", outcomeOf(err), memberID, 0, 0)
	if s.ceremonyRefused(w, r, err) {
		return
	}
	if err := s.startSession(ctx, w, r, "member", memberID, 0, 0, "passkey"); err != nil {
		s.fail(w, r, err, true)
		return
	}
	next := "/me"
	if p := returnPath(r.URL.Query().Get("next")); p != "" {
		next = p
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

// ceremonyRefused answers a failed ceremony (true) or does nothing.
func (s *Service) ceremonyRefused(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrCloneWarning):
		s.log.WarnContext(r.Context(), "passkey counter regression: sign-in refused")
		s.fail(w, r, err, true)
	case errors.Is(err, ErrPasskey):
		s.log.InfoContext(r.Context(), "passkey sign-in refused", "err", err)
		s.fail(w, r, err, true)
	default:
		s.fail(w, r, err, true)
	}
	return true
}

func subjectID(subject string) int64 {
	if len(subject) < 2 {
		return 0
	}
	id, _ := strconv.ParseInt(subject[1:], 10, 64)
	return id
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if se := s.sess(r); se != nil {
		s.audit(ctx, "logout", "ok", se.memberID, se.staffID, 0)
	}
	if err := s.endSession(ctx, w, r); err != nil {
		s.fail(w, r, err, false)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// MemberBallot is one ballot on the member's register, for /me.
type MemberBallot struct {
	ID                   int64
	ElectionID           string
	Title, Union, Status string
	ClosesAt             *time.Time
}

type mePage struct {
	Name       string
	Ballots    []MemberBallot
	HasPasskey bool
}

// MemberBallots lists the ballots whose register holds the member.
func (s *Service) MemberBallots(ctx context.Context, memberID int64) ([]MemberBallot, error) {
	ids, err := s.reg.BallotsOf(ctx, memberID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	hs, err := s.ballots.Headings(ctx, nil, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MemberBallot, len(hs))
	for i, h := range hs {
		out[i] = MemberBallot{ID: h.ID, ElectionID: h.ElectionID, Title: h.Title, Union: h.Union, Status: h.Status, ClosesAt: h.ClosesAt}
	}
	return out, nil
}

func (s *Service) me(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, _ := Member(ctx)
	var p mePage
	m, err := s.reg.Details(ctx, id)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	p.Name = m.Name
	if p.Ballots, err = s.MemberBallots(ctx, id); err != nil {
		s.fail(w, r, err, false)
		return
	}
	if p.HasPasskey, err = s.HasPasskey(ctx, id); err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_me", p)
}

// --- staff ---

func (s *Service) staffSigninPage(w http.ResponseWriter, r *http.Request) {
	s.pages.Render(w, r, http.StatusOK, "auth_staff_signin", ceremonyPage{Script: s.jsURL, Begin: "/staff/passkey/login/begin", Finish: "/staff/passkey/login/finish"})
}

func (s *Service) staffLoginFinish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("staff_login", r, s.limits.StaffIP), global("staff_login", s.limits.StaffGlobal)); err != nil {
		s.fail(w, r, err, true)
		return
	}
	subject, err := s.finishLogin(ctx, s.binding(r), "staff_login", "s", r.Body)
	staffID := subjectID(subject)
	if subject != "" {
		if lerr := s.allow(ctx, subjectLimit("staff_login", subject, s.limits.StaffAccount)); lerr != nil {
			s.audit(ctx, "staff_login", "rate_limited", 0, staffID, 0)
			s.fail(w, r, lerr, true)
			return
		}
	}
	s.audit(ctx, "staff_login", outcomeOf(err), 0, staffID, 0)
	if s.ceremonyRefused(w, r, err) {
		return
	}
	if err := s.startSession(ctx, w, r, "staff", 0, staffID, 0, "passkey"); err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/staff"})
}

func (s *Service) enrolLanding(w http.ResponseWriter, r *http.Request) {
	if !validToken(chi.URLParam(r, "token")) {
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.link_invalid")
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_staff_enrol", ceremonyPage{Data: r.URL.Path})
}

func (s *Service) enrolRedeem(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("staff_login", r, s.limits.StaffIP), global("staff_login", s.limits.StaffGlobal)); err != nil {
		s.fail(w, r, err, false)
		return
	}
	id, err := s.redeemEnrolment(ctx, chi.URLParam(r, "token"))
	if errors.Is(err, ErrInvalidLink) {
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.link_invalid")
		return
	}
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	if err := s.startSession(ctx, w, r, "staff_enrol", 0, id, 0, "enrolment"); err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.audit(ctx, "staff_enrol", "link_used", 0, id, 0)
	http.Redirect(w, r, "/staff/enrol", http.StatusSeeOther)
}

func (s *Service) enrolSession(r *http.Request) (int64, bool) {
	se := s.sess(r)
	if se == nil || se.kind != "staff_enrol" {
		return 0, false
	}
	return se.staffID, true
}

func (s *Service) enrolPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.enrolSession(r); !ok {
		s.pages.RenderError(w, r, http.StatusNotFound, "auth.expired")
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_staff_enrol", ceremonyPage{Script: s.jsURL, Begin: "/staff/passkey/register/begin", Finish: "/staff/passkey/register/finish"})
}

func (s *Service) staffRegisterBegin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := s.enrolSession(r)
	if !ok {
		s.fail(w, r, errSessionExpired, true)
		return
	}
	if err := s.allow(ctx, s.ipLimit("staff_login", r, s.limits.StaffIP), global("staff_login", s.limits.StaffGlobal)); err != nil {
		s.fail(w, r, err, true)
		return
	}
	creation, err := s.beginRegistration(ctx, s.binding(r), "staff_register", staffSubject(id))
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, creation)
}

func (s *Service) staffRegisterFinish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := s.enrolSession(r)
	if !ok {
		s.fail(w, r, errSessionExpired, true)
		return
	}
	if err := s.allow(ctx, s.ipLimit("staff_login", r, s.limits.StaffIP), global("staff_login", s.limits.StaffGlobal)); err != nil {
		s.fail(w, r, err, true)
		return
	}
	err := s.finishRegistration(ctx, s.binding(r), "staff_register", staffSubject(id), r.Body)
	s.audit(ctx, "staff_passkey_register", outcomeOf(err), 0, id, 0)
	if s.ceremonyRefused(w, r, err) {
		return
	}
	// The enrolment session ends: the staff member now signs in with the
	// new passkey (user verification), never on the strength of the link.
	if err := s.endSession(ctx, w, r); err != nil {
		s.fail(w, r, err, true)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/staff/signin"})
}

// staffHomePage is the data of auth_staff_home.
type staffHomePage struct {
	StaffIdentity
	Recoveries int // open recovery requests this staff member may decide
}

func (s *Service) staffHome(w http.ResponseWriter, r *http.Request) {
	st, _ := Staff(r.Context())
	list, err := s.PendingStaffRecoveries(r.Context(), st)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "auth_staff_home", staffHomePage{StaffIdentity: st, Recoveries: len(list)})
}
