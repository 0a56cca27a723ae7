package register_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nyaruka/phonenumbers"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
)

type wantIssue struct {
	Line      int    `json:"line"`
	Code      string `json:"code"`
	Severity  string `json:"severity"`
	OtherLine int    `json:"other_line,omitempty"`
}

type wantReport struct {
	Rows   int         `json:"rows"`
	Issues []wantIssue `json:"issues"`
}

func gotIssues(rep *register.Report) []wantIssue {
	var out []wantIssue
	for _, is := range rep.Issues {
		out = append(out, wantIssue{Line: is.Line, Code: is.Code, Severity: is.Severity.String(), OtherLine: is.OtherLine})
	}
	return out
}

// checkNoPersonalData fails if a report message echoes a name, a mobile or
// an email of the file.
func checkNoPersonalData(t *testing.T, rep *register.Report, csv []byte) {
	t.Helper()
	digits := regexp.MustCompile(`[0-9]{5,}`)
	for _, is := range rep.Issues {
		msg := is.Message
		if is.MemberNumber != "" {
			msg = strings.ReplaceAll(msg, is.MemberNumber, "")
		}
		if strings.Contains(msg, "@") || digits.MatchString(msg) {
			t.Errorf("issue echoes a contact: %s", is)
		}
		for _, name := range []string{"Aled", "Bethan", "Ceri", "Gareth", "Heledd", "Iwan", "Jac", "Amira", "Chloe", "Marek", "Lucy"} {
			if strings.Contains(msg, name) {
				t.Errorf("issue echoes a name: %s", is)
			}
		}
	}
}

