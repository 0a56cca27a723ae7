package ballot

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/proof"
)

// compactOf is the fixture manifest (two yes/no questions: "strike" min 1,
// "asos" min 0) as a protocol-7 manifest of compact questions.
func compactOf(t testing.TB, m *manifest.Manifest) *manifest.Manifest {
	t.Helper()
	c := *m
	c.Version = manifest.Version2
	c.Questions = append([]manifest.Question(nil), m.Questions...)
	for i := range c.Questions {
		c.Questions[i].Method = manifest.MethodCompact
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return &c
}

func loadV3(t testing.TB) *Election {
	t.Helper()
	e, err := NewElection(compactOf(t, load(t).m))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A compact ballot round-trips in binary and JSON, verifies, opens by its
// audit, decrypts to 0, 1 or B, and is half the size of a version-1 one.
func TestV3RoundTrip(t *testing.T) {
	f := load(t)
	e := loadV3(t)
	if e.Version() != Version3 {
		t.Fatalf("version %d", e.Version())
	}
	if want := 37 + (64 + 2*128) + (64 + 3*128); e.BallotSize() != want {
		t.Fatalf("size %d, want %d", e.BallotSize(), want)
	}
	if e.HintsSize() != 32*(6+8) {
		t.Fatalf("hints %d", e.HintsSize())
	}
	for _, c := range [][][]int{{{1, 0}, {1, 0}}, {{0, 1}, {0, 1}}, {{1, 0}, {0, 0}}, {{0, 1}, {1, 0}}} {
		b, a, err := e.Encrypt(rand.Reader, 1, c)
		if err != nil {
			t.Fatal(err)
		}
		bin, err := b.MarshalBinary()
		if err != nil || len(bin) != e.BallotSize() || bin[0] != 3 {
			t.Fatalf("binary: %v, %d bytes", err, len(bin))
		}
		b2, err := e.Parse(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Verify(b2); err != nil {
			t.Fatal(err)
		}
		if err := e.CheckAudit(b2, a); err != nil {
			t.Fatal(err)
		}
		js, err := b2.MarshalJSON()
		if err != nil || !strings.Contains(string(js), `"compact":{"alpha"`) {
			t.Fatalf("json %s %v", js, err)
		}
		b3, err := e.ParseJSON(js)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := b3.MarshalBinary()
		if !bytes.Equal(again, bin) {
			t.Fatal("JSON round trip changed the ballot")
		}
		h, err := e.Hints(bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ParseHinted(bin, h); err != nil {
			t.Fatal(err)
		}
		for qi, q := range b2.Questions {
			want, _ := CompactValue(c[qi])
			M := f.sk.Decrypt(q.Compact.Ciphertext)
			tab, _ := elgamal.NewPairTable(1, manifest.CompactBase)
			if v, err := tab.Solve(M); err != nil || v != uint64(want) {
				t.Fatalf("question %d decrypts to %d (%v), want %d", qi, v, err, want)
			}
		}
	}
	if _, _, err := e.Encrypt(rand.Reader, 0, [][]int{{0, 0}, {0, 0}}); !errors.Is(err, ErrInvalidChoices) {
		t.Fatal("a blank answer to a min-1 question was encrypted:", err)
	}
	if _, _, err := e.Encrypt(rand.Reader, 0, [][]int{{1, 1}, {0, 0}}); !errors.Is(err, ErrInvalidChoices) {
		t.Fatal("two marks encrypted:", err)
	}
}

// Every byte of a compact ballot matters: a flipped bit anywhere is
// refused (malformed, another manifest, or a bad proof), never accepted.
func TestV3TamperedRejected(t *testing.T) {
	e := loadV3(t)
	b, _, err := e.Encrypt(drbg.New("v3 tamper"), 0, [][]int{{1, 0}, {0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := b.MarshalBinary()
	for i := range bin {
		for _, bit := range []byte{0x01, 0x80} {
			x := bytes.Clone(bin)
			x[i] ^= bit
			bl, err := e.Parse(x)
			if err == nil {
				err = e.Verify(bl)
			}
			if err == nil {
				t.Fatalf("byte %d bit %#x flipped: accepted", i, bit)
			}
			if k := errKind(err); strings.HasPrefix(k, "other") {
				t.Fatalf("byte %d: %v", i, err)
			}
		}
	}
	// Batch verification names the same ballot.
	good, _, _ := e.Encrypt(rand.Reader, 1, [][]int{{0, 1}, {0, 1}})
	x := bytes.Clone(bin)
	x[len(x)-1] ^= 1 // last response scalar: still canonical
	bad, err := e.Parse(x)
	if err != nil {
		x[len(x)-1] ^= 3
		if bad, err = e.Parse(x); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.BatchVerify([]*Ballot{good, bad, b}); len(got) != 1 || got[0] != 1 {
		t.Fatalf("batch: %v", got)
	}
}

// A value outside {0, 1, B} cannot be proven, and a proof for another
// value list does not verify as a compact question's proof.
func TestV3OutsideValuesRefused(t *testing.T) {
	e := loadV3(t)
	b, _, err := e.Encrypt(rand.Reader, 0, [][]int{{1, 0}, {1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint32{2, manifest.CompactBase + 1, manifest.CompactBase - 1} {
		ct, r, err := elgamal.EncryptRand(e.Key(), uint64(v), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		st := e.compactStatement(b, 1, ct)
		if _, err := proof.Prove(rand.Reader, st, &proof.Witness{Value: v, Nonce: r}); !errors.Is(err, proof.ErrWitness) {
			t.Fatalf("value %d proven: %v", v, err)
		}
		// A forger proves the same ciphertext for V = [0, 1, v] and puts
		// it in the ballot: it must not verify.
		forged := *st
		forged.Values = []uint32{0, 1, v}
		p, err := proof.Prove(rand.Reader, &forged, &proof.Witness{Value: v, Nonce: r})
		if err != nil {
			t.Fatal(err)
		}
		x := *b
		x.Questions = append([]Question(nil), b.Questions...)
		x.Questions[1] = Question{Compact: &Selection{ct, p}}
		if err := e.Verify(&x); !errors.Is(err, ErrBadProof) {
			t.Fatalf("value %d with a proof for [0,1,%d]: %v", v, v, err)
		}
		if got := e.BatchVerify([]*Ballot{b, &x}); len(got) != 1 || got[0] != 1 {
			t.Fatalf("batch of value %d: %v", v, got)
		}
	}
}

// The versions do not mix: a version-1 ballot is refused by name by a
// compact manifest's election, and a version-3 ballot by a version-1 one;
// each still verifies under its own manifest.
func TestV3VersionsRefusedByName(t *testing.T) {
	f := load(t)
	e3 := loadV3(t)
	b1, _, err := f.e.Encrypt(rand.Reader, 0, [][]int{{1, 0}, {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	b3, _, err := e3.Encrypt(rand.Reader, 0, [][]int{{1, 0}, {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Verify(b1); err != nil {
		t.Fatal("version 1:", err)
	}
	if err := e3.Verify(b3); err != nil {
		t.Fatal("version 3:", err)
	}
	bin1, _ := b1.MarshalBinary()
	bin3, _ := b3.MarshalBinary()
	if _, err := e3.Parse(bin1); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "version 1, this manifest's ballots are version 3") {
		t.Fatal(err)
	}
	if _, err := f.e.Parse(bin3); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "version 3, this manifest's ballots are version 1") {
		t.Fatal(err)
	}
	// A version-1 ballot value handed to the version-3 election (same
	// manifest hash forged): refused by shape, not verified.
	b1.ManifestHash = e3.ManifestHash()
	if err := e3.Verify(b1); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}

// A compact question is two options and at most one mark, in a version-2
// manifest.
func TestV3ManifestRules(t *testing.T) {
	m := compactOf(t, load(t).m)
	bad := func(name string, edit func(c *manifest.Manifest)) {
		c := *m
		c.Questions = append([]manifest.Question(nil), m.Questions...)
		edit(&c)
		if err := c.Validate(); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad("version 1", func(c *manifest.Manifest) { c.Version = manifest.Version })
	bad("three options", func(c *manifest.Manifest) {
		c.Questions[0].Options = append(append([]manifest.Option(nil), c.Questions[0].Options...), manifest.Option{ID: "maybe", Label: "Maybe"})
	})
	bad("max 2", func(c *manifest.Manifest) { c.Questions[1].Max = 2 })
	bad("seats", func(c *manifest.Manifest) { c.Questions[1].Seats = 1 })
}

func FuzzParseV3(f *testing.F) {
	e := loadV3(f)
	b, _, err := e.Encrypt(drbg.New("v3 fuzz"), 0, [][]int{{0, 1}, {0, 0}})
	if err != nil {
		f.Fatal(err)
	}
	bin, _ := b.MarshalBinary()
	js, _ := b.MarshalJSON()
	f.Add(bin, false)
	f.Add(js, true)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		var b *Ballot
		var err error
		if isJSON {
			b, err = e.ParseJSON(data)
		} else {
			b, err = e.Parse(data)
		}
		if err != nil {
			return
		}
		again, err := b.MarshalBinary()
		if err != nil || (!isJSON && !bytes.Equal(again, data)) {
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
