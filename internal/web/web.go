// Package web is the HTTP face of the service: the chi router, middleware,
// static assets, health and metrics endpoints. Modules (ballots, ledger
// board, authentication, issuance, …) plug in as [Module]s: they register
// their own routes, and their own page templates and messages with the
// page kit (internal/web/page). It imports no module: features register
// with web, never the other way round.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unionvote/eballot/internal/web/page"
)

// Module is a part of the service with its own routes.
type Module interface {
	Routes(r chi.Router)
}

// Options are the server's dependencies.
type Options struct {
	Log      *slog.Logger
	DB       Pinger
	Registry *prometheus.Registry
	Pages    *page.Pages
	Secure   bool // public URL is https: HSTS
	// LargeBodies are the routes that accept more than MaxBody.
	LargeBodies []LargeBody
	// Middleware wraps every route after the common middleware (e.g.
	// sessions and CSRF protection from internal/auth).
	Middleware []func(http.Handler) http.Handler
	Modules    []Module
	// CookieFree are the modules whose routes take no cookie and set none
	// (the public ledger board and the cast): they run without
	// Middleware, under CookieFreePrefix.
	CookieFree []Module
	// CookieFreePrefix is the path prefix of the CookieFree modules'
	// routes (e.g. "/ledger/"): every request under it, matched or not,
	// has its Cookie header removed before any handler runs, and any
	// Set-Cookie removed from its answer.
	CookieFreePrefix string
	// Unlinkable are the route patterns of the two halves of a vote
	// (authorise, cast). Their requests leave no per-request log line
	// (failures aside) and no live request metric: the log times and
	// counters of the two requests would otherwise tie a member's
	// authorisation to their ballot (docs/threat-model.md).
	Unlinkable []string
	// Released is the registry of the metrics shown only as released on
	// the turnout schedule (the ledger's and GOTV's ballot counters):
	// [Server.MetricsHandler] serves its last snapshot beside Registry.
	Released *Released
}

// Server serves the pages and the modules' routes.
type Server struct {
	opt        Options
	metrics    *metrics
	unlinkable map[string]bool
}

// New builds the server.
func New(opt Options) (*Server, error) {
	unl := map[string]bool{}
	for _, p := range opt.Unlinkable {
		unl[p] = true
	}
	return &Server{opt: opt, metrics: newMetrics(opt.Registry), unlinkable: unl}, nil
}

// Handler returns the root HTTP handler.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	// cookieFree after the body limit and the security headers: an
	// oversized request gets its 413 first, and every answer its headers.
	r.Use(requestID, requestIDHeader, recoverer(s.opt.Log), observe(s.opt.Log, s.metrics, s.unlinkable),
		securityHeaders(s.opt.Secure), s.limitBody, s.cookieFree, middleware.Compress(5, "text/html", "text/css", "application/javascript", "text/javascript", "application/json", "text/plain", "image/svg+xml"))
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	r.Get("/readyz", s.readyz)
	r.Handle("/static/*", s.opt.Pages.Assets())
	r.Group(func(r chi.Router) {
		for _, m := range s.opt.CookieFree {
			m.Routes(r)
		}
	})
	r.Group(func(r chi.Router) {
		r.Use(s.opt.Middleware...)
		for _, m := range s.opt.Modules {
			m.Routes(r)
		}
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.opt.Pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
	})
	return r
}

// MetricsHandler serves the Prometheus metrics: the live registry and the
// last release of the ballot metrics. It is served on its own listener
// (EBALLOT_METRICS_ADDR, loopback by default), never on the public one.
func (s *Server) MetricsHandler() http.Handler {
	g := prometheus.Gatherers{s.opt.Registry}
	if s.opt.Released != nil {
		g = append(g, s.opt.Released)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.opt.DB.Ping(ctx); err != nil {
		s.opt.Log.WarnContext(r.Context(), "readiness: database unreachable", "err", err)
		page.SetRetryAfter(w, page.RetryAfter)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
