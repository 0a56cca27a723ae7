package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// owners names, for every table of migrations/, the package whose store
// reads and writes it. Any other package calls that store
// (docs/architecture.md: "A table is read and written by its owner's store
// only"). TestOwnersMatchMigrations keeps it complete.
var owners = map[string]string{
	// ballots and their set-up
	"unions": "internal/election", "ballots": "internal/election", "ballot_styles": "internal/election",
	"employer_notices": "internal/election", "action_notices": "internal/election",
	"election_addresses": "internal/election",
	// members and registers
	"members": "internal/register", "register_entries": "internal/register", "register_uploads": "internal/register",
	"ballot_contacts": "internal/register", "member_contact_fields": "internal/register", "member_contact_events": "internal/register",
	// the marked register and replacements
	"marked_register": "internal/issuance", "replacement_requests": "internal/issuance",
	"replaced_authorisations": "internal/issuance", "impersonation_reports": "internal/issuance",
	"mark_log":        "internal/issuance",
	"workplace_boxes": "internal/issuance",
	// paper counting (knows no member)
	"paper_keyings": "internal/paper",
	// the ballot ledger
	"ledger_keys": "internal/ledger", "ledger_elections": "internal/ledger", "ledger_entries": "internal/ledger",
	"ledger_hashes": "internal/ledger", "ledger_alphas": "internal/ledger", "ledger_checkpoints": "internal/ledger",
	"ledger_closures": "internal/ledger", "ledger_results": "internal/ledger",
	"ledger_paper_batches": "internal/ledger", "ledger_paper_closes": "internal/ledger",
	// identities, credentials and staff
	"staff": "internal/auth", "auth_sessions": "internal/auth", "auth_events": "internal/auth",
	"auth_invitations": "internal/auth", "auth_otp_codes": "internal/auth", "auth_rate_limits": "internal/auth",
	"auth_staff_enrolments": "internal/auth", "auth_staff_recoveries": "internal/auth",
	"auth_webauthn_users": "internal/auth", "auth_webauthn_credentials": "internal/auth",
	"auth_webauthn_ceremonies": "internal/auth", "auth_pack_codes": "internal/auth",
	// get out the vote
	"gotv_policies": "internal/gotv", "gotv_ballot_settings": "internal/gotv", "gotv_campaigns": "internal/gotv",
	"gotv_steps": "internal/gotv", "gotv_messages": "internal/gotv", "gotv_contacts": "internal/gotv",
	"gotv_contact_issues": "internal/gotv", "gotv_optouts": "internal/gotv",
	"gotv_webhook_events": "internal/gotv",
	// volunteers' peer-to-peer texting
	"outreach_approvals": "internal/outreach", "outreach_campaigns": "internal/outreach",
	"outreach_volunteers": "internal/outreach", "outreach_conversations": "internal/outreach",
	"outreach_messages": "internal/outreach", "outreach_tags": "internal/outreach", "outreach_queue": "internal/outreach",
	// contact refresh campaigns (values and their history are the register's)
	"refresh_campaigns": "internal/refresh", "refresh_links": "internal/refresh", "refresh_pending": "internal/refresh",
	"refresh_optouts": "internal/refresh", "refresh_notices": "internal/refresh", "refresh_emails": "internal/refresh",
	// after the close: result notices, employers' addresses, copy requests
	"result_employer_contacts": "internal/result", "result_notice_plans": "internal/result", "result_employer_deliveries": "internal/result",
	"result_notices": "internal/result", "result_report_requests": "internal/result",
	"result_election_reports": "internal/result",
	// the rest
	"audit_log":        "internal/audit",
	"retention_counts": "internal/retention", "retention_deletions": "internal/retention", "retention_holds": "internal/retention",
	"sms_outbox":  "internal/sms",
	"mail_outbox": "internal/mail",
}

