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
}

// Server serves the pages and the modules' routes.
type Server struct {
	opt     Options
	metrics *metrics
}

// New builds the server.
func New(opt Options) (*Server, error) {
	return &Server{opt: opt, metrics: newMetrics(opt.Registry)}, nil
}

// Handler returns the root HTTP handler.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestIDHeader, recoverer(s.opt.Log), observe(s.opt.Log, s.metrics),
		securityHeaders(s.opt.Secure), s.limitBody, middleware.Compress(5, "text/html", "text/css", "application/javascript", "text/javascript", "application/json", "text/plain", "image/svg+xml"))
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{}))
	r.Handle("/static/*", s.opt.Pages.Assets())
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
