package ballot_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/manifest"
)

func testElection() *ballot.Election {
	var vec struct {
		Manifest json.RawMessage `json:"manifest"`
	}
	b, _ := os.ReadFile("../testdata/manifest_v1.json")
	_ = json.Unmarshal(b, &vec)
	m, err := manifest.Parse(vec.Manifest)
	if err != nil {
		panic(err)
	}
	e, err := ballot.NewElection(m)
	if err != nil {
		panic(err)
	}
	return e
}

// The phone encrypts, the ledger decodes and verifies.
func ExampleElection_Encrypt() {
	e := testElection()
	// Style 0; question 0: "yes"; question 1: "no".
	b, audit, err := e.Encrypt(rand.Reader, 0, [][]int{{1, 0}, {0, 1}})
	if err != nil {
		panic(err)
	}
	wire, _ := b.MarshalBinary()
	t, _ := b.Tracker()
	_ = ballot.ShortCode(t) // shown to the voter, e.g. 7K3M-Q2XD-9F0A-BC4T

	// Ledger side.
	got, err := e.Parse(wire)
	fmt.Println(err, e.Verify(got))

	// Benaloh audit instead of casting: reveal the opening, anyone checks.
	fmt.Println(e.CheckAudit(got, audit))
	// Output:
	// <nil> <nil>
	// <nil>
}

// The scrutineer verifies all ballots at once and names the bad ones.
func ExampleElection_BatchVerify() {
	e := testElection()
	var bs []*ballot.Ballot
	for i := 0; i < 4; i++ {
		b, _, _ := e.Encrypt(rand.Reader, i%2, [][]int{{0, 1}, {0, 0}})
		bs = append(bs, b)
	}
	bs[2].Style ^= 1 // relabel a ballot's style: its proofs no longer verify
	fmt.Println(e.BatchVerify(bs))
	// Output: [2]
}
