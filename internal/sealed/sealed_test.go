package sealed

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k := bytes.Repeat([]byte{7}, 32)
	c, err := Seal(k, []byte("secret key"), "issuer:e:s")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(k, c, "issuer:e:s")
	if err != nil || string(p) != "secret key" {
		t.Fatalf("open: %q %v", p, err)
	}
	other := bytes.Repeat([]byte{8}, 32)
	flipped := append([]byte(nil), c...)
	flipped[len(flipped)-1] ^= 1
	for name, f := range map[string]func() ([]byte, error){
		"wrong key":     func() ([]byte, error) { return Open(other, c, "issuer:e:s") },
		"wrong purpose": func() ([]byte, error) { return Open(k, c, "issuer:e:t") },
		"tampered":      func() ([]byte, error) { return Open(k, flipped, "issuer:e:s") },
		"truncated":     func() ([]byte, error) { return Open(k, c[:10], "issuer:e:s") },
	} {
		if _, err := f(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Seal(k[:16], nil, ""); err == nil {
		t.Error("short key accepted")
	}
}

// A ledger key sealed before the ledger used this package (nonce ‖
// ciphertext, no version byte) still opens, and only with its key and
// purpose.
func TestOpenUnversioned(t *testing.T) {
	k := bytes.Repeat([]byte{7}, 32)
	g, err := gcm(k)
	if err != nil {
		t.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{3}, g.NonceSize())
	old := g.Seal(append([]byte(nil), nonce...), nonce, []byte("ledger key"), []byte("ledger:e"))
	p, err := OpenUnversioned(k, old, "ledger:e")
	if err != nil || string(p) != "ledger key" {
		t.Fatalf("open: %q %v", p, err)
	}
	for name, f := range map[string]func() ([]byte, error){
		"wrong key":     func() ([]byte, error) { return OpenUnversioned(bytes.Repeat([]byte{8}, 32), old, "ledger:e") },
		"wrong purpose": func() ([]byte, error) { return OpenUnversioned(k, old, "ledger:f") },
		"truncated":     func() ([]byte, error) { return OpenUnversioned(k, old[:20], "ledger:e") },
		"versioned": func() ([]byte, error) {
			c, _ := Seal(k, []byte("x"), "ledger:e")
			return OpenUnversioned(k, c, "ledger:e")
		},
	} {
		if _, err := f(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
