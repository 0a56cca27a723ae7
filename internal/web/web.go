// Package web is the HTTP face of the service: the chi router, middleware,
// server-rendered pages (English and Welsh), static assets, health and
// metrics endpoints. Modules (ledger board, authentication, issuance, …)
// plug in as [Module]s: they register their own routes, and their own page
// templates and messages with [Pages].
package web

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unionvote/eballot/internal/election"
)

//go:embed templates/*.html
var templateFS embed.FS

// Module is a part of the service with its own routes.
type Module interface {
	Routes(r chi.Router)
}

// Options are the server's dependencies.
type Options struct {
	Log      *slog.Logger
	DB       Pinger
	Ballots  *election.Store
	Registry *prometheus.Registry
	Pages    *Pages
	Secure   bool // public URL is https: HSTS
	Dev      bool // development mode: drafts are listed
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

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}()

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
	r.Handle("/static/*", s.opt.Pages.assets)
	r.Group(func(r chi.Router) {
		r.Use(s.opt.Middleware...)
		r.Get("/", s.home)
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
		w.Header().Set("Retry-After", RetryAfterSeconds)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ballots, err := s.opt.Ballots.PublicBallots(r.Context(), s.opt.Dev)
	if err != nil {
		s.opt.Pages.InternalError(w, r, err)
		return
	}
	s.opt.Pages.Render(w, r, http.StatusOK, "home", ballots)
}
