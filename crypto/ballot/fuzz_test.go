package ballot

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func FuzzParse(f *testing.F) {
	fx := load(f)
	for _, v := range fx.bf.Valid {
		b, _ := hex.DecodeString(v.Binary)
		f.Add(b)
	}
	for _, v := range fx.bf.Invalid {
		if v.Binary != "" && len(v.Binary) < 20000 {
			b, _ := hex.DecodeString(v.Binary)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fx.e.Parse(data)
		if err != nil {
			return
		}
		again, err := b.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatal("accepted a non-canonical encoding")
		}

	})
}

func FuzzParseJSON(f *testing.F) {
	fx := load(f)
	for _, v := range fx.bf.Valid {
		f.Add([]byte(v.JSON))
	}
	for _, v := range fx.bf.Invalid {
		if v.JSON != nil {
			f.Add([]byte(v.JSON))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fx.e.ParseJSON(data)
		if err != nil {
			return
		}
		js, err := b.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.e.ParseJSON(js); err != nil {
			t.Fatal("re-encoding rejected", err)
		}

	})
}
