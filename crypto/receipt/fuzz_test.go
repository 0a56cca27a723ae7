package receipt

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

func FuzzParseReceipt(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(v.Receipt.Receipt))
	for _, c := range v.InvalidReceipts {
		f.Add([]byte(c.Receipt))
	}
	entry := vectortest.Unhex(f, v.Receipt.Entry)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		re, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("parsed receipt does not encode: %v", err)
		}
		r2, err := ParseReceipt(re)
		if err != nil {
			t.Fatal(err)
		}
		if re2, _ := json.Marshal(r2); !bytes.Equal(re, re2) {
			t.Fatal("receipt JSON not stable")
		}
		_, _ = VerifyReceipt(r, v.VerifierKey, entry)
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Checkpoints {
		f.Add([]byte(c.Text))
	}
	f.Add([]byte("eballot/x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	// The close (protocol version 2) and extension lines that are not.
	f.Add([]byte("eballot/x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nclosed\n"))
	f.Add([]byte("eballot/x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nClosed\n"))
	f.Add([]byte("eballot/x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nclosed\nclosed\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		if re, err := c.Format(); err != nil || !bytes.Equal(re, b) {
			t.Fatalf("non-canonical checkpoint accepted: %q", b)
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Checkpoints {
		f.Add([]byte(c.Signed))
	}
	for _, c := range v.InvalidCheckpoints {
		f.Add([]byte(c.Signed))
	}
	// A good signature twice, and a note with a second (witness) line.
	if len(v.Checkpoints) > 0 {
		s := v.Checkpoints[0].Signed
		i := strings.LastIndex(s, "\n\n")
		f.Add([]byte(s + s[i+2:]))
		f.Add([]byte(s + "— witness.example AAAAAAAA\n"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = OpenCheckpoint(b, v.VerifierKey)
	})
}