// One bad row of each kind: every row is reported with its line and
// reason; rows with errors are left out, the valid members are imported,
// and a member whose contact is unusable is imported without it (with no
// contact left, for a postal pack).
func TestRegisterBadRows(t *testing.T) {
	csv := registertest.File(t, "register_bad.csv")
	var want wantReport
	if err := json.Unmarshal(registertest.File(t, "register_bad.json"), &want); err != nil {
		t.Fatal(err)
	}
	file, rep := register.Parse(bytes.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
	if got := gotIssues(rep); !reflect.DeepEqual(got, want.Issues) {
		t.Errorf("issues:\n got %v\nwant %v", got, want.Issues)
		for _, is := range rep.Issues {
			t.Log(is)
		}
	}
	if rep.Rows != want.Rows || !rep.OK() || rep.Errors != 16 || rep.Warnings != 13 || rep.Skipped != 16 {
		t.Errorf("rows %d errors %d warnings %d skipped %d", rep.Rows, rep.Errors, rep.Warnings, rep.Skipped)
	}
	var imported []string
	for _, r := range file.Rows {
		imported = append(imported, r.MemberNumber+":"+r.Mobile+":"+r.Email)
	}
	// Line 2, the members of lines 8 to 13 without their unusable
	// contact, and line 24.
	if want := []string{"M001:+447700900001:aled@example.org", "M007::", "M008::", "M009::", "M010::", "M011::", "M012::", "M023:+447700900001:lucy@example.org"}; !reflect.DeepEqual(imported, want) {
		t.Errorf("imported %v, want %v", imported, want)
	}
	checkNoPersonalData(t, rep, csv)

	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "bad", false)
	if _, err := registertest.Preview(ctx, pool, f.BallotID, file); err != nil {
		t.Errorf("preview: %v", err)
	}
	if _, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file); err != nil {
		t.Errorf("commit: %v", err)
	}
	var members, entries int
	must(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM register_entries)`).Scan(&members, &entries))
	if members != 8 || entries != 8 {
		t.Errorf("imported %d members, %d entries, want 8", members, entries)
	}
}

// The good fixture: BOM, CRLF, columns in another order and case, quoted
// fields; only warnings, and the rows are normalised.
func TestRegisterGoodFile(t *testing.T) {
	csv := registertest.File(t, "register_good.csv")
	var want wantReport
	if err := json.Unmarshal(registertest.File(t, "register_good.json"), &want); err != nil {
		t.Fatal(err)
	}
	file, rep := register.Parse(bytes.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
	if got := gotIssues(rep); !reflect.DeepEqual(got, want.Issues) {
		t.Errorf("issues:\n got %v\nwant %v", got, want.Issues)
		for _, is := range rep.Issues {
			t.Log(is)
		}
	}
	if !rep.OK() || rep.Rows != want.Rows || len(file.Rows) != want.Rows {
		t.Fatalf("ok %v rows %d/%d", rep.OK(), rep.Rows, len(file.Rows))
	}
	checkNoPersonalData(t, rep, csv)
	by := map[string]register.Row{}
	for _, r := range file.Rows {
		by[r.MemberNumber] = r
	}
	for _, tc := range []struct {
		member, field, got, want string
	}{
		{"M001", "mobile", by["M001"].Mobile, "+447700900001"},
		{"M001", "employer", by["M001"].Employer, "Demo Transport Ltd"},
		{"M002", "mobile", by["M002"].Mobile, "+447700900002"},
		{"M002", "email (employer domain dropped)", by["M002"].Email, ""},
		{"M002", "employer (from the workplace)", by["M002"].Employer, "Demo Transport Ltd"},
		{"M003", "email (employer subdomain dropped)", by["M003"].Email, ""},
		{"M004", "mobile (work phone dropped)", by["M004"].Mobile, ""},
		{"M004", "email", by["M004"].Email, "dafydd@example.org"},
		{"M006", "workplace (any case)", by["M006"].Workplace.Name, "Cardiff Depot"},
		{"M006", "mobile (shared, kept)", by["M006"].Mobile, "+447700900001"},
		{"M007", "mobile (abroad, kept)", by["M007"].Mobile, "+33612345678"},
		{"M008", "employer (from the file)", by["M008"].Employer, "Gwent Buses Ltd"},
		{"M009", "employer (none)", by["M009"].Employer, ""},
		{"M010", "name (quoted comma)", by["M010"].Name, "Jones, Jac"},
		{"M010", "email (domain lower-cased)", by["M010"].Email, "JAC@example.org"},
		{"M010", "workplace (trimmed)", by["M010"].Workplace.ID, "cardiff-depot"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.member, tc.field, tc.got, tc.want)
		}
	}
	if file.SHA256 == [32]byte{} {
		t.Error("no digest")
	}
}

// Problems with the file as a whole give one clear file-level error.
func TestRegisterFileErrors(t *testing.T) {
	const header = "member_number,name,mobile,email,workplace,branch,employer\n"
	const row = "M1,A Member,07700900001,,Cardiff Depot,,\n"
	for _, tc := range []struct {
		name string
		in   []byte
		cfg  *election.Config // nil: registertest.Config()
		code string
		msg  string
	}{
		{"empty", nil, nil, "file.empty", "header row"},
		{"header only", []byte(header), nil, "file.no_members", "no members"},
		{"missing column", []byte("member_number,name,email,workplace\n" + "M1,A,,Cardiff Depot\n"), nil, "file.columns", "missing required columns: mobile"},
		{"unknown column", []byte("member_number,name,mobile,email,workplace,Phone Number\n"), nil, "file.columns", `unknown columns: "Phone Number"`},
		{"column twice", []byte("member_number,name,mobile,email,workplace,Name\n"), nil, "file.columns", "columns given twice: name"},
		{"no header row", []byte("M1,Aled Jones,07700900001,aled@example.org,Cardiff Depot\n"), nil, "file.columns",
			"is the header row missing?"},
		{"header with a stray cell", []byte("member_number,name,mobile,email,workplace,07700900001\n"), nil, "file.columns", "unknown columns: column 6"},
		{"utf-16", append([]byte{0xFF, 0xFE}, []byte("m\x00")...), nil, "file.utf16", "UTF-16"},
		{"header not utf-8", []byte("member_number,n\xe9m,mobile,email,workplace\n"), nil, "file.encoding", "UTF-8"},
		{"no workplaces", []byte(header + row), &election.Config{}, "config.no_workplaces", "no workplaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg == nil {
				cfg = registertest.Config()
			}
			file, rep := register.Parse(bytes.NewReader(tc.in), cfg.Workplaces, registertest.Policy())
			if rep.OK() || len(file.Rows) != 0 || len(rep.Issues) != 1 {
				t.Fatalf("report %+v", rep)
			}
			is := rep.Issues[0]
			if is.Line != 0 || is.Code != tc.code || !strings.Contains(is.Message, tc.msg) {
				t.Errorf("got %s (%s), want %s containing %q", is, is.Code, tc.code, tc.msg)
			}
		})
	}
	// Header names are matched ignoring case, spaces and dashes, and the
	// optional columns may be left out.
	_, rep := register.Parse(strings.NewReader(" Member-Number , NAME,Mobile,Employee,workplace\n"), registertest.Config().Workplaces, registertest.Policy())
	if rep.OK() || rep.Issues[0].Code != "file.columns" {
		t.Errorf("employee is not email: %v", rep.Issues)
	}
	// The usual other spellings of each column (issue 22).
	for _, header := range []string{
		"Membership No.,Full Name,Mobile number,E-mail address,Place of work",
		"MEMBER NUMBER , name , Mobile Phone , Email Address , Work place",
		"member_no,Member name,mobile_no,e_mail,workplace",
	} {
		file, rep := register.Parse(strings.NewReader(header+"\nM1,A Member,07700900001,a@example.org,Newport Office\n"), registertest.Config().Workplaces, registertest.Policy())
		if !rep.OK() || len(file.Rows) != 1 || file.Rows[0].Mobile != "+447700900001" || file.Rows[0].Email != "a@example.org" {
			t.Errorf("header %q: %v", header, rep.Issues)
		}
	}
	file, rep := register.Parse(strings.NewReader(" Member-Number , NAME,Mobile,Email,workplace\nM1,A Member,07700900001,,Newport Office\n"), registertest.Config().Workplaces, registertest.Policy())
	if !rep.OK() || len(file.Rows) != 1 {
		t.Errorf("optional columns: %v", rep.Issues)
	}
}

// A file larger than the bound is refused without reading all of it.
func TestRegisterTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 50 MiB")
	}
	header := "member_number,name,mobile,email,workplace\n"
	r := io.MultiReader(strings.NewReader(header), io.LimitReader(zeros{}, register.MaxBytes))
	file, rep := register.Parse(r, registertest.Config().Workplaces, registertest.Policy())
	if rep.OK() || len(file.Rows) != 0 || rep.Issues[len(rep.Issues)-1].Code != "file.too_large" {
		t.Fatalf("report %v", rep.Issues)
	}
}

// zeros reads as an endless field of "0".
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// Mobile numbers: normalised to E.164 (GB by default); UK numbers must be
// mobiles; drama numbers only when the policy allows them.
func TestRegisterMobiles(t *testing.T) {
	strict := registertest.Policy()
	strict.AllowFictionalNumbers = false
	for _, tc := range []struct {
		in   string
		pol  register.ContactPolicy
		want string // E.164, or the issue code
	}{
		{"07700 900123", registertest.Policy(), "+447700900123"},
		{"07700 900123", strict, "mobile.fictional"}, // Ofcom's drama range: no phone has it
		{"07911 123456", strict, "+447911123456"},
		{"+44 (0)7911 123456", strict, "+447911123456"}, // the UK "(0)" convention
		{"+44 7911 123456", strict, "+447911123456"},
		{"0044 7911 123456", strict, "+447911123456"},
		{"447911123456", strict, "+447911123456"},
		{"07911-123-456", strict, "+447911123456"},
		{"020 7946 0000", strict, "mobile.not_mobile"},
		{"0800 123 4567", strict, "mobile.not_mobile"},
		{"07624 123456", strict, "+447624123456"}, // Isle of Man mobile
		{"+353 87 123 4567", strict, "mobile.abroad"},
		{"+1 202 555 0143", strict, "mobile.abroad"}, // US: fixed line or mobile
		{"+33 1 42 68 53 00", strict, "mobile.not_mobile"},
		{"07911 123456 ext 5", strict, "mobile.characters"},
		{"0791112345", strict, "mobile.invalid"},
		{"+", strict, "mobile.invalid"},
		{"07700900999", registertest.Policy(), "mobile.work"},
	} {
		csv := "member_number,name,mobile,email,workplace\nM1,A Member," + tc.in + ",a@example.org,Cardiff Depot\n"
		file, rep := register.Parse(strings.NewReader(csv), registertest.Config().Workplaces, tc.pol)
		got := ""
		if len(rep.Issues) > 0 {
			got = rep.Issues[0].Code
		} else if len(file.Rows) == 1 {
			got = file.Rows[0].Mobile
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q (%v)", tc.in, got, tc.want, rep.Issues)
		}
	}
}

func TestRegisterEmails(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a@example.org", "a@example.org"},
		{"First.Last+tag@Example.ORG", "First.Last+tag@example.org"},
		{"a@example", "email.invalid"},
		{"a@[192.0.2.1]", "email.invalid"},
		{"<a@example.org>", "email.invalid"},
		{"a@example.org (home)", "email.invalid"},
		{"a@-example.org", "email.invalid"},
		{"a b@example.org", "email.invalid"},
		{"a@staff.demotransport.co.uk", "email.employer"},
		{"a@notdemotransport.co.uk", "a@notdemotransport.co.uk"},
	} {
		csv := "member_number,name,mobile,email,workplace\nM1,A Member,07700900001,\"" + tc.in + "\",Cardiff Depot\n"
		file, rep := register.Parse(strings.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
		got := ""
		if len(rep.Issues) > 0 {
			got = rep.Issues[0].Code
		} else if len(file.Rows) == 1 {
			got = file.Rows[0].Email
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func parseGood(t testing.TB, csv string) *register.File {
	t.Helper()
	file, rep := register.Parse(strings.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
	if !rep.OK() {
		t.Fatalf("parse: %v", rep.Issues)
	}
	return file
}

type regEntry struct {
	Member, Name, Mobile, Email, Style, Workplace, Branch, Employer string
	Paper                                                           *int32
}

func registerOf(t testing.TB, pool *pgxpool.Pool, ballotID int64) map[string]regEntry {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT r.member_id, r.style, r.workplace, m.branch, m.employer, r.paper_number
		FROM register_entries r JOIN members m ON m.id = r.member_id
		WHERE r.ballot_id = $1`, ballotID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byID := map[int64]regEntry{}
	for rows.Next() {
		var id int64
		var e regEntry
		if err := rows.Scan(&id, &e.Style, &e.Workplace, &e.Branch, &e.Employer, &e.Paper); err != nil {
			t.Fatal(err)
		}
		byID[id] = e
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Numbers, names, mobiles and emails are sealed (issue 21): read
	// through the register's store.
	lines, err := register.NewStore(pool, registertest.Key).Lines(context.Background(), ballotID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(byID) {
		t.Fatalf("%d register lines read through the store, %d in the table", len(lines), len(byID))
	}
	out := map[string]regEntry{}
	for _, l := range lines {
		e := byID[l.MemberID]
		e.Member, e.Name, e.Mobile, e.Email = l.Number, l.Name, l.Mobile, l.Email
		out[l.Number] = e
	}
	return out
}

func diffNumbers(es []register.DiffEntry) []string {
	var out []string
	for _, e := range es {
		s := e.MemberNumber
		if len(e.Fields) > 0 {
			s += ":" + strings.Join(e.Fields, ",")
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

const regHeader = "member_number,name,mobile,email,workplace,branch,employer\n"

var regFirst = regHeader +
	"M1,Aled Jones,07700900001,aled@example.org,Cardiff Depot,South Wales,\n" +
	"M2,Bethan Price,07700900002,,Swansea Depot,West Wales,\n" +
	"M3,Ceri Evans,,ceri@example.org,Newport Office,Gwent,Gwent Buses Ltd\n" +
	"M4,Dafydd Morgan,07700900004,,Cardiff Depot,South Wales,\n"

// Import, re-import with a diff, and the register that results.
func TestImportCommitAndDiff(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "happy", false)

	file := parseGood(t, regFirst)
	d, err := registertest.Preview(ctx, pool, f.BallotID, file)
	must(t, err)
	if got := diffNumbers(d.Added); !reflect.DeepEqual(got, []string{"M1", "M2", "M3", "M4"}) || len(d.Removed)+len(d.Changed) != 0 {
		t.Errorf("first preview: %+v", d)
	}
	d2, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file)
	must(t, err)
	if !reflect.DeepEqual(d, d2) {
		t.Errorf("commit applied %+v, preview said %+v", d2, d)
	}
	reg := registerOf(t, pool, f.BallotID)
	want := map[string]regEntry{
		"M1": {"M1", "Aled Jones", "+447700900001", "aled@example.org", "cardiff-depot", "Cardiff Depot", "South Wales", "Demo Transport Ltd", nil},
		"M2": {"M2", "Bethan Price", "+447700900002", "", "swansea-depot", "Swansea Depot", "West Wales", "Demo Transport Ltd", nil},
		"M3": {"M3", "Ceri Evans", "", "ceri@example.org", "newport-office", "Newport Office", "Gwent", "Gwent Buses Ltd", nil},
		"M4": {"M4", "Dafydd Morgan", "+447700900004", "", "cardiff-depot", "Cardiff Depot", "South Wales", "Demo Transport Ltd", nil},
	}
	if !reflect.DeepEqual(reg, want) {
		t.Errorf("register:\n got %+v\nwant %+v", reg, want)
	}

	// The import is in the audit log, with the file's digest and counts.
	var detail string
	must(t, pool.QueryRow(ctx, `SELECT detail::text FROM audit_log WHERE action = 'ballot.register_import' AND ballot_id = $1`, f.BallotID).Scan(&detail))
	if !strings.Contains(detail, `"added":4`) && !strings.Contains(detail, `"added": 4`) || !strings.Contains(detail, fmt.Sprintf("%x", file.SHA256)) || strings.Contains(detail, "Aled") {
		t.Errorf("audit detail %s", detail)
	}

	// The same file again changes nothing.
	d, err = registertest.Preview(ctx, pool, f.BallotID, file)
	must(t, err)
	if d.Unchanged != 4 || len(d.Added)+len(d.Removed)+len(d.Changed) != 0 {
		t.Errorf("same file: %+v", d)
	}

	// Re-import: M4 removed, M5 added, M1 new mobile, M2 moved, M3 renamed.
	second := regHeader +
		"M1,Aled Jones,07700900011,aled@example.org,Cardiff Depot,South Wales,\n" +
		"M2,Bethan Price,07700900002,,Cardiff Depot,West Wales,\n" +
		"M3,Ceri Evans-Price,,ceri@example.org,Newport Office,Gwent,Gwent Buses Ltd\n" +
		"M5,Eleri Hughes,07700900005,,Swansea Depot,West Wales,\n"
	file = parseGood(t, second)
	d, err = registertest.Preview(ctx, pool, f.BallotID, file)
	must(t, err)
	if got := diffNumbers(d.Added); !reflect.DeepEqual(got, []string{"M5"}) {
		t.Errorf("added %v", got)
	}
	if got := diffNumbers(d.Removed); !reflect.DeepEqual(got, []string{"M4"}) {
		t.Errorf("removed %v", got)
	}
	if got := diffNumbers(d.Changed); !reflect.DeepEqual(got, []string{"M1:mobile", "M2:workplace", "M3:name"}) {
		t.Errorf("changed %v", got)
	}
	_, err = registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file)
	must(t, err)
	reg = registerOf(t, pool, f.BallotID)
	if len(reg) != 4 || reg["M1"].Mobile != "+447700900011" || reg["M2"].Style != "swansea-depot" && reg["M2"].Style != "cardiff-depot" ||
		reg["M2"].Style != "cardiff-depot" || reg["M3"].Name != "Ceri Evans-Price" || reg["M5"].Style != "swansea-depot" {
		t.Errorf("register after re-import: %+v", reg)
	}
	if _, ok := reg["M4"]; ok {
		t.Error("M4 still on the register")
	}
	// M4 stays a member of the union (other ballots may hold them).
	var n int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE union_id = $1`, f.UnionID).Scan(&n))
	if n != 5 {
		t.Errorf("%d members, want 5", n)
	}

	// An aggregated ballot (s.228A) of the same union: style "all", and M1
	// is an existing member whose details the file would change.
	agg := f.NewBallot(t, "happy-agg", true)
	file = parseGood(t, regHeader+"M1,Aled Jones,07700900012,,Cardiff Depot,South Wales,\n")
	d, err = registertest.Commit(ctx, pool, "organiser:1", agg, file)
	must(t, err)
	if got := diffNumbers(d.Added); !reflect.DeepEqual(got, []string{"M1:mobile,email"}) {
		t.Errorf("added to aggregated: %v", got)
	}
	if reg := registerOf(t, pool, agg); reg["M1"].Style != register.AggregatedStyle || reg["M1"].Workplace != "Cardiff Depot" {
		t.Errorf("aggregated register: %+v", reg)
	}
}

// An import either happens entirely or not at all.
func TestImportAtomic(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "atomic", false)
	_, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regFirst))
	must(t, err)
	before := registerOf(t, pool, f.BallotID)

	// A file with no valid member (each row has an error): nothing is
	// imported.
	bad := regHeader +
		"M1,Aled Jones,07700900099,,Nowhere Depot,,\n" +
		"M6,,07700900006,,Cardiff Depot,,\n"
	file, rep := register.Parse(strings.NewReader(bad), registertest.Config().Workplaces, registertest.Policy())
	if rep.OK() || len(rep.Issues) != 3 || rep.Issues[2].Code != "file.no_valid_members" {
		t.Fatalf("report %v", rep.Issues)
	}
	if _, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file); !errors.Is(err, register.ErrInvalid) {
		t.Fatalf("commit: %v", err)
	}
	if after := registerOf(t, pool, f.BallotID); !reflect.DeepEqual(before, after) {
		t.Errorf("register changed: %+v", after)
	}

	// The database refuses a row half-way through the transaction (a
	// constraint added for the test): the members and the register are
	// exactly as before.
	_, err = pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE members ADD CONSTRAINT test_refuse_m6 CHECK (number_index <> '\x%x'::bytea)`, numberIndex("M6")))
	must(t, err)
	good := regHeader +
		"M1,Aled Jones,07700900099,,Cardiff Depot,,\n" +
		"M5,Eleri Hughes,07700900005,,Cardiff Depot,,\n" +
		"M6,Ffion Davies,07700900006,,Cardiff Depot,,\n" +
		"M7,Gareth Lewis,07700900007,,Cardiff Depot,,\n"
	if _, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, good)); err == nil {
		t.Fatal("commit succeeded")
	}
	if after := registerOf(t, pool, f.BallotID); !reflect.DeepEqual(before, after) {
		t.Errorf("register changed: %+v", after)
	}
	var n, audits int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE number_index = ANY($1)`, [][]byte{numberIndex("M5"), numberIndex("M7")}).Scan(&n))
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'ballot.register_import'`).Scan(&audits))
	if n != 0 || audits != 1 {
		t.Errorf("a failed import left %d members and %d audit entries (want 0 and 1)", n, audits)
	}
}

