package page

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
)

// Every message key exists in English and in Welsh, non-empty.
func TestCatalogueComplete(t *testing.T) {
	p, err := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Catalog()
	var missing []string
	for _, a := range Languages {
		for k, v := range c[a] {
			for _, b := range Languages {
				if strings.TrimSpace(c[b][k]) == "" {
					missing = append(missing, b+":"+k)
				}
			}
			if strings.TrimSpace(v) == "" {
				missing = append(missing, a+":"+k+" (empty)")
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("missing translations: %v", missing)
	}
}

func TestLanguageChoice(t *testing.T) {
	for _, tc := range []struct {
		url, cookie, accept, want string
	}{
		{"/", "", "", "en"},
		{"/?lang=cy", "", "", "cy"},
		{"/?lang=xx", "", "", "en"},
		{"/", "cy", "", "cy"},
		{"/", "", "cy-GB,en;q=0.5", "cy"},
		{"/", "", "fr, en-GB;q=0.8", "en"},
	} {
		r := httptest.NewRequest("GET", tc.url, nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		r.Header.Set("Accept-Language", tc.accept)
		if got := pickLanguage(httptest.NewRecorder(), r); got != tc.want {
			t.Errorf("%+v: got %s", tc, got)
		}
	}
}

func TestAssetsFingerprinted(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.URL("app.css")
	if err != nil || !strings.HasPrefix(u, "/static/app.") || u == "/static/app.css" {
		t.Fatalf("asset url %q %v", u, err)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", u, nil))
	if w.Code != 200 || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("asset: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", "/static/app.css", nil))
	if w.Code != 404 {
		t.Fatalf("unfingerprinted name served: %d", w.Code)
	}
}
