package sealed

import (
	"bytes"
	"crypto/sha256"
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

// A blind index is keyed: the same value under another secret or purpose
// indexes differently, and equal values index equally.
func TestIndex(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	k := DeriveKey(secret, "index/member")
	if len(k) != 32 || bytes.Equal(k, secret) || bytes.Equal(k, DeriveKey(secret, "index/optout")) {
		t.Fatal("derived keys not distinct")
	}
	a, b := Index(k, "+447911123456"), Index(k, "+447911123456")
	if len(a) != 32 || !IndexEqual(a, b) {
		t.Fatal("equal values index differently")
	}
	for name, other := range map[string][]byte{
		"other value":   Index(k, "+447911123457"),
		"other purpose": Index(DeriveKey(secret, "index/optout"), "+447911123456"),
		"other secret":  Index(DeriveKey(bytes.Repeat([]byte{8}, 32), "index/member"), "+447911123456"),
		"plain hash":    func() []byte { h := sha256.Sum256([]byte("+447911123456")); return h[:] }(),
	} {
		if IndexEqual(a, other) {
			t.Errorf("%s: same index", name)
		}
	}
}

// A Box seals and opens as Seal and Open do, under its one key.
func TestBox(t *testing.T) {
	k := bytes.Repeat([]byte{7}, 32)
	b, err := NewBox(k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Seal([]byte("Angharad"), "name:1:ab")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := Open(k, c, "name:1:ab"); err != nil || string(p) != "Angharad" {
		t.Fatalf("Open of a Box's value: %q %v", p, err)
	}
	c2, _ := Seal(k, []byte("Bryn"), "name:1:cd")
	if p, err := b.Open(c2, "name:1:cd"); err != nil || string(p) != "Bryn" {
		t.Fatalf("Box.Open of Seal's value: %q %v", p, err)
	}
	if _, err := b.Open(c, "name:2:ab"); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong purpose: %v", err)
	}
	if _, err := NewBox(k[:31]); err == nil {
		t.Error("short key accepted")
	}
}
