package ledger

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/receipt"
	verifyfixture "github.com/unionvote/eballot/crypto/verify/fixture"
	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testElection = "test-ballot-2026"

// testSecret is the EBALLOT_SECRET_KEY of the tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testRand is the deterministic randomness given to test ledgers: the log
// key made by NewLogKey is then the same in every test database, so one
// manifest (and one pool of pre-computed ballots) serves every test.
func testRand() io.Reader { return mrand.NewChaCha8([32]byte{'l', 'e', 'd', 'g', 'e', 'r'}) }

// fixture is the test election: a manifest with a test election key and a
// 2048-bit issuer key per style (made once per test binary: RSA is slow).
type fixture struct {
	manifestJSON []byte
	el           *ballot.Election
	issuers      []*rsa.PrivateKey
	logKey       string

	mu    sync.Mutex
	casts []*testCast
}

// testCast is a ready cast: encrypted ballot and its authorisation.
type testCast struct {
	ballot  []byte
	auth    []byte
	tracker [32]byte
	style   int
}

var (
	fxOnce sync.Once
	fx     *fixture
)

func testFixture(t testing.TB) *fixture {
	t.Helper()
	fxOnce.Do(func() {
		f := &fixture{}
		var wg sync.WaitGroup
		f.issuers = make([]*rsa.PrivateKey, 2)
		for i := range f.issuers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := blind.GenerateIssuerKey(rand.Reader)
				if err != nil {
					panic(err)
				}
				f.issuers[i] = k
			}()
		}
		sk, err := elgamal.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		_, vkey, err := note.GenerateKey(testRand(), receipt.Origin(testElection))
		if err != nil {
			panic(err)
		}
		f.logKey = vkey
		wg.Wait()
		ek := hex.EncodeToString(sk.PublicKey().Bytes())
		regime := verifyfixture.ERA25
		m := &manifest.Manifest{
			Version: 1, ElectionID: testElection, Kind: "industrial_action", Title: "Test ballot",
			OpensAt: "2026-01-01T00:00:00Z", ClosesAt: "2030-01-01T00:00:00Z",
			Texts: map[string]string{"s229": "If you take part in a strike or other industrial action, you may be in breach of your contract of employment."},
			Questions: []manifest.Question{{ID: "strike", Text: "Are you prepared to take part in strike action?",
				Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}, Min: 1, Max: 1}},
			Trustees: manifest.Trustees{Threshold: 1, ElectionKey: ek, PublicKeys: []string{ek}},
			LogKey:   vkey,
			Regime:   &regime,
		}
		for i, k := range f.issuers {
			der, err := blind.MarshalPublicKey(&k.PublicKey)
			if err != nil {
				panic(err)
			}
			m.Styles = append(m.Styles, manifest.Style{ID: []string{"depot-a", "depot-b"}[i], Name: []string{"Depot A", "Depot B"}[i],
				IssuerKey: base64.StdEncoding.EncodeToString(der), Entitled: 100000})
		}
		if f.manifestJSON, err = m.Canonical(); err != nil {
			panic(err)
		}
		if f.el, err = ballot.NewElection(m); err != nil {
			panic(err)
		}
		fx = f
	})
	return fx
}

// authorise runs the blind-signature protocol for tracker T on style.
func (f *fixture) authorise(t testing.TB, style int, tracker [32]byte) []byte {
	t.Helper()
	prepared, err := blind.Prepare(rand.Reader, tracker[:])
	if err != nil {
		t.Fatal(err)
	}
	blinded, st, err := blind.Blind(rand.Reader, &f.issuers[style].PublicKey, prepared)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := blind.BlindSign(f.issuers[style], blinded)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Finalize(sig)
	if err != nil {
		t.Fatal(err)
	}
	return a[:]
}

// encrypt makes a ballot (choice 0 = yes, 1 = no) with randomness r.
func (f *fixture) encrypt(t testing.TB, r io.Reader, style, choice int) ([]byte, [32]byte) {
	t.Helper()
	c := [][]int{{1 - choice, choice}}
	b, _, err := f.el.Encrypt(r, style, c)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bs, ballot.TrackerOf(f.el.ManifestHash(), bs)
}

func (f *fixture) newCast(t testing.TB, i int) *testCast {
	style, choice := i%2, (i/2)%2
	b, tr := f.encrypt(t, rand.Reader, style, choice)
	return &testCast{ballot: b, tracker: tr, style: style, auth: f.authorise(t, style, tr)}
}

// castsN returns n distinct valid casts, computing the missing ones on
// every core. Every test database is fresh, so tests share them.
func (f *fixture) castsN(t testing.TB, n int) []*testCast {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	have := len(f.casts)
	if have < n {
		more := make([]*testCast, n-have)
		var wg sync.WaitGroup
		var next int
		var mu sync.Mutex
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= len(more) {
						return
					}
					more[i] = f.newCast(t, have+i)
				}
			}()
		}
		wg.Wait()
		f.casts = append(f.casts, more...)
	}
	return f.casts[:n]
}

type testLedgerOpt func(*Options)

// newTestLedger makes a ledger on pool with the test election's key.
func newTestLedger(t testing.TB, pool *pgxpool.Pool, opts ...testLedgerOpt) *Ledger {
	t.Helper()
	o := Options{Pool: pool, Registry: prometheus.NewRegistry(), SecretKey: testSecret, Rand: testRand()}
	for _, f := range opts {
		f(&o)
	}
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

// openTestElection makes the log key and opens the test election.
func openTestElection(t testing.TB, l *Ledger) *fixture {
	t.Helper()
	f := testFixture(t)
	ctx := context.Background()
	vkey, err := l.NewLogKey(ctx, testElection)
	if err != nil {
		t.Fatal(err)
	}
	if vkey != f.logKey {
		t.Fatalf("log key %q, fixture expects %q", vkey, f.logKey)
	}
	if _, err := l.Open(ctx, f.manifestJSON, Window{}); err != nil {
		t.Fatal(err)
	}
	return f
}

// newOpenLedger is a fresh database with the test election open.
func newOpenLedger(t testing.TB, opts ...testLedgerOpt) (*Ledger, *fixture, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewDB(t)
	l := newTestLedger(t, pool, opts...)
	return l, openTestElection(t, l), pool
}

// checkReceipt verifies a receipt against its entry and against the final
// checkpoint with a consistency proof from the ledger.
func checkReceipt(t testing.TB, l *Ledger, f *fixture, rc *receipt.Receipt, final *SignedCheckpoint) {
	t.Helper()
	ctx := context.Background()
	e, err := l.Entry(ctx, testElection, rc.Index)
	if err != nil {
		t.Fatalf("entry %d: %v", rc.Index, err)
	}
	c, err := receipt.VerifyReceipt(rc, f.logKey, e.Bytes)
	if err != nil {
		t.Fatalf("receipt %d: %v", rc.Index, err)
	}
	p, err := l.ConsistencyProof(ctx, testElection, c.Size, final.Size)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := receipt.VerifyReceiptAgainst(rc, f.logKey, e.Bytes, final.Signed, p); err != nil {
		t.Fatalf("receipt %d against final checkpoint %d: %v", rc.Index, final.Size, err)
	}
}

var _ = time.Now
