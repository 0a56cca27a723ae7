package page

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var (
	errTestGone  = NewError("test: gone", http.StatusGone, "gone", "test.gone")
	errTestCount = NewError("test: too many", http.StatusUnprocessableEntity, "too_many", "test.count")
	errTestBusy  = NewError("test: busy", http.StatusTooManyRequests, "busy", "test.gone").Wait(90 * time.Second).Titled("test.title")
)

func testPages(t *testing.T) *Pages {
	t.Helper()
	p, err := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"i18n/en.json": {Data: []byte(`{"test.gone": "It has gone.", "test.count": "%d is too many.", "test.title": "Wait"}`)},
		"i18n/cy.json": {Data: []byte(`{"test.gone": "Mae wedi mynd.", "test.count": "Mae %d yn ormod.", "test.title": "Arhoswch"}`)},
	}
	if err := p.AddCatalog(fsys, "i18n"); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProblemOf(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		status   int
		code     string
		expected bool
	}{
		{"sentinel", errTestGone, 410, "gone", true},
		{"wrapped sentinel", fmt.Errorf("load thing: %w", errTestGone), 410, "gone", true},
		{"with arguments", errTestCount.With(7), 422, "too_many", true},
		{"unexpected", errors.New("boom"), 500, "internal", false},
		{"database unavailable", fmt.Errorf("query: %w", context.DeadlineExceeded), 503, "unavailable", true},
	} {
		p, expected := ProblemOf(tc.err)
		if p.Status != tc.status || p.Code != tc.code || expected != tc.expected {
			t.Errorf("%s: %+v %v", tc.name, p, expected)
		}
	}
	if !errors.Is(errTestCount.With(7), errTestCount) || errors.Is(errTestCount.With(7), errTestGone) {
		t.Error("an error with arguments is its sentinel, and only that")
	}
	if _, ok := Refused(errors.New("boom")); ok {
		t.Error("an unexpected error is not a refusal")
	}
	if p, ok := Refused(errTestGone); !ok || p.Status != 410 {
		t.Error("a 4xx sentinel is a refusal")
	}
}

func TestFail(t *testing.T) {
	p := testPages(t)
	get := func(err error, accept string, asJSON bool) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header.Set("Accept-Language", accept)
		if asJSON {
			p.FailJSON(w, r, err)
		} else {
			p.Fail(w, r, err)
		}
		return w
	}
	// A page in the member's language, with the sentinel's status.
	w := get(errTestCount.With(7), "cy", false)
	if w.Code != 422 || !strings.Contains(w.Body.String(), "Mae 7 yn ormod.") || w.Header().Get("Retry-After") != "" {
		t.Fatalf("page: %d %v %s", w.Code, w.Header(), w.Body)
	}
	// A 429 waits: Retry-After, its own heading; JSON carries retry_after.
	w = get(errTestBusy, "en", false)
	if w.Code != 429 || w.Header().Get("Retry-After") != "90" || !strings.Contains(w.Body.String(), "<h1>Wait</h1>") {
		t.Fatalf("429 page: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = get(errTestBusy, "en", true)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 429 || body["error"] != "busy" ||
		body["message"] != "It has gone." || body["retry_after"] != float64(90) || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("429 JSON: %d %s %v", w.Code, w.Body, err)
	}
	// An unavailable database: 503 with the one default Retry-After.
	w = get(fmt.Errorf("query: %w", context.DeadlineExceeded), "en", true)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" || !strings.Contains(w.Body.String(), `"error":"unavailable"`) {
		t.Fatalf("503: %d %v %s", w.Code, w.Header(), w.Body)
	}
	// Anything else: a generic 500 that says nothing of the error.
	w = get(errors.New("secret detail"), "en", false)
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret detail") {
		t.Fatalf("500: %d %s", w.Code, w.Body)
	}
	// Modules without pages answer English JSON.
	w = httptest.NewRecorder()
	FailJSON(w, httptest.NewRequest("GET", "/x", nil), slog.New(slog.DiscardHandler), fmt.Errorf("x: %w", errTestGone))
	if w.Code != 410 || !strings.Contains(w.Body.String(), `{"error":"gone","message":"test.gone"}`) {
		t.Fatalf("FailJSON: %d %s", w.Code, w.Body)
	}
	// The client went away: nothing is written.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = httptest.NewRecorder()
	p.Fail(w, httptest.NewRequest("GET", "/x", nil).WithContext(ctx), fmt.Errorf("read: %w", context.Canceled))
	if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
		t.Fatalf("canceled: %d %s", w.Code, w.Body)
	}
}

func TestRetrySeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Hour: 3600} {
		if got := RetrySeconds(d); got != want {
			t.Errorf("%v: %d, want %d", d, got, want)
		}
	}
}

// TestFaultLogLimited: an outage answers every request with 503; the fault
// is logged once, then at most once every faultLogEvery per code, saying
// how many lines were left out. Every answer is still the JSON problem
// with Retry-After.
func TestFaultLogLimited(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	outage := fmt.Errorf("query: %w", context.DeadlineExceeded)
	for range 200 {
		w := httptest.NewRecorder()
		FailJSON(w, httptest.NewRequest("POST", "/issuance/x", nil), log, outage)
		if w.Code != 503 || w.Header().Get("Retry-After") != "5" || !strings.Contains(w.Body.String(), `"error":"unavailable"`) {
			t.Fatalf("503: %d %v %s", w.Code, w.Header(), w.Body)
		}
	}
	if n := strings.Count(buf.String(), "request failed: unavailable"); n != 1 {
		t.Fatalf("%d log lines for 200 answers of one outage:\n%s", n, buf.String())
	}
	// Later, one line says how many were left out.
	l := &logLimiter{last: map[limitKey]*limitState{}}
	t0 := time.Unix(1e9, 0)
	for i, tc := range []struct {
		at      time.Duration
		ok      bool
		dropped int
	}{{0, true, 0}, {time.Second, false, 0}, {faultLogEvery - 1, false, 0}, {faultLogEvery, true, 2}, {faultLogEvery + 1, false, 0}, {3 * faultLogEvery, true, 1}} {
		if ok, d := l.allow(log, "unavailable", t0.Add(tc.at)); ok != tc.ok || d != tc.dropped {
			t.Fatalf("step %d: allow %v %d, want %v %d", i, ok, d, tc.ok, tc.dropped)
		}
	}
	// Another code, or another logger, is limited on its own.
	if ok, _ := l.allow(log, "other", t0.Add(time.Second)); !ok {
		t.Fatal("another code suppressed")
	}
	if ok, _ := l.allow(slog.New(slog.DiscardHandler), "unavailable", t0.Add(time.Second)); !ok {
		t.Fatal("another logger suppressed")
	}
}