// The register is frozen once the ballot opens (s.227).
func TestImportRefusedAfterOpen(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "frozen", false)
	_, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regFirst))
	must(t, err)
	before := registerOf(t, pool, f.BallotID)
	for _, status := range []string{"open", "closed", "published"} {
		_, err = pool.Exec(ctx, `UPDATE ballots SET status = $2 WHERE id = $1`, f.BallotID, status)
		must(t, err)
		file := parseGood(t, regHeader+"M9,Iwan Thomas,07700900009,,Cardiff Depot,,\n")
		if _, err := registertest.Preview(ctx, pool, f.BallotID, file); !errors.Is(err, election.ErrNotDraft) {
			t.Errorf("%s: preview: %v", status, err)
		}
		if _, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file); !errors.Is(err, election.ErrNotDraft) {
			t.Errorf("%s: commit: %v", status, err)
		}
	}
	if after := registerOf(t, pool, f.BallotID); !reflect.DeepEqual(before, after) {
		t.Errorf("register changed: %+v", after)
	}
	if _, err := registertest.Commit(ctx, pool, "organiser:1", 999999, parseGood(t, regFirst)); !errors.Is(err, election.ErrNotFound) {
		t.Errorf("no ballot: %v", err)
	}
}

// A file checked against workplaces that changed since is refused; the
// preview warns of contact changes that reach an open ballot.
func TestImportStaleAndOpenBallots(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "stale", false)
	file := parseGood(t, regFirst)
	cfg := registertest.Config()
	cfg.Workplaces = cfg.Workplaces[:2] // Newport Office removed
	raw, _ := json.Marshal(cfg)
	_, err := pool.Exec(ctx, `UPDATE ballots SET config = $2 WHERE id = $1`, f.BallotID, raw)
	must(t, err)
	if _, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file); !errors.Is(err, register.ErrStale) {
		t.Fatalf("commit: %v", err)
	}

	// M1 and M2 are on the register of another ballot, which opens.
	other := f.NewBallot(t, "stale-other", false)
	_, err = registertest.Commit(ctx, pool, "organiser:1", other, parseGood(t, regHeader+
		"M1,Aled Jones,07700900001,aled@example.org,Cardiff Depot,South Wales,\n"+
		"M2,Bethan Price,07700900002,,Swansea Depot,West Wales,\n"))
	must(t, err)
	_, err = pool.Exec(ctx, `UPDATE ballots SET status = 'open' WHERE id = $1`, other)
	must(t, err)
	third := f.NewBallot(t, "stale-third", false)
	d, err := registertest.Preview(ctx, pool, third, parseGood(t, regHeader+
		"M1,Aled Jones,07700900021,aled@example.org,Cardiff Depot,South Wales,\n"+
		"M2,Bethan Price,07700900002,,Swansea Depot,West Wales,\n"))
	must(t, err)
	if got := diffNumbers(d.OpenBallots); !reflect.DeepEqual(got, []string{"M1:mobile"}) {
		t.Errorf("open ballots: %v", got)
	}
}

