// Package votetest is the test kit of a member's vote as the phone makes
// it (crypto/js, internal/web/page/static/vote.js), in Go: the ballot
// encrypted with its proofs, its tracker blinded with the style's issuer
// key, the blind signature from issuance unblinded into the authorisation.
// What is done with them (a cast in-process or over HTTP) is the test's.
package votetest

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/manifest"
)

// Paper is an opened ballot's manifest, ready to vote on.
type Paper struct {
	Manifest *manifest.Manifest
	Election *ballot.Election
}

// NewPaper parses the manifest (as the ledger's board serves it).
func NewPaper(t testing.TB, manifestJSON []byte) *Paper {
	t.Helper()
	m, err := manifest.Parse(manifestJSON)
	if err != nil {
		t.Fatal(err)
	}
	el, err := ballot.NewElection(m)
	if err != nil {
		t.Fatal(err)
	}
	return &Paper{Manifest: m, Election: el}
}

// Style is the index of the style id in the manifest, or -1.
func (p *Paper) Style(id string) int {
	for i, st := range p.Manifest.Styles {
		if st.ID == id {
			return i
		}
	}
	return -1
}

// Vote encrypts choices (choices[q][o] ∈ {0,1}) on style, has the blinded
// tracker signed by authorise (issuance's Authorise for the member: the
// blind signature), and returns the ballot's bytes and its authorisation,
// ready to cast.
func (p *Paper) Vote(t testing.TB, style int, choices [][]int, authorise func(blinded []byte) ([]byte, error)) (ballotBytes, authorisation []byte) {
	t.Helper()
	bal, _, err := p.Election.Encrypt(rand.Reader, style, choices)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := bal.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tr := ballot.TrackerOf(p.Election.ManifestHash(), bb)
	der, err := base64.StdEncoding.DecodeString(p.Manifest.Styles[style].IssuerKey)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := blind.ParsePublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := blind.Prepare(rand.Reader, tr[:])
	if err != nil {
		t.Fatal(err)
	}
	blinded, state, err := blind.Blind(rand.Reader, pk, prep)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := authorise(blinded)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := state.Finalize(sig)
	if err != nil {
		t.Fatal(err)
	}
	return bb, auth[:]
}
