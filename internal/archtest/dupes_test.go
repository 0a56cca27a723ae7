package archtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// maxRepeat is the longest block (in normalised lines) that may appear
// twice in the code: one place for each thing.
const maxRepeat = 12

// codeLine is one normalised line of code and where it is.
type codeLine struct {
	text string
	file string
	line int
}

var (
	spaceRE     = regexp.MustCompile(`\s+`)
	generatedRE = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
)

// codeLines reads the Go files below root that are code: not tests, not
// test kits (packages named …test), not generated, not in testdata or
// node_modules. A line is normalised: spaces trimmed and collapsed; blank
// lines, comments and import lines are left out.
func codeLines(root string) (map[string][]codeLine, error) {
	out := map[string][]codeLine{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || (strings.HasPrefix(n, ".") && p != root) ||
				(p != root && strings.HasSuffix(n, "test")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var lines []codeLine
		inImport, inComment := false, false
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			raw := strings.TrimSpace(sc.Text())
			if n == 1 && generatedRE.MatchString(raw) {
				return nil
			}
			if generatedRE.MatchString(raw) {
				return nil
			}
			switch {
			case inComment:
				inComment = !strings.Contains(raw, "*/")
				continue
			case strings.HasPrefix(raw, "/*"):
				inComment = !strings.Contains(raw, "*/")
				continue
			case inImport:
				inImport = raw != ")"
				continue
			case raw == "import (":
				inImport = true
				continue
			case raw == "" || strings.HasPrefix(raw, "//") || strings.HasPrefix(raw, "import "):
				continue
			}
			lines = append(lines, codeLine{text: spaceRE.ReplaceAllString(raw, " "), file: filepath.ToSlash(rel), line: n})
		}
		out[filepath.ToSlash(rel)] = lines
		return sc.Err()
	})
	return out, err
}

// repeats lists the blocks of more than maxRepeat lines that appear at
// two places (in two files, or twice in one without overlap), each once,
// as "a:12-30 = b:40-58".
func repeats(files map[string][]codeLine) []string {
	type at struct {
		file string
		i    int
	}
	seen := map[string]at{}
	var names []string
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	found := map[string]bool{}
	var out []string
	w := maxRepeat + 1
	for _, f := range names {
		ls := files[f]
		for i := 0; i+w <= len(ls); i++ {
			var key strings.Builder
			for _, l := range ls[i : i+w] {
				key.WriteString(l.text)
				key.WriteByte('\n')
			}
			k := key.String()
			first, ok := seen[k]
			if !ok {
				seen[k] = at{f, i}
				continue
			}
			if first.file == f && i-first.i < w {
				continue // overlapping windows of one run of repeated lines
			}
			// Report a pair of places once, by the first window of the run.
			pair := first.file + " " + f + " " + fmt.Sprint(i-first.i)
			if first.file != f {
				pair = first.file + " " + f + " " + fmt.Sprint(first.i-i)
			}
			if found[pair] {
				continue
			}
			found[pair] = true
			a, b := files[first.file], ls
			out = append(out, fmt.Sprintf("%s:%d-%d = %s:%d-%d", first.file, a[first.i].line, a[first.i+w-1].line, f, b[i].line, b[i+w-1].line))
		}
	}
	return out
}

// No block of more than 12 lines of code is written twice: one place for
// each thing (README, house rules). Tests, test kits and generated files
// are not counted.
func TestNoRepeatedBlocks(t *testing.T) {
	files, err := codeLines("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("only %d Go files read: the walk is broken", len(files))
	}
	for _, r := range repeats(files) {
		t.Errorf("repeated block: %s", r)
	}
}

// The check finds a planted copy, whatever its indentation, and only a
// block longer than the bound.
func TestNoRepeatedBlocksCanFail(t *testing.T) {
	block := func(indent string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%sx%d := compute(%d, \"a  b\")\n", indent, i, i)
		}
		return b.String()
	}
	root := t.TempDir()
	write := func(name, src string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/a.go", "package a\n\nfunc f() {\n"+block("\t", 13)+"}\n")
	write("b/b.go", "package b\n\n// A copy, indented otherwise.\nfunc g() {\n\tif true {\n"+block("\t\t  ", 13)+"\t}\n}\n")
	write("c/c.go", "package c\n\nfunc h() {\n"+block("\t", 12)+"}\n")      // 12 lines + "}": bounded
	write("c/c_test.go", "package c\n\nfunc k() {\n"+block("\t", 20)+"}\n") // tests are not counted
	write("d/gen.go", "// Code generated by x. DO NOT EDIT.\n\npackage d\n\nfunc m() {\n"+block("\t", 20)+"}\n")
	files, err := codeLines(root)
	if err != nil {
		t.Fatal(err)
	}
	got := repeats(files)
	if len(got) != 1 || !strings.HasPrefix(got[0], "a/a.go:4-16 = b/b.go:6-18") {
		t.Fatalf("repeats: %q", got)
	}
}
