// Package audit is the tamper-evident log of administrative and scrutineer
// actions (statutory.md §5 F38, A5): who did what to which ballot, when.
//
// Each entry's hash covers the previous entry's hash, so any change to a
// past entry — or a removed or reordered one — breaks the chain, and
// [Verify] names the first entry at fault. The table refuses UPDATE, DELETE
// and TRUNCATE (migrations/0004_election.sql). Entries never hold vote
// content, OTP codes, tokens or contact details.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockKey serialises appends to the chain (pg_advisory_xact_lock).
const lockKey int64 = 0x6175646974 // "audit"

// Entry is one audit record.
type Entry struct {
	Seq      int64
	At       time.Time
	Actor    string // e.g. "staff:12", "scrutineer:3", "system"
	Action   string // e.g. "ballot.open"
	BallotID *int64
	Detail   string // JSON object
	PrevHash []byte
	Hash     []byte
}

// Append adds an entry in the caller's transaction tx. detail is marshalled
// to JSON; it MUST NOT contain personal data beyond ids.
func Append(ctx context.Context, tx pgx.Tx, actor, action string, ballotID *int64, detail any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if detail == nil {
		d = []byte("{}")
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	var seq int64
	prev := make([]byte, 32)
	err = tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("audit: read head: %w", err)
	}
	e := Entry{Seq: seq + 1, At: time.Now().UTC().Truncate(time.Microsecond), Actor: actor, Action: action,
		BallotID: ballotID, Detail: string(d), PrevHash: prev}
	e.Hash = e.computeHash()
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, ballot_id, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.Seq, e.At, e.Actor, e.Action, e.BallotID, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// computeHash = SHA-256("eballot-audit-v1" ‖ prev ‖ u64 seq ‖ lp(at) ‖
// lp(actor) ‖ lp(action) ‖ i64 ballot (0 if none) ‖ lp(detail)).
func (e *Entry) computeHash() []byte {
	h := sha256.New()
	h.Write([]byte("eballot-audit-v1"))
	h.Write(e.PrevHash)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	lp := func(s string) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(s)))
		h.Write(l[:])
		h.Write([]byte(s))
	}
	lp(e.At.UTC().Format(time.RFC3339Nano))
	lp(e.Actor)
	lp(e.Action)
	var b int64
	if e.BallotID != nil {
		b = *e.BallotID
	}
	binary.BigEndian.PutUint64(n[:], uint64(b))
	h.Write(n[:])
	lp(e.Detail)
	return h.Sum(nil)
}

// Reader reads the log (a pool or a transaction).
type Reader interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ErrTampered is returned by Verify when the chain is broken.
var ErrTampered = errors.New("audit: log tampered")

// Verify recomputes the whole chain and returns the number of entries, or
// an error wrapping ErrTampered that names the first bad entry.
func Verify(ctx context.Context, db Reader) (int64, error) {
	rows, err := db.Query(ctx, "SELECT seq, at, actor, action, ballot_id, detail, prev_hash, hash FROM audit_log ORDER BY seq")
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	prev := make([]byte, 32)
	var n int64
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.BallotID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return n, fmt.Errorf("audit: %w", err)
		}
		n++
		if e.Seq != n {
			return n, fmt.Errorf("%w: entry %d missing or out of order (found %d)", ErrTampered, n, e.Seq)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			return n, fmt.Errorf("%w: entry %d does not chain to entry %d", ErrTampered, e.Seq, e.Seq-1)
		}
		if !bytes.Equal(e.computeHash(), e.Hash) {
			return n, fmt.Errorf("%w: entry %d was changed after it was written", ErrTampered, e.Seq)
		}
		prev = e.Hash
	}
	return n, rows.Err()
}
