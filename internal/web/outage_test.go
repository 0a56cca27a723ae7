package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/web/page"
)

// TestOutageLogsOnce: during a database outage every request is answered
// 503 "unavailable" with Retry-After, on an unlinkable route as on any
// other, and neither the handler's fault line nor the request log writes a
// line per request: each is logged once (then once every 10 s), nothing at
// ERROR. A 500 is still logged at ERROR every time.
func TestOutageLogsOnce(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	down := func(w http.ResponseWriter, r *http.Request) {
		page.FailJSON(w, r, log, &pgconn.PgError{Code: "08006", Message: "connection failure"})
	}
	broken := func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }
	reg := prometheus.NewRegistry()
	s, err := New(Options{Log: log, Registry: reg, Pages: pages, Unlinkable: []string{"/ledger/v1/{election}/cast"},
		Modules: []Module{routes(func(r chi.Router) {
			r.Post("/ledger/v1/{election}/cast", down)
			r.Get("/me", down)
			r.Get("/broken", broken)
		})}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for i := range 50 {
		for _, req := range []*http.Request{httptest.NewRequest("POST", "/ledger/v1/e1/cast", nil), httptest.NewRequest("GET", "/me", nil)} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" || !strings.Contains(w.Body.String(), `"unavailable"`) {
				t.Fatalf("request %d %s: %d %v %s", i, req.URL.Path, w.Code, w.Header(), w.Body.String())
			}
		}
	}
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/broken", nil))
	}
	out := logs.String()
	for _, c := range []struct {
		line string
		want int
	}{
		{"request failed: unavailable", 1},
		{`msg="http request failed" method=POST route=/ledger/v1/{election}/cast status=503`, 1},
		{"route=/me status=503", 1},
		{"level=ERROR", 2}, // the two 500s
		{"route=/broken status=500", 2},
	} {
		if n := strings.Count(out, c.line); n != c.want {
			t.Errorf("%d lines with %q, want %d:\n%s", n, c.line, c.want, out)
		}
	}
	if strings.Count(out, "\n") > 6 {
		t.Errorf("%d log lines for 100 answers of one outage and 2 failures:\n%s", strings.Count(out, "\n"), out)
	}
}
