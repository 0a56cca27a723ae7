// Package electiontest builds real ballots in a test database: a union,
// members on a register, a trustees' key from a real key ceremony, and an
// opened ballot with its manifest and issuer keys.
package electiontest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
)

// SecretKey is the EBALLOT_SECRET_KEY of test fixtures.
var SecretKey = []byte("0123456789abcdef0123456789abcdef")

// Ledger is an in-memory stand-in for the ledger's hand-over interface,
// recording what election sends it. (Tests of the whole path use the real
// internal/ledger.)
type Ledger struct {
	mu        sync.Mutex
	Manifests map[string][]byte
	Closed    map[string]bool
}

// NewLedger returns an empty recording ledger.
func NewLedger() *Ledger { return &Ledger{Manifests: map[string][]byte{}, Closed: map[string]bool{}} }

// LogKey returns a fixed, well-formed note verifier key.
func (l *Ledger) LogKey(ctx context.Context, electionID string) (string, error) {
	return "eballot/" + electionID + "+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil
}

// OpenElection records the manifest.
func (l *Ledger) OpenElection(ctx context.Context, manifest []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Manifests[fmt.Sprint(len(l.Manifests))] = manifest
	return nil
}

// CloseElection records the close.
func (l *Ledger) CloseElection(ctx context.Context, electionID string, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Closed[electionID] = true
	return nil
}

// Trustees runs a real k-of-n key ceremony and returns the public key file
// and each trustee's secret share (index j-1).
func Trustees(t testing.TB, n, k int) ([]byte, *threshold.PublicKey, []*threshold.SecretShare) {
	t.Helper()
	const ceremony = "test-ceremony"
	var dealings []*threshold.Dealing
	shares := make([][]*threshold.Share, n+1) // shares[recipient]
	for i := 1; i <= n; i++ {
		d, ss, err := threshold.Deal(rand.Reader, ceremony, n, k, i)
		if err != nil {
			t.Fatal(err)
		}
		dealings = append(dealings, d)
		for _, s := range ss {
			shares[s.Recipient] = append(shares[s.Recipient], s)
		}
	}
	var secrets []*threshold.SecretShare
	var pub *threshold.PublicKey
	for j := 1; j <= n; j++ {
		pk, sk, err := threshold.Finalise(ceremony, n, k, dealings, j, shares[j])
		if err != nil {
			t.Fatal(err)
		}
		pub = pk
		secrets = append(secrets, sk)
	}
	file, err := pub.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return file, pub, secrets
}

// Options shape a fixture ballot.
type Options struct {
	ElectionID string
	Members    int // on the register, alternating between two workplaces
	Aggregated bool
	Ledger     election.Ledger // default: a recording Ledger
	Open       bool            // open the ballot
	// Ready makes the ballot ready to open (scrutineer, assessment,
	// trustees, s.226A notices ten days ago, the scrutineer's signing key,
	// the s.229(4) wording confirmed and the voting paper approved) without
	// opening it: the test presses Open itself.
	Ready bool
	// OpensAt is the notified opening (default an hour ago). Open pressed
	// before it schedules the opening (status "scheduled").
	OpensAt time.Time
	// ScrutineerKey, if set, is the scrutineer's result signing key (a note
	// verifier key) recorded before the ballot opens; default a fresh one
	// (the opening checklist needs one).
	ScrutineerKey string
	// Member, if set, gives member i's name, mobile and email (default
	// "Member i+1", a drama-range mobile, no email); the contacts are
	// frozen at open, so set them here rather than after.
	Member func(i int) (name, mobile, email string)
	// Welsh makes the paper bilingual (IAConfig with WelshTexts).
	Welsh bool
	// PaperToEveryone makes it a hybrid ballot sent to everyone: every
	// member gets a postal pack (Config.PaperToEveryone). Opened with an
	// OpensAt in the past, the fixture presses Open a minute before it
	// (the ballot is scheduled, as the checklist asks) and runs the
	// scheduler.
	PaperToEveryone bool
}

