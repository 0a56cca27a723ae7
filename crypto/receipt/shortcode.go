package receipt

import (
	"errors"
	"strings"
)

// ErrShortCode is returned by ParseShortCode for text that is not a short
// code.
var ErrShortCode = errors.New("receipt: not a short code (16 letters and digits)")

// ParseShortCode reads a short code as people type it: case, spaces and
// dashes are ignored, and Crockford's look-alikes are accepted (O→0,
// I and L→1). It returns the first 10 bytes of the tracker
// (protocol §4.3), the prefix to look the tracker up by.
func ParseShortCode(s string) ([10]byte, error) {
	var out [10]byte
	var digits []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		i := strings.IndexRune(crockford, r)
		if i < 0 || r > 127 {
			return out, ErrShortCode
		}
		digits = append(digits, byte(i))
	}
	if len(digits) != 16 {
		return out, ErrShortCode
	}
	for half := 0; half < 2; half++ {
		var v uint64
		for _, d := range digits[half*8 : half*8+8] {
			v = v<<5 | uint64(d)
		}
		for k := 4; k >= 0; k-- {
			out[half*5+(4-k)] = byte(v >> (8 * k))
		}
	}
	return out, nil
}
