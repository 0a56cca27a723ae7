package verify_test

import (
	"context"
	"fmt"
	"os"

	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// Example re-runs the verification of a published export and tallies it
// from the trustees' published partial decryptions.
func Example() {
	f, err := os.Open("election.eballot-export.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	res, err := verify.Verify(context.Background(), f, verify.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fl := range res.Failures {
		fmt.Println("FAIL", fl) // e.g. "entry 7 (tracker SZ8D-…): ballot: invalid proof"
	}
	pub, _ := tally.TrusteeKey(res.Manifest)
	var partials []*threshold.Partial // decoded from the trustees' partial-<j>.json
	counts, bad, err := tally.Decrypt(pub, res.Sums, partials)
	for _, b := range bad {
		fmt.Println(b) // names the trustee whose partial is wrong
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	result, _ := tally.Compute(res.Manifest, counts)
	fmt.Println(result.Aggregate.Turnout)
}
