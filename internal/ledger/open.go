package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/receipt"
)

// Window is the time during which casts are accepted, [Opens, Closes). A
// zero field means the manifest's opens_at or closes_at. It must lie within
// the manifest's times.
type Window struct {
	Opens, Closes time.Time
}

// Info describes an opened election.
type Info struct {
	ElectionID   string
	ManifestHash [32]byte
	LogKey       string
	Opens        time.Time
	Closes       time.Time
}

// SignedCheckpoint is a checkpoint with its signed note.
type SignedCheckpoint struct {
	receipt.Checkpoint
	Signed []byte // sumdb/note text, ends in a signature line
}

var emptyRoot = tlog.Hash(sha256.Sum256(nil))

func lockKey(electionID string) string { return "eballot-ledger/" + electionID }

const lockSQL = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`

// Open stores the election's manifest (canonicalised, strictly decoded) and
// its acceptance window, and publishes the checkpoint of the empty tree.
// NewLogKey must have been called and the manifest's log_key must be that
// key. Opening again with the same manifest is a no-op; with another
// manifest it fails with ErrManifestImmutable.
func (l *Ledger) Open(ctx context.Context, manifestJSON []byte, w Window) (*Info, error) {
	sp, err := l.scheme(manifestJSON)
	if err != nil {
		return nil, err
	}
	if w.Opens.IsZero() {
		w.Opens = sp.opensAt
	}
	if w.Closes.IsZero() {
		w.Closes = sp.closesAt
	}
	if w.Opens.Before(sp.opensAt) || w.Closes.After(sp.closesAt) || !w.Opens.Before(w.Closes) {
		return nil, reject(ErrMalformed, "window must be non-empty and within the manifest's opens_at and closes_at")
	}
	info := &Info{ElectionID: sp.id, ManifestHash: sp.hash, LogKey: sp.logKey, Opens: w.Opens, Closes: w.Closes}

	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, lockSQL, lockKey(sp.id)); err != nil {
		return nil, unavailable(err)
	}
	var vkey string
	var sealed []byte
	err = tx.QueryRow(ctx, `SELECT verifier_key, sealed_key FROM ledger_keys WHERE election_id = $1`, sp.id).Scan(&vkey, &sealed)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && vkey != sp.logKey) {
		return nil, reject(ErrNoKey, "the manifest's log_key must come from NewLogKey for this election")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	var hash []byte
	var opens, closes time.Time
	err = tx.QueryRow(ctx, `SELECT manifest_hash, opens_at, closes_at FROM ledger_elections WHERE election_id = $1`, sp.id).Scan(&hash, &opens, &closes)
	if err == nil {
		if !bytes.Equal(hash, sp.hash[:]) {
			return nil, reject(ErrManifestImmutable, "the election is open with another manifest")
		}
		info.Opens, info.Closes = opens, closes
		return info, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, unavailable(err)
	}
	skey, err := l.unseal(sp.id, sealed)
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(skey)
	if err != nil {
		return nil, err
	}
	signed, err := receipt.SignCheckpoint(receipt.Checkpoint{Origin: receipt.Origin(sp.id), Size: 0, Root: emptyRoot}, signer)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_elections (election_id, manifest, manifest_hash, opens_at, closes_at)
		VALUES ($1, $2, $3, $4, $5)`, sp.id, sp.canonical, sp.hash[:], w.Opens, w.Closes); err != nil {
		return nil, unavailable(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_checkpoints (election_id, size, root, signed) VALUES ($1, 0, $2, $3)`,
		sp.id, emptyRoot[:], string(signed)); err != nil {
		return nil, unavailable(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, unavailable(err)
	}
	l.log.InfoContext(ctx, "ledger: election opened", "election", sp.id, "opens", w.Opens, "closes", w.Closes)
	return info, nil
}

// Close closes the election now (the ledger's clock): [Ledger.CloseAt].
func (l *Ledger) Close(ctx context.Context, electionID string) (*SignedCheckpoint, error) {
	return l.CloseAt(ctx, electionID, l.now())
}

// CloseAt closes the election, voting having stopped at the given time
// (the scrutineer's early close, or the notified close the scheduler
// applies): no cast is accepted afterwards, and the ledger signs its final
// tree as the close — a checkpoint of the final size and root whose text
// says "closed <time>" (protocol §6, version 4) — stored with the closure
// in the same transaction. The time is rounded up to the second (no cast
// the ledger accepted is after it) and is at most the end of the
// acceptance window. The result, the report and the mandate (s.234: from
// the date of the ballot, s.246 the last day votes could be cast) use it.
// The close is returned; closing again returns the same one, with its
// first time. (An election closed before version 2 has no signed close:
// its checkpoint of the final size is returned, and it is exported in
// version 1.)
func (l *Ledger) CloseAt(ctx context.Context, electionID string, at time.Time) (*SignedCheckpoint, error) {
	e, err := l.election(ctx, electionID)
	if err != nil {
		return nil, err
	}
	if r := at.Truncate(time.Second); !r.Equal(at) {
		at = r.Add(time.Second)
	}
	if at.After(e.closes) {
		at = e.closes
	}
	if at.Before(e.opens) {
		at = e.opens
	}
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, lockSQL, lockKey(electionID)); err != nil {
		return nil, unavailable(err)
	}
	var size int64
	var closeNote *string
	err = tx.QueryRow(ctx, `SELECT size, signed FROM ledger_closures WHERE election_id = $1`, electionID).Scan(&size, &closeNote)
	if errors.Is(err, pgx.ErrNoRows) {
		if size, err = currentSize(ctx, tx, electionID); err != nil {
			return nil, unavailable(err)
		}
		signed, err := l.signClose(ctx, tx, electionID, size, at)
		if err != nil {
			return nil, err
		}
		closeNote = &signed
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_closures (election_id, size, signed) VALUES ($1, $2, $3)`, electionID, size, signed); err != nil {
			return nil, unavailable(err)
		}
	} else if err != nil {
		return nil, unavailable(err)
	}
	cp, err := checkpointAt(ctx, tx, electionID, size)
	if err != nil {
		return nil, err
	}
	if closeNote != nil {
		cp.Closed, cp.Signed = true, []byte(*closeNote)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, unavailable(err)
	}
	l.log.InfoContext(ctx, "ledger: election closed", "election", electionID, "size", size)
	return cp, nil
}

