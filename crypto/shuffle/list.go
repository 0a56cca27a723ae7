package shuffle

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// Limits of a [List].
const (
	// MaxRows bounds N, the number of rows of a list (ballots in a mix).
	MaxRows = 1 << 22
	// MaxWidth bounds the number of ciphertexts in a row.
	MaxWidth = 64
	// CiphertextSize is the encoded size of one ciphertext α ‖ β.
	CiphertextSize = elgamal.CiphertextSize
	// listHeaderSize is u8 version ‖ u8 kind ‖ u32 N ‖ u16 width.
	listHeaderSize = 8

	wireVersion = 1
	kindList    = 1
	kindProof   = 2
)

var (
	// ErrMalformed is returned for an encoding that is not the canonical
	// encoding of a list or proof (wrong length, header, bounds, a
	// non-canonical element or scalar, an identity α). Maps to HTTP 400.
	ErrMalformed = errors.New("shuffle: malformed encoding")
	// ErrShape is returned when a list or proof does not have the shape the
	// statement requires (row count, width): a dropped or added row is
	// reported this way. Maps to HTTP 422.
	ErrShape = errors.New("shuffle: wrong shape")
)

// List is an ordered list of N rows, each a vector of Width exponential
// ElGamal ciphertexts under one key: the input or the output of a shuffle.
// Row i, column k is the ciphertext (α_{i,k}, β_{i,k}). A List is
// immutable.
type List struct {
	width       int
	alpha, beta []ristretto255.Element // row-major, N·width
	enc         []byte                 // row-major α ‖ β, N·width·64 bytes
}

// NewList builds a list from rows of ciphertexts; every row must have the
// same length width (1 ≤ width ≤ [MaxWidth]) and there must be 1 to
// [MaxRows] rows.
func NewList(rows [][]*elgamal.Ciphertext) (*List, error) {
	if len(rows) == 0 || len(rows) > MaxRows {
		return nil, fmt.Errorf("%w: %d rows (need 1 to %d)", ErrShape, len(rows), MaxRows)
	}
	w := len(rows[0])
	if w < 1 || w > MaxWidth {
		return nil, fmt.Errorf("%w: width %d (need 1 to %d)", ErrShape, w, MaxWidth)
	}
	l := newList(len(rows), w)
	for i, row := range rows {
		if len(row) != w {
			return nil, fmt.Errorf("%w: row %d has %d ciphertexts, row 0 has %d", ErrShape, i, len(row), w)
		}
		for k, c := range row {
			if c == nil {
				return nil, fmt.Errorf("%w: row %d column %d is missing", ErrShape, i, k)
			}
			a, b := c.Fast()
			l.alpha[i*w+k], l.beta[i*w+k] = *a, *b
			copy(l.enc[(i*w+k)*CiphertextSize:], c.Bytes())
		}
	}
	return l, nil
}

func newList(n, w int) *List {
	return &List{
		width: w,
		alpha: make([]ristretto255.Element, n*w),
		beta:  make([]ristretto255.Element, n*w),
		enc:   make([]byte, n*w*CiphertextSize),
	}
}

// Len returns N, the number of rows.
func (l *List) Len() int { return len(l.alpha) / l.width }

// Width returns the number of ciphertexts in a row.
func (l *List) Width() int { return l.width }

// Ciphertext returns row i, column k.
func (l *List) Ciphertext(i, k int) *elgamal.Ciphertext {
	c, err := elgamal.ParseCiphertext(l.ciphertextBytes(i, k))
	if err != nil {
		panic("shuffle: stored ciphertext does not decode") // unreachable: checked on entry
	}
	return c
}

// Row returns the ciphertexts of row i.
func (l *List) Row(i int) []*elgamal.Ciphertext {
	row := make([]*elgamal.Ciphertext, l.width)
	for k := range row {
		row[k] = l.Ciphertext(i, k)
	}
	return row
}

func (l *List) ciphertextBytes(i, k int) []byte {
	o := (i*l.width + k) * CiphertextSize
	return l.enc[o : o+CiphertextSize]
}

// Equal reports whether two lists hold the same ciphertexts in the same order.
func (l *List) Equal(o *List) bool {
	return l.width == o.width && string(l.enc) == string(o.enc)
}

// MarshalBinary encodes the list: u8 version = 1 ‖ u8 kind = 1 ‖ u32 N ‖
// u16 width ‖ N·width × (α ‖ β), rows in order (protocol §9.3).
func (l *List) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, listHeaderSize+len(l.enc))
	out = append(out, wireVersion, kindList)
	out = binary.BigEndian.AppendUint32(out, uint32(l.Len()))
	out = binary.BigEndian.AppendUint16(out, uint16(l.width))
	return append(out, l.enc...), nil
}

// ParseList strictly decodes a list: the header, 1 ≤ N ≤ [MaxRows],
// 1 ≤ width ≤ [MaxWidth], the exact length, and every element canonical
// with no identity α. It fails with [ErrMalformed].
func ParseList(b []byte) (*List, error) {
	if len(b) < listHeaderSize || b[0] != wireVersion || b[1] != kindList {
		return nil, fmt.Errorf("%w: list header", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint32(b[2:6]))
	w := int(binary.BigEndian.Uint16(b[6:8]))
	if n < 1 || n > MaxRows || w < 1 || w > MaxWidth {
		return nil, fmt.Errorf("%w: list of %d rows of width %d", ErrMalformed, n, w)
	}
	if len(b)-listHeaderSize != n*w*CiphertextSize {
		return nil, fmt.Errorf("%w: list length %d for %d×%d ciphertexts", ErrMalformed, len(b), n, w)
	}
	l := newList(n, w)
	copy(l.enc, b[listHeaderSize:])
	if err := parallelRange(n*w, func(lo, hi int) error {
		for x := lo; x < hi; x++ {
			cb := l.enc[x*CiphertextSize:]
			if err := enc.DecodeFast(&l.alpha[x], cb[:32], true); err != nil {
				return fmt.Errorf("%w: row %d column %d α: %w", ErrMalformed, x/w, x%w, err)
			}
			if err := enc.DecodeFast(&l.beta[x], cb[32:64], false); err != nil {
				return fmt.Errorf("%w: row %d column %d β: %w", ErrMalformed, x/w, x%w, err)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return l, nil
}
