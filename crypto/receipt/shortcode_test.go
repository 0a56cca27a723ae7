package receipt

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestParseShortCodeRoundTrip(t *testing.T) {
	for i := 0; i < 200; i++ {
		var tr [32]byte
		rand.Read(tr[:])
		code := ShortCode(tr)
		for _, typed := range []string{code, strings.ToLower(code), strings.ReplaceAll(code, "-", " "),
			strings.NewReplacer("0", "O", "1", "l").Replace(code)} {
			got, err := ParseShortCode(typed)
			if err != nil || !bytes.Equal(got[:], tr[:10]) {
				t.Fatalf("%q (from %q): %x %v, want %x", typed, code, got, err, tr[:10])
			}
		}
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-IJKL-MNOPQ", "ABCD-EFGH-JKMN-PQRU", "ÅBCD-EFGH-JKMN-PQRS"} {
		if _, err := ParseShortCode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseShortCode(f *testing.F) {
	f.Add("7K3M-Q2XD-9F0A-BC4T")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseShortCode(s)
		if err != nil {
			return
		}
		var tr [32]byte
		copy(tr[:], p[:])
		if _, err := ParseShortCode(ShortCode(tr)); err != nil {
			t.Fatalf("re-parse of %q failed", ShortCode(tr))
		}
	})
}
