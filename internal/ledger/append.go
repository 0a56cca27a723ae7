package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/receipt"
)

// castReq is one cast waiting in an election's append pipeline.
type castReq struct {
	d     *decoded
	auth  []byte
	entry []byte
	leaf  tlog.Hash
	res   chan castRes // buffered, written once

	// set by the pipeline
	err     error
	index   int64
	existed bool
	sameAs  *castReq
	proof   tlog.RecordProof
}

type castRes struct {
	index   int64
	existed bool
	cp      *SignedCheckpoint
	proof   tlog.RecordProof // nil: read it from the database
	err     error
}

// Cast checks a cast and appends it (protocol §6), returning its receipt.
// existed is true when exactly this entry (same tracker, authorisation and
// ballot) was already in the ledger: the receipt is then the existing one,
// against the latest checkpoint. Errors are *Error values (see the
// sentinels); ErrUnavailable means the database failed and the cast may
// or may not have been appended: submitting it again is safe.
//
// The append is durable (committed in PostgreSQL) before Cast returns.
// Nothing about the caller is recorded: only the entry and the hour.
func (l *Ledger) Cast(ctx context.Context, electionID string, ballot, authorisation []byte) (r *receipt.Receipt, existed bool, err error) {
	start := time.Now()
	defer func() {
		if err != nil {
			l.metrics.rejected.WithLabelValues(asError(err).Code).Inc()
		}
	}()
	e, err := l.election(ctx, electionID)
	if err != nil {
		return nil, false, err
	}
	if len(ballot) > receipt.MaxBallotSize {
		return nil, false, reject(ErrTooLarge, "ballot over 64 KiB")
	}
	if len(authorisation) != receipt.AuthorisationSize {
		return nil, false, reject(ErrMalformed, fmt.Sprintf("authorisation must be %d bytes", receipt.AuthorisationSize))
	}
	if !e.inWindow(l.now()) {
		return nil, false, reject(ErrNotOpen, "outside the voting window")
	}
	d, err := e.spec.checker.decode(ballot)
	if err != nil {
		return nil, false, err
	}
	entry, err := receipt.EntryBytes(d.tracker[:], authorisation, ballot)
	if err != nil {
		return nil, false, reject(ErrMalformed, err.Error())
	}
	req := &castReq{d: d, auth: authorisation, entry: entry, leaf: receipt.LeafHash(entry), res: make(chan castRes, 1)}
	if err := l.enqueue(ctx, electionID, e, req); err != nil {
		return nil, false, err
	}
	var res castRes
	select {
	case res = <-req.res:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-l.done: // queued as the ledger stopped
		select {
		case res = <-req.res:
		default:
			return nil, false, reject(ErrUnavailable, "the ledger is stopping")
		}
	}
	if res.err != nil {
		return nil, false, res.err
	}
	proof := res.proof
	if proof == nil {
		if proof, err = tlog.ProveRecord(res.cp.Size, res.index, l.hashReader(ctx, electionID)); err != nil {
			return nil, false, unavailable(fmt.Errorf("inclusion proof: %w", err))
		}
	}
	l.metrics.latency.Observe(time.Since(start).Seconds())
	return receipt.NewReceipt(electionID, d.tracker, res.index, proof, res.cp.Signed), res.existed, nil
}

func (e *election) inWindow(t time.Time) bool {
	return !t.Before(e.opens) && t.Before(e.closes)
}

