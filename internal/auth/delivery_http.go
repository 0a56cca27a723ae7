package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Invitation delivery pages (delivery.go, docs/auth.md "Invitation
// delivery"): /scrutineer/ballots/{id}/invitations shows the totals and
// the members needing action, with "send again"; the organiser's
// /organiser/ballots/{id}/invitations shows the totals only (never who).

// deliveryRoutes registers the pages (called from Routes).
func (s *Service) deliveryRoutes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/invitations", s.deliveryPage(RoleScrutineer))
	r.Post("/scrutineer/ballots/{id}/invitations/{member}/resend", s.deliveryResend)
	r.Get("/organiser/ballots/{id}/invitations", s.deliveryPage(RoleOrganiser))
}

// deliveryData is the data of auth_staff_invitations.
type deliveryData struct {
	Role     Role
	B        ballotHeader
	Open     bool
	Totals   DeliveryTotals
	Problems []DeliveryProblem // scrutineer only
	Notice   string
	Error    string
}

// deliveryBallot answers with the staff member (of role) and the ballot of
// the URL, or false once the answer is written: sign-in for no staff
// session, 403 for another role, 404 for an unknown ballot or another
// union's (organisers).
func (s *Service) deliveryBallot(w http.ResponseWriter, r *http.Request, role Role) (StaffIdentity, ballotHeader, bool) {
	st, ok := Staff(r.Context())
	if !ok {
		deny(w, r, http.StatusUnauthorized, "/staff/signin")
		return st, ballotHeader{}, false
	}
	if st.Role != role {
		s.pages.RenderError(w, r, http.StatusForbidden, "auth.inv_forbidden")
		return st, ballotHeader{}, false
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return st, ballotHeader{}, false
	}
	b, err := s.ballotHeader(r.Context(), id)
	if errors.Is(err, ErrInvalidLink) || (err == nil && st.Role == RoleOrganiser && b.UnionID != st.UnionID) {
		s.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return st, ballotHeader{}, false
	}
	if err != nil {
		s.fail(w, r, err, false)
		return st, ballotHeader{}, false
	}
	return st, b, true
}

func (s *Service) deliveryPage(role Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, b, ok := s.deliveryBallot(w, r, role)
		if !ok {
			return
		}
		d := deliveryData{Role: role, B: b}
		q := r.URL.Query()
		if role == RoleScrutineer {
			ch, outcome := q.Get("channel"), q.Get("resent")
			mid, _ := strconv.ParseInt(q.Get("member"), 10, 64)
			if (ch == channelSMS || ch == channelEmail) && (outcome == DeliverySent || outcome == DeliveryFailed || outcome == DeliveryUncertain) && mid > 0 {
				if num, err := s.registerNumber(r, b.ID, mid); err == nil && num != "" {
					d.Notice = strings.ReplaceAll(s.pages.T(s.pages.Lang(w, r), "auth.inv_resent_"+outcome+"_"+ch), "{number}", num)
				}
			}
		}
		s.showDelivery(w, r, http.StatusOK, d)
	}
}

func (s *Service) showDelivery(w http.ResponseWriter, r *http.Request, status int, d deliveryData) {
	rep, err := s.InvitationDelivery(r.Context(), d.B.ID, d.Role == RoleScrutineer)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	d.Totals, d.Problems, d.Open = rep.Totals, rep.Problems, d.B.open(s.now())
	w.Header().Set("Cache-Control", "no-store")
	s.pages.Render(w, r, status, "auth_staff_invitations", d)
}

// registerNumber is the membership number of a member on the ballot's
// register ("" if not on it).
func (s *Service) registerNumber(r *http.Request, ballotID, memberID int64) (string, error) {
	n, err := s.reg.NumberOn(r.Context(), ballotID, memberID)
	if errors.Is(err, register.ErrNotOnRegister) {
		return "", nil
	}
	return n, err
}

// deliveryResend is the scrutineer's "send again" for one member on one
// channel (form field channel: sms or email).
func (s *Service) deliveryResend(w http.ResponseWriter, r *http.Request) {
	st, b, ok := s.deliveryBallot(w, r, RoleScrutineer)
	if !ok {
		return
	}
	ctx := r.Context()
	if err := s.allow(ctx, s.ipLimit("invite_resend", r, s.limits.StaffIP), global("invite_resend", s.limits.StaffGlobal),
		subjectLimit("invite_resend_staff", staffSubject(st.ID), s.limits.InviteResendStaff)); err != nil {
		s.fail(w, r, err, false)
		return
	}
	memberID, err := strconv.ParseInt(chi.URLParam(r, "member"), 10, 64)
	if err != nil || memberID <= 0 {
		s.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	num, err := s.registerNumber(r, b.ID, memberID)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	if num == "" {
		s.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	channel := r.PostFormValue("channel")
	if channel != channelSMS && channel != channelEmail {
		s.showDelivery(w, r, http.StatusUnprocessableEntity, deliveryData{Role: RoleScrutineer, B: b,
			Error: s.pages.T(s.pages.Lang(w, r), "auth.inv_err_channel")})
		return
	}
	outcome, err := s.ResendInvitation(ctx, st, b.ID, memberID, channel)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/invitations?resent=%s&channel=%s&member=%d", b.ID, outcome, channel, memberID),
			http.StatusSeeOther)
		return
	}
	lang := s.pages.Lang(w, r)
	msg := func(key string) string {
		return strings.NewReplacer("{number}", num, "{channel}", s.pages.T(lang, "auth.inv_channel_lc_"+channel)).Replace(s.pages.T(lang, key))
	}
	// The refusals of a resend are shown on the delivery page, with the
	// member's number and the channel in the message.
	if errors.Is(err, ErrInvalidLink) { // not on the register
		s.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	pr, ok := page.Refused(err)
	if !ok {
		s.fail(w, r, err, false)
		return
	}
	text := msg(pr.Msg.Key)
	var re *ResendError
	if errors.As(err, &re) {
		page.SetRetryAfter(w, pr.RetryAfter)
		text = replaceN(text, (page.RetrySeconds(pr.RetryAfter)+59)/60)
	}
	s.showDelivery(w, r, pr.Status, deliveryData{Role: RoleScrutineer, B: b, Error: text})
}

// replaceN puts n in place of "{n}" in msg.
func replaceN(msg string, n int) string { return strings.ReplaceAll(msg, "{n}", strconv.Itoa(n)) }
