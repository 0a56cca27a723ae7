package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/receipt"
)

// Problem is one inconsistency found by [Ledger.Audit]. Index is the entry
// index it concerns, or -1 (for a checkpoint, Size says which).
type Problem struct {
	Index int64
	Size  int64 // checkpoint size, for checkpoint problems
	What  string
}

func (p Problem) String() string {
	if p.Index >= 0 {
		return fmt.Sprintf("entry %d: %s", p.Index, p.What)
	}
	return fmt.Sprintf("checkpoint %d: %s", p.Size, p.What)
}

// AuditReport is the result of [Ledger.Audit].
type AuditReport struct {
	Size        int64 // entries read
	Checkpoints int   // checkpoints checked
	Problems    []Problem
}

// Err returns nil when no problem was found, else an error naming the first.
func (r *AuditReport) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("ledger: audit found %d problems, first: %s", len(r.Problems), r.Problems[0])
}

// maxProblems stops an audit from growing without bound on a broken ledger.
const maxProblems = 100

// Audit recomputes the election's ledger from the database and checks it:
// the stored manifest hashes to its stored hash; entries are numbered
// 0…n-1 without gaps; each entry's tracker is T recomputed from its ballot
// bytes, its leaf is SHA-256(0x00 ‖ entry) and its style column matches the
// ballot; every stored tree hash equals the one recomputed from the
// entries; every published checkpoint is signed by the manifest's log key,
// has the election's origin and the root recomputed at its size. With
// ballots set, every ballot is also decoded and its authorisation and
// proofs verified. Problems name the entry index (or checkpoint size).
func (l *Ledger) Audit(ctx context.Context, electionID string, ballots bool) (*AuditReport, error) {
	e, err := l.election(ctx, electionID)
	if err != nil {
		return nil, err
	}
	rep := &AuditReport{}
	add := func(p Problem) { rep.Problems = append(rep.Problems, p) }

	var stored, storedHash []byte
	if err := l.pool.QueryRow(ctx, `SELECT manifest, manifest_hash FROM ledger_elections WHERE election_id = $1`, electionID).Scan(&stored, &storedHash); err != nil {
		return nil, unavailable(err)
	}
	if h := sha256.Sum256(stored); !bytes.Equal(h[:], storedHash) || h != e.spec.hash {
		add(Problem{Index: -1, Size: -1, What: "stored manifest does not match its hash"})
	}

	cps, err := l.Checkpoints(ctx, electionID, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	origin := receipt.Origin(electionID)
	checkCP := func(cp *SignedCheckpoint, root tlog.Hash) {
		rep.Checkpoints++
		c, err := receipt.OpenCheckpoint(cp.Signed, e.spec.logKey)
		switch {
		case err != nil:
			add(Problem{Index: -1, Size: cp.Size, What: "signature: " + err.Error()})
		case c.Origin != origin || c.Size != cp.Size || c.Root != cp.Root:
			add(Problem{Index: -1, Size: cp.Size, What: "signed note does not match the stored size or root"})
		case c.Root != root:
			add(Problem{Index: -1, Size: cp.Size, What: "root differs from the tree recomputed from the entries"})
		}
	}

	var tb receipt.TreeBuilder
	fr := map[int64]tlog.Hash{} // frontier of the recomputed tree
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := fr[x]
			if !ok {
				return nil, fmt.Errorf("hash %d not in frontier", x)
			}
			out[i] = h
		}
		return out, nil
	})
	hashes := &hashCursor{l: l, ctx: ctx, id: electionID}
	for len(cps) > 0 && cps[0].Size == 0 {
		checkCP(cps[0], tb.Root())
		cps = cps[1:]
	}
	var next int64
	for {
		page, err := l.entries(ctx, electionID, next, next+MaxRange)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		var ds []*decoded
		var auths [][]byte
		var dIdx []int64
		for _, en := range page {
			if len(rep.Problems) >= maxProblems {
				return rep, nil
			}
			if en.Index != next {
				add(Problem{Index: next, What: fmt.Sprintf("missing: next entry has index %d", en.Index)})
				return rep, nil
			}
			i := en.Index
			if len(en.Bytes) < receipt.TrackerSize+receipt.AuthorisationSize+37 {
				add(Problem{Index: i, What: "entry too short"})
			} else {
				ballot := en.Ballot()
				t, err := receipt.Tracker(ballot)
				if err != nil || t != en.Tracker || !bytes.Equal(en.Bytes[:32], en.Tracker[:]) {
					add(Problem{Index: i, What: "tracker does not match the ballot bytes"})
				}
				if st := int(binary.BigEndian.Uint16(ballot[33:35])); st != en.Style {
					add(Problem{Index: i, What: "style column does not match the ballot"})
				}
				if ballots {
					d, err := e.spec.checker.decode(ballot)
					if err != nil {
						add(Problem{Index: i, What: "ballot: " + err.Error()})
					} else {
						ds, auths, dIdx = append(ds, d), append(auths, en.Authorisation()), append(dIdx, i)
					}
				}
			}
			leaf := receipt.LeafHash(en.Bytes)
			if leaf != en.Leaf {
				add(Problem{Index: i, What: "stored leaf hash differs from the hash of the entry"})
			}
			hs, err := tlog.StoredHashesForRecordHash(i, leaf, reader)
			if err != nil {
				return nil, fmt.Errorf("ledger: audit: %w", err)
			}
			base := tlog.StoredHashIndex(0, i)
			for k, h := range hs {
				got, ok, err := hashes.at(base + int64(k))
				if err != nil {
					return nil, err
				}
				if !ok {
					add(Problem{Index: i, What: fmt.Sprintf("stored tree hash %d missing", base+int64(k))})
				} else if got != h {
					add(Problem{Index: i, What: fmt.Sprintf("stored tree hash %d differs from the recomputed one", base+int64(k))})
					// Carry on from the stored hash so that one bad entry
					// is reported once, not again at every level above it;
					// the checkpoints still use the recomputed tree.
					h = got
				}
				fr[base+int64(k)] = h
			}
			tb.AppendLeaf(leaf)
			next++
			// Keep only the frontier of the tree of size next.
			keep := frontier(next)
			nf := make(map[int64]tlog.Hash, len(keep))
			for _, x := range keep {
				nf[x] = fr[x]
			}
			fr = nf
			for len(cps) > 0 && cps[0].Size <= next {
				if cps[0].Size == next {
					checkCP(cps[0], tb.Root())
				}
				cps = cps[1:]
			}
		}
		if ballots && len(ds) > 0 {
			for k, err := range e.spec.checker.verify(ds, auths) {
				if err != nil {
					add(Problem{Index: dIdx[k], What: "ballot: " + err.Error()})
				}
			}
		}
	}
	rep.Size = next
	for _, cp := range cps {
		add(Problem{Index: -1, Size: cp.Size, What: "checkpoint is larger than the ledger"})
	}
	if extra, err := hashes.extra(tlog.StoredHashCount(next)); err != nil {
		return nil, err
	} else if extra {
		add(Problem{Index: -1, Size: next, What: "tree hashes stored beyond the last entry"})
	}
	return rep, nil
}

