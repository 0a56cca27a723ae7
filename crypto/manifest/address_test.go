package manifest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
)

type addressCase struct {
	Name      string `json:"name"`
	TextEn    string `json:"text_en"`
	TextCy    string `json:"text_cy"`
	PhotoType string `json:"photo_type"`
	PhotoHex  string `json:"photo_hex"`
	Encoding  string `json:"encoding_hex"`
	Hash      string `json:"hash"`
}

func (c addressCase) address(t *testing.T) manifest.Address {
	t.Helper()
	p, err := hex.DecodeString(c.PhotoHex)
	if err != nil {
		t.Fatal(err)
	}
	return manifest.Address{TextEn: c.TextEn, TextCy: c.TextCy, PhotoType: c.PhotoType, Photo: p}
}

// lp is the protocol's lp(x), written out here (not enc.AppendLP) so the
// test checks the documented layout, not the code against itself.
func lp(x []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(x))), x...)
}

// The shared vectors (crypto/testdata/address_v1.json): each valid
// address encodes and hashes as given, the layout is the one of protocol
// §3.2, and each invalid one is refused.
func TestAddressVectors(t *testing.T) {
	raw, err := os.ReadFile("../testdata/address_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Description string        `json:"description"`
		Valid       []addressCase `json:"valid"`
		Invalid     []addressCase `json:"invalid"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) < 3 || len(v.Invalid) < 3 {
		t.Fatalf("vectors: %d valid, %d invalid", len(v.Valid), len(v.Invalid))
	}
	for _, c := range v.Valid {
		a := c.address(t)
		want := bytes.Join([][]byte{lp([]byte("eballot-v1/election-address")), lp([]byte(c.TextEn)), lp([]byte(c.TextCy)),
			lp([]byte(c.PhotoType)), lp(a.Photo)}, nil)
		if hex.EncodeToString(want) != c.Encoding {
			t.Errorf("%s: vector's encoding is not the §3.2 layout", c.Name)
		}
		e, err := a.Encoding()
		if err != nil || !bytes.Equal(e, want) {
			t.Errorf("%s: Encoding = %x, %v", c.Name, e, err)
		}
		sum := sha256.Sum256(want)
		h, err := a.Hash()
		if err != nil || h != c.Hash || h != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: Hash = %s, %v; vector %s", c.Name, h, err, c.Hash)
		}
	}
	for _, c := range v.Invalid {
		a := c.address(t)
		if _, err := a.Hash(); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%s: Hash error %v, want ErrInvalid", c.Name, err)
		}
	}
}

// Any change of a text, the photo or its type changes the hash, and the
// length prefixes keep a byte moved from one text to the next from
// giving the same encoding.
func TestAddressHashBindsEveryField(t *testing.T) {
	base := manifest.Address{TextEn: "ab", TextCy: "c", PhotoType: manifest.PhotoJPEG, Photo: []byte{1, 2}}
	h0, err := base.Hash()
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]manifest.Address{
		"moved byte": {TextEn: "a", TextCy: "bc", PhotoType: manifest.PhotoJPEG, Photo: []byte{1, 2}},
		"photo":      {TextEn: "ab", TextCy: "c", PhotoType: manifest.PhotoJPEG, Photo: []byte{1, 3}},
		"type":       {TextEn: "ab", TextCy: "c", PhotoType: manifest.PhotoPNG, Photo: []byte{1, 2}},
		"welsh":      {TextEn: "ab", TextCy: "C", PhotoType: manifest.PhotoJPEG, Photo: []byte{1, 2}},
	} {
		if h, err := a.Hash(); err != nil || h == h0 {
			t.Errorf("%s: hash %s (%v) equals the base's", name, h, err)
		}
	}
}

func TestAddressBounds(t *testing.T) {
	for name, a := range map[string]manifest.Address{
		"long text":  {TextEn: strings.Repeat("a", manifest.MaxAddressText+1)},
		"bad utf-8":  {TextCy: "\xff"},
		"big photo":  {PhotoType: manifest.PhotoPNG, Photo: make([]byte, manifest.MaxAddressPhoto+1)},
		"no type":    {Photo: []byte{1}},
		"gif":        {PhotoType: "image/gif", Photo: []byte{1}},
		"type alone": {PhotoType: manifest.PhotoJPEG},
	} {
		if err := a.Validate(); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}
