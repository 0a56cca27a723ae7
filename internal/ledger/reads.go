package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/receipt"
)

// MaxRange bounds the entries returned by one [Ledger.Entries] call.
const MaxRange = 1000

// Entry is one ledger entry.
type Entry struct {
	Index int64
	// Tracker T, the first 32 bytes of Bytes.
	Tracker [32]byte
	// Style is the ballot style.
	Style int
	// Bytes is entry_bytes = T ‖ authorisation ‖ ballot_bytes.
	Bytes []byte
	// Leaf is SHA-256(0x00 ‖ Bytes).
	Leaf tlog.Hash
}

// Authorisation returns prefix ‖ signature.
func (e *Entry) Authorisation() []byte {
	return e.Bytes[receipt.TrackerSize : receipt.TrackerSize+receipt.AuthorisationSize]
}

// Ballot returns ballot_bytes.
func (e *Entry) Ballot() []byte { return e.Bytes[receipt.TrackerSize+receipt.AuthorisationSize:] }

// hashReader reads stored tree hashes from the pool.
func (l *Ledger) hashReader(ctx context.Context, electionID string) tlog.HashReader {
	return l.hashReaderTx(ctx, l.pool, electionID)
}

func (l *Ledger) hashReaderTx(ctx context.Context, q querier, electionID string) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		rows, err := q.Query(ctx, `SELECT x.idx, x.hash FROM unnest($2::bigint[]) AS t(idx),
			LATERAL (SELECT idx, hash FROM ledger_hashes h WHERE h.election_id = $1 AND h.idx = t.idx LIMIT 1) AS x`, electionID, idx)
		if err != nil {
			return nil, err
		}
		got := make(map[int64]tlog.Hash, len(idx))
		for rows.Next() {
			var i int64
			var h []byte
			if err := rows.Scan(&i, &h); err != nil {
				rows.Close()
				return nil, err
			}
			if len(h) != 32 {
				rows.Close()
				return nil, fmt.Errorf("ledger: stored hash %d has %d bytes", i, len(h))
			}
			got[i] = tlog.Hash(h)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := got[x]
			if !ok {
				return nil, fmt.Errorf("ledger: stored hash %d missing", x)
			}
			out[i] = h
		}
		return out, nil
	})
}

func latestCheckpoint(ctx context.Context, q querier, electionID string) (*SignedCheckpoint, error) {
	var size int64
	var root []byte
	var signed string
	err := q.QueryRow(ctx, `SELECT size, root, signed FROM ledger_checkpoints WHERE election_id = $1 ORDER BY size DESC LIMIT 1`, electionID).
		Scan(&size, &root, &signed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnknownElection
	}
	if err != nil {
		return nil, unavailable(err)
	}
	cp := &SignedCheckpoint{Checkpoint: receipt.Checkpoint{Origin: receipt.Origin(electionID), Size: size}, Signed: []byte(signed)}
	copy(cp.Root[:], root)
	return cp, nil
}

// LatestCheckpoint returns the newest signed checkpoint.
func (l *Ledger) LatestCheckpoint(ctx context.Context, electionID string) (*SignedCheckpoint, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	return latestCheckpoint(ctx, l.pool, electionID)
}

// Checkpoint returns the signed checkpoint of the given size, if one was
// published (ErrNotFound otherwise).
func (l *Ledger) Checkpoint(ctx context.Context, electionID string, size int64) (*SignedCheckpoint, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	return checkpointAt(ctx, l.pool, electionID, size)
}

