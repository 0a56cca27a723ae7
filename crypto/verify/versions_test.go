package verify_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// TestOldAndNewVersions: "Old and new protocol versions: a ballot of each
// verifies, or the old one is refused by name." The same ballots exported
// in every version this verifier knows (1, 2 without hints, 4 with
// decompression hints) verify with the same sums and counts; a version it
// does not know is refused by name (header.version).
func TestOldAndNewVersions(t *testing.T) {
	f := load(t, 40)
	var made []fixture.Made
	for i := range 40 {
		s, en, err := f.el.Entry(i)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, fixture.Made{Style: s, Entry: en})
	}
	var sums [][]byte
	for _, v := range []int{1, export.Version2, export.Version} {
		exp, err := f.el.Export(made, fixture.WriteOptions{Version: v, CheckpointEvery: 10})
		if err != nil {
			t.Fatal(err)
		}
		if hinted := bytes.Contains(exp, []byte(`"hints":"`)); hinted != export.HasHints(v) {
			t.Fatalf("version %d: hints written %v", v, hinted)
		}
		res := run(t, exp)
		if res.Header.Version != v || res.Entries != 40 || len(res.Failures) != 0 {
			t.Fatalf("version %d: version %d, %d entries, failures %v", v, res.Header.Version, res.Entries, res.Failures)
		}
		var enc []byte
		for _, c := range res.Sums.Ciphertexts() {
			enc = append(enc, c.Bytes()...)
		}
		sums = append(sums, enc)
	}
	if !bytes.Equal(sums[0], sums[1]) || !bytes.Equal(sums[1], sums[2]) {
		t.Fatal("the versions give different sums")
	}
	exp, _ := f.el.Export(made, fixture.WriteOptions{CheckpointEvery: 10})
	bad := bytes.Replace(exp, []byte(`"version":4}`), []byte(`"version":6}`), 1)
	res, err := verify.Verify(context.Background(), bytes.NewReader(bad), verify.Options{})
	var le *export.LineError
	if err == nil && len(res.Failures) > 0 {
		if f := res.Failures[0]; f.Check != verify.CheckHeaderVersion || !strings.Contains(f.Reason, "export version 6 is not supported") {
			t.Fatalf("version 6: %+v", f)
		}
	} else if !errors.As(err, &le) || le.Check != export.CheckVersion {
		t.Fatalf("version 6 not refused by name: %v %v", err, res)
	}
}

// TestWrongHintEntry: "A wrong decompression hint is detected and named":
// an export whose entry 5 has one changed hint fails that entry, and only
// it, with entry.hint (its ballot is not counted).
func TestWrongHintEntry(t *testing.T) {
	f := load(t, 40)
	var made []fixture.Made
	for i := range 12 {
		s, en, err := f.el.Entry(i)
		if err != nil {
			t.Fatal(err)
		}
		m := fixture.Made{Style: s, Entry: en}
		if i == 5 {
			h, err := f.el.Election.Hints(en[32+288:])
			if err != nil {
				t.Fatal(err)
			}
			h[40] ^= 0x10
			m.Hints = h
		}
		made = append(made, m)
	}
	exp, err := f.el.Export(made, fixture.WriteOptions{CheckpointEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, exp)
	if len(res.Failures) != 1 {
		t.Fatalf("failures %v", res.Failures)
	}
	if fl := res.Failures[0]; fl.Check != verify.CheckEntryHint || fl.Index != 5 || !strings.Contains(fl.Reason, "wrong decompression hint") {
		t.Fatalf("failure %+v", fl)
	}
	valid := int64(0)
	for _, n := range res.Valid {
		valid += n
	}
	if valid != 11 {
		t.Fatalf("%d ballots counted, want 11", valid)
	}
}
