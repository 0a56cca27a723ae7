package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"

	"github.com/unionvote/eballot/crypto/internal/enc"
)

// A candidate's election address (TULRCA s.48): the statement a candidate
// in a union election may have distributed to the members with the voting
// paper, in English and (on a bilingual ballot) Welsh, with an optional
// photograph. The manifest does not carry the address itself, only its
// hash in the candidate's option ("address", docs/protocol.md §3.2), so
// every member can check that the address they were shown is the one the
// opening froze and signed: the same for every member (s.48(2)(b)).

// Media types of an address's photo.
const (
	PhotoJPEG = "image/jpeg"
	PhotoPNG  = "image/png"
)

// Bounds of an [Address].
const (
	MaxAddressText  = 64 << 10  // bytes, for each language's text
	MaxAddressPhoto = 512 << 10 // bytes, the encoded image
)

// AddressDomain is the domain-separation label of [Address.Hash].
const AddressDomain = "eballot-v1/election-address"

// Address is a candidate's election address (protocol §3.2).
//
// Bounds: TextEn and TextCy are valid UTF-8 of at most [MaxAddressText]
// bytes each (either may be empty: a candidate may give no address in a
// language, or none at all); Photo is at most [MaxAddressPhoto] bytes;
// PhotoType is "" when there is no photo and [PhotoJPEG] or [PhotoPNG]
// when there is one. Validate does not decode the image: the service
// checks it when the union uploads it.
type Address struct {
	TextEn    string
	TextCy    string
	PhotoType string
	Photo     []byte
}

// Validate checks the bounds listed on [Address].
func (a *Address) Validate() error {
	for _, t := range []struct{ name, s string }{{"address.text_en", a.TextEn}, {"address.text_cy", a.TextCy}} {
		if len(t.s) > MaxAddressText {
			return invalid(t.name, "longer than %d bytes", MaxAddressText)
		}
		if !utf8.ValidString(t.s) {
			return invalid(t.name, "invalid UTF-8")
		}
	}
	if len(a.Photo) > MaxAddressPhoto {
		return invalid("address.photo", "larger than %d bytes", MaxAddressPhoto)
	}
	switch {
	case len(a.Photo) == 0 && a.PhotoType != "":
		return invalid("address.photo_type", "set without a photo")
	case len(a.Photo) > 0 && a.PhotoType != PhotoJPEG && a.PhotoType != PhotoPNG:
		return invalid("address.photo_type", "%q is not %s or %s", a.PhotoType, PhotoJPEG, PhotoPNG)
	}
	return nil
}

// Encoding returns the address's canonical byte encoding (protocol §3.2):
//
//	lp("eballot-v1/election-address") ‖ lp(text_en) ‖ lp(text_cy) ‖ lp(photo_type) ‖ lp(photo)
//
// with lp(x) = u32be(len(x)) ‖ x, texts as UTF-8 bytes exactly as given
// (no normalisation), photo_type "" and photo empty when there is none.
func (a *Address) Encoding() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 4*5+len(AddressDomain)+len(a.TextEn)+len(a.TextCy)+len(a.PhotoType)+len(a.Photo))
	b = enc.AppendLP(b, []byte(AddressDomain))
	b = enc.AppendLP(b, []byte(a.TextEn))
	b = enc.AppendLP(b, []byte(a.TextCy))
	b = enc.AppendLP(b, []byte(a.PhotoType))
	b = enc.AppendLP(b, a.Photo)
	return b, nil
}

// Hash returns address_hash = SHA-256([Address.Encoding]) as 64 lowercase
// hex digits: the value of an option's "address" in the manifest.
func (a *Address) Hash() (string, error) {
	b, err := a.Encoding()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}
