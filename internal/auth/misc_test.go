package auth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/pgtest"
)

// Every message key of auth exists, non-empty, in English and Welsh.
func TestCatalogueComplete(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := url.Parse("https://vote.example")
	if _, err := auth.New(auth.Options{Pool: pool, Log: log, Pages: pages, PublicURL: pub, SecretKey: make([]byte, 32)}); err != nil {
		t.Fatal(err)
	}
	c := pages.Catalog()
	var missing []string
	for _, a := range page.Languages {
		for k := range c[a] {
			for _, b := range page.Languages {
				if strings.TrimSpace(c[b][k]) == "" {
					missing = append(missing, b+":"+k)
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("missing translations: %v", missing)
	}
}

// On https the cookies are __Host- prefixed and Secure.
func TestSecureCookies(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, _ := page.New(log)
	pub, _ := url.Parse("https://vote.example")
	svc, err := auth.New(auth.Options{Pool: pool, Log: log, Pages: pages, PublicURL: pub, SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	h := svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc.CSRFToken(r) == "" {
			t.Error("no CSRF token for a signed-out browser")
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "https://vote.example/auth/signin", nil))
	sc := w.Header().Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Host-eb_pre=") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "Path=/") || strings.Contains(sc, "Domain") {
		t.Fatalf("cookie %q", sc)
	}
}

func TestAbsoluteTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser()
	b.signInSMS(0)
	for i := 0; i < 18; i++ { // keep it busy: 18 × 14 min > 4 h
		e.clk.Add(14 * time.Minute)
		r := b.get("/me")
		if r.code != 200 {
			if i < 17 {
				t.Fatalf("signed out after %d min", (i+1)*14)
			}
			return
		}
	}
	t.Fatal("session outlived the absolute timeout")
}
