package manifest

import (
	"bufio"
	"fmt"
	"os"
	"testing"
)

// The version the code prints is the version the specification states.
func TestProtocolVersionIsTheSpec(t *testing.T) {
	f, err := os.Open("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("docs/protocol.md is empty")
	}
	if want := fmt.Sprintf("# eBallot voting protocol — version %d", ProtocolVersion); sc.Text() != want {
		t.Fatalf("docs/protocol.md starts %q; ProtocolVersion says %q", sc.Text(), want)
	}
}
