package proof

import (
	"bytes"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/drbg"
)

func FuzzParseProof(f *testing.F) {
	_, pk := testKey(f, "k")
	rnd := drbg.New("fuzz")
	st, p := makeProof(f, rnd, pk, []uint32{0, 1}, 1, 0)
	f.Add(p.Bytes(), uint8(2))
	_, p3 := makeProof(f, rnd, pk, []uint32{0, 1, 2}, 2, SumOption)
	f.Add(p3.Bytes(), uint8(3))
	f.Add(bytes.Repeat([]byte{0xff}, 256), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		q, err := ParseProof(b, int(n))
		if err != nil {
			return
		}
		if !bytes.Equal(q.Bytes(), b) {
			t.Fatal("not canonical")
		}
		if q.Branches() == 2 {
			_ = Verify(st, q)
			_ = BatchVerify([]*Statement{st}, []*Proof{q})
		}
	})
}
