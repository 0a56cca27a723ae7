package election_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A draft cannot open until every statutory precondition is met, and the
// refusal lists every missing one at once.
func TestOpenRefusesWithEveryReason(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "refuse", Members: 4})
	err := b.Admin.Open(ctx, "scrutineer:1", b.ID)
	var ore *election.OpenRefusedError
	if !errors.As(err, &ore) {
		t.Fatalf("open: %v", err)
	}
	text := err.Error()
	for _, want := range []string{"appoint the independent scrutineer (s.226B)", "security assessment", "trustees' public key file", "s.226A notice",
		"record the scrutineer's result signing key", "the scrutineer must approve the voting paper", "the scrutineer must confirm that the s.229(4) statement"} {
		if !strings.Contains(text, want) {
			t.Errorf("refusal lacks %q: %s", want, text)
		}
	}
	// Notices sent only 2 days ago: too late for the 7-day rule (s.226A).
	file, _, _ := electiontest.Trustees(t, 3, 2)
	now := time.Now()
	must(t, b.Admin.AppointScrutineer(ctx, "s", b.ID, "Scrutineer Ltd", false))
	must(t, b.Admin.SignOffSecurityAssessment(ctx, "s", b.ID, "A. Assessor"))
	must(t, b.Admin.SetTrustees(ctx, "s", b.ID, file))
	must(t, b.Admin.RecordEmployerNotices(ctx, "s", b.ID, now.AddDate(0, 0, -2), now.AddDate(0, 0, -4)))
	must(t, b.Admin.SetScrutineerKey(ctx, "s", b.ID, electiontest.ScrutineerKey(t)))
	electiontest.Approve(t, b.Admin, b.ID)
	err = b.Admin.Open(ctx, "s", b.ID)
	if !errors.As(err, &ore) || len(ore.Reasons) != 1 || !strings.Contains(err.Error(), "at least 7 days before the opening day") {
		t.Fatalf("notice period: %v", err)
	}
	// s.226C: exemption only for ≤ 50 entitled in an IA ballot.
	must(t, b.Admin.AppointScrutineer(ctx, "s", b.ID, "", true))
	must(t, b.Admin.RecordEmployerNotices(ctx, "s", b.ID, now.AddDate(0, 0, -8), now.AddDate(0, 0, -8)))
	// The paper named the scrutineer (s.229(1A)(a)): the approval is stale.
	if err := b.Admin.Open(ctx, "s", b.ID); !errors.As(err, &ore) || len(ore.Reasons) != 1 || !strings.Contains(err.Error(), "voting paper has changed since scrutineer:test approved it") {
		t.Fatalf("stale approval: %v", err)
	}
	electiontest.Approve(t, b.Admin, b.ID)
	must(t, b.Admin.Open(ctx, "s", b.ID)) // 4 members: exempt
}

func TestSmallBallotExemptionLimit(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "big", Members: 51})
	file, _, _ := electiontest.Trustees(t, 3, 2)
	must(t, b.Admin.AppointScrutineer(ctx, "s", b.ID, "", true))
	must(t, b.Admin.SignOffSecurityAssessment(ctx, "s", b.ID, "A"))
	must(t, b.Admin.SetTrustees(ctx, "s", b.ID, file))
	must(t, b.Admin.RecordEmployerNotices(ctx, "s", b.ID, time.Now().AddDate(0, 0, -9), time.Now().AddDate(0, 0, -9)))
	if err := b.Admin.Open(ctx, "s", b.ID); err == nil || !strings.Contains(err.Error(), "at most 50 entitled") {
		t.Fatalf("51 members opened without a scrutineer: %v", err)
	}
}

