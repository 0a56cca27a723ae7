package threshold

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

// seeds adds the binary or JSON encodings from dkg_v1.json to f.
func seeds(f *testing.F, pick func(v *dkgVectors) [][]byte) {
	v := loadDKG(f)
	for _, b := range pick(v) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
}

func hexes(t testing.TB, hs []string) [][]byte {
	var out [][]byte
	for _, h := range hs {
		out = append(out, vectortest.Unhex(t, h))
	}
	return out
}

func raws(rs []json.RawMessage) [][]byte {
	var out [][]byte
	for _, r := range rs {
		out = append(out, r)
	}
	return out
}

// Binary decoders are strict: whatever decodes re-encodes to the same bytes.
func FuzzParseDealing(f *testing.F) {
	seeds(f, func(v *dkgVectors) [][]byte { return hexes(f, v.DealingsBinary) })
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDealing(b)
		if err != nil {
			return
		}
		re, err := d.MarshalBinary()
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("non-canonical dealing accepted")
		}
		_ = d.Verify(d.Ceremony, d.N, d.Threshold)
	})
}

func FuzzParseShare(f *testing.F) {
	seeds(f, func(v *dkgVectors) [][]byte { return hexes(f, v.SharesBinary) })
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseShare(b)
		if err != nil {
			return
		}
		if re, err := s.MarshalBinary(); err != nil || !bytes.Equal(re, b) {
			t.Fatal("non-canonical share accepted")
		}
	})
}

func FuzzParseComplaint(f *testing.F) {
	seeds(f, func(v *dkgVectors) [][]byte { return [][]byte{vectortest.Unhex(f, v.Complaint.ComplaintBinary)} })
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseComplaint(b)
		if err != nil {
			return
		}
		if re, err := c.MarshalBinary(); err != nil || !bytes.Equal(re, b) {
			t.Fatal("non-canonical complaint accepted")
		}
	})
}

func FuzzParsePartial(f *testing.F) {
	seeds(f, func(v *dkgVectors) [][]byte { return hexes(f, v.PartialsBinary) })
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePartial(b)
		if err != nil {
			return
		}
		if re, err := p.MarshalBinary(); err != nil || !bytes.Equal(re, b) {
			t.Fatal("non-canonical partial accepted")
		}
	})
}

func FuzzParseSecretShare(f *testing.F) {
	seeds(f, func(v *dkgVectors) [][]byte { return hexes(f, v.SecretShares) })
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSecretShare(b)
		if err != nil {
			return
		}
		if re, err := s.MarshalBinary(); err != nil || !bytes.Equal(re, b) {
			t.Fatal("non-canonical secret share accepted")
		}
	})
}

// JSON decoders: whatever decodes re-encodes and decodes to the same value.
func FuzzJSON(f *testing.F) {
	v := loadDKG(f)
	for _, group := range [][][]byte{raws(v.Dealings), raws(v.Shares), raws(v.Partials), {v.PublicKey, v.Complaint.Complaint}} {
		for _, b := range group {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mk := range []func() any{
			func() any { return new(Dealing) }, func() any { return new(Share) }, func() any { return new(Complaint) },
			func() any { return new(Partial) }, func() any { return new(PublicKey) },
		} {
			x := mk()
			if json.Unmarshal(b, x) != nil {
				continue
			}
			re, err := json.Marshal(x)
			if err != nil {
				t.Fatalf("%T decoded but does not encode: %v", x, err)
			}
			y := mk()
			if err := json.Unmarshal(re, y); err != nil {
				t.Fatalf("%T re-encoding does not decode: %v", x, err)
			}
			if re2, _ := json.Marshal(y); !bytes.Equal(re, re2) {
				t.Fatalf("%T JSON not stable", x)
			}
		}
	})
}

func FuzzParseProofs(f *testing.F) {
	v := loadDKG(f)
	for _, h := range v.DealingsBinary {
		b := vectortest.Unhex(f, h)
		f.Add(b[len(b)-SchnorrProofSize:])
	}
	for _, h := range v.PartialsBinary {
		b := vectortest.Unhex(f, h)
		f.Add(b[len(b)-DLEQProofSize:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseSchnorrProof(b); err == nil {
			if re, _ := p.MarshalBinary(); !bytes.Equal(re, b) {
				t.Fatal("non-canonical Schnorr proof accepted")
			}
		}
		if p, err := ParseDLEQProof(b); err == nil {
			if re, _ := p.MarshalBinary(); !bytes.Equal(re, b) {
				t.Fatal("non-canonical DLEQ proof accepted")
			}
		}
	})
}
