package main

import (
	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/proof"
)

// forgeTwo returns a style-0 ballot whose question 1 option 0 encrypts 2;
// its selection and sum proofs are produced by the honest prover with the
// witness value 1, the best a cheating client can do without breaking the
// proof.
func forgeTwo(e *ballot.Election) []byte {
	rnd := drbg.New("eballot-v1 test vectors / forged 2")
	b, _, err := e.Encrypt(rnd, 0, [][]int{{1, 0}, {0, 0}})
	must(err)
	h := e.ManifestHash()
	st := func(o uint16, vals []uint32, c *elgamal.Ciphertext) *proof.Statement {
		return &proof.Statement{ManifestHash: h[:], Key: e.Key(), Style: 0, Question: 1, Option: o, Values: vals, Ciphertext: c}
	}
	c0, r0, err := elgamal.EncryptRand(e.Key(), 2, rnd)
	must(err)
	p0, err := proof.Prove(rnd, st(0, []uint32{0, 1}, c0), &proof.Witness{Value: 1, Nonce: r0})
	must(err)
	c1, r1, err := elgamal.EncryptRand(e.Key(), 0, rnd)
	must(err)
	p1, err := proof.Prove(rnd, st(1, []uint32{0, 1}, c1), &proof.Witness{Value: 0, Nonce: r1})
	must(err)
	rs := r0.Copy()
	rs.Add(rs, r1)
	sum := elgamal.Sum(c0, c1)
	ps, err := proof.Prove(rnd, st(proof.SumOption, []uint32{0, 1}, sum), &proof.Witness{Value: 1, Nonce: rs})
	must(err)
	b.Questions[1] = ballot.Question{Selections: []ballot.Selection{{Ciphertext: c0, Proof: p0}, {Ciphertext: c1, Proof: p1}}, SumProof: ps}
	bin, err := b.MarshalBinary()
	must(err)
	return bin
}
