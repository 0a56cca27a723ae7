package stv

import (
	"os"
	"testing"
)

// parseBLT reads a BLT file (test helper).
func parseBLT(path string) (*Election, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	return ParseBLT(data)
}

// FuzzParseBLT: the reader never panics, and whatever it accepts either
// counts under both rules or is refused by the count's validation.
func FuzzParseBLT(f *testing.F) {
	for _, name := range []string{"droop/42.blt", "droop/SCw.blt", "droop/513.blt", "ers97/model.blt"} {
		data, err := os.ReadFile(testdata + "/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("3 1\n[]\n[tie 3 2 1]\n1 1 2 0\n0\n\"a\" \"b\" \"c\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, _, err := ParseBLT(data)
		if err != nil || e.Candidates > 64 || len(e.Ballots) > 64 {
			return
		}
		for _, r := range []Rule{ERS97, Meek} {
			if res, err := Count(r, e); err == nil && len(res.Elected) != e.Seats {
				t.Fatalf("%s: %d elected for %d seats", r, len(res.Elected), e.Seats)
			}
		}
	})
}