// Checkpoints lists up to count published checkpoints with size ≥ from, by
// size.
func (l *Ledger) Checkpoints(ctx context.Context, electionID string, from int64, count int) ([]*SignedCheckpoint, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	rows, err := l.pool.Query(ctx, `SELECT size, root, signed FROM ledger_checkpoints WHERE election_id = $1 AND size >= $2
		ORDER BY size LIMIT $3`, electionID, from, count)
	if err != nil {
		return nil, unavailable(err)
	}
	var out []*SignedCheckpoint
	for rows.Next() {
		var root []byte
		var signed string
		cp := &SignedCheckpoint{Checkpoint: receipt.Checkpoint{Origin: receipt.Origin(electionID)}}
		if err := rows.Scan(&cp.Size, &root, &signed); err != nil {
			rows.Close()
			return nil, unavailable(err)
		}
		copy(cp.Root[:], root)
		cp.Signed = []byte(signed)
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// Manifest returns the canonical manifest JSON and its hash.
func (l *Ledger) Manifest(ctx context.Context, electionID string) ([]byte, [32]byte, error) {
	e, err := l.election(ctx, electionID)
	if err != nil {
		return nil, [32]byte{}, err
	}
	return e.spec.canonical, e.spec.hash, nil
}

// Status reports the election's window, whether it is closed, and its size.
type Status struct {
	Info
	Closed bool
	Size   int64
}

// Status returns the election's state.
func (l *Ledger) Status(ctx context.Context, electionID string) (*Status, error) {
	e, err := l.election(ctx, electionID)
	if err != nil {
		return nil, err
	}
	st := &Status{Info: Info{ElectionID: electionID, ManifestHash: e.spec.hash, LogKey: e.spec.logKey, Opens: e.opens, Closes: e.closes}}
	err = l.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_closures WHERE election_id = $1)`, electionID).Scan(&st.Closed)
	if err != nil {
		return nil, unavailable(err)
	}
	cp, err := latestCheckpoint(ctx, l.pool, electionID)
	if err != nil {
		return nil, err
	}
	st.Size = cp.Size
	return st, nil
}

const entryCols = `idx, tracker, style, entry, leaf`

func scanEntry(row pgx.Row) (*Entry, error) {
	var e Entry
	var t, leaf []byte
	var style int32
	if err := row.Scan(&e.Index, &t, &style, &e.Bytes, &leaf); err != nil {
		return nil, err
	}
	e.Style = int(style)
	copy(e.Tracker[:], t)
	copy(e.Leaf[:], leaf)
	return &e, nil
}

// Entry returns the entry at index. Only entries covered by a published
// checkpoint are returned (all are, once their batch committed).
func (l *Ledger) Entry(ctx context.Context, electionID string, index int64) (*Entry, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	e, err := scanEntry(l.pool.QueryRow(ctx, `SELECT `+entryCols+` FROM ledger_entries WHERE election_id = $1 AND idx = $2`, electionID, index))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, reject(ErrNotFound, "no entry at this index")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return e, nil
}

// EntryByTracker returns the entry with tracker T.
func (l *Ledger) EntryByTracker(ctx context.Context, electionID string, tracker [32]byte) (*Entry, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	e, err := scanEntry(l.pool.QueryRow(ctx, `SELECT `+entryCols+` FROM ledger_entries WHERE election_id = $1 AND tracker = $2`, electionID, tracker[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, reject(ErrNotFound, "no entry with this tracker")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return e, nil
}

// Entries returns the entries with index in [from, from+count), count ≤
// [MaxRange]; fewer at the end of the ledger.
func (l *Ledger) Entries(ctx context.Context, electionID string, from int64, count int) ([]*Entry, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	if from < 0 || count < 0 || count > MaxRange {
		return nil, reject(ErrBadRequest, fmt.Sprintf("from must be ≥ 0 and count between 0 and %d", MaxRange))
	}
	return l.entries(ctx, electionID, from, from+int64(count))
}

func (l *Ledger) entries(ctx context.Context, electionID string, from, to int64) ([]*Entry, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+entryCols+` FROM ledger_entries WHERE election_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`,
		electionID, from, to)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []*Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, unavailable(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// InclusionProof proves that the entry at index is in the tree of the given
// size. size must not exceed the latest checkpoint's.
func (l *Ledger) InclusionProof(ctx context.Context, electionID string, index, size int64) (tlog.RecordProof, error) {
	cp, err := l.LatestCheckpoint(ctx, electionID)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size > cp.Size || index < 0 || index >= size {
		return nil, reject(ErrBadRequest, fmt.Sprintf("need 0 ≤ index < size ≤ %d", cp.Size))
	}
	p, err := tlog.ProveRecord(size, index, l.hashReader(ctx, electionID))
	if err != nil {
		return nil, unavailable(err)
	}
	return p, nil
}

// ConsistencyProof proves that the tree of size newSize extends the tree of
// size oldSize (empty when oldSize is 0 or equal to newSize).
func (l *Ledger) ConsistencyProof(ctx context.Context, electionID string, oldSize, newSize int64) (tlog.TreeProof, error) {
	cp, err := l.LatestCheckpoint(ctx, electionID)
	if err != nil {
		return nil, err
	}
	if oldSize < 0 || oldSize > newSize || newSize > cp.Size {
		return nil, reject(ErrBadRequest, fmt.Sprintf("need 0 ≤ old ≤ new ≤ %d", cp.Size))
	}
	if oldSize == 0 || oldSize == newSize {
		return tlog.TreeProof{}, nil
	}
	p, err := tlog.ProveTree(newSize, oldSize, l.hashReader(ctx, electionID))
	if err != nil {
		return nil, unavailable(err)
	}
	return p, nil
}

// Receipt returns a receipt for the entry with tracker T against the latest
// checkpoint (for a voter who lost the answer to a cast).
func (l *Ledger) Receipt(ctx context.Context, electionID string, tracker [32]byte) (*receipt.Receipt, error) {
	e, err := l.EntryByTracker(ctx, electionID, tracker)
	if err != nil {
		return nil, err
	}
	cp, err := latestCheckpoint(ctx, l.pool, electionID)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(cp.Size, e.Index, l.hashReader(ctx, electionID))
	if err != nil {
		return nil, unavailable(err)
	}
	return receipt.NewReceipt(electionID, tracker, e.Index, p, cp.Signed), nil
}

// ReceiptByCode is Receipt for a tracker given by its short code (the first
// 80 bits, protocol §4.3), as a member types it on the "check my vote"
// page. Two trackers sharing 80 bits would be refused as ambiguous rather
// than guessed between (a chance of about n²/2^81).
func (l *Ledger) ReceiptByCode(ctx context.Context, electionID, code string) (*receipt.Receipt, error) {
	prefix, err := receipt.ParseShortCode(code)
	if err != nil {
		return nil, reject(ErrBadRequest, err.Error())
	}
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	lo := append(prefix[:], make([]byte, 22)...)
	hi := append(prefix[:], bytes.Repeat([]byte{0xff}, 22)...)
	rows, err := l.pool.Query(ctx, `SELECT tracker FROM ledger_entries WHERE election_id = $1 AND tracker BETWEEN $2 AND $3 LIMIT 2`,
		electionID, lo, hi)
	if err != nil {
		return nil, unavailable(err)
	}
	trackers, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, unavailable(err)
	}
	switch len(trackers) {
	case 0:
		return nil, reject(ErrNotFound, "no entry with this short code")
	case 2:
		return nil, reject(ErrBadRequest, "two entries share this short code: use the full tracker")
	}
	var t [32]byte
	copy(t[:], trackers[0])
	return l.Receipt(ctx, electionID, t)
}
