package page

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestRankingTexts: the ranking widget's texts (static/ranking.js reads
// t.<name> for every "ranking.<name>" message) exist in English and Welsh
// with the same placeholders, and every text the widget reads is there.
func TestRankingTexts(t *testing.T) {
	p, err := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("static/ranking.js")
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, m := range regexp.MustCompile(`\bt\.([a-z_]+)`).FindAllStringSubmatch(string(js), -1) {
		if !slices.Contains(used, m[1]) {
			used = append(used, m[1])
		}
	}
	if len(used) < 8 {
		t.Fatalf("only %d texts found in ranking.js", len(used))
	}
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	texts := map[string]map[string]string{}
	for _, lang := range Languages {
		m := map[string]string{}
		if err := json.Unmarshal([]byte(p.RankingTexts(lang)), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range used {
			if m[k] == "" {
				t.Errorf("%s: ranking.%s missing", lang, k)
			}
		}
		texts[lang] = m
	}
	for k, en := range texts["en"] {
		a, b := ph.FindAllString(en, -1), ph.FindAllString(texts["cy"][k], -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("ranking.%s: English takes %v, Welsh %v", k, a, b)
		}
	}
}
