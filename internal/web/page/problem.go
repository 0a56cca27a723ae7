package page

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/unionvote/eballot/internal/db"
)

// Problem is how an error is answered: the HTTP status, a stable
// machine-readable code (the "error" of a JSON answer), the message for
// people and, for 429 and 503, how long to wait (Retry-After).
type Problem struct {
	Status     int
	Code       string
	Msg        Msg
	RetryAfter time.Duration
	// Title is the error page's heading; zero: "Something went wrong".
	Title Msg
}

// RetryAfter is the Retry-After of a 503 that names no wait of its own
// (an unavailable database: the member is asked to try again, nothing is
// lost).
const RetryAfter = 5 * time.Second

// An error that knows its answer has a Problem method: [Error], and the
// error types of modules (election's, the ledger's *Error, …). [ProblemOf]
// takes the first one in the chain.
type problemer interface{ Problem() Problem }

// Error is a named error of a module together with its answer. Modules
// declare their sentinels with [NewError] and compare with errors.Is; an
// instance with arguments for its message ([Error.With]) still matches its
// sentinel.
type Error struct {
	text    string
	problem Problem
}

// NewError returns a sentinel: text is the Go error text ("pkg: what"),
// status and code its answer, key the catalogue key of its message.
func NewError(text string, status int, code, key string) *Error {
	return &Error{text: text, problem: Problem{Status: status, Code: code, Msg: M(key)}}
}

func (e *Error) Error() string { return e.text }

// Wait sets the Retry-After of the sentinel's answer and returns it (for
// declarations: var ErrX = page.NewError(…).Wait(time.Minute)).
func (e *Error) Wait(d time.Duration) *Error {
	e.problem.RetryAfter = d
	return e
}

// Titled sets the error page's heading of the sentinel's answer (a
// catalogue key) and returns it (for declarations).
func (e *Error) Titled(key string) *Error {
	e.problem.Title = M(key)
	return e
}

// Problem is the sentinel's answer.
func (e *Error) Problem() Problem { return e.problem }

// With returns e with args for its message (the catalogue text is a fmt
// format); errors.Is(err, e) holds.
func (e *Error) With(args ...any) error { return &argsError{base: e, args: args} }

// argsError is a sentinel with arguments for its message.
type argsError struct {
	base *Error
	args []any
}

func (e *argsError) Error() string { return e.base.text }
func (e *argsError) Unwrap() error { return e.base }
func (e *argsError) Problem() Problem {
	p := e.base.problem
	p.Msg.Args = e.args
	return p
}

// ProblemOf is the one mapping of errors to answers: the Problem of the
// first error in err's chain that has one; an unavailable database (see
// internal/db) is 503 "unavailable" with Retry-After; anything else is 500
// "internal" (expected is then false: the error is logged as a fault).
func ProblemOf(err error) (p Problem, expected bool) {
	var pe problemer
	if errors.As(err, &pe) {
		return pe.Problem(), true
	}
	if db.Unavailable(err) {
		return Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Msg: M("error.unavailable"), RetryAfter: RetryAfter}, true
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal", Msg: M("error.internal")}, false
}

// Refused is err's problem when it is a refusal the person can act on (a
// 4xx answer of a module's error), to show on the page they came from;
// false for anything else, which [Pages.Fail] answers.
func Refused(err error) (Problem, bool) {
	p, expected := ProblemOf(err)
	return p, expected && p.Status < 500
}

// Fail answers err with the error page in the request's language: its
// status and message ([ProblemOf]), Retry-After when it says to wait.
// Nothing is written when the client went away.
func (p *Pages) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if pr, ok := answer(w, r, p.log, err); ok {
		p.errorPage(w, r, pr.Status, pr.Title, pr.Msg)
	}
}

// FailJSON answers err as a JSON problem {"error": code, "message": text}
// with the message in the request's language (see [FailJSON]).
func (p *Pages) FailJSON(w http.ResponseWriter, r *http.Request, err error) {
	if pr, ok := answer(w, r, p.log, err); ok {
		writeProblem(w, pr, pr.Msg.In(p.T, pickLanguage(w, r)))
	}
}

// FailJSON answers err as a JSON problem, for modules without pages (the
// ledger's public board, docs/board-api.yaml): {"error": code, "message":
// text} with status, "Cache-Control: no-store", Retry-After when the
// problem says to wait, and on 429 "retry_after" (seconds) in the body as
// well. Its errors' messages are English texts ([English]): there is no
// catalogue to translate a key.
func FailJSON(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if pr, ok := answer(w, r, log, err); ok {
		writeProblem(w, pr, pr.Msg.In(func(_, key string) string { return key }, "en"))
	}
}

