// Package sealed encrypts private keys at rest (issuer and ledger keys)
// with AES-256-GCM under the service's EBALLOT_SECRET_KEY. The additional
// data binds a ciphertext to its purpose and owner (e.g.
// "issuer:demo-strike-2026:cardiff-depot"), so a sealed key copied to
// another row does not open.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

const version = 1

// ErrOpen is returned when a sealed value does not decrypt: wrong key,
// wrong purpose, or tampered bytes.
var ErrOpen = errors.New("sealed: cannot open (wrong EBALLOT_SECRET_KEY or tampered data)")

// Seal encrypts plaintext under key (32 bytes) bound to ad.
func Seal(key, plaintext []byte, ad string) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	out := append([]byte{version}, nonce...)
	return g.Seal(out, nonce, plaintext, []byte(ad)), nil
}

// Open decrypts a value made by Seal with the same key and ad.
func Open(key, sealed []byte, ad string) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+g.NonceSize()+g.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	nonce := sealed[1 : 1+g.NonceSize()]
	pt, err := g.Open(nil, nonce, sealed[1+g.NonceSize():], []byte(ad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// OpenUnversioned decrypts a value sealed as nonce ‖ ciphertext, with no
// version byte: the form the ledger stored its signing keys in before it
// sealed them with [Seal]. It is kept so that those keys still open; new
// values are always made by [Seal].
func OpenUnversioned(key, sealed []byte, ad string) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, ErrOpen
	}
	pt, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(ad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("sealed: key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return cipher.NewGCM(b)
}
