// Package web is the HTTP face of the service: the chi router, middleware,
// server-rendered pages (English and Welsh), static assets, health and
// metrics endpoints.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
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

// Options are the server's dependencies.
type Options struct {
	Log      *slog.Logger
	DB       Pinger
	Ballots  *election.Store
	Registry *prometheus.Registry
	Secure   bool // public URL is https: HSTS and Secure cookies
	Dev      bool // development mode: drafts are listed
}

// Server renders pages and serves the API.
type Server struct {
	opt     Options
	cat     Catalog
	assets  *assets
	pages   map[string]*template.Template
	metrics *metrics
}

// New builds the server; it fails if a template or catalogue is broken.
func New(opt Options) (*Server, error) {
	cat, err := LoadCatalog()
	if err != nil {
		return nil, err
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{opt: opt, cat: cat, assets: as, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"t":     cat.T,
		"asset": as.URL,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when":  func(t time.Time) string { return t.In(london).Format("2 Jan 2006 15:04") },
	}
	for _, page := range []string{"home", "error"} {
		tp, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", page, err)
		}
		s.pages[page] = tp
	}
	s.metrics = newMetrics(opt.Registry)
	return s, nil
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
		securityHeaders(s.opt.Secure), middleware.Compress(5, "text/html", "text/css", "application/javascript", "application/json", "text/plain"))
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{}))
	r.Handle("/static/*", s.assets)
	r.Get("/", s.home)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusNotFound, "error.notfound")
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
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ballots, err := s.opt.Ballots.PublicBallots(r.Context(), s.opt.Dev)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", ballots)
}

type pageData struct {
	Lang, OtherLang string
	Data            any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	if err := s.writePage(w, r, status, page, data); err != nil {
		s.internalError(w, r, err)
	}
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	if err := s.writePage(w, r, status, "error", key); err != nil {
		http.Error(w, http.StatusText(status), status)
	}
}

// writePage renders a page into a buffer first, so a template error never
// leaves half a page on the wire.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, page string, data any) error {
	lang := pickLanguage(w, r)
	other := "cy"
	if lang == "cy" {
		other = "en"
	}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", pageData{Lang: lang, OtherLang: other, Data: data}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// internalError logs err with the request id and answers a generic 500.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.opt.Log.ErrorContext(r.Context(), "request failed", "request_id", middleware.GetReqID(r.Context()), "err", err)
	s.renderError(w, r, http.StatusInternalServerError, "error.internal")
}
