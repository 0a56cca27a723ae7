package shuffle

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/vectortest"
	"github.com/unionvote/eballot/crypto/threshold"
)

type shuffleVectors struct {
	Description  string     `json:"description"`
	ManifestHash string     `json:"manifest_hash"`
	ElectionKey  string     `json:"election_key"`
	Label        string     `json:"label"`
	Context      string     `json:"context"`
	Values       [][]uint64 `json:"values"`
	Input        string     `json:"input"`
	Output       string     `json:"output"`
	Proof        string     `json:"proof"`
	Generators   []string   `json:"generators"`
	Cascade      []struct {
		Output string `json:"output"`
		Proof  string `json:"proof"`
	} `json:"cascade"`
	Invalid []struct {
		Name        string `json:"name"`
		ElectionKey string `json:"election_key"`
		Label       string `json:"label"`
		Context     string `json:"context"`
		Input       string `json:"input"`
		Output      string `json:"output"`
		Proof       string `json:"proof"`
		Error       string `json:"error"`
	} `json:"invalid"`
	ThresholdKey       json.RawMessage `json:"threshold_key"`
	Partials           []string        `json:"partials"`
	Plaintexts         [][]string      `json:"plaintexts"`
	InvalidDecryptions []struct {
		Name     string   `json:"name"`
		Partials []string `json:"partials"`
		Error    string   `json:"error"`
	} `json:"invalid_decryptions"`
}

// TestVectors checks crypto/testdata/shuffle_v1.json: the valid shuffle
// and cascade verify, every invalid case fails with the named error, the
// partial decryptions combine to the listed plaintexts and the bad ones
// are named.
func TestVectors(t *testing.T) {
	var v shuffleVectors
	vectortest.Load(t, "shuffle_v1.json", &v)
	key, err := elgamal.ParsePublicKey(vectortest.Unhex(t, v.ElectionKey))
	if err != nil {
		t.Fatal(err)
	}
	st := &Statement{Key: key, Label: v.Label, Context: vectortest.Unhex(t, v.Context)}
	in, err := ParseList(vectortest.Unhex(t, v.Input))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseList(vectortest.Unhex(t, v.Output))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProof(vectortest.Unhex(t, v.Proof))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(st, in, out, p); err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(Generator(v.Label, 0).Encode(nil)) != v.Generators[0] ||
		hex.EncodeToString(Generator(v.Label, 0xffffffff).Encode(nil)) != v.Generators[1] {
		t.Fatal("generators differ")
	}
	var mixes []Mix
	for _, m := range v.Cascade {
		o, err := ParseList(vectortest.Unhex(t, m.Output))
		if err != nil {
			t.Fatal(err)
		}
		pr, err := ParseProof(vectortest.Unhex(t, m.Proof))
		if err != nil {
			t.Fatal(err)
		}
		mixes = append(mixes, Mix{Output: o, Proof: pr})
	}
	if _, err := VerifyCascade(st, in, mixes); err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Invalid {
		t.Run(c.Name, func(t *testing.T) {
			cst := *st
			if c.ElectionKey != "" {
				if cst.Key, err = elgamal.ParsePublicKey(vectortest.Unhex(t, c.ElectionKey)); err != nil {
					t.Fatal(err)
				}
			}
			if c.Label != "" {
				cst.Label = c.Label
			}
			if c.Context != "" {
				cst.Context = vectortest.Unhex(t, c.Context)
			}
			cin, cout := in, out
			var err error
			if c.Input != "" {
				cin, err = ParseList(vectortest.Unhex(t, c.Input))
			}
			if err == nil && c.Output != "" {
				cout, err = ParseList(vectortest.Unhex(t, c.Output))
			}
			cp := p
			if err == nil && c.Proof != "" {
				cp, err = ParseProof(vectortest.Unhex(t, c.Proof))
			}
			if err == nil {
				err = Verify(&cst, cin, cout, cp)
			}
			want := map[string]error{"shape": ErrShape, "invalid_proof": ErrInvalidProof, "malformed": ErrMalformed}[c.Error]
			if want == nil || !errors.Is(err, want) {
				t.Fatalf("error %v, want %s", err, c.Error)
			}
		})
	}
	var pub threshold.PublicKey
	if err := json.Unmarshal(v.ThresholdKey, &pub); err != nil {
		t.Fatal(err)
	}
	mh := vectortest.Unhex(t, v.ManifestHash)
	parse := func(hs []string) []*PartialDecryption {
		var out []*PartialDecryption
		for _, h := range hs {
			pd, err := ParsePartialDecryption(vectortest.Unhex(t, h))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, pd)
		}
		return out
	}
	pts, err := Decrypt(&pub, mh, out, parse(v.Partials))
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range pts {
		for k, p := range row {
			if hex.EncodeToString(p[:]) != v.Plaintexts[i][k] {
				t.Fatalf("plaintext %d/%d differs", i, k)
			}
		}
	}
	// The plaintexts are the input values, permuted.
	seen := map[string]bool{}
	for _, row := range v.Values {
		seen[hex.EncodeToString(sliceOf(encodedValue(row[0])))+hex.EncodeToString(sliceOf(encodedValue(row[1])))] = true
	}
	for _, row := range v.Plaintexts {
		if !seen[row[0]+row[1]] {
			t.Fatalf("plaintext row %v is not an input row", row)
		}
	}
	for _, c := range v.InvalidDecryptions {
		_, err := Decrypt(&pub, mh, out, parse(c.Partials))
		if !errors.Is(err, ErrBadDecryption) || !strings.Contains(err.Error(), c.Error) {
			t.Errorf("%s: %v, want %q", c.Name, err, c.Error)
		}
	}
}

func sliceOf(b [32]byte) []byte { return b[:] }