// WelshTexts makes c bilingual: the Welsh title and texts of a fixture
// ballot (the questions carry their own Welsh).
func WelshTexts(c *election.Config) {
	c.Bilingual = true
	c.TitleCy = "Pleidlais brawf"
	c.TextsCy = map[string]string{
		"dispute_summary":   "Cyflog ar gyfer 2026.",
		"types_of_action":   "Gwaharddiad ar oramser.",
		"period":            "Ionawr i Fehefin 2027.",
		"authorised_person": "Yr Ysgrifennydd Cyffredinol.",
	}
}

// Ballot is a fixture ballot.
type Ballot struct {
	ID         int64
	ElectionID string
	UnionID    int64
	MemberIDs  []int64
	Pool       *pgxpool.Pool
	Store      *election.Store // the ballots' store
	Register   *register.Store // the registers' store
	Admin      *election.Admin
	Ledger     election.Ledger
	Trustees   *threshold.PublicKey
	Shares     []*threshold.SecretShare
	// Welsh: made with Options.Welsh (UnionElectionDraft keeps the
	// paper bilingual).
	Welsh bool
}

// OpenedAt is when the ballot opened (zero if it has not).
func (b *Ballot) OpenedAt() time.Time {
	var t *time.Time
	_ = b.Pool.QueryRow(context.Background(), `SELECT opened_at FROM ballots WHERE id = $1`, b.ID).Scan(&t)
	if t == nil {
		return time.Time{}
	}
	return *t
}

// IAConfig is a two-question industrial action configuration over two
// workplaces.
func IAConfig() election.Config {
	return election.Config{
		Questions: []election.Question{
			election.StrikeQuestion,
			election.ASOSQuestion,
		},
		Texts: map[string]string{
			"dispute_summary":   "Pay for 2026.",
			"types_of_action":   "Overtime ban.",
			"period":            "January to June 2027.",
			"authorised_person": "The General Secretary.",
		},
		Workplaces: []register.Workplace{
			{ID: "north-depot", Name: "North Depot", Employer: "Acme Transport Ltd"},
			{ID: "south-depot", Name: "South Depot", Employer: "Acme Transport Ltd"},
		},
	}
}

