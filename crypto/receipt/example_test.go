package receipt_test

import (
	"crypto/rand"
	"fmt"

	"github.com/unionvote/eballot/crypto/receipt"
	"golang.org/x/mod/sumdb/note"
)

func Example() {
	// Ledger side: a log key (its verifier key is the manifest's log_key).
	skey, vkey, _ := note.GenerateKey(rand.Reader, "ledger.example")
	signer, _ := note.NewSigner(skey)

	// Some cast ballots: entry = T ‖ authorisation ‖ ballot_bytes.
	var log receipt.MemoryLog
	var entries [][]byte
	for i := range 5 {
		ballot := append([]byte{1}, make([]byte, 36)...) // version 1, manifest hash, …
		ballot[40-4] = byte(i)
		T, _ := receipt.Tracker(ballot)
		entry, _ := receipt.EntryBytes(T[:], make([]byte, 288), ballot)
		log.Append(entry)
		entries = append(entries, entry)
	}
	origin := receipt.Origin("example-ballot")
	cp, _ := log.Checkpoint(origin, 3)
	signed, _ := receipt.SignCheckpoint(cp, signer)
	proof, _ := log.ProveInclusion(3, 1)
	T := [32]byte(entries[1][:32])
	r := receipt.NewReceipt("example-ballot", T, 1, proof, signed)

	// Phone: it knows its entry; it checks the receipt.
	c, err := receipt.VerifyReceipt(r, vkey, entries[1])
	fmt.Println(c.Size, err)

	// Later: check the receipt against a newer checkpoint.
	later, _ := log.Checkpoint(origin, 5)
	laterSigned, _ := receipt.SignCheckpoint(later, signer)
	cons, _ := log.ProveConsistency(5, 3)
	lc, err := receipt.VerifyReceiptAgainst(r, vkey, entries[1], laterSigned, cons)
	fmt.Println(lc.Size, err)

	// Scrutineer: recompute the root from every entry.
	var b receipt.TreeBuilder
	for _, e := range entries {
		b.Append(e)
	}
	fmt.Println(b.Root() == later.Root)
	// Output:
	// 3 <nil>
	// 5 <nil>
	// true
}
