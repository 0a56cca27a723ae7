package elgamal_test

import (
	"crypto/rand"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
)

// Encrypt three votes, add them homomorphically and decrypt the sum.
func Example() {
	sk, _ := elgamal.GenerateKey(rand.Reader) // in an election x is shared, see crypto/threshold
	pk := sk.PublicKey()
	var cs []*elgamal.Ciphertext
	for _, m := range []uint64{1, 0, 1} {
		c, _, _ := elgamal.EncryptRand(pk, m, rand.Reader)
		cs = append(cs, c)
	}
	table, _ := elgamal.NewTable(1000) // bound: number of ballots
	m, _ := table.Solve(sk.Decrypt(elgamal.Sum(cs...)))
	fmt.Println(m)
	// Output: 2
}

// A Benaloh audit: the revealed nonce and plaintext reproduce the ciphertext.
func ExampleCheckEncryption() {
	sk, _ := elgamal.GenerateKey(rand.Reader)
	pk := sk.PublicKey()
	c, r, _ := elgamal.EncryptRand(pk, 1, rand.Reader)
	fmt.Println(elgamal.CheckEncryption(pk, c, 1, r) == nil, elgamal.CheckEncryption(pk, c, 0, r) == nil)
	// Output: true false
}
