package issuance

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/db"
)

// MemberFunc returns the signed-in member of a request (from the session;
// internal/auth provides it). The member is never taken from the request
// body or URL, so member A cannot act for member B.
type MemberFunc func(r *http.Request) (memberID int64, ok bool)

// Handler serves issuance over HTTP.
type Handler struct {
	svc    *Service
	member MemberFunc
	log    *slog.Logger
}

// NewHandler returns the HTTP module of issuance.
func NewHandler(svc *Service, member MemberFunc, log *slog.Logger) *Handler {
	return &Handler{svc: svc, member: member, log: log}
}

// Routes registers POST /vote/{election}/authorise and the public counts.
func (h *Handler) Routes(r chi.Router) {
	r.Post("/vote/{election}/authorise", h.authorise)
	r.Get("/issuance/v1/{election}/counts", h.counts)
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
	switch {
	case errors.Is(err, ErrUnknownBallot):
		writeError(w, http.StatusNotFound, "unknown_ballot", message(err))
		return
	case db.Unavailable(err):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "Sorry, try again in a minute.")
		return
	case err != nil:
		h.log.ErrorContext(r.Context(), "counts failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "Sorry, try again in a minute.")
		return
	case !closed:
		writeError(w, http.StatusForbidden, "not_closed", "The counts are published when the ballot closes.")
		return
	}
	out := struct {
		ElectionID string        `json:"election_id"`
		Styles     []styleCounts `json:"styles"`
	}{ElectionID: e}
	for _, c := range cs {
		out.Styles = append(out.Styles, styleCounts{Style: c.Style, Entitled: c.Entitled, Issued: c.Online + c.Replaced, Replaced: c.Replaced, Postal: c.Postal})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_ = json.NewEncoder(w).Encode(out)
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
	memberID, ok := h.member(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "not_signed_in", "Sign in again to vote.")
		return
	}
	body := http.MaxBytesReader(w, r.Body, 4096)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req authoriseRequest
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "The request is too large.")
			return
		}
		writeError(w, http.StatusBadRequest, "malformed", "The request is not valid JSON of the expected shape.")
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "malformed", "Unexpected data after the request.")
		return
	}
	blinded, err := base64.StdEncoding.DecodeString(req.Blinded)
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed", "The blinded message is not base64.")
		return
	}
	a, err := h.svc.Authorise(r.Context(), chi.URLParam(r, "election"), memberID, blinded)
	if err != nil {
		status, code := statusOf(err)
		if db.Unavailable(err) {
			h.log.WarnContext(r.Context(), "authorise failed: database unavailable", "err", err)
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Sorry, we could not do that just now. Please try again in a minute: nothing was lost.")
			return
		}
		if status == http.StatusInternalServerError {
			h.log.ErrorContext(r.Context(), "authorise failed", "err", err)
			writeError(w, status, code, "Sorry, we could not do that just now. Please try again in a minute: nothing was lost.")
			return
		}
		writeError(w, status, code, message(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(authoriseResponse{
		BlindSignature: base64.StdEncoding.EncodeToString(a.BlindSignature),
		Style:          a.Style, StyleIndex: a.StyleIndex, Repeated: a.Repeated,
	})
}

// statusOf is the one mapping of issuance errors to HTTP.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrUnknownBallot):
		return http.StatusNotFound, "unknown_ballot"
	case errors.Is(err, ErrNotEntitled):
		return http.StatusForbidden, "not_entitled"
	case errors.Is(err, ErrNotOpen):
		return http.StatusForbidden, "not_open"
	case errors.Is(err, ErrAlreadyAuthorised):
		return http.StatusConflict, "already_authorised"
	case errors.Is(err, ErrPostalRecorded):
		return http.StatusConflict, "postal_recorded"
	case errors.Is(err, ErrBadBlinded):
		return http.StatusBadRequest, "bad_blinded"
	}
	return http.StatusInternalServerError, "internal"
}

func message(err error) string {
	switch {
	case errors.Is(err, ErrNotOpen):
		return "This ballot is not open for voting."
	case errors.Is(err, ErrAlreadyAuthorised):
		return "You have already been given your authorisation to vote in this ballot. If you lost it before casting your vote, ask the scrutineer for a replacement."
	case errors.Is(err, ErrPostalRecorded):
		return "A postal vote is already recorded for you in this ballot."
	case errors.Is(err, ErrNotEntitled):
		return "You are not on the register of members entitled to vote in this ballot."
	case errors.Is(err, ErrUnknownBallot):
		return "There is no such ballot."
	}
	return "The request was refused."
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}