// FuzzParseRegister: the parser never panics, and what it accepts fits
// the schema.
func FuzzParseRegister(f *testing.F) {
	for _, name := range []string{"register_bad.csv", "register_good.csv"} {
		f.Add(registertest.File(f, name))
	}
	f.Add([]byte(regFirst))
	f.Add([]byte("member_number,name,mobile,email,workplace\n\"a\"\"b\",\"x\ny\",,,\n"))
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	// Warm phonenumbers' lazily compiled regexp cache: coverage of its
	// compilation is not reproducible and would send every input to
	// minimisation.
	for _, s := range []string{"07700900001", "+33612345678", "+12025550143", "02920123456", "07624123456", "+353871234567", "0800 123 4567"} {
		csv := regHeader + "M1,A," + s + ",,Cardiff Depot,,\n"
		register.Parse(strings.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, rep := register.Parse(bytes.NewReader(data), registertest.Config().Workplaces, registertest.Policy())
		if (rep.OK() && (len(file.Rows) != rep.Rows-rep.Skipped || len(file.Rows) == 0)) || (!rep.OK() && len(file.Rows) != 0) || (rep.Errors == 0 && rep.Skipped != 0) {
			t.Fatalf("inconsistent report: ok %v rows %d/%d", rep.OK(), len(file.Rows), rep.Rows)
		}
		seen := map[string]bool{}
		for _, r := range file.Rows {
			if r.MemberNumber == "" || len([]rune(r.MemberNumber)) > 64 || r.Name == "" || len([]rune(r.Name)) > 200 ||
				r.Mobile != "" && !e164.MatchString(r.Mobile) || len([]rune(r.Email)) > 254 || r.Workplace.ID == "" || seen[r.MemberNumber] {
				t.Fatalf("accepted a bad row: %+v", r)
			}
			seen[r.MemberNumber] = true
		}
		for _, is := range rep.Issues {
			if is.Line < 0 || is.Message == "" || is.Code == "" {
				t.Fatalf("bad issue %+v", is)
			}
		}
	})
}

