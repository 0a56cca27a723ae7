package page

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestWhen(t *testing.T) {
	// 2 June 2027 16:00 UTC is 17:00 in London (BST).
	at := time.Date(2027, 6, 2, 16, 0, 0, 0, time.UTC)
	if got := When("en", at); got != "2 Jun 2027 17:00" {
		t.Errorf("en: %q", got)
	}
	if got := When("cy", at); got != "2 Mehefin 2027 17:00" {
		t.Errorf("cy: %q", got)
	}
	if got := When("cy", time.Date(2026, 12, 24, 9, 5, 0, 0, time.UTC)); got != "24 Rhagfyr 2026 09:05" {
		t.Errorf("cy winter: %q", got)
	}
	for _, bad := range [][]any{{}, {"cy", at, at}, {1, at}, {"cy", "yesterday"}} {
		if _, err := whenFunc(bad...); err == nil {
			t.Errorf("when%v accepted", bad)
		}
	}
	var none *time.Time
	if s, err := whenFunc("cy", none); s != "" || err != nil {
		t.Errorf("nil time: %q %v", s, err)
	}
}

// A page shows times in its own language: {{when $.Lang .}}.
func TestWhenOnAPage(t *testing.T) {
	p, err := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fs := fstest.MapFS{"closes.html": {Data: []byte(`{{define "title"}}t{{end}}{{define "content"}}<p id="c">{{when $.Lang .Data}}</p>{{end}}`)}}
	if err := p.AddTemplates(fs, "closes.html"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 6, 2, 16, 0, 0, 0, time.UTC)
	for lang, want := range map[string]string{"en": "2 Jun 2027 17:00", "cy": "2 Mehefin 2027 17:00"} {
		w := httptest.NewRecorder()
		p.Render(w, httptest.NewRequest("GET", "/?lang="+lang, nil), 200, "closes", at)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `<p id="c">`+want+`</p>`) {
			t.Errorf("%s: %d %s", lang, w.Code, w.Body)
		}
	}
}