// answer logs err as its problem deserves and sets Retry-After: the one
// place both are done. It returns false when nothing is to be written.
func answer(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) (Problem, bool) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return Problem{}, false // the client went away
	}
	pr, expected := ProblemOf(err)
	id := middleware.GetReqID(r.Context())
	switch {
	case !expected:
		log.ErrorContext(r.Context(), "request failed", "request_id", id, "path", r.URL.Path, "err", err)
	case pr.Status >= 500:
		LogFault(r.Context(), log, pr.Code, "request failed: "+pr.Code, "request_id", id, "path", r.URL.Path, "err", err)
	}
	if pr.Status == http.StatusServiceUnavailable && pr.RetryAfter <= 0 {
		pr.RetryAfter = RetryAfter
	}
	SetRetryAfter(w, pr.RetryAfter)
	return pr, true
}

// LogFault logs msg at WARN as an expected fault named key (a 5xx answer
// the service expects, such as an unavailable database): the first of a
// key is logged, then at most one every faultLogEvery per logger and key,
// with the number not logged since ("not_logged"). Every rate-limited
// fault line is written here.
func LogFault(ctx context.Context, log *slog.Logger, key, msg string, args ...any) {
	if ok, dropped := faultLog.allow(log, key, time.Now()); ok {
		log.WarnContext(ctx, msg, append(args, "not_logged", dropped, "log_every", faultLogEvery.String())...)
	}
}

// faultLogEvery is how often the same expected fault is logged.
const faultLogEvery = 10 * time.Second

// faultLog limits the log lines of expected faults (a 5xx answer the
// service expects, such as an unavailable database): during an outage
// every request is answered the same way, and one line per request would
// bury everything else (≈ 50,000 lines in a 10-minute outage under load).
// The first answer of a code is logged, then at most one every
// faultLogEvery per logger and code, saying how many were not logged.
var faultLog = &logLimiter{last: map[limitKey]*limitState{}}

type limitKey struct {
	log  *slog.Logger
	code string
}

type limitState struct {
	at      time.Time
	dropped int
}

type logLimiter struct {
	mu   sync.Mutex
	last map[limitKey]*limitState
}

// allow reports whether to log code's fault at now, and how many of its
// lines were not logged since the last one.
func (l *logLimiter) allow(log *slog.Logger, code string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limitKey{log, code}
	st := l.last[k]
	if st == nil {
		l.last[k] = &limitState{at: now}
		return true, 0
	}
	if now.Sub(st.at) < faultLogEvery {
		st.dropped++
		return false, 0
	}
	n := st.dropped
	st.at, st.dropped = now, 0
	return true, n
}

// SetRetryAfter sets the Retry-After header to d rounded up to whole
// seconds (at least 1); d ≤ 0 sets nothing. Every Retry-After the service
// sends is set here.
func SetRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d <= 0 {
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(RetrySeconds(d)))
}

// RetrySeconds is d in whole seconds, rounded up, at least 1.
func RetrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// problemBody is the JSON problem of every API of the service.
type problemBody struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retry_after,omitempty"`
}

func writeProblem(w http.ResponseWriter, pr Problem, msg string) {
	b := problemBody{Error: pr.Code, Message: msg}
	if pr.Status == http.StatusTooManyRequests {
		b.RetryAfter = RetrySeconds(pr.RetryAfter)
	}
	WriteJSON(w, pr.Status, "no-store", b)
}

// WriteJSON writes v as a JSON answer with status and Cache-Control cache
// (HTML escaping off: the answers are data, not markup).
func WriteJSON(w http.ResponseWriter, status int, cache string, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cache)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ErrTooLarge is a request body over its route's limit (413 too_large),
// refused before any handler reads it (internal/web's body limit).
var ErrTooLarge = NewError("web: request body too large", http.StatusRequestEntityTooLarge, "too_large", "error.toolarge")

// API reports whether r is for one of the service's JSON APIs: the
// ledger's public board and cast (/ledger/…, docs/board-api.yaml) and
// issuance (/issuance/…). Their errors are JSON problems, also those
// raised before their handlers run (CSRF, body size).
func API(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/ledger/") || strings.HasPrefix(r.URL.Path, "/issuance/")
}

// Refuse answers err as a JSON problem to a request for an API ([API]) and
// with the error page to any other: for the middleware that refuses a
// request before the handler of its route runs.
func (p *Pages) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	if API(r) {
		p.FailJSON(w, r, err)
		return
	}
	p.Fail(w, r, err)
}

// errMethodNotAllowed is a method an API path does not serve (405
// method_not_allowed). Its message is the method, not a catalogue text:
// the answer is for programs.
const errMethodNotAllowed = "method_not_allowed"

// JSONMethodNotAllowed makes router's 405 answers the JSON problem of the
// APIs, with no-store and an Allow header naming the methods router serves
// at the requested path (RFC 9110 §15.5.6). chi's own 405 has an empty
// body.
func JSONMethodNotAllowed(router chi.Router) {
	router.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		path := chi.RouteContext(r.Context()).RoutePath
		var ms []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
			if router.Match(chi.NewRouteContext(), m, path) {
				ms = append(ms, m)
			}
		}
		w.Header().Set("Allow", strings.Join(ms, ", "))
		WriteJSON(w, http.StatusMethodNotAllowed, "no-store", problemBody{Error: errMethodNotAllowed, Message: r.Method + " is not allowed here"})
	})
}
