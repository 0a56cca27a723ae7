package manifest

import "github.com/unionvote/eballot/crypto/internal/canonjson"

// ErrNotCanonicalizable is returned by [Canonicalize] for input outside the
// canonical JSON subset: invalid JSON or UTF-8, a lone surrogate escape, a
// number that is not an integer with |n| < 2^53, a duplicate key, trailing
// data or nesting deeper than 64.
var ErrNotCanonicalizable = canonjson.ErrNotCanonicalizable

// Canonicalize parses one JSON value and returns its canonical form
// (protocol §3): object keys sorted by UTF-16 code units, no insignificant
// whitespace, integers only (|n| < 2^53, "-0" becomes "0"), strings escaped
// only as \" \\ \b \f \n \r \t and \u00xx (lowercase hex) below U+0020,
// every other character as literal UTF-8. The result equals JavaScript's
// JSON.stringify of the same value with sorted keys.
func Canonicalize(data []byte) ([]byte, error) { return canonjson.Canonicalize(data) }
