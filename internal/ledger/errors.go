package ledger

import (
	"cmp"
	"errors"
	"net/http"
	"time"

	"github.com/unionvote/eballot/internal/web/page"
)

// Error is a refusal with a stable machine-readable code. The public board
// answers it as {"error": Code, "message": …} with HTTP status Status.
// Compare with errors.Is against the sentinels below: two *Error values
// match when their codes are equal, whatever the detail.
type Error struct {
	Code   string
	Status int
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "ledger: " + e.Code
	}
	return "ledger: " + e.Code + ": " + e.Detail
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels. Each maps to the HTTP status in its Status field.
var (
	// ErrMalformed (400): the request or the ballot does not decode against
	// the manifest (wrong lengths, counts, encodings, version, hash).
	ErrMalformed = &Error{Code: "malformed", Status: http.StatusBadRequest}
	// ErrTooLarge (413): the body or the ballot is over the size bound.
	ErrTooLarge = &Error{Code: "too_large", Status: http.StatusRequestEntityTooLarge}
	// ErrBadSignature (400): the authorisation does not verify on T under the
	// style's issuer key.
	ErrBadSignature = &Error{Code: "bad_signature", Status: http.StatusBadRequest}
	// ErrBadProof (400): a range proof of the ballot does not verify.
	ErrBadProof = &Error{Code: "bad_proof", Status: http.StatusBadRequest}
	// ErrDuplicateTracker (409): T is already in the ledger with another
	// authorisation.
	ErrDuplicateTracker = &Error{Code: "duplicate_tracker", Status: http.StatusConflict}
	// ErrDuplicateAlpha (409): a ciphertext α of the ballot is already in the
	// ledger (a copied or replayed ciphertext).
	ErrDuplicateAlpha = &Error{Code: "duplicate_alpha", Status: http.StatusConflict}
	// ErrNotOpen (403): the election is not open (before its window, after
	// it, or closed).
	ErrNotOpen = &Error{Code: "election_not_open", Status: http.StatusForbidden}
	// ErrUnknownElection (404): no such election in the ledger.
	ErrUnknownElection = &Error{Code: "unknown_election", Status: http.StatusNotFound}
	// ErrNotFound (404): no such entry, checkpoint or tracker.
	ErrNotFound = &Error{Code: "not_found", Status: http.StatusNotFound}
	// ErrBadRequest (400): a bad query parameter on the board.
	ErrBadRequest = &Error{Code: "bad_request", Status: http.StatusBadRequest}
	// ErrUnavailable (503, with Retry-After): the database is unavailable or
	// the ledger is stopping. A cast that got this answer MAY have been
	// appended: submitting it again is safe and returns its receipt.
	ErrUnavailable = &Error{Code: "unavailable", Status: http.StatusServiceUnavailable}
	// ErrManifestImmutable (409): Open was called with a different manifest
	// for an election already opened.
	ErrManifestImmutable = &Error{Code: "manifest_immutable", Status: http.StatusConflict}
	// ErrNoKey (409): Open was called before NewLogKey, or the manifest's
	// log_key is not the key made by NewLogKey.
	ErrNoKey = &Error{Code: "no_log_key", Status: http.StatusConflict}
)

// Problem is the board's answer to e (internal/web/page writes it): the
// status and code, the detail as message; unavailable with Retry-After.
func (e *Error) Problem() page.Problem {
	p := page.Problem{Status: e.Status, Code: e.Code, Msg: page.English(cmp.Or(e.Detail, e.Code))}
	if e.Code == ErrUnavailable.Code {
		p.Msg = page.English("the ledger is temporarily unavailable; retry (a cast submitted again is safe)")
		p.RetryAfter = 2 * time.Second
	}
	return p
}

// reject returns an *Error with the code and status of sentinel and a detail.
func reject(sentinel *Error, detail string) *Error {
	return &Error{Code: sentinel.Code, Status: sentinel.Status, Detail: detail}
}

// asError converts err into an *Error; anything unknown is ErrUnavailable.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrUnavailable
}
