package proof

import (
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/internal/enc"

	"github.com/unionvote/eballot/crypto/internal/drbg"
)

func BenchmarkProve01(b *testing.B) {
	_, pk := testKey(b, "k")
	rnd := drbg.New("bench")
	st, _ := makeProof(b, rnd, pk, []uint32{0, 1}, 1, 0)
	for b.Loop() {
		// The witness does not match st.Ciphertext; Prove does not check it
		// and the cost is the same.
		if _, err := Prove(rnd, st, &Witness{Value: 1, Nonce: pkScalar()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify01(b *testing.B) {
	_, pk := testKey(b, "k")
	st, p := makeProof(b, drbg.New("bench"), pk, []uint32{0, 1}, 1, 0)
	for b.Loop() {
		if err := Verify(st, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBatchVerify01x1000(b *testing.B) {
	_, pk := testKey(b, "k")
	rnd := drbg.New("bench")
	var sts []*Statement
	var ps []*Proof
	for i := 0; i < 1000; i++ {
		st, p := makeProof(b, rnd, pk, []uint32{0, 1}, uint32(i&1), uint16(i))
		sts, ps = append(sts, st), append(ps, p)
	}
	b.ResetTimer()
	for b.Loop() {
		if bad := BatchVerify(sts, ps); bad != nil {
			b.Fatal(bad)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "proofs/s")
}

func pkScalar() group.Scalar { return enc.G.NewScalar().SetUint64(12345) }