func (l *Ledger) enqueue(ctx context.Context, id string, e *election, req *castReq) error {
	l.mu.Lock()
	stopped := l.stopped
	if !stopped {
		e.start.Do(func() {
			e.queue = make(chan *castReq, 4*l.maxBatch)
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				l.pipeline(id, e)
			}()
		})
	}
	l.mu.Unlock()
	if stopped {
		return reject(ErrUnavailable, "the ledger is stopping")
	}
	select {
	case e.queue <- req:
		return nil
	case <-l.stop:
		return reject(ErrUnavailable, "the ledger is stopping")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pipeline runs the three stages of group commit for one election: collect
// a batch (by the close rule of collect), verify it on every core, append
// it in one transaction. The stages overlap: batch k+1 is verified while
// batch k is committed.
func (l *Ledger) pipeline(id string, e *election) {
	verified := make(chan []*castReq, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for batch := range verified {
			l.commit(id, e, batch)
		}
	}()
	defer func() {
		close(verified)
		wg.Wait()
		// Answer whatever is still queued.
		for {
			select {
			case r := <-e.queue:
				r.res <- castRes{err: reject(ErrUnavailable, "the ledger is stopping")}
			default:
				return
			}
		}
	}()
	for {
		var first *castReq
		select {
		case first = <-e.queue:
		case <-l.stop:
			return
		}
		batch, why := l.collect(e, first)
		if why != "" {
			l.metrics.batches.WithLabelValues(why).Inc()
			l.verify(e, batch)
			select {
			case verified <- batch:
				continue
			case <-l.stop:
			}
		}
		for _, r := range batch {
			r.res <- castRes{err: reject(ErrUnavailable, "the ledger is stopping")}
		}
		return
	}
}

// Why a batch closed (the label of eballot_ledger_batches_total).
const (
	closeFull = "full" // K casts
	closeBusy = "busy" // at least M casts and T_min old
	closeWait = "wait" // T after its first cast
)

// collect takes casts from the election's queue into a batch that starts
// with first, until the close rule closes it, and says why it closed: at
// K casts (maxBatch); or once it holds at least M casts (minBatch) and is
// at least T_min (minWait) old; or T (maxWait) after its first cast. The
// batch is the anonymity set of its casts (docs/threat-model.md), so a
// cast's batch holds at least min(M, the casts that arrive within T) and
// a cast waits at most T; when casts arrive at M/T_min a second or more, a
// batch closes at T_min. The reason is "" when the ledger stopped.
func (l *Ledger) collect(e *election, first *castReq) ([]*castReq, string) {
	batch := []*castReq{first}
	if len(batch) >= l.maxBatch {
		return batch, closeFull
	}
	waited, stopWait := l.newTimer(l.maxWait)
	defer stopWait()
	var busy <-chan time.Time // nil: the early close is off, or T_min has passed
	if l.minBatch > 0 && l.minWait < l.maxWait {
		c, stop := l.newTimer(l.minWait)
		defer stop()
		busy = c
	}
	aged := false // T_min has passed
	for {
		select {
		case r := <-e.queue:
			batch = append(batch, r)
			if len(batch) >= l.maxBatch {
				return batch, closeFull
			}
			if aged && len(batch) >= l.minBatch {
				return batch, closeBusy
			}
		case <-busy:
			aged, busy = true, nil
			if len(batch) >= l.minBatch {
				return batch, closeBusy
			}
		case <-waited:
			return batch, closeWait
		case <-l.stop:
			return batch, ""
		}
	}
}

// verify checks the authorisations and proofs of a batch with the
// scheme's checker, which spreads the work over every core (and batches the
// proof verification).
func (l *Ledger) verify(e *election, batch []*castReq) {
	ds := make([]*decoded, len(batch))
	auths := make([][]byte, len(batch))
	for i, r := range batch {
		ds[i], auths[i] = r.d, r.auth
	}
	for i, err := range e.spec.checker.verify(ds, auths) {
		if err != nil {
			batch[i].err = err
		}
	}
}

// commit appends the valid casts of a batch in one transaction under the
// election's advisory lock, with their tree hashes and a signed checkpoint,
// and answers every cast of the batch.
func (l *Ledger) commit(id string, e *election, batch []*castReq) {
	var pending []*castReq
	for _, r := range batch {
		if r.err != nil {
			r.res <- castRes{err: r.err}
			continue
		}
		pending = append(pending, r)
	}
	if len(pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	cp, appended, err := l.appendBatch(ctx, id, e, pending)
	if err != nil {
		var le *Error
		if !errors.As(err, &le) {
			l.log.Warn("ledger: append failed", "election", id, "batch", len(pending), "err", err)
			err = unavailable(err)
		}
		for _, r := range pending {
			r.res <- castRes{err: err}
		}
		return
	}
	if appended > 0 {
		l.metrics.appended.Add(float64(appended))
		l.metrics.batchSize.Observe(float64(appended))
		l.metrics.commit.Observe(time.Since(start).Seconds())
	}
	for _, r := range pending {
		switch {
		case r.err != nil:
			r.res <- castRes{err: r.err}
		case r.sameAs != nil:
			r.res <- castRes{index: r.sameAs.index, existed: true, cp: cp}
		default:
			r.res <- castRes{index: r.index, existed: r.existed, cp: cp, proof: r.proof}
		}
	}
}

// appendBatch is the transaction of commit. It sets err, index, existed or
// sameAs on each cast and returns the checkpoint covering every entry.
func (l *Ledger) appendBatch(ctx context.Context, id string, e *election, batch []*castReq) (*SignedCheckpoint, int, error) {
	for _, r := range batch {
		r.err, r.index, r.existed, r.sameAs, r.proof = nil, 0, false, nil, nil
	}
	// The batch is appended in a random order: the ledger's indexes, the
	// rows' physical order and the one transaction id of the batch reveal
	// only which batch a ballot is in, never its place in the arrival order
	// (which the marked register's order would match: docs/threat-model.md).
	shuffle(batch)
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	trackers := make([][]byte, len(batch))
	var alphas [][]byte
	for i, r := range batch {
		trackers[i] = r.d.tracker[:]
		for _, a := range r.d.alphas {
			alphas = append(alphas, a[:])
		}
	}
	// The lookups are written as one index probe per key (LATERAL … LIMIT
	// 1) so that the plan never degrades into a scan of the election, even
	// before the tables have statistics.
	// One round trip: take the election's lock, then read closed?, size,
	// known trackers, used αs. Inside the lock they are current, even with
	// other processes appending.
	var (
		closed    bool
		size      int64
		old       = map[[32]byte]existing{}
		usedAlpha = map[[32]byte]bool{}
	)
	qb := &pgx.Batch{}
	qb.Queue(lockSQL, lockKey(id))
	qb.Queue(`SELECT EXISTS (SELECT 1 FROM ledger_closures WHERE election_id = $1),
		COALESCE((SELECT max(idx) + 1 FROM ledger_entries WHERE election_id = $1), 0)`, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&closed, &size)
	})
	qb.Queue(`SELECT x.idx, x.tracker, x.entry FROM unnest($2::bytea[]) AS t(tracker),
		LATERAL (SELECT idx, tracker, entry FROM ledger_entries e WHERE e.election_id = $1 AND e.tracker = t.tracker LIMIT 1) AS x`, id, trackers).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var x existing
			var t []byte
			if err := rows.Scan(&x.idx, &t, &x.entry); err != nil {
				return err
			}
			old[[32]byte(t)] = x
		}
		return rows.Err()
	})
	qb.Queue(`SELECT x.alpha FROM unnest($2::bytea[]) AS t(alpha),
		LATERAL (SELECT alpha FROM ledger_alphas a WHERE a.election_id = $1 AND a.alpha = t.alpha LIMIT 1) AS x`, id, alphas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var a []byte
			if err := rows.Scan(&a); err != nil {
				return err
			}
			usedAlpha[[32]byte(a)] = true
		}
		return rows.Err()
	})
	if err := tx.SendBatch(ctx, qb).Close(); err != nil {
		return nil, 0, err
	}
	now := l.now()
	if closed || !e.inWindow(now) {
		return nil, 0, reject(ErrNotOpen, "the election is closed")
	}

	var added []*castReq
	newT := map[[32]byte]*castReq{}
	anyExisted := false
	for _, r := range batch {
		if x, ok := old[r.d.tracker]; ok {
			if bytes.Equal(x.entry, r.entry) {
				r.existed, r.index, anyExisted = true, x.idx, true
			} else {
				r.err = reject(ErrDuplicateTracker, "this tracker is in the ledger with another authorisation")
			}
			continue
		}
		if p, ok := newT[r.d.tracker]; ok {
			if bytes.Equal(p.entry, r.entry) {
				r.sameAs = p
			} else {
				r.err = reject(ErrDuplicateTracker, "this tracker is in the ledger with another authorisation")
			}
			continue
		}
		dup := false
		for _, a := range r.d.alphas {
			if usedAlpha[a] {
				dup = true
				break
			}
		}
		if dup {
			r.err = reject(ErrDuplicateAlpha, "a ciphertext of this ballot is already in the ledger")
			continue
		}
		for _, a := range r.d.alphas {
			usedAlpha[a] = true
		}
		r.index = size + int64(len(added))
		newT[r.d.tracker] = r
		added = append(added, r)
	}

	if len(added) == 0 {
		if !anyExisted {
			return nil, 0, nil
		}
		cp, err := latestCheckpoint(ctx, tx, id)
		if err != nil {
			return nil, 0, err
		}
		return cp, 0, tx.Commit(ctx)
	}

	// Tree hashes: the new leaves only need the roots of the complete
	// subtrees of the current tree (its frontier): kept from our last
	// commit, or read in one query when another process appended since.
	hr := &overlay{m: map[int64]tlog.Hash{}, next: l.hashReaderTx(ctx, tx, id)}
	if e.front != nil && e.front.size == size {
		maps.Copy(hr.m, e.front.hashes)
	} else if err := hr.prefetch(frontier(size)); err != nil {
		return nil, 0, err
	}
	hour := now.UTC().Truncate(time.Hour)
	var (
		idxs, alphaIdx, hashIdx []int64
		ts, leaves, ents, as    [][]byte
		hashVals                [][]byte
		styles                  []int32
	)
	for _, r := range added {
		hs, err := tlog.StoredHashesForRecordHash(r.index, r.leaf, hr)
		if err != nil {
			return nil, 0, fmt.Errorf("tree hashes: %w", err)
		}
		base := tlog.StoredHashIndex(0, r.index)
		for i, h := range hs {
			hr.m[base+int64(i)] = h
			hashIdx = append(hashIdx, base+int64(i))
			hashVals = append(hashVals, h[:])
		}
		idxs = append(idxs, r.index)
		ts = append(ts, r.d.tracker[:])
		leaves = append(leaves, r.leaf[:])
		styles = append(styles, int32(r.d.style))
		ents = append(ents, r.entry)
		for _, a := range r.d.alphas {
			as = append(as, a[:])
			alphaIdx = append(alphaIdx, r.index)
		}
	}
	newSize := size + int64(len(added))
	root, err := tlog.TreeHash(newSize, hr)
	if err != nil {
		return nil, 0, fmt.Errorf("tree hash: %w", err)
	}
	c := receipt.Checkpoint{Origin: receipt.Origin(id), Size: newSize, Root: root}
	signed, err := receipt.SignCheckpoint(c, e.signer)
	if err != nil {
		return nil, 0, err
	}
	// Receipts' inclusion proofs, from the same hashes (no more reads).
	for _, r := range added {
		if r.proof, err = tlog.ProveRecord(newSize, r.index, hr); err != nil {
			return nil, 0, fmt.Errorf("inclusion proof: %w", err)
		}
	}
	ib := &pgx.Batch{}
	ib.Queue(`INSERT INTO ledger_entries (election_id, idx, tracker, leaf, style, entry, hour)
		SELECT $1, u.* , $7 FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::integer[], $6::bytea[]) AS u`,
		id, idxs, ts, leaves, styles, ents, hour)
	ib.Queue(`INSERT INTO ledger_alphas (election_id, alpha, idx) SELECT $1, u.* FROM unnest($2::bytea[], $3::bigint[]) AS u`, id, as, alphaIdx)
	ib.Queue(`INSERT INTO ledger_hashes (election_id, idx, hash) SELECT $1, u.* FROM unnest($2::bigint[], $3::bytea[]) AS u`, id, hashIdx, hashVals)
	ib.Queue(`INSERT INTO ledger_checkpoints (election_id, size, root, signed) VALUES ($1, $2, $3, $4)`, id, newSize, root[:], string(signed))
	if err := tx.SendBatch(ctx, ib).Close(); err != nil {
		return nil, 0, fmt.Errorf("insert: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, fmt.Errorf("commit: %w", err)
	}
	nf := &frontierCache{size: newSize, hashes: map[int64]tlog.Hash{}}
	for _, x := range frontier(newSize) {
		nf.hashes[x] = hr.m[x]
	}
	e.front = nf
	return &SignedCheckpoint{Checkpoint: c, Signed: signed}, len(added), nil
}

