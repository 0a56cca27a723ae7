package election

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/internal/register"
)

// DemoElectionID is the election id of the demo ballot.
const DemoElectionID = "demo-strike-2026"

// demoNames are fictional members. Mobile numbers are in Ofcom's range
// reserved for drama (07700 900000–900999), so no real phone is ever texted.
var demoNames = []string{
	"Aled Jones", "Bethan Price", "Ceri Evans", "Dafydd Morgan", "Eleri Hughes",
	"Ffion Davies", "Gareth Lewis", "Heledd Roberts", "Iwan Thomas", "Jac Williams",
	"Amira Khan", "Ben Okafor", "Chloe Smith", "Dev Patel", "Erin Walsh",
	"Femi Adeyemi", "Grace Lee", "Harry Brown", "Isla Murray", "Joe Clarke",
	"Kiran Shah", "Lucy Green", "Marek Nowak", "Nia Owen",
}

// demoLanguage is demo member i's preferred language on the register: the
// first four prefer Welsh (their invitations come in Welsh only), Amira
// and Ben English; the others gave none (the bilingual ballot's
// invitations come in both languages).
func demoLanguage(i int) string {
	switch {
	case i < 4:
		return "cy"
	case i == 10 || i == 11:
		return "en"
	}
	return ""
}

// DemoResult says what LoadDemo did.
type DemoResult struct {
	ElectionID string
	BallotID   int64
	UnionID    int64
	Members    int
	Created    bool   // false when the demo was already there
	SharesDir  string // where the demo trustees' secret shares were written
}

// DemoConfig is the demo ballot's voting paper: both s.229(2) questions,
// two workplaces with separate workplace ballots (s.228); bilingual, so
// a member reading in Welsh gets the whole paper in Welsh.
func DemoConfig() Config {
	return Config{
		Bilingual: true,
		TitleCy:   "Cyflog 2026: pleidlais dros weithredu diwydiannol (demo)",
		TextsCy: map[string]string{
			"dispute_summary":   "Mae cynnig cyflog y cyflogwr ar gyfer 2026, sef 2%, yn is na chwyddiant; mae'r undeb yn gofyn am 6%.",
			"types_of_action":   "Gwaharddiad ar oramser a gwaharddiad ar weithio ar ddiwrnodau gorffwys.",
			"period":            "Disgwylir gweithredu rhwng Ionawr a Mehefin 2027.",
			"authorised_person": "Yr Ysgrifennydd Cyffredinol, neu berson y mae'n ei enwebu'n ysgrifenedig.",
		},
		Questions: []Question{
			StrikeQuestion,
			ASOSQuestion,
		},
		Texts: map[string]string{
			"dispute_summary":   "The employer's pay offer for 2026 of 2% is below inflation; the union seeks 6%.",
			"types_of_action":   "An overtime ban and a ban on rest-day working.",
			"period":            "Action is expected between January and June 2027.",
			"authorised_person": "The General Secretary, or a person they nominate in writing.",
		},
		Workplaces: []register.Workplace{
			{ID: "cardiff-depot", Name: "Cardiff Depot", Employer: "Demo Transport Ltd"},
			{ID: "swansea-depot", Name: "Swansea Depot", Employer: "Demo Transport Ltd"},
		},
	}
}

// LoadDemo creates a demo union with members and an industrial action
// ballot, runs a real 2-of-3 key ceremony in-process, records the
// scrutineer's safeguards and opens the ballot, so `make run` shows a ballot
// members can vote in. The trustees' secret shares are written to sharesDir
// (demo only: real trustees each keep theirs on their own machine). It is
// idempotent: a second run changes nothing.
func (a *Admin) LoadDemo(ctx context.Context, sharesDir string) (DemoResult, error) {
	return a.LoadDemoMembers(ctx, sharesDir, 0)
}

// MaxDemoMembers bounds [Admin.LoadDemoMembers].
const MaxDemoMembers = 10_000_000

