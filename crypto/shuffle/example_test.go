package shuffle_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/testceremony"
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

// Two of three trustees decrypt a mixed list; the result is each row's
// plaintext points (m·G), in the mixed order.
func ExampleDecrypt() {
	keys, err := testceremony.Run("example", 3, 2)
	if err != nil {
		panic(err)
	}
	mh := sha256.Sum256([]byte("manifest"))
	c, _, _ := elgamal.EncryptRand(keys.Key, 7, rand.Reader)
	in, _ := shuffle.NewList([][]*elgamal.Ciphertext{{c}, {c}})
	st := &shuffle.Statement{Key: keys.Key, Label: "example", Context: mh[:]}
	out, _, _ := shuffle.Shuffle(rand.Reader, st, in)

	var pds []*shuffle.PartialDecryption
	for _, share := range keys.Shares[:2] {
		pd, err := shuffle.PartialDecrypt(rand.Reader, keys.Public, share, mh[:], out)
		if err != nil {
			panic(err)
		}
		pds = append(pds, pd)
	}
	pts, err := shuffle.Decrypt(keys.Public, mh[:], out, pds)
	if err != nil {
		panic(err)
	}
	tab, _ := elgamal.NewTable(100)
	for _, row := range pts {
		e, _ := elgamal.ParsePublicKey(row[0][:]) // any canonical point; here m·G
		m, _ := tab.Solve(e.Element())
		fmt.Println(m)
	}
	// Output:
	// 7
	// 7
}
