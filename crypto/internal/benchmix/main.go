// Command benchmix measures crypto/shuffle at scale (docs/benchmarks.md):
// one trustee's shuffle and proof of N rows of w ciphertexts, and its
// verification, with wall time, CPU time and peak memory.
//
//	go run ./crypto/internal/benchmix -n 100000 -w 2
//
// A ranked ballot of 10 candidates is 2 ciphertexts in the mix (ranks packed
// 5 to a ciphertext, crypto/ranked); -w 10 measures one ciphertext per
// candidate, as Belenios mixes. The input rows are distinct encryptions of 0
// (consecutive nonces, made by additions; not measured): the cost of a
// shuffle does not depend on the plaintexts.
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"time"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/shuffle"
)

func main() {
	n := flag.Int("n", 100000, "rows (ballots)")
	w := flag.Int("w", 2, "ciphertexts per row")
	verify := flag.Bool("verify", true, "also verify the proof")
	flag.Parse()
	if *n < 1 || *n > shuffle.MaxRows || *w < 1 || *w > shuffle.MaxWidth {
		log.Fatalf("benchmix: need 1 ≤ n ≤ %d and 1 ≤ w ≤ %d", shuffle.MaxRows, shuffle.MaxWidth)
	}
	sk, err := elgamal.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	pk := sk.PublicKey()
	in := input(pk, *n, *w)
	st := &shuffle.Statement{Key: pk, Label: "eballot-v1/mix", Context: []byte("benchmix")}
	fmt.Printf("benchmix: N=%d w=%d (%d ciphertexts), GOMAXPROCS=%d, %s\n", *n, *w, *n**w, runtime.GOMAXPROCS(0), runtime.Version())

	before := usage()
	start := time.Now()
	out, p, err := shuffle.Shuffle(rand.Reader, st, in)
	if err != nil {
		log.Fatal(err)
	}
	wall := time.Since(start)
	after := usage()
	pb := p.Bytes()
	fmt.Printf("shuffle+prove: wall %.1f s, CPU %.1f s, peak RSS %d MiB, proof %.1f MiB\n",
		wall.Seconds(), (after.cpu - before.cpu).Seconds(), after.maxRSS>>20, float64(len(pb))/(1<<20))
	if !*verify {
		return
	}
	// Verify from the encodings, as a verifier reads them.
	lb, _ := out.MarshalBinary()
	before = usage()
	start = time.Now()
	out2, err := shuffle.ParseList(lb)
	if err != nil {
		log.Fatal(err)
	}
	p2, err := shuffle.ParseProof(pb)
	if err != nil {
		log.Fatal(err)
	}
	if err := shuffle.Verify(st, in, out2, p2); err != nil {
		log.Fatal(err)
	}
	wall = time.Since(start)
	after = usage()
	fmt.Printf("parse+verify:  wall %.1f s, CPU %.1f s, peak RSS %d MiB\n",
		wall.Seconds(), (after.cpu - before.cpu).Seconds(), after.maxRSS>>20)
	os.Exit(0)
}

// input returns N rows of w distinct encryptions of 0: (r·G, r·K) for
// consecutive r.
func input(pk *elgamal.PublicKey, n, w int) *shuffle.List {
	c, _, err := elgamal.EncryptRand(pk, 0, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	a0, b0 := c.Fast()
	a, b := *a0, *b0
	g := ristretto255.NewElement().Base()
	rows := make([][]*elgamal.Ciphertext, n)
	buf := make([]byte, 64)
	for i := range rows {
		rows[i] = make([]*elgamal.Ciphertext, w)
		for k := range rows[i] {
			a.Add(&a, g)
			b.Add(&b, pk.Fast())
			a.Encode(buf[:0])
			b.Encode(buf[32:32])
			if rows[i][k], err = elgamal.ParseCiphertext(buf); err != nil {
				log.Fatal(err)
			}
		}
	}
	l, err := shuffle.NewList(rows)
	if err != nil {
		log.Fatal(err)
	}
	return l
}