// LoadDemoMembers is [Admin.LoadDemo] with a register of `members` people
// (at least the 24 named demo members), for load tests: members beyond the
// named ones are "Demo Member NNNNNNN" without a mobile number (so nothing
// is ever texted to them; they sign in only through sessions a load
// generator makes) and are bulk-loaded with COPY, so 100,000 take seconds.
// When the demo ballot exists already nothing changes and Members is its
// register size. members 0 means the 24 named members only.
func (a *Admin) LoadDemoMembers(ctx context.Context, sharesDir string, members int) (DemoResult, error) {
	if members == 0 {
		members = len(demoNames)
	}
	if members < len(demoNames) || members > MaxDemoMembers {
		return DemoResult{}, fmt.Errorf("load demo: members must be from %d to %d, not %d", len(demoNames), MaxDemoMembers, members)
	}
	res := DemoResult{ElectionID: DemoElectionID, Members: members, SharesDir: sharesDir}
	pool := a.store.pool
	err := a.demoBallot(ctx, &res)
	if err == nil {
		return res, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("load demo: %w", err)
	}
	res.Created = true
	const actor = "system:demo"
	if err := pool.QueryRow(ctx, `
		INSERT INTO unions (slug, name) VALUES ('demo-union', 'Demo Workers'' Union')
		ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id`).Scan(&res.UnionID); err != nil {
		return res, fmt.Errorf("load demo: %w", err)
	}
	now := a.now()
	cfg := DemoConfig()
	id, err := a.CreateBallot(ctx, actor, res.UnionID, DemoElectionID, BallotSetup{
		Title: "Pay 2026: industrial action ballot (demo)", Kind: "industrial_action",
		OpensAt: now.Add(-time.Minute).Truncate(time.Minute), ClosesAt: now.Add(14 * 24 * time.Hour).Truncate(time.Hour),
		Config: cfg,
	})
	if err != nil {
		return res, fmt.Errorf("load demo: %w", err)
	}
	res.BallotID = id
	err = a.register.Load(ctx, res.UnionID, id, members, func(i int) register.Member {
		w := cfg.Workplaces[i%2]
		if i < len(demoNames) {
			return register.Member{Number: fmt.Sprintf("D%05d", i+1), Name: demoNames[i], Mobile: fmt.Sprintf("+447700900%03d", i+1),
				Branch: "South Wales", Workplace: w, Style: w.ID, Language: demoLanguage(i)}
		}
		// Numbered members without a mobile: nothing is ever texted to them.
		return register.Member{Number: fmt.Sprintf("D%07d", i+1), Name: fmt.Sprintf("Demo Member %07d", i+1),
			Branch: "South Wales", Workplace: w, Style: w.ID}
	})
	if err != nil {
		return res, fmt.Errorf("load demo register: %w", err)
	}
	trustees, err := demoCeremony(sharesDir)
	if err != nil {
		return res, err
	}
	notices := now.AddDate(0, 0, -8)
	for _, step := range []func() error{
		func() error { return a.AppointScrutineer(ctx, actor, id, "Demo Independent Scrutineers Ltd", false) },
		func() error { return a.SignOffSecurityAssessment(ctx, actor, id, "Demo Security Assessor") },
		func() error { return a.SetTrustees(ctx, actor, id, trustees) },
		func() error { return a.RecordEmployerNotices(ctx, actor, id, notices, notices) },
		func() error { return a.demoScrutineerKey(ctx, actor, id, sharesDir) },
		func() error { return a.demoApprove(ctx, actor, id) },
		func() error { return a.Open(ctx, actor, id) },
	} {
		if err := step(); err != nil {
			return res, fmt.Errorf("load demo: %w", err)
		}
	}
	return res, nil
}

// demoApprove does the scrutineer's part of the opening checklist for the
// demo: confirms the s.229(4) wording where the regime's is not verified,
// and approves the voting paper as it is. The demo ballot is voted online,
// which s.230(2) permits only from the e-ballot order's commencement:
// without EBALLOT_EVOTING_COMMENCEMENT (scripts/run.sh sets one for the
// local demo) Open refuses it, saying so.
func (a *Admin) demoApprove(ctx context.Context, actor string, id int64) error {
	ap, err := a.Approvals(ctx, id)
	if err != nil {
		return err
	}
	if ap == nil {
		return fmt.Errorf("no legal regime covers the demo ballot's opening")
	}
	if ap.WordingNeeded {
		if err := a.ConfirmWording(ctx, actor, id, ap.Regime); err != nil {
			return err
		}
	}
	return a.ApprovePaper(ctx, actor, id, ap.PaperHash)
}

// demoCeremony runs a 2-of-3 key ceremony in one process (a real ceremony
// runs on the trustees' own machines with `scrutineer ceremony`), writes
// each trustee's secret share to dir, and returns the public key file.
func demoCeremony(dir string) ([]byte, error) {
	const n, k, ceremony = 3, 2, "demo-strike-2026-ceremony"
	var dealings []*threshold.Dealing
	shares := make([][]*threshold.Share, n+1)
	for i := 1; i <= n; i++ {
		d, ss, err := threshold.Deal(rand.Reader, ceremony, n, k, i)
		if err != nil {
			return nil, fmt.Errorf("demo ceremony: %w", err)
		}
		dealings = append(dealings, d)
		for _, s := range ss {
			shares[s.Recipient] = append(shares[s.Recipient], s)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo ceremony: %w", err)
	}
	var pub *threshold.PublicKey
	for j := 1; j <= n; j++ {
		pk, sk, err := threshold.Finalise(ceremony, n, k, dealings, j, shares[j])
		if err != nil {
			return nil, fmt.Errorf("demo ceremony: %w", err)
		}
		pub = pk
		b, err := sk.MarshalBinary()
		if err != nil {
			return nil, err
		}
		f := filepath.Join(dir, fmt.Sprintf("trustee-%d.share.hex", j))
		if err := os.WriteFile(f, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("demo ceremony: %w", err)
		}
		if err := demoTrusteeFiles(dir, j, b); err != nil {
			return nil, fmt.Errorf("demo ceremony: %w", err)
		}
	}
	file, err := pub.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "trustees.json"), file, 0o644); err != nil {
		return nil, fmt.Errorf("demo ceremony: %w", err)
	}
	return file, nil
}

