package shuffle_test

import (
	"crypto/rand"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/shuffle"
)

// Shuffle three rows of two ciphertexts and verify the proof; verification
// of a cascade names the shuffle that fails.
func ExampleShuffle() {
	sk, _ := elgamal.GenerateKey(rand.Reader)
	rows := make([][]*elgamal.Ciphertext, 3)
	for i := range rows {
		for k := 0; k < 2; k++ {
			c, _, _ := elgamal.EncryptRand(sk.PublicKey(), uint64(10*i+k), rand.Reader)
			rows[i] = append(rows[i], c)
		}
	}
	in, _ := shuffle.NewList(rows)
	st := &shuffle.Statement{Key: sk.PublicKey(), Label: "example", Context: []byte("election 1, contest 0")}

	out, proof, err := shuffle.Shuffle(rand.Reader, st, in)
	if err != nil {
		panic(err)
	}
	fmt.Println("valid shuffle:", shuffle.Verify(st, in, out, proof) == nil)

	// Two trustees in turn; the second presents the first one's output.
	m1out, m1p, _ := shuffle.Shuffle(rand.Reader, shuffle.RoundStatement(st, 0), in)
	_, err = shuffle.VerifyCascade(st, in, []shuffle.Mix{{Output: m1out, Proof: m1p}, {Output: m1out, Proof: m1p}})
	fmt.Println(err)
	// Output:
	// valid shuffle: true
	// shuffle 2 of 2: shuffle: invalid proof of shuffle: check t_1 (sum of the permutation commitment) fails
}
