// Package registertest is the test kit of registers: the register tests'
// ballot configuration and contact policy, a draft ballot in a test
// database to import into, the register files of testdata/, and an import
// as the register page does it.
package registertest

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
)

//go:embed testdata
var testdata embed.FS

// Key is the EBALLOT_SECRET_KEY of the kit's stores.
var Key = []byte("0123456789abcdef0123456789abcdef")

// Config is the ballot configuration of the register tests: two depots of
// one employer and an office whose employer is not configured.
func Config() *election.Config {
	return &election.Config{
		Questions: []election.Question{election.StrikeQuestion},
		Texts:     map[string]string{"authorised_person": "The General Secretary"},
		Workplaces: []register.Workplace{
			{ID: "cardiff-depot", Name: "Cardiff Depot", Employer: "Demo Transport Ltd"},
			{ID: "swansea-depot", Name: "Swansea Depot", Employer: "Demo Transport Ltd"},
			{ID: "newport-office", Name: "Newport Office"},
		},
	}
}

// Policy is the union's contact policy of the register tests. The mobiles
// of the fixtures are in Ofcom's drama range (07700 900xxx).
func Policy() register.ContactPolicy {
	return register.ContactPolicy{
		EmployerEmailDomains:  []string{"@demotransport.co.uk"},
		WorkPhoneNumbers:      []string{"07700 900999"},
		AllowFictionalNumbers: true,
	}
}