// demoScryptLogN is the scrypt work factor of the demo's passphrase
// files: low, so loading the demo stays fast (`scrutineer keygen` uses a
// real one). The passphrases sit next to the files: demo only.
const demoScryptLogN = 10

// demoTrusteeFiles writes trustee j's files in the form `scrutineer
// decrypt` reads, so the demo ballot can be counted end to end with the
// scrutineer tool (README): trustee-j.key (an age identity under the
// passphrase in trustee-j.pass, as `scrutineer trustee init` writes it)
// and share-j.age (the secret share, encrypted to that identity, as the
// ceremony leaves it).
func demoTrusteeFiles(dir string, j int, share []byte) error {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	pass := fmt.Sprintf("demo trustee %d", j)
	if err := demoSealed(filepath.Join(dir, fmt.Sprintf("trustee-%d.key", j)), []byte(id.String()+"\n"), pass); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("trustee-%d.pass", j)), []byte(pass+"\n"), 0o600); err != nil {
		return err
	}
	sealed, err := demoSeal(share, id.Recipient())
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("share-%d.age", j)), sealed, 0o600)
}

// demoSealed writes data to path encrypted under passphrase pass (age
// scrypt, ASCII-armored: the scrutineer tool's key files).
func demoSealed(path string, data []byte, pass string) error {
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return err
	}
	r.SetWorkFactor(demoScryptLogN)
	sealed, err := demoSeal(data, r)
	if err != nil {
		return err
	}
	return os.WriteFile(path, sealed, 0o600)
}

// demoSeal encrypts data to r, ASCII-armored.
func demoSeal(data []byte, r age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Demo reads the demo ballot: its id, union and register size; an error
// saying to run `ballotd demo` when there is none.
func (a *Admin) Demo(ctx context.Context) (DemoResult, error) {
	res := DemoResult{ElectionID: DemoElectionID}
	err := a.demoBallot(ctx, &res)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("no demo ballot %s in this database (run ballotd demo first)", DemoElectionID)
	}
	return res, err
}

// demoBallot fills res with the demo ballot's id, union and register
// size; pgx.ErrNoRows when there is none.
func (a *Admin) demoBallot(ctx context.Context, res *DemoResult) error {
	if err := a.store.pool.QueryRow(ctx, `SELECT id, union_id FROM ballots WHERE election_id = $1`, DemoElectionID).Scan(&res.BallotID, &res.UnionID); err != nil {
		return err
	}
	n, err := a.register.Entitled(ctx, []int64{res.BallotID})
	res.Members = n[res.BallotID]
	return err
}

// CloseDemo closes the demo ballot (issuance and the ledger refuse from
// then on and the ledger signs its final checkpoint), as a load test does
// before it exports and verifies the ledger. Closing a closed demo ballot
// changes nothing.
func (a *Admin) CloseDemo(ctx context.Context) (DemoResult, error) {
	res := DemoResult{ElectionID: DemoElectionID}
	err := a.demoBallot(ctx, &res)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("close demo: no demo ballot %s in this database (run ballotd demo first)", DemoElectionID)
	}
	if err != nil {
		return res, fmt.Errorf("close demo: %w", err)
	}
	if err := a.Close(ctx, "system:demo", res.BallotID, "demo: closed to export and verify the ledger"); err != nil {
		return res, fmt.Errorf("close demo: %w", err)
	}
	return res, nil
}

// demoScrutineerKey makes the demo scrutineer's result signing key (demo
// only: a real scrutineer makes theirs with `scrutineer keygen`, protected
// by a passphrase), writes it to dir as scrutineer.key (plain) and
// scrutineer.key.pub, and records the public key for the manifest.
func (a *Admin) demoScrutineerKey(ctx context.Context, actor string, id int64, dir string) error {
	skey, vkey, err := note.GenerateKey(rand.Reader, "demo-scrutineer")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "scrutineer.key"), []byte(skey+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "scrutineer.key.pub"), []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	// The same key as `scrutineer keygen` writes it, for `scrutineer report`.
	const pass = "demo scrutineer"
	if err := demoSealed(filepath.Join(dir, "scrutineer.age"), []byte(skey+"\n"), pass); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "scrutineer.pass"), []byte(pass+"\n"), 0o600); err != nil {
		return err
	}
	return a.SetScrutineerKey(ctx, actor, id, vkey)
}
