package ballot

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/manifest"
)

type manifestFile struct {
	Manifest          json.RawMessage `json:"manifest"`
	Hash              string          `json:"hash"`
	ElectionSecretKey string          `json:"election_secret_key"`
}

type ballotFile struct {
	ManifestHash string `json:"manifest_hash"`
	ElectionKey  string `json:"election_key"`
	Valid        []struct {
		Name      string          `json:"name"`
		Seed      string          `json:"seed"`
		Style     int             `json:"style"`
		Choices   [][]int         `json:"choices"`
		Audit     *Audit          `json:"audit"`
		Binary    string          `json:"binary"`
		JSON      json.RawMessage `json:"json"`
		Tracker   string          `json:"tracker"`
		ShortCode string          `json:"short_code"`
		Hints     string          `json:"hints"`
	} `json:"valid"`
	Invalid []struct {
		Name   string          `json:"name"`
		Format string          `json:"format"`
		Binary string          `json:"binary"`
		JSON   json.RawMessage `json:"json"`
		Error  string          `json:"error"`
		Reason string          `json:"reason"`
	} `json:"invalid"`
	Tally [][][]struct {
		Ciphertext string `json:"ciphertext"`
		Count      int    `json:"count"`
	} `json:"tally"`
}

var loadOnce = sync.OnceValues(func() (*fixture, error) {
	var mf manifestFile
	b, err := os.ReadFile("../testdata/manifest_v1.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &mf); err != nil {
		return nil, err
	}
	m, err := manifest.Parse(mf.Manifest)
	if err != nil {
		return nil, err
	}
	e, err := NewElection(m)
	if err != nil {
		return nil, err
	}
	skb, _ := hex.DecodeString(mf.ElectionSecretKey)
	sk, err := elgamal.ParseSecretKey(skb)
	if err != nil {
		return nil, err
	}
	var bf ballotFile
	b, err = os.ReadFile("../testdata/ballot_v1.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &bf); err != nil {
		return nil, err
	}
	return &fixture{m: m, e: e, sk: sk, bf: &bf}, nil
})

type fixture struct {
	m  *manifest.Manifest
	e  *Election
	sk *elgamal.SecretKey
	bf *ballotFile
}

func load(t testing.TB) *fixture {
	t.Helper()
	f, err := loadOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func errKind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrWrongManifest):
		return "wrong_manifest"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrBadProof):
		return "bad_proof"
	}
	return "other: " + err.Error()
}
