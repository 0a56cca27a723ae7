// Package archtest enforces the walls between modules
// (docs/architecture.md): each one is a security property.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/unionvote/eballot"

// deps lists the transitive dependencies of the packages matching pattern.
// A pattern that matches no package yields nothing (the wall then holds
// vacuously until the package exists).
func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	list, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}", mod+"/"+pattern).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	out := map[string][]string{}
	for _, pkg := range strings.Fields(string(list)) {
		b, err := exec.Command("go", "list", "-e", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		out[pkg] = strings.Fields(string(b))
	}
	return out
}

func TestWalls(t *testing.T) {
	walls := []struct {
		from   string   // package pattern
		never  []string // path prefixes (under the module) it must not import
		reason string
	}{
		{"crypto/...", []string{"internal/"}, "third parties import crypto/ alone"},
		{"cmd/scrutineer/...", []string{"internal/"}, "the tally must be independent of the service it checks"},
		{"internal/ledger/...", []string{"internal/auth", "internal/issuance", "internal/gotv", "internal/election"}, "the ledger never knows who a voter is"},
		{"internal/issuance/...", []string{"internal/ledger"}, "whoever knows identities never touches ballots"},
		{"internal/auth/...", []string{"internal/ledger"}, "whoever knows identities never touches ballots"},
		{"internal/vote/...", []string{"internal/ledger"}, "whoever knows identities never touches ballots"},
		{"internal/gotv/...", []string{"internal/ledger"}, "turnout comes from the marked register only"},
		{"internal/paper/...", []string{"internal/register", "internal/issuance", "internal/auth", "internal/election", "internal/vote", "internal/gotv"},
			"counting never sees who voted (docs/paper.md)"},
		{"internal/outreach/...", []string{"internal/ledger", "internal/vote"}, "volunteers' texting knows identities and never touches ballots"},
		{"internal/register", []string{"internal/election", "internal/result", "internal/auth", "internal/issuance", "internal/gotv", "internal/ledger"},
			"the register is below the ballot: it knows a ballot only through what election gives it"},
	}
	checked := 0
	for _, w := range walls {
		for pkg, ds := range deps(t, w.from) {
			checked++
			for _, d := range ds {
				for _, bad := range w.never {
					if strings.HasPrefix(d, mod+"/"+bad) {
						t.Errorf("%s imports %s: forbidden because %s", pkg, d, w.reason)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package matched any wall: the patterns are wrong")
	}
}

// TestScrutineerExists makes sure the independence check above is not
// vacuous for the scrutineer.
func TestScrutineerExists(t *testing.T) {
	if len(deps(t, "cmd/scrutineer")) != 1 {
		t.Fatal("cmd/scrutineer not found")
	}
}