// tableRE finds the table a SQL statement names after a keyword.
var tableRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|INTO|UPDATE|TABLE|USING)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)`)

// tableRefs lists, per package directory (relative to root), the tables of
// known that its non-test Go files name in SQL: in a string literal after
// FROM, JOIN, INTO, UPDATE, TABLE or USING, or as pgx.Identifier{"t"} (a
// COPY). Test files and test kits (packages named …test) are not
// scanned: fixtures may write any table.
func tableRefs(root string, known map[string]string) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{} // pkg → table → positions
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || (strings.HasPrefix(n, ".") && p != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(p))
		dir = filepath.ToSlash(dir)
		if strings.HasSuffix(dir, "test") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		add := func(t string, pos token.Pos) {
			if _, ok := known[t]; !ok {
				return
			}
			if out[dir] == nil {
				out[dir] = map[string][]string{}
			}
			out[dir][t] = append(out[dir][t], fset.Position(pos).String())
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					s, _ := strconv.Unquote(n.Value)
					for _, m := range tableRE.FindAllStringSubmatch(s, -1) {
						add(strings.ToLower(m[1]), n.Pos())
					}
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Identifier" {
					for _, e := range n.Elts {
						if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
							s, _ := strconv.Unquote(bl.Value)
							add(s, bl.Pos())
						}
					}
				}
			}
			return true
		})
		return nil
	})
	return out, err
}

// violations lists the references of refs to tables a package does not
// own. There are no exceptions: a package that needs another's table
// calls that owner's store (a method named for what it does, taking the
// caller's transaction where it needs one).
func violations(refs map[string]map[string][]string, owners map[string]string) []string {
	var bad []string
	for pkg, tables := range refs {
		for t, pos := range tables {
			if owners[t] != pkg {
				bad = append(bad, fmt.Sprintf("%s names %s (owned by %s) at %s", pkg, t, owners[t], pos[0]))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// Every table is read and written by its owner's package only (SQL in its
// store).
func TestTableOwnership(t *testing.T) {
	refs, err := tableRefs("../..", owners)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs["internal/ledger"]) < 5 || len(refs["internal/register"]) < 3 {
		t.Fatalf("the scan found too little (ledger %v, register %v): it is broken", refs["internal/ledger"], refs["internal/register"])
	}
	for _, b := range violations(refs, owners) {
		t.Error(b + ": call the owner's store")
	}
}

// The scan catches a planted query of another package's table, in a
// literal and in a COPY, and leaves test kits alone.
func TestTableOwnershipCanFail(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "internal", "evil")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package evil\n\nimport \"github.com/jackc/pgx/v5\"\n\n" +
		"const q = `SELECT e.entry FROM ledger_entries e JOIN members m ON true`\n\n" +
		"var copyTo = pgx.Identifier{\"auth_sessions\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "evil.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// A test kit and a test file may write anything.
	kit := filepath.Join(root, "internal", "evil", "eviltest")
	if err := os.MkdirAll(kit, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kit, "kit.go"), []byte("package eviltest\n\nconst q = `DELETE FROM ballots`\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refs, err := tableRefs(root, owners)
	if err != nil {
		t.Fatal(err)
	}
	bad := violations(refs, owners)
	if len(bad) != 3 || !strings.Contains(bad[0], "auth_sessions") || !strings.Contains(bad[1], "ledger_entries") ||
		!strings.Contains(bad[2], "members") {
		t.Errorf("violations: %q", bad)
	}
}

// createRE finds the tables a migration creates.
var createRE = regexp.MustCompile(`(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)`)

// Every table the migrations create has an owner, and every owner's table
// exists.
func TestOwnersMatchMigrations(t *testing.T) {
	files, err := filepath.Glob("../../migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	created := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range createRE.FindAllStringSubmatch(string(b), -1) {
			created[strings.ToLower(m[1])] = true
		}
	}
	for tb := range created {
		if owners[tb] == "" {
			t.Errorf("table %s (migrations/) has no owner in archtest's owners", tb)
		}
	}
	for tb, pkg := range owners {
		if !created[tb] {
			t.Errorf("owners names %s (%s), which no migration creates", tb, pkg)
		}
		if _, err := os.Stat(filepath.Join("../..", pkg)); err != nil {
			t.Errorf("owner of %s: %v", tb, err)
		}
	}
}
