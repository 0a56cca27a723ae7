package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/web/page"
)

// ContentSecurityPolicy is sent with every response: no inline script or
// style, nothing from other origins, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'"

func securityHeaders(secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			// same-origin, not no-referrer: browsers then send "Origin: null" on our
			// own form posts, which the CSRF check must refuse. No referrer ever
			// leaves the site, so invitation links stay private.
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "geolocation=(), microphone=(), payment=(), usb=()")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// metrics holds the HTTP metrics in a registry owned by the app.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eballot_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "eballot_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe logs each request and records its metrics. It logs the route
// pattern, never the raw path or query, so tokens in URLs (invitation
// links) never reach the logs.
//
// The requests of unlinkable routes (authorise, cast) are neither counted
// nor logged unless they fail with a 5xx: a log line or a counter per
// request would time each half of a vote to the millisecond.
func observe(log *slog.Logger, m *metrics, unlinkable map[string]bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			code := ww.Status()
			if code == 0 {
				code = http.StatusOK
			}
			d := time.Since(start)
			if unlinkable[route] {
				switch {
				case code == http.StatusServiceUnavailable:
					page.LogFault(r.Context(), log, "http 503 "+route, "http request failed",
						"method", r.Method, "route", route, "status", code)
				case code >= 500:
					log.LogAttrs(r.Context(), slog.LevelError, "http request failed",
						slog.String("method", r.Method), slog.String("route", route), slog.Int("status", code))
				}
				return
			}
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
			m.duration.WithLabelValues(route, r.Method).Observe(d.Seconds())
			if code == http.StatusServiceUnavailable {
				// An expected fault (an outage answers every request
				// so): rate-limited, the metrics above count them all.
				page.LogFault(r.Context(), log, "http 503 "+route, "http request",
					"request_id", middleware.GetReqID(r.Context()), "method", r.Method, "route", route,
					"status", code, "duration", d)
				return
			}
			level := slog.LevelInfo
			if code >= 500 {
				level = slog.LevelError
			} else if route == "/healthz" || route == "/readyz" || route == "/metrics" || route == "/static/*" {
				level = slog.LevelDebug
			}
			log.LogAttrs(r.Context(), level, "http request",
				slog.String("request_id", middleware.GetReqID(r.Context())),
				slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", code), slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", d))
		})
	}
}

// requestID gives each request a random id (chi's middleware.RequestID
// numbers them in sequence, and takes the client's X-Request-Id: two
// requests of one phone would then be tied by consecutive or chosen ids).
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), middleware.RequestIDKey, id)))
	})
}

// cookieFree removes the Cookie header of every request under the
// CookieFree prefix before any handler sees it, and any Set-Cookie from
// its answer; a POST there that carries a cookie or is not JSON is refused
// (403 forbidden) without the cookie being read: the public board and the cast neither read nor set a cookie,
// so the service never sees a member's session beside the tracker they
// look up, and a shared cache never hands one visitor's cookie to another.
func (s *Server) cookieFree(next http.Handler) http.Handler {
	p := s.opt.CookieFreePrefix
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p == "" || !strings.HasPrefix(r.URL.Path, p) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodPost && (r.Header.Get("Cookie") != "" || !isJSON(r)) {
			// The cast is made with credentials:'omit' and as JSON: a POST
			// that carries cookies, or is a form a cross-site page could
			// send, is refused without its cookies being read.
			s.opt.Pages.Refuse(noSetCookie{w}, r, errCookieFreePost)
			return
		}
		r.Header.Del("Cookie")
		next.ServeHTTP(noSetCookie{w}, r)
	})
}

// errCookieFreePost (403 forbidden): a POST under the cookie-free prefix
// that carries a cookie or is not application/json.
var errCookieFreePost = page.NewError("web: cookie-free POST with a cookie or not JSON", http.StatusForbidden, "forbidden", "error.csrf")

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// noSetCookie drops Set-Cookie headers when the answer is written.
type noSetCookie struct{ http.ResponseWriter }

func (w noSetCookie) WriteHeader(code int) {
	w.Header().Del("Set-Cookie")
	w.ResponseWriter.WriteHeader(code)
}

func (w noSetCookie) Write(b []byte) (int, error) {
	w.Header().Del("Set-Cookie")
	return w.ResponseWriter.Write(b)
}

func (w noSetCookie) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestIDHeader copies the request id into the response.
func requestIDHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := middleware.GetReqID(r.Context()); id != "" {
			w.Header().Set("X-Request-Id", id)
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a logged 500 without leaking details.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.ErrorContext(r.Context(), "panic in handler", "request_id", middleware.GetReqID(r.Context()), "panic", v)
					http.Error(w, "internal error", http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// Pinger is what readiness needs of the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// MaxBody bounds the body of every request (413 above it), except the
// routes given in Options.LargeBodies. Handlers may bound theirs more tightly.
const MaxBody = 1 << 20

// LargeBody is a route that accepts more than MaxBody: a path.Match
// pattern on the request path, and its bound.
type LargeBody struct {
	Pattern string
	Max     int64
}

// BodyLimit is the largest request body accepted on path p, given the
// routes that accept more than MaxBody.
func BodyLimit(large []LargeBody, p string) int64 {
	for _, l := range large {
		if ok, _ := path.Match(l.Pattern, p); ok {
			return l.Max
		}
	}
	return MaxBody
}

// limitBody answers 413 at once to a request whose declared length is over
// its route's limit (a JSON problem too_large on the APIs, page.API), and cuts off a body (chunked, or longer than declared)
// that grows past it: the handler's read then fails, and the connection is
// closed rather than drained.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := BodyLimit(s.opt.LargeBodies, r.URL.Path)
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			if s.opt.Pages != nil {
				s.opt.Pages.Refuse(w, r, page.ErrTooLarge) // JSON on the APIs, the error page elsewhere
			} else {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			}
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}
