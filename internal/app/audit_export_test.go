package app

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// The scrutineer downloads the ballot's audit log and checks the chain
// with the independent scrutineer tool; one changed byte is named.
func TestAuditExportVerifiedIndependently(t *testing.T) {
	s := newSite(t)
	a := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "audit-a", Members: 2, Open: true})
	electiontest.New(t, s.pool, electiontest.Options{ElectionID: "audit-b", Members: 2, Open: true})
	path := fmt.Sprintf("/scrutineer/ballots/%d/audit.jsonl", a.ID)
	if p := s.staff("organiser", a.UnionID).get(path); p.code != 403 {
		t.Fatalf("organiser downloaded the audit log: %d", p.code)
	}
	p := s.staff("scrutineer", 0).get(path)
	if p.code != 200 || !strings.HasPrefix(p.h.Get("Content-Type"), "application/jsonl") ||
		!strings.Contains(p.h.Get("Content-Disposition"), "audit-audit-a.jsonl") {
		t.Fatalf("download: %d %v", p.code, p.h)
	}
	if !strings.Contains(p.body, `"action":"ballot.open"`) || !strings.Contains(p.body, `"redacted":true`) ||
		!strings.Contains(p.body, `"action":"audit_log.export"`) || strings.Contains(p.body, "audit-b") {
		t.Fatalf("export content:\n%s", p.body)
	}
	dir := t.TempDir()
	bin := buildScrutineer(t, dir)
	check := func(content []byte) (int, string) {
		f := filepath.Join(dir, "audit.jsonl")
		if err := os.WriteFile(f, content, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(bin, "verify-audit", f)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	if code, out := check([]byte(p.body)); code != 0 || !strings.Contains(out, "audit log OK") {
		t.Fatalf("verify-audit: %d %s", code, out)
	}
	// One changed byte in an entry of the ballot: that entry is named.
	lines := strings.Split(strings.TrimSpace(p.body), "\n")
	for i, l := range lines {
		if strings.Contains(l, `"action":"ballot.trustees"`) {
			tampered := strings.Replace(l, `\"threshold\":2`, `\"threshold\":1`, 1)
			if tampered == l {
				t.Fatalf("nothing to tamper in %s", l)
			}
			lines[i] = tampered
			var seq int
			fmt.Sscanf(l, `{"seq":%d`, &seq)
			code, out := check([]byte(strings.Join(lines, "\n") + "\n"))
			if code != 1 || !strings.Contains(out, fmt.Sprintf("entry %d (ballot.trustees by staff:test) was changed", seq)) {
				t.Fatalf("tampered entry %d: %d %s", seq, code, out)
			}
			lines[i] = l
		}
	}
	// A removed entry breaks the chain at the next one.
	if code, out := check([]byte(strings.Join(append(append([]string{}, lines[:2]...), lines[3:]...), "\n"))); code != 1 || !strings.Contains(out, "entry 3 is missing") {
		t.Fatalf("removed entry: %d %s", code, out)
	}
}
