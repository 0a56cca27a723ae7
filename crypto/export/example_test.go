package export_test

import (
	"fmt"
	"io"
	"os"

	"github.com/unionvote/eballot/crypto/export"
)

// ExampleReader streams an export file line by line.
func ExampleReader() {
	f, err := os.Open("election.eballot-export.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r, err := export.NewReader(f)
	if err != nil {
		fmt.Println(err) // "export: line 1: …"
		return
	}
	fmt.Println("election", r.Header().ElectionID, "entries", r.Header().TreeSize)
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if it.Kind == export.KindEntry {
			_ = it.Entry.Bytes // T ‖ authorisation ‖ ballot_bytes
		}
	}
}