// New creates a union, members and a ballot, and opens it if asked.
func New(t testing.TB, pool *pgxpool.Pool, o Options) *Ballot {
	t.Helper()
	ctx := context.Background()
	EVoting(t)
	if o.ElectionID == "" {
		o.ElectionID = "test-ballot"
	}
	if o.Ledger == nil {
		o.Ledger = NewLedger()
	}
	reg := register.NewStore(pool, SecretKey)
	b := &Ballot{ElectionID: o.ElectionID, Ledger: o.Ledger, Welsh: o.Welsh, Pool: pool, Store: election.NewStore(pool, election.RegisterCounter(reg)), Register: reg}
	b.Admin = election.NewAdmin(b.Store, b.Register, SecretKey, o.Ledger)
	if err := pool.QueryRow(ctx, `INSERT INTO unions (slug, name) VALUES ($1, 'Test Union') RETURNING id`, "u-"+o.ElectionID).Scan(&b.UnionID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	opens := o.OpensAt
	if opens.IsZero() {
		opens = now.Add(-time.Hour)
	}
	closes := now.Add(7 * 24 * time.Hour)
	if !closes.After(opens) {
		closes = opens.Add(7 * 24 * time.Hour)
	}
	setup := election.BallotSetup{Title: "Test ballot", Kind: "industrial_action", OpensAt: opens,
		ClosesAt: closes, Config: IAConfig()}
	if o.Welsh {
		WelshTexts(&setup.Config)
	}
	setup.Config.PaperToEveryone = o.PaperToEveryone
	if o.Aggregated {
		setup.Aggregated, setup.S228AGround = true, "s228A(4)"
	}
	id, err := b.Admin.CreateBallot(ctx, "staff:test", b.UnionID, o.ElectionID, setup)
	if err != nil {
		t.Fatal(err)
	}
	b.ID = id
	for i := 0; i < o.Members; i++ {
		w := setup.Config.Workplaces[i%2]
		var mid int64
		name, mobile, email := fmt.Sprintf("Member %d", i+1), fmt.Sprintf("+4477009%05d", i%100000), ""
		if o.Member != nil {
			name, mobile, email = o.Member(i)
		}
		if err := pool.QueryRow(ctx, `INSERT INTO members (union_id, member_number, name, mobile, email, workplace)
			VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), $6) RETURNING id`, b.UnionID, fmt.Sprintf("M%06d", i+1), name,
			mobile, email, w.Name).Scan(&mid); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style, workplace) VALUES ($1, $2, $3, $4)`,
			id, mid, register.StyleFor(o.Aggregated, w), w.Name); err != nil {
			t.Fatal(err)
		}
		b.MemberIDs = append(b.MemberIDs, mid)
	}
	// The members were written straight into the table: their blind
	// indexes are computed as the service does on startup.
	if _, err := reg.IndexMembers(ctx); err != nil {
		t.Fatal(err)
	}
	if !o.Open && !o.Ready {
		return b
	}
	file, pub, shares := Trustees(t, 3, 2)
	b.Trustees, b.Shares = pub, shares
	must(t, b.Admin.AppointScrutineer(ctx, "staff:test", id, "Independent Scrutineers Ltd", false))
	must(t, b.Admin.SignOffSecurityAssessment(ctx, "staff:test", id, "A. Assessor"))
	must(t, b.Admin.SetTrustees(ctx, "staff:test", id, file))
	must(t, b.Admin.RecordEmployerNotices(ctx, "staff:test", id, now.AddDate(0, 0, -10), now.AddDate(0, 0, -10)))
	if o.ScrutineerKey == "" {
		o.ScrutineerKey = ScrutineerKey(t)
	}
	must(t, b.Admin.SetScrutineerKey(ctx, "scrutineer:test", id, o.ScrutineerKey))
	Approve(t, b.Admin, id)
	if !o.Open {
		return b
	}
	if o.PaperToEveryone && !opens.After(now) {
		// A paper to everyone: the scrutineer presses Open ahead of the
		// opening (the ballot is scheduled, the register frozen, the
		// packs can be made), and the scheduler opens it at opens_at.
		b.Admin.SetClock(func() time.Time { return opens.Add(-time.Minute) })
		must(t, b.Admin.Open(ctx, "scrutineer:test", id))
		b.Admin.SetClock(time.Now)
		if _, err := b.Admin.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		return b
	}
	must(t, b.Admin.Open(ctx, "scrutineer:test", id))
	return b
}

// Commencement is the e-ballot order's commencement day fixtures assume
// (EBALLOT_EVOTING_COMMENCEMENT): a ballot opening from it may be voted
// online (s.230(2) as the order modifies it). The real order's day is not
// known; the fixtures' ballots need it to open lawfully at all.
const Commencement = "2026-02-19"

// EVoting puts the fixtures' e-ballot commencement in force for the
// process's legal regimes ([election.UseCommencement]).
func EVoting(t testing.TB) {
	t.Helper()
	if err := election.UseCommencement(Commencement); err != nil {
		t.Fatal(err)
	}
}

// ScrutineerKey is a fresh scrutineer result signing key's verifier (the
// .pub of `scrutineer keygen`), for fixtures that do not sign a result.
func ScrutineerKey(t testing.TB) string {
	t.Helper()
	_, vkey, err := note.GenerateKey(rand.Reader, "scrutineer-test")
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// Approve does, through the Admin as the scrutineer's pages do, the
// scrutineer's part of the opening checklist: confirms the s.229(4)
// wording where the regime's text is not verified, and approves the
// voting paper as it is now.
func Approve(t testing.TB, admin *election.Admin, id int64) {
	t.Helper()
	ctx := context.Background()
	ap, err := admin.Approvals(ctx, id)
	if err != nil || ap == nil {
		t.Fatalf("approvals of ballot %d: %v (no regime: %v)", id, err, ap == nil)
	}
	if ap.WordingNeeded {
		must(t, admin.ConfirmWording(ctx, "scrutineer:test", id, ap.Regime))
	}
	must(t, admin.ApprovePaper(ctx, "scrutineer:test", id, ap.PaperHash))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
