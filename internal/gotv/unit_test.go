package gotv

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCountSegments(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		enc   Encoding
		units int
		parts int
	}{
		{"empty", "", GSM7, 0, 0},
		{"short ascii", "Hello", GSM7, 5, 1},
		{"160 gsm", strings.Repeat("a", 160), GSM7, 160, 1},
		{"161 gsm", strings.Repeat("a", 161), GSM7, 161, 2},
		{"306 gsm", strings.Repeat("a", 306), GSM7, 306, 2},
		{"307 gsm", strings.Repeat("a", 307), GSM7, 307, 3},
		{"gsm specials", "£¥èéÄÖÑÜ§¿@_", GSM7, 12, 1},
		{"extension counts double", "€{}[]~|^\\", GSM7, 18, 1},
		{"80 euros = 160", strings.Repeat("€", 80), GSM7, 160, 1},
		{"81 euros = 162", strings.Repeat("€", 81), GSM7, 162, 2},
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), GSM7, 306, 3},
		{"welsh w circumflex", "Pleidleisiwch ŵ", UCS2, 15, 1},
		{"welsh y circumflex", "ŷ", UCS2, 1, 1},
		{"70 ucs2", strings.Repeat("ŵ", 70), UCS2, 70, 1},
		{"71 ucs2", strings.Repeat("ŵ", 71), UCS2, 71, 2},
		{"134 ucs2", strings.Repeat("ŵ", 134), UCS2, 134, 2},
		{"135 ucs2", strings.Repeat("ŵ", 135), UCS2, 135, 3},
		{"emoji is a surrogate pair", "Vote 🗳", UCS2, 7, 1},
		{"35 emoji = 70 units", strings.Repeat("🗳", 35), UCS2, 70, 1},
		{"surrogate not split", strings.Repeat("a", 66) + "🗳" + strings.Repeat("a", 66), UCS2, 134, 3},
		{"ascii with one emoji switches", strings.Repeat("a", 100) + "😀", UCS2, 102, 2},
		{"curly quote is not gsm", "it’s", UCS2, 4, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CountSegments(tc.body)
			if tc.body == "" {
				if got.Parts != 0 {
					t.Fatalf("empty: %+v", got)
				}
				return
			}
			if got.Encoding != tc.enc || got.Units != tc.units || got.Parts != tc.parts {
				t.Fatalf("CountSegments = %+v, want %s units=%d parts=%d", got, tc.enc, tc.units, tc.parts)
			}
		})
	}
}

func TestValidateTemplate(t *testing.T) {
	tests := []struct {
		tmpl string
		ok   bool
	}{
		{"Hi {first_name}, vote here: {link}", true},
		{"Vote by {closes}: {link}", true},
		{"Hi {name}: {link}", false},
		{"Hi {first_name}", false}, // no link
		{"{link} {", false},
		{"{link} }", false},
		{"{LINK}", false},
		{"", false},
		{"   ", false},
		{strings.Repeat("a", 1001) + "{link}", false},
	}
	for _, tc := range tests {
		err := ValidateTemplate(tc.tmpl)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateTemplate(%q) = %v, want ok=%v", tc.tmpl, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrTemplate) {
			t.Errorf("error %v does not wrap ErrTemplate", err)
		}
	}
	got := Render("Hi {first_name}, {link} {closes}", Vars{FirstName: "Alex", Link: "L", Closes: "C"})
	if got != "Hi Alex, L C" {
		t.Fatalf("Render = %q", got)
	}
}

func TestSuppress(t *testing.T) {
	tests := []struct {
		name   string
		cells  []Cell
		k      int
		labels []string
		hidden bool
	}{
		{"all large", []Cell{{Label: "A", Entitled: 20, Voted: 5}, {Label: "B", Entitled: 10, Voted: 10}}, 10, []string{"A", "B"}, false},
		{"small merged with small", []Cell{{Label: "A", Entitled: 20}, {Label: "B", Entitled: 6}, {Label: "C", Entitled: 5}}, 10,
			[]string{"A", "Other"}, false},
		// One small cell alone in Other would be revealed by subtraction:
		// the smallest shown cell joins it.
		{"complementary", []Cell{{Label: "A", Entitled: 30}, {Label: "B", Entitled: 12}, {Label: "C", Entitled: 3}}, 10,
			[]string{"A", "Other"}, false},
		{"everything small", []Cell{{Label: "A", Entitled: 4}, {Label: "B", Entitled: 3}}, 10, nil, true},
		{"one large one tiny", []Cell{{Label: "A", Entitled: 50}, {Label: "B", Entitled: 1}}, 10, []string{"Other"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, hidden := Suppress(tc.cells, tc.k, "Other")
			if hidden != tc.hidden {
				t.Fatalf("hidden = %v", hidden)
			}
			var labels []string
			for _, c := range out {
				labels = append(labels, c.Label)
				if c.Entitled < tc.k {
					t.Errorf("cell %s has %d < %d", c.Label, c.Entitled, tc.k)
				}
			}
			if strings.Join(labels, ",") != strings.Join(tc.labels, ",") {
				t.Fatalf("labels = %v, want %v", labels, tc.labels)
			}
		})
	}
}

