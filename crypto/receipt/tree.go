package receipt

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// TreeBuilder computes an RFC 6962 root over a stream of leaves with
// O(log n) memory: it keeps the roots of the perfect subtrees that make up
// the tree so far. The zero value is an empty tree.
type TreeBuilder struct {
	stack []tlog.Hash // roots of perfect subtrees, largest first
	n     int64
}

// AppendLeaf adds a leaf hash (see [LeafHash]).
func (b *TreeBuilder) AppendLeaf(h tlog.Hash) {
	b.stack = append(b.stack, h)
	for s := b.n; s&1 == 1; s >>= 1 {
		l := len(b.stack)
		b.stack[l-2] = tlog.NodeHash(b.stack[l-2], b.stack[l-1])
		b.stack = b.stack[:l-1]
	}
	b.n++
}

// Append adds the leaf for entry bytes.
func (b *TreeBuilder) Append(entry []byte) { b.AppendLeaf(LeafHash(entry)) }

// Size returns the number of leaves appended.
func (b *TreeBuilder) Size() int64 { return b.n }

// Root returns the RFC 6962 root of the leaves so far (SHA-256("") when
// empty).
func (b *TreeBuilder) Root() tlog.Hash {
	if len(b.stack) == 0 {
		return emptyRoot
	}
	r := b.stack[len(b.stack)-1]
	for i := len(b.stack) - 2; i >= 0; i-- {
		r = tlog.NodeHash(b.stack[i], r)
	}
	return r
}

// Checkpoint returns the tree head for origin.
func (b *TreeBuilder) Checkpoint(origin string) Checkpoint {
	return Checkpoint{Origin: origin, Size: b.n, Root: b.Root()}
}

// RootFromLeaves returns the RFC 6962 root of the given leaf hashes.
func RootFromLeaves(leaves []tlog.Hash) tlog.Hash {
	var b TreeBuilder
	for _, h := range leaves {
		b.AppendLeaf(h)
	}
	return b.Root()
}

// MemoryLog is an in-memory tlog store (a [tlog.HashReader]) that can prove
// inclusion and consistency. It is for tests and tools; it is not safe for
// concurrent use.
type MemoryLog struct {
	hashes []tlog.Hash // stored hashes in tlog.StoredHashIndex order
	n      int64
}

// ReadHashes implements [tlog.HashReader].
func (m *MemoryLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("receipt: hash index %d not stored", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

// AppendLeaf appends a leaf hash and returns its index.
func (m *MemoryLog) AppendLeaf(h tlog.Hash) (int64, error) {
	hs, err := tlog.StoredHashesForRecordHash(m.n, h, m)
	if err != nil {
		return 0, fmt.Errorf("receipt: append: %w", err)
	}
	m.hashes = append(m.hashes, hs...)
	m.n++
	return m.n - 1, nil
}

// Append appends entry bytes and returns their index.
func (m *MemoryLog) Append(entry []byte) (int64, error) { return m.AppendLeaf(LeafHash(entry)) }

// Size returns the number of leaves.
func (m *MemoryLog) Size() int64 { return m.n }

// Checkpoint returns the tree head of the first size leaves.
func (m *MemoryLog) Checkpoint(origin string, size int64) (Checkpoint, error) {
	if size < 0 || size > m.n {
		return Checkpoint{}, errors.New("receipt: size outside the log")
	}
	h, err := tlog.TreeHash(size, m)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("receipt: tree hash: %w", err)
	}
	return Checkpoint{Origin: origin, Size: size, Root: h}, nil
}

// ProveInclusion proves that leaf index is in the tree of the given size.
func (m *MemoryLog) ProveInclusion(size, index int64) (tlog.RecordProof, error) {
	if size > m.n || index < 0 || index >= size {
		return nil, errors.New("receipt: index or size outside the log")
	}
	p, err := tlog.ProveRecord(size, index, m)
	if err != nil {
		return nil, fmt.Errorf("receipt: prove inclusion: %w", err)
	}
	return p, nil
}

// ProveConsistency proves that the tree of size newSize extends the tree
// of size oldSize (empty when oldSize is 0 or equals newSize).
func (m *MemoryLog) ProveConsistency(newSize, oldSize int64) (tlog.TreeProof, error) {
	if newSize > m.n || oldSize < 0 || oldSize > newSize {
		return nil, errors.New("receipt: sizes outside the log")
	}
	if oldSize == 0 || oldSize == newSize {
		return tlog.TreeProof{}, nil
	}
	p, err := tlog.ProveTree(newSize, oldSize, m)
	if err != nil {
		return nil, fmt.Errorf("receipt: prove consistency: %w", err)
	}
	return p, nil
}