// signClose signs the close of the tree of the given size (the root of its
// checkpoint, signed when its batch was appended) with the election's log
// key, stating the time voting stopped.
func (l *Ledger) signClose(ctx context.Context, tx pgx.Tx, electionID string, size int64, at time.Time) (string, error) {
	cp, err := checkpointAt(ctx, tx, electionID, size)
	if err != nil {
		return "", err
	}
	var sealed []byte
	if err := tx.QueryRow(ctx, `SELECT sealed_key FROM ledger_keys WHERE election_id = $1`, electionID).Scan(&sealed); err != nil {
		return "", unavailable(err)
	}
	skey, err := l.unseal(electionID, sealed)
	if err != nil {
		return "", err
	}
	signer, err := newSigner(skey)
	if err != nil {
		return "", err
	}
	c := cp.Checkpoint
	c.Closed, c.ClosedAt = true, at.UTC().Format(receipt.CloseTimeFormat)
	signed, err := receipt.SignCheckpoint(c, signer)
	if err != nil {
		return "", err
	}
	return string(signed), nil
}

// closeNote returns the election's signed close (nil when the election is
// not closed, or was closed before version 2 signed closes).
func closeNote(ctx context.Context, q querier, electionID string) ([]byte, error) {
	var signed *string
	err := q.QueryRow(ctx, `SELECT signed FROM ledger_closures WHERE election_id = $1`, electionID).Scan(&signed)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && signed == nil {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return []byte(*signed), nil
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// currentSize is the number of entries of the election.
func currentSize(ctx context.Context, q querier, electionID string) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT COALESCE(max(idx) + 1, 0) FROM ledger_entries WHERE election_id = $1`, electionID).Scan(&n)
	return n, err
}

func checkpointAt(ctx context.Context, q querier, electionID string, size int64) (*SignedCheckpoint, error) {
	var root []byte
	var signed string
	err := q.QueryRow(ctx, `SELECT root, signed FROM ledger_checkpoints WHERE election_id = $1 AND size = $2`, electionID, size).Scan(&root, &signed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, reject(ErrNotFound, fmt.Sprintf("no checkpoint of size %d", size))
	}
	if err != nil {
		return nil, unavailable(err)
	}
	cp := &SignedCheckpoint{Checkpoint: receipt.Checkpoint{Origin: receipt.Origin(electionID), Size: size}, Signed: []byte(signed)}
	copy(cp.Root[:], root)
	return cp, nil
}
