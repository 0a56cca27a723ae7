package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/app"
)

// TestReadmeDemoCount runs the README's "count the demo ballot" lines as
// written (the site's address and the demo's folder put in for
// localhost:8080 and .data/demo-trustees), after three demo members voted
// and the ballot was closed, and checks the count, the signed report and
// its check.
func TestReadmeDemoCount(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	lines := readmeBlock(t, "# count the demo ballot")
	s := startSite(t)
	s.castByAPI(t, map[int][][]int{
		1: {{1, 0}, {0, 1}}, // strike Yes, action short of a strike No
		2: {{1, 0}, {1, 0}},
		3: {{0, 1}, {1, 0}},
	})
	ctx := context.Background()
	// What the scrutineer's "Close the ballot" does (ballotd demo --close).
	if _, err := app.CloseDemo(ctx, s.cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(t, "closed")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	repl := strings.NewReplacer("http://localhost:8080", s.base, ".data/demo-trustees", s.demoDir, "bin/scrutineer", filepath.Join(bin, "scrutineer"))
	var out bytes.Buffer
	for _, line := range lines {
		args := strings.Fields(repl.Replace(line))
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = root
		var o bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &o
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, o.String())
		}
		out.Write(o.Bytes())
	}
	got := out.String()
	for _, want := range []string{"strike: Yes 2, No 1, spoilt 0", "Report signed by demo-scrutineer"} {
		if !strings.Contains(got, want) {
			t.Errorf("the README's count says:\n%s\nwant %q", got, want)
		}
	}
	for _, f := range []string{"report/report.json", "report/report.json.sig", "partial-1.json", "partial-2.json", "result.json"} {
		if _, err := os.Stat(filepath.Join(s.demoDir, f)); err != nil {
			t.Errorf("the README's count did not write %s: %v", f, err)
		}
	}
}

// readmeBlock returns the command lines of the README's ```sh block whose
// first line is first (comments dropped).
func readmeBlock(t *testing.T, first string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case !in && l == first:
			in = true
		case in && strings.HasPrefix(l, "```"):
			return lines
		case in && l != "" && !strings.HasPrefix(l, "#"):
			lines = append(lines, l)
		}
	}
	t.Fatalf("README.md has no block starting %q", first)
	return nil
}
