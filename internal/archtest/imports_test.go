package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// imports lists the direct imports of each package matching pattern
// (under the module).
func imports(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	b, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"/"+pattern).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// std reports whether an import path is the standard library's (no dot in
// its first element).
func std(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// cryptoAllowed are the modules crypto/ may import besides the standard
// library and itself: circl and x/crypto (docs/architecture.md), and what
// the protocol already stands on — gtank/ristretto255 and filippo.io/bigmod
// for the bulk verifier's arithmetic (/work/shared/design/stack.md), and
// x/mod's signed notes and transparency-log hashes (protocol §6).
var cryptoAllowed = []string{
	"github.com/cloudflare/circl/",
	"golang.org/x/crypto/",
	"github.com/gtank/ristretto255",
	"filippo.io/bigmod",
	"filippo.io/edwards25519/field", // extended coordinates (crypto/internal/ext): decompression hints, the bucket MSM
	"golang.org/x/mod/sumdb/note",
	"golang.org/x/mod/sumdb/tlog",
}

// cryptoViolations lists the imports of crypto packages outside the
// standard library, the module's crypto/ and cryptoAllowed.
func cryptoViolations(pkgs map[string][]string) []string {
	var bad []string
	for pkg, imps := range pkgs {
		for _, imp := range imps {
			ok := std(imp) || strings.HasPrefix(imp, mod+"/crypto/")
			for _, a := range cryptoAllowed {
				ok = ok || imp == strings.TrimSuffix(a, "/") || strings.HasPrefix(imp, a)
			}
			if !ok {
				bad = append(bad, pkg+" imports "+imp)
			}
		}
	}
	return bad
}

// crypto/ imports only the standard library, circl, x/crypto and the few
// modules named in cryptoAllowed: a third party auditing crypto/ reads
// nothing else.
func TestCryptoImports(t *testing.T) {
	pkgs := imports(t, "crypto/...")
	if len(pkgs) < 10 {
		t.Fatalf("only %d crypto packages found", len(pkgs))
	}
	for _, v := range cryptoViolations(pkgs) {
		t.Error(v)
	}
}

// The check fails on a crypto package importing a database driver, the
// service, or x/net.
func TestCryptoImportsCanFail(t *testing.T) {
	for _, imp := range []string{"github.com/jackc/pgx/v5", mod + "/internal/sealed", "golang.org/x/net/html", "github.com/cloudflare/circlx"} {
		if v := cryptoViolations(map[string][]string{mod + "/crypto/evil": {"fmt", imp}}); len(v) != 1 {
			t.Errorf("%s: %v", imp, v)
		}
	}
	if v := cryptoViolations(map[string][]string{mod + "/crypto/fine": {"fmt", "github.com/cloudflare/circl/group", mod + "/crypto/internal/enc"}}); len(v) != 0 {
		t.Errorf("allowed imports refused: %v", v)
	}
}

// webAllowed are the module packages internal/web and its page kit may
// depend on: the page kit, the pool's error classification, the embedded
// JavaScript bundles and the migrations internal/db embeds. No feature
// module: features register their routes with web, never the other way
// round (docs/architecture.md).
var webAllowed = []string{"internal/web", "internal/db", "crypto/js", "migrations"}

// webViolations lists the module dependencies of web packages outside
// webAllowed.
func webViolations(pkgs map[string][]string) []string {
	var bad []string
	for pkg, ds := range pkgs {
		for _, d := range ds {
			rest, ok := strings.CutPrefix(d, mod+"/")
			if !ok {
				continue
			}
			allowed := false
			for _, a := range webAllowed {
				allowed = allowed || rest == a || strings.HasPrefix(rest, a+"/")
			}
			if strings.HasPrefix(rest, "internal/web/") && strings.HasSuffix(rest, "test") {
				allowed = false // a test kit is for tests only
			}
			if !allowed {
				bad = append(bad, pkg+" depends on "+d)
			}
		}
	}
	return bad
}

// internal/web and internal/web/page depend on no feature module
// (election, register, result, auth, …): the router and the page kit are
// below every module.
func TestWebImportsNoModule(t *testing.T) {
	pkgs := map[string][]string{}
	for _, p := range []string{"internal/web", "internal/web/page"} {
		for pkg, ds := range deps(t, p) {
			pkgs[pkg] = ds
		}
	}
	if len(pkgs) != 2 {
		t.Fatalf("internal/web or internal/web/page not found: %v", pkgs)
	}
	for _, v := range webViolations(pkgs) {
		t.Error(v)
	}
}

// The check fails on web importing election (what it did before the page
// kit became a leaf) or any other module.
func TestWebImportsNoModuleCanFail(t *testing.T) {
	for _, d := range []string{"internal/election", "internal/register", "internal/auth", "internal/web/webtest"} {
		if v := webViolations(map[string][]string{mod + "/internal/web": {"net/http", mod + "/internal/web/page", mod + "/" + d}}); len(v) != 1 {
			t.Errorf("%s: %v", d, v)
		}
	}
}
