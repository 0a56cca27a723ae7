package ledger

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/sealed"
)

// Options configure a [Ledger].
type Options struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
	// Registry receives the ledger's metrics; nil means not registered.
	Registry prometheus.Registerer
	// SecretKey (32 bytes, cfg.SecretKey) seals the ledger signing keys at
	// rest (internal/sealed: AES-256-GCM).
	SecretKey []byte
	// MaxBatch (K) closes a batch once it holds this many casts (default
	// 256). Each batch is appended in one transaction in a random order.
	MaxBatch int
	// MaxWait (T) closes a batch this long after its first cast if it has
	// not reached MaxBatch (default 2ms, for tests and tools; ballotd uses
	// EBALLOT_BATCH_WAIT, 1s). A batch is the anonymity set of its casts
	// against an operator who sees when each member was authorised.
	MaxWait time.Duration
	// MinBatch (M) and MinWait (T_min) close a batch early at busy times:
	// once it holds at least M casts and is at least T_min old (ballotd:
	// EBALLOT_BATCH_MIN 32, EBALLOT_BATCH_MIN_WAIT 150ms). A cast's batch
	// then still holds at least min(M, the casts of T) casts, a cast never
	// waits more than T, and at M/T_min casts a second or more waits only
	// T_min. MinBatch 0 (the default) turns the rule off; otherwise
	// MinBatch ≤ MaxBatch and 0 < MinWait ≤ MaxWait.
	MinBatch int
	MinWait  time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the randomness for signing keys (default crypto/rand).
	Rand io.Reader
}

// Ledger is the append-only ballot ledger of every election in one
// database. It is safe for concurrent use, and several Ledgers (in one or
// several processes) may share a database: appends to one election are
// serialised by a PostgreSQL advisory lock.
type Ledger struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	secret   []byte // seals the signing keys (internal/sealed)
	maxBatch int
	maxWait  time.Duration
	minBatch int // 0: no early close
	minWait  time.Duration
	now      func() time.Time
	// newTimer makes the timers of the batch close rule (time.NewTimer;
	// tests drive a fake clock).
	newTimer func(time.Duration) (<-chan time.Time, func() bool)
	rand     io.Reader
	scheme   scheme
	metrics  *metrics

	mu        sync.Mutex
	loadMu    sync.Mutex // one election load at a time (no thundering herd)
	elections map[string]*election
	stop      chan struct{}
	done      chan struct{} // closed when every pipeline has exited
	stopped   bool
	wg        sync.WaitGroup
}

// election is an opened election, cached: its manifest and key never change.
type election struct {
	spec   *spec
	signer note.Signer
	opens  time.Time // acceptance window [opens, closes)
	closes time.Time

	start sync.Once
	queue chan *castReq
	front *frontierCache // used by the election's committer goroutine only
}

var electionIDRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// ValidElectionID reports whether id is a valid election id ([a-z0-9-]{1,64}).
func ValidElectionID(id string) bool { return electionIDRE.MatchString(id) }