// File returns testdata/name (register_good.csv, register_bad.csv and
// the expected reports register_good.json, register_bad.json).
func File(t testing.TB, name string) []byte {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Union is a union in a test database with a draft ballot.
type Union struct {
	Pool     *pgxpool.Pool
	UnionID  int64
	BallotID int64
}

// New creates a union with Policy and a draft industrial action ballot
// with Config, opening on 14 December 2026. SQL names its columns: the
// schema grows meanwhile.
func New(t testing.TB, pool *pgxpool.Pool, slug string, aggregated bool) *Union {
	t.Helper()
	ctx := context.Background()
	f := &Union{Pool: pool}
	pol := Policy()
	err := pool.QueryRow(ctx, `
		INSERT INTO unions (slug, name, employer_email_domains, work_phone_numbers)
		VALUES ($1, 'Test Workers'' Union', $2, $3) RETURNING id`,
		slug, pol.EmployerEmailDomains, pol.WorkPhoneNumbers).Scan(&f.UnionID)
	if err != nil {
		t.Fatal(err)
	}
	f.BallotID = f.NewBallot(t, slug+"-ballot", aggregated)
	return f
}

// NewBallot creates another draft ballot of the union.
func (f *Union) NewBallot(t testing.TB, electionID string, aggregated bool) int64 {
	t.Helper()
	cfg, err := json.Marshal(Config())
	if err != nil {
		t.Fatal(err)
	}
	agg, ground := "separate", (*string)(nil)
	if aggregated {
		g := "s228A(4)"
		agg, ground = "aggregated", &g
	}
	var id int64
	err = f.Pool.QueryRow(context.Background(), `
		INSERT INTO ballots (union_id, election_id, title, kind, config, aggregation, s228a_ground, scrutineer_name, opens_at, closes_at)
		VALUES ($1, $2, 'Pay 2026: industrial action ballot', 'industrial_action', $3, $4, $5, 'Independent Scrutineer Ltd',
		        '2026-12-14 09:00:00+00', '2026-12-28 12:00:00+00')
		RETURNING id`, f.UnionID, electionID, cfg, agg, ground).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Preview previews file against the ballot as the register page does: the
// ballot's facts from the election module's store.
func Preview(ctx context.Context, pool *pgxpool.Pool, ballotID int64, file *register.File) (*register.Diff, error) {
	b, err := election.NewStore(pool).ImportBallot(ctx, nil, ballotID, false)
	if err != nil {
		return nil, err
	}
	return register.NewStore(pool, Key).Preview(ctx, b, file)
}

// Commit commits file as the register page does.
func Commit(ctx context.Context, pool *pgxpool.Pool, actor string, ballotID int64, file *register.File) (*register.Diff, error) {
	return register.NewStore(pool, Key).Commit(ctx, election.NewStore(pool), actor, ballotID, file)
}

// Import parses csv against Config and Policy and commits it to the
// ballot's register, failing the test on any issue.
func Import(t testing.TB, pool *pgxpool.Pool, ballotID int64, csv []byte) {
	t.Helper()
	file, rep := register.Parse(bytes.NewReader(csv), Config().Workplaces, Policy())
	if !rep.OK() {
		t.Fatalf("register: %v", rep.Issues)
	}
	if _, err := Commit(context.Background(), pool, "organiser:1", ballotID, file); err != nil {
		t.Fatal(err)
	}
}

// BadKinds are the kinds of bad row of [Thousand], by the issue code they
// give; Skipped says whether the row is left out (an error) or imported
// (a warning: the member without the unusable contact).
var BadKinds = []struct {
	Code    string
	Skipped bool
	// Postal: the member is imported with no contact left (a postal pack).
	Postal bool
}{
	{"member_number.missing", true, false}, {"member_number.duplicate", true, false},
	{"member_number.too_long", true, false}, {"member_number.control", true, false},
	{"name.missing", true, false}, {"name.too_long", true, false}, {"name.control", true, false},
	{"workplace.missing", true, false}, {"workplace.unknown", true, false},
	{"employer.mismatch", true, false}, {"employer.too_long", true, false}, {"branch.too_long", true, false},
	{"row.columns", true, false}, {"row.encoding", true, false}, {"row.csv", true, false},
	{"mobile.characters", false, true}, {"mobile.invalid", false, true}, {"mobile.not_mobile", false, true},
	{"mobile.fictional", false, true}, {"mobile.work", false, true},
	{"email.invalid", false, true}, {"email.too_long", false, true}, {"email.employer", false, true},
	{"contact.none", false, true},
	{"mobile.shared", false, false},
	{"mobile.invalid+email", false, false}, // an unusable mobile, a good email: imported with the email
	{"language.unknown", false, false},     // neither English nor Welsh: imported with no preferred language
}

// ThousandLanguage is the preferred language [Thousand] gives the good
// row on line ("", "en" or "cy").
func ThousandLanguage(line int) string { return []string{"", "cy", "en", "cy", "cy"}[line%5] }

// ThousandPolicy is the contact policy of [Thousand]: production's (no
// drama range), with an employer domain and a work phone.
func ThousandPolicy() register.ContactPolicy {
	return register.ContactPolicy{EmployerEmailDomains: []string{"@demotransport.co.uk"}, WorkPhoneNumbers: []string{"07911 000999"}}
}

// ThousandLine is the file line (1 = header) of the n-th bad row (0-based)
// of [Thousand]: two rows of each of [BadKinds], spread through the file.
func ThousandLine(n int) int { return 18*n + 5 }

// Thousand is a register file of 1,000 members in the usual header
// spellings of a membership system's export ("Membership No.", "Mobile
// number" …), at workplace (of employer), with two rows of each kind of
// [BadKinds] at ThousandLine(0), ThousandLine(1) …, and a preferred
// language (ThousandLanguage) on the good rows.
func Thousand(workplace, employer string) []byte {
	var b bytes.Buffer
	b.WriteString("Membership No.,Full Name,Mobile number,E-mail address,Workplace,Branch,Employer,Preferred language\n")
	bad := map[int]int{}
	for n := 0; n < 2*len(BadKinds); n++ {
		bad[ThousandLine(n)] = n % len(BadKinds)
	}
	long := strings.Repeat("A", 300)
	for line := 2; line <= 1001; line++ {
		num, name, mobile, email := fmt.Sprintf("T%05d", line), fmt.Sprintf("Member %d", line), fmt.Sprintf("07911 %06d", 100000+line), ""
		wp, branch, emp := workplace, "Branch", employer
		lang := []string{"", "Welsh", "English", "cy", "Cymraeg"}[line%5]
		k, isBad := bad[line]
		if !isBad {
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s\n", num, name, mobile, email, wp, branch, emp, lang)
			continue
		}
		lang = ""
		switch BadKinds[k].Code {
		case "member_number.missing":
			num = ""
		case "member_number.duplicate":
			num = "T00002"
		case "member_number.too_long":
			num = "T" + long
		case "member_number.control":
			num = "T\t1"
		case "name.missing":
			name = ""
		case "name.too_long":
			name = long
		case "name.control":
			name = "Member\u0007"
		case "workplace.missing":
			wp = ""
		case "workplace.unknown":
			wp = "Nowhere Depot"
		case "employer.mismatch":
			emp = "Other Buses Ltd"
		case "employer.too_long":
			emp = long
		case "branch.too_long":
			branch = long
		case "row.columns":
			fmt.Fprintf(&b, "%s,%s\n", num, name)
			continue
		case "row.encoding":
			name = "Member \xff"
		case "row.csv":
			name = `Member "Nickname" Jones`
		case "mobile.characters":
			mobile = "call me"
		case "mobile.invalid":
			mobile = "07123"
		case "mobile.not_mobile":
			mobile = "029 2012 3456"
		case "mobile.fictional":
			mobile = "07700 900123"
		case "mobile.work":
			mobile = "07911 000999"
		case "email.invalid":
			mobile, email = "", "member@@example.org"
		case "email.too_long":
			mobile, email = "", long+"@example.org"
		case "email.employer":
			mobile, email = "", "member@demotransport.co.uk"
		case "contact.none":
			mobile = ""
		case "mobile.shared":
			mobile = "07911 100002" // the member of line 2's
		case "mobile.invalid+email":
			mobile, email = "07123", fmt.Sprintf("member%d@example.org", line)
		case "language.unknown":
			lang = "Klingon"
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s\n", num, name, mobile, email, wp, branch, emp, lang)
	}
	return b.Bytes()
}

// Contacts reads members' current contacts through the register's store
// (mobiles and emails are sealed at rest), under [Key] (the fixtures'
// EBALLOT_SECRET_KEY, also electiontest.SecretKey).
func Contacts(t testing.TB, pool *pgxpool.Pool, ids ...int64) map[int64]register.Contact {
	t.Helper()
	c, err := register.NewStore(pool, Key).CurrentContacts(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Mobile is a member's current mobile ("" none), read as [Contacts].
func Mobile(t testing.TB, pool *pgxpool.Pool, id int64) string {
	t.Helper()
	return Contacts(t, pool, id)[id].Mobile
}
