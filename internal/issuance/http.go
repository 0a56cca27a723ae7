package issuance

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/web/page"
)

// Refusals of the member's requests before the service is asked.
var (
	errNotSignedIn = page.NewError("issuance: not signed in", http.StatusUnauthorized, "not_signed_in", "issue.api.not_signed_in")
	errTooLarge    = page.NewError("issuance: request too large", http.StatusRequestEntityTooLarge, "too_large", "issue.api.too_large")
	errMalformed   = page.NewError("issuance: malformed request", http.StatusBadRequest, "malformed", "issue.api.malformed")
	errTrailing    = page.NewError("issuance: data after the request", http.StatusBadRequest, "malformed", "issue.api.trailing")
	errNotBase64   = page.NewError("issuance: blinded message not base64", http.StatusBadRequest, "malformed", "issue.api.not_base64")
	errNotClosed   = page.NewError("issuance: counts before the close", http.StatusForbidden, "not_closed", "issue.api.not_closed")
	// errUnknownElection: the public counts of an election id no ballot
	// has, with the code the ledger's endpoints give (docs/board-api.yaml).
	errUnknownElection = page.NewError("issuance: counts of an unknown election", http.StatusNotFound, "unknown_election", "issue.api.unknown_ballot")
)

// JSONRenderer is what the member's API needs of internal/web/page's
// Pages: the one error answer, as JSON in the member's language.
type JSONRenderer interface {
	FailJSON(w http.ResponseWriter, r *http.Request, err error)
}

// MemberFunc returns the signed-in member of a request (from the session;
// internal/auth provides it). The member is never taken from the request
// body or URL, so member A cannot act for member B.
type MemberFunc func(r *http.Request) (memberID int64, ok bool)

// Handler serves issuance over HTTP.
type Handler struct {
	svc    *Service
	member MemberFunc
	pages  JSONRenderer
}

// NewHandler returns the HTTP module of issuance; its messages are in the
// catalogue [RegisterStaffPages] adds.
func NewHandler(svc *Service, member MemberFunc, pages JSONRenderer) *Handler {
	return &Handler{svc: svc, member: member, pages: pages}
}

// Routes registers POST /vote/{election}/authorise (the member's session
// and CSRF rules apply: register it with the session middleware).
func (h *Handler) Routes(r chi.Router) {
	r.Post("/vote/{election}/authorise", h.authorise)
}

// PublicCounts is the module of the public counts (docs/board-api.yaml):
// no session, and its errors, 405 included, are the APIs' JSON problem.
// Register it beside the ledger's board, outside the session middleware.
type PublicCounts struct{ h *Handler }

// Counts returns the public counts module of h.
func (h *Handler) Counts() PublicCounts { return PublicCounts{h} }

// Routes registers GET /issuance/v1/{election}/counts.
func (m PublicCounts) Routes(r chi.Router) {
	r.Route("/issuance/v1/{election}", func(r chi.Router) {
		r.Get("/counts", m.h.counts)
		page.JSONMethodNotAllowed(r)
	})
}

// styleCounts is one ballot style's line of the public counts.
type styleCounts struct {
	Style    string `json:"style"`
	Entitled int    `json:"entitled"`
	Issued   int    `json:"issued"`   // online authorisations, replaced ones included
	Replaced int    `json:"replaced"` // of which replaced after an approved request
	Postal   int    `json:"postal"`   // postal votes recorded (not in the ledger)
}

// counts publishes, once the ballot is closed, the marked register's totals
// per ballot style in manifest order: what the scrutineer checks as
// "ballots ≤ authorisations issued ≤ entitled" (protocol §8;
// `scrutineer verify --issued`). Counts only, never who.
func (h *Handler) counts(w http.ResponseWriter, r *http.Request) {
	e := chi.URLParam(r, "election")
	cs, closed, err := h.svc.PublicCounts(r.Context(), e)
	if err == nil && !closed {
		err = errNotClosed
	}
	if errors.Is(err, ErrUnknownBallot) {
		err = errUnknownElection
	}
	if err != nil {
		h.pages.FailJSON(w, r, err)
		return
	}
	out := struct {
		ElectionID string        `json:"election_id"`
		Styles     []styleCounts `json:"styles"`
	}{ElectionID: e}
	for _, c := range cs {
		out.Styles = append(out.Styles, styleCounts{Style: c.Style, Entitled: c.Entitled, Issued: c.Online + c.Replaced, Replaced: c.Replaced, Postal: c.Postal})
	}
	page.WriteJSON(w, http.StatusOK, "no-cache", out)
}

type authoriseRequest struct {
	Blinded string `json:"blinded"` // base64 (std) of the 256-byte blinded message
}

type authoriseResponse struct {
	BlindSignature string `json:"blind_signature"`
	Style          string `json:"style"`
	StyleIndex     int    `json:"style_index"`
	Repeated       bool   `json:"repeated"`
}

func (h *Handler) authorise(w http.ResponseWriter, r *http.Request) {
	a, err := h.authorisation(w, r)
	if err != nil {
		h.pages.FailJSON(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, "no-store", authoriseResponse{
		BlindSignature: base64.StdEncoding.EncodeToString(a.BlindSignature),
		Style:          a.Style, StyleIndex: a.StyleIndex, Repeated: a.Repeated,
	})
}

// authorisation reads the request and asks the service for the signed-in
// member's authorisation.
func (h *Handler) authorisation(w http.ResponseWriter, r *http.Request) (*Authorisation, error) {
	memberID, ok := h.member(r)
	if !ok {
		return nil, errNotSignedIn
	}
	body := http.MaxBytesReader(w, r.Body, 4096)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req authoriseRequest
	if err := dec.Decode(&req); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailing
	}
	blinded, err := base64.StdEncoding.DecodeString(req.Blinded)
	if err != nil {
		return nil, errNotBase64
	}
	return h.svc.Authorise(r.Context(), chi.URLParam(r, "election"), memberID, blinded)
}
