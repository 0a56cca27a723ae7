package main

import (
	"encoding/hex"

	"github.com/unionvote/eballot/crypto/manifest"
)

// address_v1.json: candidates' election addresses (protocol §3.2,
// crypto/manifest Address): each valid case's canonical encoding and hash,
// and addresses that MUST be rejected.

// testPhotoPNG is a 2×2 greyscale PNG (a fixed constant, not re-encoded:
// image/png's output may change between Go versions).
const testPhotoPNG = "89504e470d0a1a0a0000000d494844520000000200000002080000000057dd52f80000001249444154789c623ac1c0c0c000080000ffff03fa00cbbe1b99af0000000049454e44ae426082"

type addressCase struct {
	Name      string `json:"name"`
	TextEn    string `json:"text_en"`
	TextCy    string `json:"text_cy"`
	PhotoType string `json:"photo_type"`
	PhotoHex  string `json:"photo_hex"`
	Encoding  string `json:"encoding_hex,omitempty"`
	Hash      string `json:"hash,omitempty"`
}

type addressVectors struct {
	Description string        `json:"description"`
	Valid       []addressCase `json:"valid"`
	Invalid     []addressCase `json:"invalid"`
}

func genAddress() addressVectors {
	photo, err := hex.DecodeString(testPhotoPNG)
	must(err)
	valid := []manifest.Address{
		{},
		{TextEn: "I will fight for fair pay.", TextCy: "Byddaf yn ymladd dros gyflog teg."},
		{TextEn: "Line one\nLine two — “quoted” é", PhotoType: manifest.PhotoPNG, Photo: photo},
		{TextCy: "Cymraeg yn unig", PhotoType: manifest.PhotoJPEG, Photo: []byte{0xff, 0xd8, 0xff, 0xd9}},
	}
	names := []string{"empty", "english_and_welsh", "english_with_png", "welsh_with_jpeg"}
	v := addressVectors{Description: "docs/protocol.md §3.2. valid: encoding_hex = lp(\"eballot-v1/election-address\") ‖ lp(text_en) ‖ lp(text_cy) ‖ lp(photo_type) ‖ lp(photo) with lp = u32be length ‖ bytes; hash = hex SHA-256(encoding). invalid: each MUST be rejected (Address.Validate)."}
	for i, a := range valid {
		e, err := a.Encoding()
		must(err)
		h, err := a.Hash()
		must(err)
		v.Valid = append(v.Valid, addressCase{Name: names[i], TextEn: a.TextEn, TextCy: a.TextCy, PhotoType: a.PhotoType,
			PhotoHex: hex.EncodeToString(a.Photo), Encoding: hex.EncodeToString(e), Hash: h})
	}
	v.Invalid = []addressCase{
		{Name: "type_without_photo", TextEn: "x", PhotoType: manifest.PhotoPNG},
		{Name: "photo_without_type", TextEn: "x", PhotoHex: testPhotoPNG},
		{Name: "unknown_type", TextEn: "x", PhotoType: "image/gif", PhotoHex: "474946383961"},
		{Name: "type_case", TextEn: "x", PhotoType: "IMAGE/PNG", PhotoHex: testPhotoPNG},
	}
	for _, c := range v.Invalid {
		p, err := hex.DecodeString(c.PhotoHex)
		must(err)
		a := manifest.Address{TextEn: c.TextEn, TextCy: c.TextCy, PhotoType: c.PhotoType, Photo: p}
		if a.Validate() == nil {
			panic("genvectors: invalid address case accepted: " + c.Name)
		}
	}
	return v
}
