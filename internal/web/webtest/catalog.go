package webtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var verbRE = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// CheckMessageKeys checks a package's messages, run from its directory:
// every catalogue key that key matches in its Go source (the first group,
// in quotes: "admin.err.x") is in the English and the Welsh catalogues
// (en.json and cy.json of every dir), both texts take the same fmt verbs
// in the same order, and a section of the Act cited in English ("s.226")
// is cited in Welsh ("a.226"). At least min keys must be found, so that a
// pattern that matches nothing fails.
func CheckMessageKeys(t *testing.T, key *regexp.Regexp, min int, dirs ...string) {
	t.Helper()
	cat := map[string]map[string]string{"en": {}, "cy": {}}
	for _, dir := range dirs {
		for lang := range cat {
			b, err := os.ReadFile(filepath.Join(dir, lang+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s/%s.json: %v", dir, lang, err)
			}
			for k, v := range m {
				cat[lang][k] = v
			}
		}
	}
	files, _ := filepath.Glob("*.go")
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < min {
		t.Fatalf("only %d message keys found in the source, want at least %d", len(used), min)
	}
	var keys []string
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		en, okEn := cat["en"][k]
		cy, okCy := cat["cy"][k]
		if !okEn || !okCy {
			t.Errorf("%s: missing (en %v, cy %v)", k, okEn, okCy)
			continue
		}
		if a, b := strings.Join(verbRE.FindAllString(en, -1), " "), strings.Join(verbRE.FindAllString(cy, -1), " "); a != b {
			t.Errorf("%s: English takes %q, Welsh %q", k, a, b)
		}
		if strings.Contains(en, "s.2") && !strings.Contains(cy, "a.2") {
			t.Errorf("%s: the Welsh text lost the section reference: %s", k, cy)
		}
	}
}
