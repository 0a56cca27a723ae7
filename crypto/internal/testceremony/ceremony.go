// Package testceremony runs a whole k-of-n key ceremony in one process, for
// tests and benchmarks ONLY (real trustees run crypto/threshold on their
// own machines and never hold each other's shares).
package testceremony

import (
	"crypto/rand"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/threshold"
)

// Keys is the outcome of a ceremony: the public key material, every
// trustee's secret share (index j at Shares[j-1]) and the election key as
// an ElGamal public key.
type Keys struct {
	Public *threshold.PublicKey
	Shares []*threshold.SecretShare
	Key    *elgamal.PublicKey
}

// Run runs a k-of-n ceremony named ceremony.
func Run(ceremony string, n, k int) (*Keys, error) {
	var dealings []*threshold.Dealing
	received := make([][]*threshold.Share, n+1)
	for i := 1; i <= n; i++ {
		d, shares, err := threshold.Deal(rand.Reader, ceremony, n, k, i)
		if err != nil {
			return nil, fmt.Errorf("deal %d: %w", i, err)
		}
		dealings = append(dealings, d)
		for _, s := range shares {
			received[s.Recipient] = append(received[s.Recipient], s)
		}
	}
	keys := &Keys{}
	for j := 1; j <= n; j++ {
		pub, sk, err := threshold.Finalise(ceremony, n, k, dealings, j, received[j])
		if err != nil {
			return nil, fmt.Errorf("finalise %d: %w", j, err)
		}
		keys.Public = pub
		keys.Shares = append(keys.Shares, sk)
	}
	key, err := elgamal.ParsePublicKey(enc.MarshalElement(keys.Public.Key))
	if err != nil {
		return nil, err
	}
	keys.Key = key
	return keys, nil
}
