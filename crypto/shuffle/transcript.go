package shuffle

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// Domain tags (protocol §9.4).
const (
	TagStatement = "eballot-v1/shuffle/statement"
	TagU         = "eballot-v1/shuffle/u"
	DSTChallenge = "eballot-v1/shuffle/challenge"
	// MaxContext bounds Statement.Context.
	MaxContext = 1024
)

// Statement is the public statement of a shuffle: the election key, the
// label of the independent generators and the Fiat–Shamir context (for a
// mix: manifest hash, contest and trustee; for a ranked ballot: its
// position), all bound into every challenge.
type Statement struct {
	Key     *elgamal.PublicKey
	Label   string
	Context []byte
}

func (st *Statement) check() error {
	if st == nil || st.Key == nil {
		return fmt.Errorf("shuffle: missing statement or key")
	}
	if err := checkLabel(st.Label); err != nil {
		return err
	}
	if len(st.Context) > MaxContext {
		return fmt.Errorf("shuffle: context longer than %d bytes", MaxContext)
	}
	return nil
}

// statementHash is SHA-256(lp(TagStatement) ‖ lp(label) ‖ lp(context) ‖ K ‖
// u32 N ‖ u16 w ‖ input ciphertexts ‖ output ciphertexts).
func statementHash(st *Statement, in, out *List) [32]byte {
	h := sha256.New()
	var hdr []byte
	hdr = enc.AppendLP(hdr, []byte(TagStatement))
	hdr = enc.AppendLP(hdr, []byte(st.Label))
	hdr = enc.AppendLP(hdr, st.Context)
	hdr = append(hdr, st.Key.Bytes()...)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(in.Len()))
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(in.Width()))
	h.Write(hdr)
	h.Write(in.enc)
	h.Write(out.enc)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// uChallenges returns h_u = SHA-256(lp(TagU) ‖ h_stmt ‖ C_0 … C_{N−1}) and
// u_j = LE128(SHA-256(h_u ‖ u32 j)[0:16]) for j = 0 … N−1; cEnc is the
// encoding of the permutation commitment.
func uChallenges(hStmt [32]byte, cEnc []byte, n int) ([32]byte, []ristretto255.Scalar) {
	h := sha256.New()
	h.Write(enc.AppendLP(nil, []byte(TagU)))
	h.Write(hStmt[:])
	h.Write(cEnc)
	var hu [32]byte
	h.Sum(hu[:0])
	u := make([]ristretto255.Scalar, n)
	_ = parallelRange(n, func(lo, hi int) error {
		var buf [36]byte
		copy(buf[:32], hu[:])
		for j := lo; j < hi; j++ {
			binary.BigEndian.PutUint32(buf[32:], uint32(j))
			d := sha256.Sum256(buf[:])
			var s [32]byte
			copy(s[:16], d[:16])
			if err := u[j].Decode(s[:]); err != nil {
				panic("shuffle: 128-bit scalar") // unreachable: < 2^128 < ℓ
			}
		}
		return nil
	})
	return hu, u
}

// challenge is c = H_s(DSTChallenge, h_u ‖ Ĉ_0 … Ĉ_{N−1} ‖ t_1 ‖ t_2 ‖ t_3 ‖
// t_4^α… ‖ t_4^β… ‖ t̂_0 … t̂_{N−1}); rest is that encoding after h_u.
func challenge(hu [32]byte, rest []byte) *ristretto255.Scalar {
	msg := make([]byte, 0, 32+len(rest))
	msg = append(msg, hu[:]...)
	msg = append(msg, rest...)
	return enc.FastScalar(enc.G.HashToScalar(msg, []byte(DSTChallenge)))
}

// commitmentBytes returns, from an encoded proof, the permutation
// commitment and the bytes hashed into the challenge.
func commitmentBytes(raw []byte, n, w int) (cEnc, rest []byte) {
	b := raw[proofHeaderSize:]
	cEnc = b[:32*n]
	rest = b[32*n : 32*(n+n+3+2*w+n)]
	return cEnc, rest
}
