package ranked

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/internal/vectortest"
	"github.com/unionvote/eballot/crypto/shuffle"
	"github.com/unionvote/eballot/crypto/threshold"
)

type tamperVectors struct {
	Description string `json:"description"`
	Folder      string `json:"folder"`
	Cases       []struct {
		Name    string            `json:"name"`
		Files   map[string]string `json:"files"`
		Ballots map[string]string `json:"ballots"`
		Expect  tamperNamed       `json:"expect"`
	} `json:"cases"`
}

// tamperNamed is what a verifier of a ranked count names.
type tamperNamed struct {
	SetAside    []int              `json:"set_aside"`
	Shuffles    []int              `json:"shuffles"`
	Decryptions []tamperDecryption `json:"decryptions"`
}

// tamperDecryption is a trustee's decryption that fails, at its first
// failing proof.
type tamperDecryption struct {
	Trustee int `json:"trustee"`
	Row     int `json:"row"`
	Column  int `json:"column"`
}

// TestTamperVectors checks crypto/testdata/ranked_tamper_v1.json, shared
// with the browser's recount (crypto/js/test/rankedcount.test.mjs): for
// each edit of the published folder ranked_count_v1/, the ballots'
// proofs, every shuffle of the cascade (each against the list the mixer
// before published) and every trustee's decryption name exactly the
// ballots, mixers and trustees the vector expects, and VerifyCascade
// stops at the first mixer named.
func TestTamperVectors(t *testing.T) {
	var v tamperVectors
	vectortest.Load(t, "ranked_tamper_v1.json", &v)
	if len(v.Cases) < 5 {
		t.Fatalf("%d cases", len(v.Cases))
	}
	dir := filepath.Join("..", "testdata", v.Folder)
	for _, tc := range v.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			file := func(name string) []byte {
				if h, ok := tc.Files[name]; ok {
					return vectortest.Unhex(t, h)
				}
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			has := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
			got := recheck(t, file, has, tc.Ballots)
			want := tc.Expect
			if !reflect.DeepEqual(fmt.Sprint(got.SetAside, got.Shuffles, got.Decryptions), fmt.Sprint(want.SetAside, want.Shuffles, want.Decryptions)) {
				t.Fatalf("named %+v, want %+v", got, want)
			}
		})
	}
}

// recheck re-does a ranked count's checks on the folder's files (file
// gives each, edited; has says which there are) with ballots of contest.json replaced (1-based →
// hex), and returns what fails.
func recheck(t *testing.T, file func(string) []byte, has func(string) bool, edits map[string]string) tamperNamed {
	t.Helper()
	var rc struct {
		ManifestHash string          `json:"manifest_hash"`
		Contest      uint16          `json:"contest"`
		Styles       int             `json:"styles"`
		Candidates   []string        `json:"candidates"`
		MinRanked    int             `json:"min_ranked"`
		MaxRanked    int             `json:"max_ranked"`
		Trustees     json.RawMessage `json:"trustees"`
		Ballots      []string        `json:"ballots"`
	}
	if err := json.Unmarshal(file("contest.json"), &rc); err != nil {
		t.Fatal(err)
	}
	var pub threshold.PublicKey
	if err := pub.UnmarshalJSON(rc.Trustees); err != nil {
		t.Fatal(err)
	}
	key, err := elgamal.ParsePublicKey(enc.MarshalElement(pub.Key))
	if err != nil {
		t.Fatal(err)
	}
	c := &Contest{Key: key, Index: rc.Contest, Styles: rc.Styles, Candidates: len(rc.Candidates), MinRanked: rc.MinRanked, MaxRanked: rc.MaxRanked}
	copy(c.ManifestHash[:], vectortest.Unhex(t, rc.ManifestHash))
	named := tamperNamed{SetAside: []int{}, Shuffles: []int{}}
	var valid []*Ballot
	for i, h := range rc.Ballots {
		if e, ok := edits[strconv.Itoa(i+1)]; ok {
			h = e
		}
		b, err := c.Parse(vectortest.Unhex(t, h))
		if err == nil {
			err = c.Verify(b)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidRanking) {
				t.Fatalf("ballot %d: %v, want an invalid ranking", i+1, err)
			}
			named.SetAside = append(named.SetAside, i+1)
			continue
		}
		valid = append(valid, b)
	}
	in, err := c.MixInput(valid)
	if err != nil {
		t.Fatal(err)
	}
	base := c.MixStatement()
	var mixes []shuffle.Mix
	prev := in
	for round := 1; ; round++ {
		name := fmt.Sprintf("mix-%d.list", round)
		if !has(name) {
			break
		}
		l, err := shuffle.ParseList(file(name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := shuffle.ParseProof(file(fmt.Sprintf("mix-%d.proof", round)))
		if err != nil {
			t.Fatal(err)
		}
		if shuffle.Verify(shuffle.RoundStatement(base, round-1), prev, l, p) != nil {
			named.Shuffles = append(named.Shuffles, round)
		}
		mixes = append(mixes, shuffle.Mix{Output: l, Proof: p})
		prev = l
	}
	_, err = shuffle.VerifyCascade(base, in, mixes)
	if len(named.Shuffles) == 0 && err != nil || len(named.Shuffles) > 0 && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("shuffle %d of %d", named.Shuffles[0], len(mixes)))) {
		t.Fatalf("VerifyCascade: %v, shuffles failing %v", err, named.Shuffles)
	}
	at := regexp.MustCompile(`trustee (\d+), row (\d+), column (\d+)`)
	for j := 1; j <= len(pub.Shares); j++ {
		name := fmt.Sprintf("decrypt-%d.bin", j)
		if !has(name) {
			continue
		}
		pd, err := shuffle.ParsePartialDecryption(file(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := shuffle.VerifyPartialDecryption(&pub, c.ManifestHash[:], prev, pd); err != nil {
			m := at.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("trustee %d: %v does not name the row and column", j, err)
			}
			tr, _ := strconv.Atoi(m[1])
			r, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			named.Decryptions = append(named.Decryptions, tamperDecryption{tr, r, col})
		}
	}
	return named
}
