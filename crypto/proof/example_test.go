package proof_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/proof"
)

// Prove that a ciphertext encrypts 0 or 1, and verify it alone and in a
// batch.
func ExampleProve() {
	sk, _ := elgamal.GenerateKey(rand.Reader)
	K := sk.PublicKey()
	c, r, _ := elgamal.EncryptRand(K, 1, rand.Reader)
	h := sha256.Sum256([]byte("manifest"))
	st := &proof.Statement{ManifestHash: h[:], Key: K, Style: 0, Question: 0, Option: 1,
		Values: []uint32{0, 1}, Ciphertext: c}
	p, err := proof.Prove(rand.Reader, st, &proof.Witness{Value: 1, Nonce: r})
	if err != nil {
		panic(err)
	}
	wire := p.Bytes() // 2 × 128 bytes
	q, _ := proof.ParseProof(wire, len(st.Values))
	fmt.Println(len(wire), proof.Verify(st, q), proof.BatchVerify([]*proof.Statement{st}, []*proof.Proof{q}))
	// Output: 256 <nil> []
}
