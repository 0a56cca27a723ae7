package receipt

import (
	"encoding/binary"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"golang.org/x/mod/sumdb/tlog"
)

func BenchmarkVerifyReceipt(b *testing.B) {
	v := loadVectors(b)
	r, err := ParseReceipt(v.Receipt.Receipt)
	if err != nil {
		b.Fatal(err)
	}
	entry := vectortest.Unhex(b, v.Receipt.Entry)
	for b.Loop() {
		if _, err := VerifyReceipt(r, v.VerifierKey, entry); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoot1M computes the root of 1,000,000 leaf hashes (the leaf
// hashing itself is not included).
func BenchmarkRoot1M(b *testing.B) {
	leaves := make([]tlog.Hash, 1_000_000)
	for i := range leaves {
		binary.BigEndian.PutUint64(leaves[i][:], uint64(i))
	}
	for b.Loop() {
		_ = RootFromLeaves(leaves)
	}
}

// BenchmarkTreeBuilder1M includes the leaf hashing of 1,000,000 400-byte
// entries.
func BenchmarkTreeBuilder1M(b *testing.B) {
	entry := make([]byte, 400)
	for b.Loop() {
		var tb TreeBuilder
		for i := range 1_000_000 {
			binary.BigEndian.PutUint64(entry, uint64(i))
			tb.Append(entry)
		}
		_ = tb.Root()
	}
}