// The fast path for the usual spellings of UK mobiles agrees with
// phonenumbers.Parse.
func TestRegisterMobileFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("member_number,name,mobile,email,workplace\n")
	var inputs []string
	for i := 0; i < 3000; i++ {
		nsn := fmt.Sprintf("7%09d", r.IntN(1_000_000_000))
		var s string
		switch i % 4 {
		case 0:
			s = "0" + nsn
		case 1:
			s = "+44 " + nsn[:4] + " " + nsn[4:]
		case 2:
			s = "0044-" + nsn
		case 3:
			s = "(0" + nsn[:4] + ") " + nsn[4:]
		}
		inputs = append(inputs, s)
		fmt.Fprintf(&b, "M%d,A Member,%s,,Cardiff Depot\n", i, s)
	}
	_, rep := register.Parse(strings.NewReader(b.String()), registertest.Config().Workplaces, register.ContactPolicy{})
	rejected := map[int]string{}
	for _, is := range rep.Issues {
		if is.Column == register.ColMobile {
			rejected[is.Line] = is.Code
		}
	}
	for i, s := range inputs {
		n, err := phonenumbers.Parse(s, "GB")
		want := err == nil && phonenumbers.GetNumberType(n) == phonenumbers.MOBILE
		if _, got := rejected[i+2]; got == want {
			t.Errorf("%q: accepted %v, phonenumbers says mobile %v", s, !got, want)
		}
	}
}

