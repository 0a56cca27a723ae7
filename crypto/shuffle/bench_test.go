package shuffle

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
)

// benchList is N rows of w encryptions of 0 (the plaintexts do not change
// the cost).
func benchList(b *testing.B, n, w int) (*Statement, *List) {
	b.Helper()
	sk, err := elgamal.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	c, _, _ := elgamal.EncryptRand(sk.PublicKey(), 0, rand.Reader)
	row := make([]*elgamal.Ciphertext, w)
	for k := range row {
		row[k] = c
	}
	rows := make([][]*elgamal.Ciphertext, n)
	for i := range rows {
		rows[i] = row
	}
	l, err := NewList(rows)
	if err != nil {
		b.Fatal(err)
	}
	return &Statement{Key: sk.PublicKey(), Label: "bench", Context: []byte("bench")}, l
}

// BenchmarkShuffle mixes and proves, then verifies, N rows of width w
// (docs/benchmarks.md). Rows are re-encryptions of one ciphertext: the
// cost does not depend on the plaintexts.
func BenchmarkShuffle(b *testing.B) {
	for _, tc := range []struct{ n, w int }{{1000, 2}, {1000, 10}} {
		st, in := benchList(b, tc.n, tc.w)
		in, _, _ = Shuffle(rand.Reader, st, in) // distinct ciphertexts
		var out *List
		var p *Proof
		b.Run(fmt.Sprintf("prove/N=%d/w=%d", tc.n, tc.w), func(b *testing.B) {
			for range b.N {
				var err error
				if out, p, err = Shuffle(rand.Reader, st, in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("verify/N=%d/w=%d", tc.n, tc.w), func(b *testing.B) {
			for range b.N {
				if err := Verify(st, in, out, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