// TestReleaseRule: the released counts of a cell, over every snapshot,
// differ pairwise by 0 or at least k, and each leaves at least k members
// on either side; the exact counts they replace do not (the check can fail).
func TestReleaseRule(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var series []Point
	for i, v := range []int{0, 3, 5, 14, 15, 30, 31} {
		series = append(series, Point{At: t0.Add(time.Duration(i) * time.Hour), Voted: v})
	}
	const k, size = 10, 40
	truth := []int{0, 1, 3, 12, 13, 21, 22, 29, 31, 34, 40}
	isolates := func(vals []int) bool {
		for i := range vals {
			if (vals[i] > 0 && vals[i] < k) || (size-vals[i] > 0 && size-vals[i] < k) {
				return true
			}
			for j := range vals {
				if d := vals[j] - vals[i]; d > 0 && d < k {
					return true
				}
			}
		}
		return false
	}
	if !isolates(truth) {
		t.Fatal("the exact counts should isolate someone (the check cannot fail otherwise)")
	}
	var c Counter
	var got []int
	for i, v := range truth {
		c.Offer(v, size, k, t0.Add(time.Duration(i)*time.Hour))
		got = append(got, c.Value)
	}
	if isolates(got) {
		t.Fatalf("released %v isolates fewer than %d", got, k)
	}
	if want := []int{0, 0, 0, 12, 12, 12, 22, 22, 22, 22, 22}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("released %v, want %v", got, want)
	}
	at := Snapshots(t0.Add(20*time.Minute), t0.Add(5*time.Hour+30*time.Minute), t0.Add(9*time.Hour), 2*time.Hour)
	if len(at) != 4 || !at[0].Equal(t0) || !at[3].Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("snapshots %v", at)
	}
	now := t0.Add(6 * time.Hour)
	p := Project(series, 31, 100, t0, now.Add(10*time.Hour), now, 50)
	// 31 in the last 6 hours → 5.17/h × 10 h + 31 ≈ 83; the rate's range
	// 31 ± 2√31 (19.9 to 42.1) gives 64 to 100 (clamped).
	if !p.Ready || p.Voted != 83 || p.LowVoted != 64 || p.HighVoted != 100 || !p.MeetsTarget || p.Below {
		t.Fatalf("Project = %+v", p)
	}
	p = Project(series, 31, 40, t0, now.Add(10*time.Hour), now, 50)
	if p.Voted != 40 {
		t.Fatalf("projection not clamped to entitled: %+v", p)
	}
	p = Project(series, 31, 100, t0, now.Add(-time.Hour), now, 50)
	if !p.Ready || p.Voted != 31 || p.LowVoted != 31 || p.MeetsTarget || !p.Below {
		t.Fatalf("closed ballot projection: %+v", p)
	}
	// 15 minutes after opening, with every vote so far: no projection
	// (it once said "100%, meets the threshold").
	early := []Point{{At: t0, Voted: 0}, {At: t0.Add(15 * time.Minute), Voted: 12}}
	if p = Project(early, 12, 24, t0, t0.Add(72*time.Hour), t0.Add(15*time.Minute), 50); p.Ready || p.Pct != 0 {
		t.Fatalf("projection 15 minutes after opening: %+v", p)
	}
	// After 3 hours but with too few votes in the window: none either.
	if p = Project(series[:4], 9, 100, t0, now.Add(10*time.Hour), t0.Add(3*time.Hour), 50); p.Ready {
		t.Fatalf("projection from 9 votes: %+v", p)
	}
	// A range that straddles the threshold says so.
	flat := []Point{{At: t0, Voted: 0}, {At: t0.Add(4 * time.Hour), Voted: 40}}
	if p = Project(flat, 40, 100, t0, t0.Add(5*time.Hour), t0.Add(4*time.Hour), 50); !p.Ready || p.MeetsTarget || p.Below || p.LowPct >= 50 || p.HighPct < 50 {
		t.Fatalf("straddling projection: %+v", p)
	}
}

func TestCharts(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tr := &Turnout{Entitled: 100, Voted: 40, OpensAt: t0, ClosesAt: t0.Add(48 * time.Hour), AsOf: t0.Add(10 * time.Hour),
		ThresholdPct: 50, Series: []Point{{t0, 0}, {t0.Add(5 * time.Hour), 20}, {t0.Add(10 * time.Hour), 40}},
		Projection: Projection{Ready: true, Voted: 90, Pct: 90, LowPct: 80, HighPct: 97}}
	if line := string(LineChart(tr, chartText{Projection: "proj"}, "c0")); !strings.Contains(line, "proj 80–97%") {
		t.Errorf("the chart's projection is not the range: %s", line)
	}
	tr.Projection.Ready = false
	if line := string(LineChart(tr, chartText{Projection: "proj"}, "c0")); strings.Contains(line, "proj") {
		t.Errorf("a projection drawn before it carries information: %s", line)
	}
	tr.Projection.Ready = true
	svgs := []string{
		string(LineChart(tr, chartText{Title: "Turnout <over> time", Desc: "a & b", Threshold: "50%", Projection: "proj"}, "c1")),
		string(BarChart([]Cell{{Label: "North <Depot> & Co", Entitled: 20, Voted: 5}, {Label: "Other", Entitled: 30, Voted: 30}}, 50,
			chartText{Title: "By workplace", Desc: "d"}, "c2")),
	}
	for _, s := range svgs {
		checkSVG(t, s)
	}
}