// Values echoed in messages (workplace, employer) are echoed only when
// they look like names of places or organisations.
func TestRegisterEchoesNoContacts(t *testing.T) {
	csv := regHeader +
		"M1,A Member,07700900001,,someone@example.org,,\n" +
		"M2,B Member,07700900002,,Cardiff Depot,,07700900001\n" +
		"M3,C Member,07700900003,,Bristol Depot,,\n"
	_, rep := register.Parse(strings.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
	if len(rep.Issues) != 4 || rep.Issues[3].Code != "file.no_valid_members" {
		t.Fatalf("issues %v", rep.Issues)
	}
	checkNoPersonalData(t, rep, []byte(csv))
	if !strings.Contains(rep.Issues[2].Message, `"Bristol Depot"`) {
		t.Errorf("workplace not echoed: %s", rep.Issues[2])
	}
}

// catalogue is the register's catalogue in lang.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every reason of the import report has a Welsh text: the reasons of the
// bad fixture, of file-level problems and of the header's columns, with
// their arguments; the English text is the issue's Message.
func TestRegisterReasonsInWelsh(t *testing.T) {
	cy := catalogue(t, "cy")
	var missing []string
	welsh := func(_, key string) string {
		s, ok := cy[key]
		if !ok {
			missing = append(missing, key)
			return key
		}
		return s
	}
	var issues []register.Issue
	_, rep := register.Parse(bytes.NewReader(registertest.File(t, "register_bad.csv")), registertest.Config().Workplaces, registertest.Policy())
	issues = append(issues, rep.Issues...)
	_, rep = register.Parse(strings.NewReader(regHeader+
		"M1,A Member,+353 87 123 4567,a@demotransport.co.uk,Newport Office,,\n"+
		"M2,B Member,07700 900999,,Newport Office,,Some Employer\n"), registertest.Config().Workplaces, registertest.Policy())
	issues = append(issues, rep.Issues...)
	for _, in := range []string{"", regHeader, "member_number,name,email,workplace,Phone Number,,name\n"} {
		_, rep := register.Parse(strings.NewReader(in), registertest.Config().Workplaces, registertest.Policy())
		issues = append(issues, rep.Issues...)
	}
	got := map[string]string{}
	for _, is := range issues {
		if is.Msg.Key == "" {
			t.Errorf("%s: no catalogue key: %s", is.Code, is)
			continue
		}
		if en := register.English(is.Msg); en != is.Message {
			t.Errorf("%s: English %q, Message %q", is.Code, en, is.Message)
		}
		s := is.Msg.In(welsh, "cy")
		if s == is.Message || strings.Contains(s, "%!") {
			t.Errorf("%s: Welsh text %q (English %q)", is.Code, s, is.Message)
		}
		got[is.Code] += s + "\n"
	}
	if len(missing) > 0 {
		t.Errorf("keys missing in Welsh: %v", missing)
	}
	for code, want := range map[string]string{
		"member_number.duplicate": "mae rhif aelod M001 ar linell 2 ac ar linell 4",
		"workplace.unknown":       `nid yw'r gweithle "Bristol Depot" yn un o weithleoedd y bleidlais`,
		"employer.mismatch":       `mae'r cyflogwr "Other Buses Ltd" yn wahanol i'r cyflogwr a osodwyd ar gyfer y gweithle "Cardiff Depot"`,
		"employer.missing":        "(a.226A)",
		"name.too_long":           "mae'r maes name yn hwy na 200 nod",
		"row.csv":                 "nid yw'r rhes yn CSV dilys: ",
		"mobile.abroad":           "nid rhif yn y DU sydd yn y maes mobile",
		"mobile.work":             "ffôn gwaith sydd yn y maes mobile",
		"email.employer":          "ar barth cyflogwr",
		"file.empty":              "mae'r ffeil yn wag",
		"file.no_members":         "mae rhes pennawd yn y ffeil ond dim aelodau",
		"file.columns": `mae'r rhes pennawd yn anghywir (colofnau gofynnol ar goll: mobile; ` +
			`colofnau anhysbys: "Phone Number", colofn 6; colofnau a roddwyd ddwywaith: name)`,
	} {
		if !strings.Contains(got[code], want) {
			t.Errorf("%s: Welsh %q, want %q", code, got[code], want)
		}
	}
}

// The unknown columns of a header are listed up to 20, then counted.
func TestRegisterUnknownColumnsListed(t *testing.T) {
	var h strings.Builder
	h.WriteString("member_number,name,mobile,email,workplace")
	for range 25 {
		h.WriteString(",")
	}
	_, rep := register.Parse(strings.NewReader(h.String()+"\n"), registertest.Config().Workplaces, registertest.Policy())
	if len(rep.Issues) != 1 || !strings.Contains(rep.Issues[0].Message, "unknown columns: column 6, column 7, ") ||
		!strings.Contains(rep.Issues[0].Message, ", column 25 and 5 more)") {
		t.Fatalf("issues %v", rep.Issues)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A 1,000-row register in a membership system's header spellings, with
// two rows of every kind of bad row (issue 22): every valid member is
// imported; each bad row is listed with its line and reason; a row with an
// error is left out; a member with an unusable contact is imported
// without it (with no contact left, for a postal pack), Ofcom's drama
// range included.
func TestImportThousandRows(t *testing.T) {
	csv := registertest.Thousand("Cardiff Depot", "Demo Transport Ltd")
	file, rep := register.Parse(bytes.NewReader(csv), registertest.Config().Workplaces, registertest.ThousandPolicy())
	if !rep.OK() || rep.Rows != 1000 {
		t.Fatalf("ok %v rows %d: %v", rep.OK(), rep.Rows, rep.Issues[:min(5, len(rep.Issues))])
	}
	byLine := map[int][]string{}
	for _, is := range rep.Issues {
		byLine[is.Line] = append(byLine[is.Line], is.Code)
		if is.Message == "" {
			t.Errorf("line %d: an issue without a reason", is.Line)
		}
	}
	skipped, postal := 0, 0
	var byLineBad []int
	for n := 0; n < 2*len(registertest.BadKinds); n++ {
		k, line := registertest.BadKinds[n%len(registertest.BadKinds)], registertest.ThousandLine(n)
		byLineBad = append(byLineBad, line)
		code := strings.TrimSuffix(k.Code, "+email")
		if !slices.Contains(byLine[line], code) {
			t.Errorf("line %d (%s): issues %v", line, k.Code, byLine[line])
		}
		if k.Skipped {
			skipped++
		}
		if k.Postal {
			postal++
			if !slices.Contains(byLine[line], "contact.none") {
				t.Errorf("line %d (%s): not routed to the postal pack: %v", line, k.Code, byLine[line])
			}
		}
		delete(byLine, line)
	}
	if len(byLine) != 0 {
		t.Errorf("issues on good rows: %v", byLine)
	}
	if rep.Skipped != skipped || len(file.Rows) != 1000-skipped || rep.Importable() != len(file.Rows) {
		t.Fatalf("skipped %d, imported %d; want %d and %d", rep.Skipped, len(file.Rows), skipped, 1000-skipped)
	}
	noContact, emailOnly := 0, 0
	for _, r := range file.Rows {
		if want := registertest.ThousandLanguage(r.Line); !slices.Contains(byLineBad, r.Line) && r.Language != want {
			t.Errorf("line %d: language %q, want %q", r.Line, r.Language, want)
		}
		switch {
		case r.Mobile == "" && r.Email == "":
			noContact++
		case r.Mobile == "":
			emailOnly++
		}
	}
	if noContact != postal || emailOnly != 2 {
		t.Errorf("%d members without contact (want %d), %d with an email only (want 2)", noContact, postal, emailOnly)
	}
	checkNoPersonalData(t, rep, csv)

	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "thousand", false)
	d, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file)
	must(t, err)
	var entries int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, f.BallotID).Scan(&entries))
	if len(d.Added) != 1000-skipped || entries != 1000-skipped {
		t.Errorf("committed %d added, %d entries; want %d", len(d.Added), entries, 1000-skipped)
	}
}
