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
		Questions: []election.Question{election.YesNo("strike", "Are you prepared to take part in a strike?")},
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