func TestOpenFreezesRegisterAndManifest(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "open-1", Members: 7, Ledger: led, Open: true})

	// Voting-paper numbers 1..N, no gaps, no duplicates (s.229(1A)(c)).
	var n, min, max, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), min(paper_number), max(paper_number), count(DISTINCT paper_number)
		FROM register_entries WHERE ballot_id = $1`, b.ID).Scan(&n, &min, &max, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 7 || min != 1 || max != 7 || distinct != 7 {
		t.Fatalf("paper numbers: n=%d min=%d max=%d distinct=%d", n, min, max, distinct)
	}
	// The manifest went to the ledger, canonical, with two styles (s.228) and
	// the regime's verbatim s.229(4) statement.
	if len(led.Manifests) != 1 {
		t.Fatalf("ledger got %d manifests", len(led.Manifests))
	}
	raw := led.Manifests["0"]
	var m struct {
		ElectionID string            `json:"election_id"`
		Texts      map[string]string `json:"texts"`
		Styles     []struct {
			ID       string `json:"id"`
			Entitled int    `json:"entitled"`
		} `json:"styles"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	reg, _ := election.RegimeFor(time.Now())
	if m.ElectionID != "open-1" || len(m.Styles) != 2 || m.Styles[0].Entitled+m.Styles[1].Entitled != 7 ||
		m.Texts["s229_4"] != reg.Texts["s229_4"].Text || m.Texts["scrutineer"] != "Independent Scrutineers Ltd" {
		t.Fatalf("manifest: %s", raw)
	}
	// Frozen: configuration and register cannot change after open.
	err := b.Admin.Configure(ctx, "staff:1", b.ID, election.BallotSetup{Title: "x", Kind: "other", Config: electiontest.IAConfig()})
	if !errors.Is(err, election.ErrNotDraft) {
		t.Fatalf("configure after open: %v", err)
	}
	if err := b.Admin.SetTrustees(ctx, "staff:1", b.ID, []byte(`{}`)); err == nil {
		t.Fatal("trustees changed after open")
	}
	// Open again is idempotent (finishes a hand-over); close, then close again.
	must(t, b.Admin.Open(ctx, "s", b.ID))
	must(t, b.Admin.Close(ctx, "s", b.ID, "test: closed early to count"))
	must(t, b.Admin.Close(ctx, "s", b.ID, "test: closed early to count"))
	if !led.Closed["open-1"] {
		t.Fatal("ledger not closed")
	}
	if err := b.Admin.Open(ctx, "s", b.ID); !errors.Is(err, election.ErrWrongStatus) {
		t.Fatalf("reopen after close: %v", err)
	}
	// Every step is in the audit log, and the chain verifies.
	if n, err := audit.Verify(ctx, pool); err != nil || n < 7 {
		t.Fatalf("audit: %d %v", n, err)
	}
}

func TestAggregatedBallotHasOneStyle(t *testing.T) {
	pool := pgtest.NewDB(t)
	led := electiontest.NewLedger()
	electiontest.New(t, pool, electiontest.Options{ElectionID: "agg", Members: 5, Aggregated: true, Ledger: led, Open: true})
	var m struct {
		Styles []struct{ ID string } `json:"styles"`
	}
	if err := json.Unmarshal(led.Manifests["0"], &m); err != nil || len(m.Styles) != 1 || m.Styles[0].ID != "all" {
		t.Fatalf("aggregated styles: %+v %v", m, err)
	}
}

func TestConfigValidation(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "cfg"})
	bad := electiontest.IAConfig()
	bad.Questions = nil
	err := b.Admin.Configure(context.Background(), "s", b.ID, election.BallotSetup{Title: "t", Kind: "industrial_action", Config: bad})
	if !errors.Is(err, election.ErrInvalid) {
		t.Fatalf("no questions accepted: %v", err)
	}
	err = b.Admin.Configure(context.Background(), "s", b.ID, election.BallotSetup{Title: "t", Kind: "industrial_action",
		Config: electiontest.IAConfig(), Aggregated: true})
	if !errors.Is(err, election.ErrInvalid) || !strings.Contains(err.Error(), "s.228A ground") {
		t.Fatalf("aggregated without ground: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
