package ledger

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/pgtest"
	"golang.org/x/mod/sumdb/note"
)

// variant returns the test manifest changed by edit, canonical.
func variant(t *testing.T, f *fixture, edit func(m *manifest.Manifest)) []byte {
	t.Helper()
	m, err := manifest.Parse(f.manifestJSON)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	l := newTestLedger(t, pool)
	f := testFixture(t)

	if _, err := l.Open(ctx, f.manifestJSON, Window{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("open before NewLogKey: %v", err)
	}
	k1, err := l.NewLogKey(ctx, testElection)
	if err != nil {
		t.Fatal(err)
	}
	if k2, err := newTestLedger(t, pool).NewLogKey(ctx, testElection); err != nil || k2 != k1 {
		t.Fatalf("NewLogKey again: %q %v", k2, err)
	}
	if _, err := l.NewLogKey(ctx, "Not Valid"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad id: %v", err)
	}
	var sealed []byte
	if err := pool.QueryRow(ctx, `SELECT sealed_key FROM ledger_keys WHERE election_id = $1`, testElection).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("PRIVATE")) {
		t.Fatal("private key stored in clear")
	}

	if _, err := l.Open(ctx, []byte(`{"version":1}`), Window{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad manifest: %v", err)
	}
	if _, err := l.Open(ctx, f.manifestJSON, Window{Opens: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("window before opens_at: %v", err)
	}
	other := variant(t, f, func(m *manifest.Manifest) { m.ElectionID = "other-ballot" })
	if _, err := l.Open(ctx, other, Window{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("other election without key: %v", err)
	}
	info, err := l.Open(ctx, f.manifestJSON, Window{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LogKey != k1 || info.Opens.Year() != 2026 {
		t.Fatalf("info %+v", info)
	}
	// Non-canonical input of the same manifest: same hash, no-op.
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, f.manifestJSON, "", "  ")
	if info2, err := l.Open(ctx, pretty.Bytes(), Window{}); err != nil || info2.ManifestHash != info.ManifestHash {
		t.Fatalf("reopen: %v", err)
	}
	changed := variant(t, f, func(m *manifest.Manifest) { m.Title = "Another title" })
	if _, err := l.Open(ctx, changed, Window{}); !errors.Is(err, ErrManifestImmutable) {
		t.Fatalf("changed manifest: %v", err)
	}
	m, h, err := l.Manifest(ctx, testElection)
	if err != nil || !bytes.Equal(m, f.manifestJSON) || h != info.ManifestHash {
		t.Fatal("stored manifest differs")
	}

	// A ledger with another secret key cannot sign for the election.
	bad := newTestLedger(t, pool, func(o *Options) { o.SecretKey = bytes.Repeat([]byte{7}, 32) })
	c := f.castsN(t, 1)[0]
	if _, _, err := bad.Cast(ctx, testElection, c.ballot, c.auth); err == nil {
		t.Fatal("cast with the wrong secret key")
	}
}

// A signing key sealed before the ledger used internal/sealed (nonce ‖
// ciphertext, no version byte) still signs: ledgers of that time keep
// working.
func TestUnversionedSealedKeyOpens(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	skey, vkey, err := note.GenerateKey(testRand(), receipt.Origin(testElection))
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{9}, g.NonceSize())
	old := g.Seal(append([]byte(nil), nonce...), nonce, []byte(skey), []byte(sealAD(testElection)))
	if _, err := pool.Exec(ctx, `INSERT INTO ledger_keys (election_id, verifier_key, sealed_key) VALUES ($1, $2, $3)`, testElection, vkey, old); err != nil {
		t.Fatal(err)
	}
	l := newTestLedger(t, pool)
	f := openTestElection(t, l)
	c := f.castsN(t, 1)[0]
	if _, _, err := l.Cast(ctx, testElection, c.ballot, c.auth); err != nil {
		t.Fatalf("cast: %v", err)
	}
}