// checkSVG parses an SVG with encoding/xml and checks its accessible name.
func checkSVG(t *testing.T, s string) {
	t.Helper()
	var doc struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
		Role    string `xml:"role,attr"`
		Title   string `xml:"title"`
		Desc    string `xml:"desc"`
	}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("SVG not well-formed: %v\n%s", err, s)
	}
	if doc.XMLName.Local != "svg" || doc.Role != "img" || doc.Title == "" || doc.Desc == "" || !strings.HasPrefix(doc.ViewBox, "0 0 360 ") {
		t.Fatalf("SVG misses title/desc/role/viewBox: %+v", doc)
	}
	// Walk every token too (a trailing error after the root would be missed).
	d = xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("SVG token: %v", err)
		}
	}
	if strings.Contains(s, "style=") || strings.Contains(s, "<script") {
		t.Fatal("SVG uses inline style or script (CSP)")
	}
}

func TestBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(2, 1)
	b.now = func() time.Time { return now }
	var slept time.Duration
	b.sleep = func(ctx context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }
	for i := 0; i < 5; i++ {
		if err := b.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 1 token in hand, then 4 more at 2/s = 2 s.
	if slept < 1900*time.Millisecond || slept > 2100*time.Millisecond {
		t.Fatalf("slept %v for 5 tokens at 2/s burst 1", slept)
	}
}

func TestQuietHours(t *testing.T) {
	s := &Service{cfg: Config{QuietStart: 9 * 60, QuietEnd: 20 * 60}, tz: london()}
	l := london()
	tests := []struct {
		at    time.Time
		tz    string
		quiet bool
		until time.Time
	}{
		{time.Date(2026, 11, 23, 12, 0, 0, 0, l), "", false, time.Time{}},
		{time.Date(2026, 11, 23, 8, 59, 0, 0, l), "", true, time.Date(2026, 11, 23, 9, 0, 0, 0, l)},
		{time.Date(2026, 11, 23, 20, 0, 0, 0, l), "", true, time.Date(2026, 11, 24, 9, 0, 0, 0, l)},
		// the clocks go forward on 29 March 2026: 09:00 BST is 08:00 UTC
		{time.Date(2026, 3, 28, 22, 0, 0, 0, l), "", true, time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)},
		// 12:00 in London is 21:00 in Tokyo (winter)
		{time.Date(2026, 11, 23, 12, 0, 0, 0, l), "Asia/Tokyo", true, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 23, 12, 0, 0, 0, l), "Not/AZone", false, time.Time{}},
	}
	for _, tc := range tests {
		until, quiet := s.quietUntil(tc.at, tc.tz)
		if quiet != tc.quiet || (quiet && !until.Equal(tc.until)) {
			t.Errorf("quietUntil(%v, %q) = %v, %v; want %v, %v", tc.at, tc.tz, until, quiet, tc.until, tc.quiet)
		}
	}
}

func TestCatalogues(t *testing.T) {
	read := func(lang string) map[string]string {
		b, err := os.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	en, cy := read("en"), read("cy")
	for k := range en {
		if cy[k] == "" {
			t.Errorf("cy.json misses %s", k)
		}
	}
	for k := range cy {
		if en[k] == "" {
			t.Errorf("en.json misses %s", k)
		}
	}
	// every key used in templates and code exists
	files, _ := os.ReadDir("templates")
	var src strings.Builder
	for _, f := range files {
		b, _ := os.ReadFile("templates/" + f.Name())
		src.Write(b)
	}
	for _, f := range []string{"http.go"} {
		b, _ := os.ReadFile(f)
		src.Write(b)
	}
	for _, m := range keyRE.FindAllStringSubmatch(src.String(), -1) {
		if strings.HasSuffix(m[1], ".") {
			continue
		}
		if en[m[1]] == "" {
			t.Errorf("key %s used but not in en.json", m[1])
		}
	}
	for _, dyn := range []string{"gotv.status.draft", "gotv.status.scheduled", "gotv.status.cancelled", "gotv.state.pending",
		"gotv.state.sending", "gotv.state.sent", "gotv.state.failed", "gotv.state.skipped", "gotv.state.unknown",
		"gotv.dim.workplace", "gotv.dim.branch", "gotv.dim.employer", "gotv.dim.style"} {
		if en[dyn] == "" {
			t.Errorf("dynamic key %s missing", dyn)
		}
	}
}

var keyRE = regexp.MustCompile(`"(gotv\.[a-z0-9._]+)"`)
