package ballot

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/manifest"
)

func TestVectorsValid(t *testing.T) {
	f := load(t)
	if hex.EncodeToString(f.e.hash[:]) != f.bf.ManifestHash {
		t.Fatal("manifest hash")
	}
	for _, v := range f.bf.Valid {
		t.Run(v.Name, func(t *testing.T) {
			// Deterministic re-encryption reproduces the vector.
			b, a, err := f.e.Encrypt(drbg.New(v.Seed), v.Style, v.Choices)
			if err != nil {
				t.Fatal(err)
			}
			bin, _ := b.MarshalBinary()
			if hex.EncodeToString(bin) != v.Binary {
				t.Fatal("binary differs from vector")
			}
			if len(bin) != f.e.BallotSize() {
				t.Fatal("size")
			}
			js, _ := b.MarshalJSON()
			if cj, err := manifest.Canonicalize(v.JSON); err != nil || !bytes.Equal(js, cj) {
				t.Fatalf("json differs:\n%s\n%s", js, v.JSON)
			}
			for qi := range a.Nonces {
				for oi := range a.Nonces[qi] {
					if a.Nonces[qi][oi] != v.Audit.Nonces[qi][oi] {
						t.Fatal("audit nonce differs")
					}
				}
			}
			// Decode both forms, verify, re-encode.
			raw, _ := hex.DecodeString(v.Binary)
			d, err := f.e.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.e.Verify(d); err != nil {
				t.Fatal(err)
			}
			again, _ := d.MarshalBinary()
			if !bytes.Equal(again, raw) {
				t.Fatal("re-encode")
			}
			dj, err := f.e.ParseJSON(v.JSON)
			if err != nil {
				t.Fatal(err)
			}
			again, _ = dj.MarshalBinary()
			if !bytes.Equal(again, raw) {
				t.Fatal("JSON decode differs")
			}
			tr, err := d.Tracker()
			if err != nil || hex.EncodeToString(tr[:]) != v.Tracker {
				t.Fatal("tracker")
			}
			if TrackerOf(f.e.hash, raw) != tr || ShortCode(tr) != v.ShortCode {
				t.Fatal("short code")
			}
			if err := f.e.CheckAudit(d, v.Audit); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVectorsInvalid(t *testing.T) {
	f := load(t)
	for _, v := range f.bf.Invalid {
		t.Run(v.Name, func(t *testing.T) {
			var b *Ballot
			var err error
			if v.Format == "binary" {
				raw, _ := hex.DecodeString(v.Binary)
				b, err = f.e.Parse(raw)
			} else {
				b, err = f.e.ParseJSON(v.JSON)
			}
			if err == nil {
				err = f.e.Verify(b)
				if bad := f.e.BatchVerify([]*Ballot{b}); len(bad) != 1 {
					t.Error("batch verifier accepted it")
				}
			}
			if got := errKind(err); got != v.Error {
				t.Fatalf("got %s (%v), want %s: %s", got, err, v.Error, v.Reason)
			}
		})
	}
}

func TestVectorsTally(t *testing.T) {
	f := load(t)
	tab, _ := elgamal.NewTable(100)
	sums := map[[3]int][]*elgamal.Ciphertext{}
	for _, v := range f.bf.Valid {
		raw, _ := hex.DecodeString(v.Binary)
		b, err := f.e.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		for qi, q := range b.Questions {
			for oi, s := range q.Selections {
				k := [3]int{int(b.Style), qi, oi}
				sums[k] = append(sums[k], s.Ciphertext)
			}
		}
	}
	for s, qs := range f.bf.Tally {
		for qi, os := range qs {
			for oi, o := range os {
				c := elgamal.Sum(sums[[3]int{s, qi, oi}]...)
				if hex.EncodeToString(c.Bytes()) != o.Ciphertext {
					t.Fatal("tally ciphertext")
				}
				n, err := tab.Solve(f.sk.Decrypt(c))
				if err != nil || int(n) != o.Count {
					t.Fatal("tally count")
				}
			}
		}
	}
}

// TestTallyProperty: the homomorphic tally of random ballots decrypts to
// the plaintext sum.
func TestTallyProperty(t *testing.T) {
	f := load(t)
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := drbg.New("tally property")
	const n = 24
	want := [2][2]int{}
	var all [2][2][]*elgamal.Ciphertext
	var bs []*Ballot
	for i := 0; i < n; i++ {
		ch := [][]int{{0, 0}, {0, 0}}
		ch[0][rng.IntN(2)] = 1 // question 0: exactly one
		if k := rng.IntN(3); k < 2 {
			ch[1][k] = 1 // question 1: at most one
		}
		b, _, err := f.e.Encrypt(rnd, rng.IntN(2), ch)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
		for q := range 2 {
			for o := range 2 {
				want[q][o] += ch[q][o]
				all[q][o] = append(all[q][o], b.Questions[q].Selections[o].Ciphertext)
			}
		}
	}
	if bad := f.e.BatchVerify(bs); bad != nil {
		t.Fatal(bad)
	}
	tab, _ := elgamal.NewTable(n)
	for q := range 2 {
		for o := range 2 {
			got, err := tab.Solve(f.sk.Decrypt(elgamal.Sum(all[q][o]...)))
			if err != nil || int(got) != want[q][o] {
				t.Fatalf("q%d o%d: got %d want %d (%v)", q, o, got, want[q][o], err)
			}
		}
	}
}

func TestBatchFindsBad(t *testing.T) {
	f := load(t)
	rnd := drbg.New("batch")
	var good []*Ballot
	for i := 0; i < 6; i++ {
		b, _, _ := f.e.Encrypt(rnd, i%2, [][]int{{1, 0}, {0, 1}})
		good = append(good, b)
	}
	// 160 ballots (several proof chunks), bad ones at chosen places.
	var bs []*Ballot
	badAt := map[int]bool{0: true, 77: true, 150: true, 151: true, 159: true}
	for i := 0; i < 160; i++ {
		b := good[i%len(good)]
		if badAt[i] {
			// Swap two selections' proofs: each proof is valid for another
			// statement, so only the binding catches it.
			c := *b
			c.Questions = append([]Question(nil), b.Questions...)
			q := c.Questions[i%2]
			q.Selections = append([]Selection(nil), q.Selections...)
			q.Selections[0].Proof, q.Selections[1].Proof = q.Selections[1].Proof, q.Selections[0].Proof
			c.Questions[i%2] = q
			b = &c
		}
		bs = append(bs, b)
	}
	for _, w := range []int{4096, 7} {
		batchWindow = w
		bad := f.e.BatchVerify(bs)
		if len(bad) != len(badAt) {
			t.Fatalf("window %d: bad = %v", w, bad)
		}
		for _, i := range bad {
			if !badAt[i] {
				t.Fatalf("window %d: bad = %v", w, bad)
			}
		}
	}
	batchWindow = 4096
	if f.e.BatchVerify(good) != nil {
		t.Fatal("good ballots rejected")
	}
}

func TestEncryptRejects(t *testing.T) {
	f := load(t)
	for _, ch := range [][][]int{
		{{1, 1}, {0, 0}}, // question 0 max 1
		{{0, 0}, {0, 0}}, // question 0 min 1
		{{2, 0}, {0, 0}},
		{{1, 0}},
		{{1, 0, 0}, {0, 0}},
	} {
		if _, _, err := f.e.Encrypt(drbg.New("x"), 0, ch); !errors.Is(err, ErrInvalidChoices) {
			t.Fatalf("%v: %v", ch, err)
		}
	}
	if _, _, err := f.e.Encrypt(drbg.New("x"), 2, yesNo); !errors.Is(err, ErrInvalidChoices) {
		t.Fatal(err)
	}
}

func TestAuditMismatch(t *testing.T) {
	f := load(t)
	b, a, _ := f.e.Encrypt(drbg.New("audit"), 0, yesNo)
	if err := f.e.CheckAudit(b, a); err != nil {
		t.Fatal(err)
	}
	a.Choices[0][0], a.Choices[0][1] = 0, 1 // claim the other answer
	if err := f.e.CheckAudit(b, a); !errors.Is(err, ErrAuditMismatch) {
		t.Fatal(err)
	}
	a.Choices[0][0], a.Choices[0][1] = 1, 0
	a.Nonces[1][0] = a.Nonces[1][1]
	if err := f.e.CheckAudit(b, a); !errors.Is(err, ErrAuditMismatch) {
		t.Fatal(err)
	}
}

func TestShortCode(t *testing.T) {
	var tr [32]byte
	if got := ShortCode(tr); got != "0000-0000-0000-0000" {
		t.Fatal(got)
	}
	for i := range 10 {
		tr[i] = 0xff
	}
	if got := ShortCode(tr); got != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" {
		t.Fatal(got)
	}
	tr = [32]byte{0x08, 0x42} // 00001 00001 00001 0...
	if got := ShortCode(tr); got != "1110-0000-0000-0000" {
		t.Fatal(got)
	}
}

// TestBitFlipsRejected: every single-bit change of a valid ballot is
// rejected by decode + verify (and nothing panics).
func TestBitFlipsRejected(t *testing.T) {
	f := load(t)
	raw, _ := hex.DecodeString(f.bf.Valid[3].Binary)
	rng := rand.New(rand.NewPCG(3, 4))
	var parsed []*Ballot
	for i := 0; i < 150; i++ {
		b := append([]byte(nil), raw...)
		pos := rng.IntN(len(b))
		b[pos] ^= byte(1 << rng.IntN(8))
		x, err := f.e.Parse(b)
		if err != nil {
			continue
		}
		if err := f.e.Verify(x); err == nil {
			t.Fatalf("bit flip at %d accepted", pos)
		}
		parsed = append(parsed, x)
	}
	if bad := f.e.BatchVerify(parsed); len(bad) != len(parsed) {
		t.Fatalf("batch accepted %d flipped ballots", len(parsed)-len(bad))
	}
}
