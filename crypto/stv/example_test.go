package stv_test

import (
	"fmt"

	"github.com/unionvote/eballot/crypto/stv"
)

// A count is a pure function of the rule and the election: four
// candidates, two seats, twelve papers.
func ExampleCount() {
	e := &stv.Election{
		Candidates: 4,
		Names:      []string{"Ann", "Bob", "Cat", "Dev"},
		Seats:      2,
		Ballots: []stv.Ballot{
			{Weight: 5, Prefs: []int{0, 1}}, // five papers: Ann, then Bob
			{Weight: 3, Prefs: []int{2, 3}},
			{Weight: 2, Prefs: []int{3, 2}},
			{Weight: 2, Prefs: []int{1}},
		},
	}
	for _, rule := range []stv.Rule{stv.ERS97, stv.Meek} {
		r, err := stv.Count(rule, e)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: quota %s, elected", rule, r.Stages[0].Quota)
		for _, c := range r.Elected {
			fmt.Printf(" %s", e.Names[c])
		}
		fmt.Println()
		for _, st := range r.Stages {
			fmt.Println(" ", st.Number, st.Action, st.Votes, "non-transferable", st.Exhausted)
		}
	}
	// Output:
	// ers97: quota 4.00, elected Ann Cat
	//   1 first [5.00 2.00 3.00 2.00] non-transferable 0.00
	//   2 surplus [4.00 3.00 3.00 2.00] non-transferable 0.00
	//   3 exclusion [4.00 3.00 5.00 0.00] non-transferable 0.00
	//   4 end [4.00 3.00 5.00 0.00] non-transferable 0.00
	// meek: quota 4.000000001, elected Ann Cat
	//   1 first [5.000000000 2.000000000 3.000000000 2.000000000] non-transferable 0.000000000
	//   2 round [5.000000000 2.000000000 3.000000000 2.000000000] non-transferable 0.000000000
	//   3 round [4.000000005 2.999999995 3.000000000 2.000000000] non-transferable 0.000000000
	//   4 round [4.000000005 2.999999995 5.000000000 0.000000000] non-transferable 0.000000000
	//   5 end [4.000000005 2.999999995 5.000000000 0.000000000] non-transferable 0.000000000
}

// The lot order for ties is drawn from a public seed, so anyone gets the
// same order.
func ExampleLotFromSeed() {
	a := stv.LotFromSeed([]byte("manifest hash ‖ mixed list hash"), 5)
	b := stv.LotFromSeed([]byte("manifest hash ‖ mixed list hash"), 5)
	fmt.Println(len(a), fmt.Sprint(a) == fmt.Sprint(b))
	// Output: 5 true
}