// shuffle permutes b uniformly (Fisher–Yates with crypto/rand).
func shuffle(b []*castReq) {
	for i := len(b) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			panic("ledger: crypto/rand failed: " + err.Error()) // the system's randomness is gone: nothing is safe
		}
		b[i], b[j.Int64()] = b[j.Int64()], b[i]
	}
}

type existing struct {
	idx   int64
	entry []byte
}

// frontierCache is the frontier of the tree after this process's last
// commit (hashes are immutable once committed).
type frontierCache struct {
	size   int64
	hashes map[int64]tlog.Hash
}

// frontier returns the stored-hash indexes of the roots of the complete
// subtrees that make up a tree of size n (left to right).
func frontier(n int64) []int64 {
	var idx []int64
	for level := 63; level >= 0; level-- {
		if n&(1<<level) != 0 {
			idx = append(idx, tlog.StoredHashIndex(level, n>>level-1))
		}
	}
	return idx
}

// overlay is a tlog.HashReader over hashes computed in this transaction,
// falling back to the database.
type overlay struct {
	m    map[int64]tlog.Hash
	next tlog.HashReader
}

func (o *overlay) prefetch(idx []int64) error {
	if len(idx) == 0 {
		return nil
	}
	hs, err := o.next.ReadHashes(idx)
	if err != nil {
		return err
	}
	for i, x := range idx {
		o.m[x] = hs[i]
	}
	return nil
}

func (o *overlay) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	var miss []int64
	for i, x := range idx {
		h, ok := o.m[x]
		if !ok {
			miss = append(miss, x)
			continue
		}
		out[i] = h
	}
	if len(miss) == 0 {
		return out, nil
	}
	if err := o.prefetch(miss); err != nil {
		return nil, err
	}
	for i, x := range idx {
		out[i] = o.m[x]
	}
	return out, nil
}
