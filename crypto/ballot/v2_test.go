package ballot

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/ranked"
)

// The version-2 election of manifest_v2.json: a choose question of three
// candidates (0–1 marks) and a ranked question of five (1–5 preferences).
var loadV2Once = sync.OnceValues(func() (*Election, error) {
	var mf manifestFile
	b, err := os.ReadFile("../testdata/manifest_v2.json")
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
	return NewElection(m)
})

func loadV2(t testing.TB) *Election {
	t.Helper()
	e, err := loadV2Once()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func encryptV2(t testing.TB, e *Election, seed string, choices [][]int) (*Ballot, *Audit, []byte) {
	t.Helper()
	b, a, err := e.Encrypt(drbg.New(seed), 0, choices)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b, a, bin
}

func TestV2RoundTrip(t *testing.T) {
	e := loadV2(t)
	if e.Version() != Version2 || e.Contest(0) != nil || e.Contest(1) == nil || e.Contest(9) != nil {
		t.Fatal("version or contests")
	}
	b, a, bin := encryptV2(t, e, "v2 round trip", [][]int{{0, 1, 0}, {3, 0, 4}})
	if len(bin) != e.BallotSize() || bin[0] != Version2 {
		t.Fatalf("size %d want %d, version %d", len(bin), e.BallotSize(), bin[0])
	}
	p, err := e.Parse(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Verify(p); err != nil {
		t.Fatal(err)
	}
	if err := e.CheckAudit(p, a); err != nil {
		t.Fatal(err)
	}
	again, _ := p.MarshalBinary()
	if !bytes.Equal(again, bin) {
		t.Fatal("re-encoding differs")
	}
	// The ranked part is crypto/ranked's encoding, as it is.
	rb, _ := p.Questions[1].Ranked.MarshalBinary()
	if !bytes.Contains(bin, rb) || len(rb) != e.Contest(1).Size() {
		t.Fatal("ranked part is not the §9.1 encoding")
	}
	t1, _ := b.Tracker()
	t2, _ := p.Tracker()
	if t1 != t2 || t1 != TrackerOf(e.ManifestHash(), bin) {
		t.Fatal("tracker")
	}
	js, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"version":2`) || !strings.Contains(string(js), `"ranked":"`) {
		t.Fatalf("JSON form %.200s", js)
	}
	pj, err := e.ParseJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if bj, _ := pj.MarshalBinary(); !bytes.Equal(bj, bin) {
		t.Fatal("JSON round trip")
	}
	// Hints cover the choose question only; the ranked part decodes in full.
	h, err := e.Hints(bin)
	if err != nil || len(h) != e.HintsSize() || e.HintsSize() != 32*(6*3+2*2) {
		t.Fatalf("hints %d, %v", len(h), err)
	}
	if _, err := e.ParseHinted(bin, h); err != nil {
		t.Fatal(err)
	}
	if bad := e.BatchVerify([]*Ballot{p, pj}); bad != nil {
		t.Fatal("batch", bad)
	}
}

func TestV2Rejects(t *testing.T) {
	e := loadV2(t)
	b, a, bin := encryptV2(t, e, "v2 rejects", [][]int{{1, 0, 0}, {2}})
	off := len(bin) - e.Contest(1).Size() // the ranked part is last
	for _, tc := range []struct {
		name string
		mod  func([]byte)
		want error
	}{
		{"version 1 header", func(x []byte) { x[0] = Version }, ErrMalformed},
		{"ranked part version", func(x []byte) { x[off] = 2 }, ErrMalformed},
		{"ranked part of another style", func(x []byte) { x[off+34] = 1 }, ErrMalformed},
		{"ranked part of another contest", func(x []byte) { x[off+36] = 0 }, ErrMalformed},
		{"ranked part's manifest hash", func(x []byte) { x[off+1] ^= 1 }, ErrMalformed},
	} {
		x := bytes.Clone(bin)
		tc.mod(x)
		if _, err := e.Parse(x); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := e.Parse(append(bytes.Clone(bin), 0)); !errors.Is(err, ErrMalformed) {
		t.Error("trailing byte", err)
	}
	if _, err := e.Parse(bin[:len(bin)-1]); !errors.Is(err, ErrMalformed) {
		t.Error("truncated", err)
	}
	// A ranked part whose proofs fail is named as an invalid ranking of
	// its question: swap in another voter's ranks (B from one ballot, R
	// from another) — well formed, not a proven ranking.
	_, _, other := encryptV2(t, e, "v2 rejects other", [][]int{{1, 0, 0}, {4, 3, 2, 1, 0}})
	n := 5
	rOff := off + 39 + 64*n
	x := bytes.Clone(bin)
	copy(x[rOff:rOff+64*n], other[rOff:rOff+64*n])
	p, err := e.Parse(x)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Verify(p)
	if !errors.Is(err, ErrInvalidRanking) || !errors.Is(err, ranked.ErrInvalidRanking) || !strings.Contains(err.Error(), "executive") {
		t.Fatalf("mixed ranking: %v", err)
	}
	good, _ := e.Parse(bin)
	if bad := e.BatchVerify([]*Ballot{good, p, good}); len(bad) != 1 || bad[0] != 1 {
		t.Fatalf("batch found %v, want [1]", bad)
	}
	// The audit reproduces only the ballot it opens.
	if err := e.CheckAudit(p, a); !errors.Is(err, ErrAuditMismatch) {
		t.Fatal("audit of the changed ballot", err)
	}
	if err := e.CheckAudit(b, &Audit{Choices: a.Choices, Nonces: a.Nonces}); !errors.Is(err, ErrMalformed) {
		t.Fatal("audit without the ranking opening", err)
	}
	// Encrypt refuses a ranking that does not fit.
	for _, r := range [][]int{{}, {0, 0}, {5}, {0, 1, 2, 3, 4, 0}} {
		if _, _, err := e.Encrypt(rand.Reader, 0, [][]int{{0, 0, 0}, r}); !errors.Is(err, ErrInvalidChoices) {
			t.Errorf("ranking %v: %v", r, err)
		}
	}
	// JSON: a ranked question with selections, a choose one with ranked.
	js, _ := b.MarshalJSON()
	var o map[string]any
	_ = json.Unmarshal(js, &o)
	qs := o["questions"].([]any)
	qs[0].(map[string]any)["ranked"] = "00"
	bad, _ := json.Marshal(o)
	if _, err := e.ParseJSON(bad); !errors.Is(err, ErrMalformed) {
		t.Fatal("choose question with ranked", err)
	}
	if _, err := e.ParseJSON(bytes.Replace(js, []byte(`"version":2`), []byte(`"version":1`), 1)); !errors.Is(err, ErrMalformed) {
		t.Fatal("JSON version 1", err)
	}
}

func FuzzParseV2(f *testing.F) {
	e := loadV2(f)
	_, _, bin := encryptV2(f, e, "v2 fuzz", [][]int{{0, 0, 1}, {1, 2}})
	f.Add(bin)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := e.Parse(data)
		if err != nil {
			return
		}
		again, err := b.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatal("accepted a non-canonical encoding")
		}
		js, err := b.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ParseJSON(js); err != nil {
			t.Fatal("JSON re-encoding rejected", err)
		}
	})
}
