package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/web/page"
)

// TestReleased: the released registry shows its counters only as they
// were at the last release, never live, on the metrics handler beside the
// live registry; the public handler has no /metrics.
func TestReleased(t *testing.T) {
	live := prometheus.NewRegistry()
	rel := NewReleased()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "eballot_test_ballots_total", Help: "test"})
	rel.MustRegister(c)
	s, err := New(Options{Registry: live, Released: rel})
	if err != nil {
		t.Fatal(err)
	}
	scrape := func() string {
		w := httptest.NewRecorder()
		s.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(w.Result().Body)
		return string(b)
	}
	c.Add(3)
	if got := scrape(); strings.Contains(got, "eballot_test_ballots_total") {
		t.Fatalf("shown before the first release:\n%s", got)
	}
	if err := rel.Release(); err != nil {
		t.Fatal(err)
	}
	c.Add(1)
	if got := scrape(); !strings.Contains(got, "eballot_test_ballots_total 3\n") {
		t.Fatalf("want the released 3, not the live 4:\n%s", got)
	}
}

type routes func(chi.Router)

func (f routes) Routes(r chi.Router) { f(r) }

// TestUnlinkableRoutes: the requests of the two halves of a vote leave no
// log line and no request metric; other routes do; request ids are
// random, never the client's.
func TestUnlinkableRoutes(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	s, err := New(Options{Log: log, Registry: reg, Pages: pages, Unlinkable: []string{"/vote/{election}/authorise"},
		Modules: []Module{routes(func(r chi.Router) {
			r.Post("/vote/{election}/authorise", ok)
			r.Get("/vote/{election}", ok)
		})}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	ids := map[string]bool{}
	for _, req := range []*http.Request{httptest.NewRequest("POST", "/vote/e1/authorise", nil), httptest.NewRequest("GET", "/vote/e1", nil)} {
		req.Header.Set("X-Request-Id", "chosen-by-client")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		id := w.Result().Header.Get("X-Request-Id")
		if len(id) != 16 || id == "chosen-by-client" || ids[id] {
			t.Errorf("request id %q: want 16 random characters", id)
		}
		ids[id] = true
	}
	if strings.Contains(logs.String(), "authorise") || !strings.Contains(logs.String(), "route=/vote/{election}") {
		t.Errorf("logs:\n%s", logs.String())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					n++
					if strings.Contains(l.GetValue(), "authorise") {
						t.Errorf("%s counts the authorise route", mf.GetName())
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no request metric at all: the test cannot see one")
	}
}