// hashCursor reads stored hashes in index order, a page at a time.
type hashCursor struct {
	l    *Ledger
	ctx  context.Context
	id   string
	page map[int64]tlog.Hash
	lo   int64
	hi   int64 // page covers [lo, hi)
}

func (c *hashCursor) at(idx int64) (tlog.Hash, bool, error) {
	if c.page == nil || idx < c.lo || idx >= c.hi {
		const size = 8192
		c.lo, c.hi = idx, idx+size
		c.page = make(map[int64]tlog.Hash, size)
		rows, err := c.l.pool.Query(c.ctx, `SELECT idx, hash FROM ledger_hashes WHERE election_id = $1 AND idx >= $2 AND idx < $3`, c.id, c.lo, c.hi)
		if err != nil {
			return tlog.Hash{}, false, unavailable(err)
		}
		for rows.Next() {
			var i int64
			var h []byte
			if err := rows.Scan(&i, &h); err != nil {
				rows.Close()
				return tlog.Hash{}, false, unavailable(err)
			}
			var hh tlog.Hash
			copy(hh[:], h)
			c.page[i] = hh
		}
		if err := rows.Err(); err != nil {
			return tlog.Hash{}, false, unavailable(err)
		}
	}
	h, ok := c.page[idx]
	return h, ok, nil
}

func (c *hashCursor) extra(count int64) (bool, error) {
	var n int64
	if err := c.l.pool.QueryRow(c.ctx, `SELECT count(*) FROM ledger_hashes WHERE election_id = $1 AND idx >= $2`, c.id, count).Scan(&n); err != nil {
		return false, unavailable(err)
	}
	return n > 0, nil
}
