package verify_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/unionvote/eballot/crypto/verify"
)

// TestChecksAreTheSpec: the named checks, their groups and the limits are
// exactly the tables of docs/protocol.md §8.2 and §8.3, in order (the
// browser verifier's src/checks.mjs is compared with the same tables).
func TestChecksAreTheSpec(t *testing.T) {
	b, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	var names, groups []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+\\.[a-z_.]+)` \\| ([a-z]+) \\|").FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1])
		groups = append(groups, m[2])
	}
	if !slices.Equal(names, verify.Checks) {
		t.Fatalf("docs/protocol.md §8.2 lists\n%v\nverify.Checks is\n%v", names, verify.Checks)
	}
	for i, n := range names {
		if g := verify.GroupOf(n); g != groups[i] {
			t.Errorf("%s: group %s in the spec, %s in verify.GroupOf", n, groups[i], g)
		}
		if !slices.Contains(verify.Groups, groups[i]) {
			t.Errorf("%s: unknown group %s", n, groups[i])
		}
	}
	var limits []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(limit\\.[a-z_]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		limits = append(limits, m[1])
	}
	if !slices.Equal(limits, verify.Limits) {
		t.Fatalf("docs/protocol.md §8.3 lists %v, verify.Limits is %v", limits, verify.Limits)
	}
}
