// Package sealed encrypts private keys and personal data at rest (issuer
// and ledger keys, frozen contacts) with AES-256-GCM under the service's
// EBALLOT_SECRET_KEY, and computes the keyed blind indexes
// ([DeriveKey], [Index]) that let personal data be looked up without
// being stored in clear. The additional
// data binds a ciphertext to its purpose and owner (e.g.
// "issuer:demo-strike-2026:cardiff-depot"), so a sealed key copied to
// another row does not open.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

const version = 1

// ErrOpen is returned when a sealed value does not decrypt: wrong key,
// wrong purpose, or tampered bytes.
var ErrOpen = errors.New("sealed: cannot open (wrong EBALLOT_SECRET_KEY or tampered data)")

// Seal encrypts plaintext under key (32 bytes) bound to ad.
func Seal(key, plaintext []byte, ad string) ([]byte, error) {
	b, err := NewBox(key)
	if err != nil {
		return nil, err
	}
	return b.Seal(plaintext, ad)
}

// Open decrypts a value made by Seal with the same key and ad.
func Open(key, sealed []byte, ad string) ([]byte, error) {
	b, err := NewBox(key)
	if err != nil {
		return nil, err
	}
	return b.Open(sealed, ad)
}

// Box is [Seal] and [Open] under one key, with the key's cipher set up
// once: for many values in a row (a register's names). It is safe for
// concurrent use.
type Box struct{ g cipher.AEAD }

// NewBox returns the Box of key (32 bytes).
func NewBox(key []byte) (*Box, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	return &Box{g}, nil
}

// Seal is [Seal] under the Box's key.
func (b *Box) Seal(plaintext []byte, ad string) ([]byte, error) {
	g := b.g
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	out := append([]byte{version}, nonce...)
	return g.Seal(out, nonce, plaintext, []byte(ad)), nil
}

// Open is [Open] under the Box's key.
func (b *Box) Open(sealed []byte, ad string) ([]byte, error) {
	g := b.g
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

// DeriveKey derives the 32-byte key of one purpose (e.g. "index/member")
// from EBALLOT_SECRET_KEY: HMAC-SHA-256(secret, "eballot/sealed/v1/" ‖
// purpose). A blind index never uses the sealing key itself, so an index
// value says nothing about a ciphertext and the other way round.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("eballot/sealed/v1/" + purpose))
	return m.Sum(nil)
}

// Index is the blind index of value under key (from [DeriveKey]): its
// HMAC-SHA-256, 32 bytes. Equal values have equal indexes, so a column of
// indexes can be looked up and joined in SQL while the values themselves
// are sealed or not stored at all; without the key an index cannot be
// computed, so a dump does not reveal whether a given number is in it
// (a plain hash of a phone number could be reversed by trying every one).
// Callers normalise value first (E.164 for a mobile, lower case for an
// email).
func Index(key []byte, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return m.Sum(nil)
}

// IndexEqual compares two indexes in constant time.
func IndexEqual(a, b []byte) bool { return hmac.Equal(a, b) }

// Purposes of the blind indexes of members' identifiers ([DeriveKey]).
// Opt-outs have their own (PurposeOptOut), so that gotv_optouts does not
// join members.mobile_index in a dump: who replied STOP stays unknown
// without the key. Opt-outs recorded under PurposeMobile (before the
// purposes were separated) are still looked up, and re-keyed on startup.
const (
	PurposeMemberNumber = "index/member-number"
	PurposeMobile       = "index/mobile"
	PurposeEmail        = "index/email"
	PurposeOptOut       = "index/optout"
)