// New returns a Ledger. Call [Ledger.Stop] when done.
func New(opt Options) (*Ledger, error) {
	if opt.Pool == nil {
		return nil, errors.New("ledger: no pool")
	}
	if len(opt.SecretKey) != 32 {
		return nil, errors.New("ledger: secret key must be 32 bytes")
	}
	l := &Ledger{
		pool: opt.Pool, log: opt.Log, secret: opt.SecretKey, maxBatch: opt.MaxBatch, maxWait: opt.MaxWait,
		minBatch: opt.MinBatch, minWait: opt.MinWait, now: opt.Now, newTimer: newRealTimer, rand: opt.Rand, scheme: cryptoScheme, metrics: newMetrics(opt.Registry),
		elections: map[string]*election{}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.maxBatch <= 0 {
		l.maxBatch = 256
	}
	if l.maxWait <= 0 {
		l.maxWait = 2 * time.Millisecond
	}
	switch {
	case l.minBatch < 0:
		return nil, errors.New("ledger: MinBatch must not be negative")
	case l.minBatch > l.maxBatch:
		return nil, fmt.Errorf("ledger: MinBatch %d is over MaxBatch %d", l.minBatch, l.maxBatch)
	case l.minBatch > 0 && (l.minWait <= 0 || l.minWait > l.maxWait):
		return nil, fmt.Errorf("ledger: MinWait %s must be above 0 and at most MaxWait %s", l.minWait, l.maxWait)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	return l, nil
}

// Stop stops the append pipelines: casts waiting in a queue are answered
// with ErrUnavailable, a batch being committed finishes. Reads keep working.
func (l *Ledger) Stop() {
	l.mu.Lock()
	first := !l.stopped
	if first {
		l.stopped = true
		close(l.stop)
	}
	l.mu.Unlock()
	l.wg.Wait()
	if first {
		close(l.done)
	}
}

func newRealTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

func sealAD(electionID string) string { return "eballot-ledger-key/v1\x00" + electionID }

func (l *Ledger) seal(electionID string, secret []byte) ([]byte, error) {
	return sealed.Seal(l.secret, secret, sealAD(electionID))
}

// unseal opens a signing key sealed by seal, or one stored before the
// ledger used internal/sealed (no version byte).
func (l *Ledger) unseal(electionID string, value []byte) ([]byte, error) {
	pt, err := sealed.Open(l.secret, value, sealAD(electionID))
	if errors.Is(err, sealed.ErrOpen) {
		pt, err = sealed.OpenUnversioned(l.secret, value, sealAD(electionID))
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: unseal the signing key: %w", err)
	}
	return pt, nil
}

// NewLogKey returns the ledger's note verifier key for the election
// (name+hash+base64, for manifest.log_key), generating and storing an
// Ed25519 key the first time. The private key is stored sealed under the
// secret key. Calling it again returns the same key.
func (l *Ledger) NewLogKey(ctx context.Context, electionID string) (string, error) {
	if !ValidElectionID(electionID) {
		return "", reject(ErrMalformed, "election id must match [a-z0-9-]{1,64}")
	}
	var vkey string
	err := l.pool.QueryRow(ctx, `SELECT verifier_key FROM ledger_keys WHERE election_id = $1`, electionID).Scan(&vkey)
	if err == nil {
		return vkey, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("read log key: %w", err)
	}
	skey, vkey, err := note.GenerateKey(l.rand, receipt.Origin(electionID))
	if err != nil {
		return "", fmt.Errorf("generate log key: %w", err)
	}
	sealed, err := l.seal(electionID, []byte(skey))
	if err != nil {
		return "", err
	}
	if _, err := l.pool.Exec(ctx, `INSERT INTO ledger_keys (election_id, verifier_key, sealed_key) VALUES ($1, $2, $3)
		ON CONFLICT (election_id) DO NOTHING`, electionID, vkey, sealed); err != nil {
		return "", fmt.Errorf("store log key: %w", err)
	}
	// A concurrent call may have won: the stored key is the key.
	if err := l.pool.QueryRow(ctx, `SELECT verifier_key FROM ledger_keys WHERE election_id = $1`, electionID).Scan(&vkey); err != nil {
		return "", fmt.Errorf("read log key: %w", err)
	}
	return vkey, nil
}

// election returns the opened election id, loading it on first use.
func (l *Ledger) election(ctx context.Context, id string) (*election, error) {
	if !ValidElectionID(id) {
		return nil, ErrUnknownElection
	}
	l.mu.Lock()
	e := l.elections[id]
	l.mu.Unlock()
	if e != nil {
		return e, nil
	}
	l.loadMu.Lock()
	defer l.loadMu.Unlock()
	l.mu.Lock()
	e = l.elections[id]
	l.mu.Unlock()
	if e != nil {
		return e, nil
	}
	var (
		manifest, sealed []byte
		opens, closes    time.Time
	)
	err := l.pool.QueryRow(ctx, `SELECT e.manifest, e.opens_at, e.closes_at, k.sealed_key
		FROM ledger_elections e JOIN ledger_keys k USING (election_id) WHERE e.election_id = $1`, id).
		Scan(&manifest, &opens, &closes, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnknownElection
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("load election: %w", err))
	}
	sp, err := l.scheme(manifest)
	if err != nil {
		return nil, fmt.Errorf("ledger: stored manifest of %s: %w", id, err)
	}
	skey, err := l.unseal(id, sealed)
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(skey)
	if err != nil {
		return nil, err
	}
	e = &election{spec: sp, signer: signer, opens: opens, closes: closes}
	l.mu.Lock()
	l.elections[id] = e
	l.mu.Unlock()
	return e, nil
}

// unavailable logs a database error and returns ErrUnavailable wrapping it.
func unavailable(err error) error {
	return &unavailableError{err}
}

type unavailableError struct{ err error }

func (u *unavailableError) Error() string        { return "ledger: unavailable: " + u.err.Error() }
func (u *unavailableError) Unwrap() error        { return u.err }
func (u *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// newSigner parses an unsealed note private key and wipes it.
func newSigner(skey []byte) (note.Signer, error) {
	s, err := note.NewSigner(string(skey))
	clear(skey)
	if err != nil {
		return nil, errors.New("ledger: malformed signing key")
	}
	return s, nil
}
