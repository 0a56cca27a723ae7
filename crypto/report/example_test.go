package report_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
)

// The scrutineer signs the report of a result file; anyone with the
// scrutineer's verifier key (bound in the manifest as scrutineer_key) opens
// it, and a changed report does not open. report.Check then compares the
// opened report with the ballot's verified ledger and the trustees'
// partial decryptions.
func Example() {
	// The scrutineer's key pair (`scrutineer keygen`).
	skey, vkey, _ := note.GenerateKey(rand.Reader, "scrutineer.example")
	signer, _ := note.NewSigner(skey)

	// The result file written by `scrutineer tally` (here, a small one).
	rf, err := report.ParseResultFile([]byte(`{"version": 1,
		"result": {"election_id": "example-ballot", "title": "Example ballot", "kind": "industrial_action",
			"manifest_hash": "` + strings.Repeat("ab", 32) + `", "date_of_ballot": "2026-12-15",
			"regime": {"name": "ERA 2025", "turnout_threshold": true, "support_threshold": false, "notes": []},
			"styles": [], "aggregate": {"id": "all", "name": "All workplaces", "entitled": 100, "votes_cast": 60,
				"turnout": "60.00%", "questions": [], "turnout_threshold_met": true}, "trustees": [1, 2]},
		"verification": {"entries": 60, "checkpoints": 2, "root": "", "style_counts": [60],
			"authorisations_issued": [70], "failures": [], "more_failures": 0},
		"rejected_partials": []}`))
	if err != nil {
		fmt.Println(err)
		return
	}

	// The scrutineer: report.json and report.json.sig.
	rep := report.New(rf, signer.Name(), report.Options{Scrutineer: "Example Scrutineers Ltd", Date: "2026-12-16"})
	js, sig, err := report.Sign(rep, signer)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Anyone: open it with the scrutineer's verifier key.
	got, err := report.Open(js, sig, vkey)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.SignedBy, got.ElectionID, got.Result.Aggregate.VotesCast, got.Result.Aggregate.Turnout)
	for _, s := range got.Statements {
		fmt.Println(s.Clause, "satisfied:", s.Satisfied)
	}

	// A changed report does not open.
	changed := strings.Replace(string(js), `"votes_cast": 60`, `"votes_cast": 61`, 1)
	_, err = report.Open([]byte(changed), sig, vkey)
	fmt.Println(errors.Is(err, report.ErrSignature))

	// Output:
	// scrutineer.example example-ballot 60 60.00%
	// s.231B(1)(a) satisfied: true
	// s.231B(1)(b) satisfied: true
	// s.231B(1)(c) satisfied: true
	// true
}
