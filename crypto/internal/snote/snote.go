// Package snote opens signed notes (the golang.org/x/mod/sumdb/note format,
// C2SP signed-note) with exactly one accepted form, as docs/protocol.md §6.1
// specifies for ledger checkpoints and the scrutineer's report:
//
//   - the message is UTF-8 with no control character other than LF;
//   - the text is everything up to and including the LF before the last
//     blank line, is not empty and ends in LF;
//   - the signature block is one or more lines "— <name> <base64>\n"
//     (U+2014, a space, a key name, a space, the signature), at most 100;
//     a name is non-empty, has no white space and no '+'; the base64 is
//     standard, padded and canonical (decoding and re-encoding gives the
//     same string) and decodes to at least 5 bytes: a 4-byte big-endian key
//     hash, then the signature;
//   - exactly one line carries the verifier's name and key hash, and its
//     signature verifies; lines of other keys (witnesses) are ignored.
//
// golang.org/x/mod/sumdb/note.Open is more lenient: it accepts base64 with
// non-zero padding bits or embedded newlines, and checks only the first of
// several signatures by the same key, so that whether a note with a bad
// second signature opens depends on the order of its lines.
package snote

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// MaxSignatures bounds the signature lines of a note.
const MaxSignatures = 100

// Errors (wrapped by Open and ParseVerifierKey).
var (
	ErrMalformed = errors.New("malformed signed note")
	ErrKey       = errors.New("malformed verifier key")
	ErrSignature = errors.New("signature does not verify")
	ErrUnsigned  = errors.New("no signature by the verifier key")
	ErrTwice     = errors.New("more than one signature by the verifier key")
)

func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// canonicalBase64 decodes standard padded base64 that re-encodes to the
// same string (no newlines, no non-zero padding bits).
func canonicalBase64(s string) ([]byte, bool) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// ParseVerifierKey parses an Ed25519 note verifier key in its one accepted
// form "<name>+<8 lowercase hex>+<canonical base64 of 0x01 ‖ 32-byte key>",
// where the hex is the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
func ParseVerifierKey(vkey string) (note.Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	h, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validName(name) || len(name) > 256 {
		return nil, fmt.Errorf("%w: not name+hash+key", ErrKey)
	}
	if len(h) != 8 || strings.ToLower(h) != h {
		return nil, fmt.Errorf("%w: the key hash must be 8 lowercase hex digits", ErrKey)
	}
	key, ok := canonicalBase64(b64)
	if !ok || len(key) != 33 || key[0] != 1 {
		return nil, fmt.Errorf("%w: not the canonical base64 of an Ed25519 key", ErrKey)
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), key...))
	if hex.EncodeToString(sum[:4]) != h {
		return nil, fmt.Errorf("%w: key hash mismatch", ErrKey)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return v, nil
}

var sigPrefix = []byte("— ")

// Open checks msg strictly (see the package doc) and returns its text.
func Open(msg []byte, v note.Verifier) (string, error) {
	for i := 0; i < len(msg); {
		r, size := utf8.DecodeRune(msg[i:])
		if r < 0x20 && r != '\n' || r == utf8.RuneError && size == 1 {
			return "", fmt.Errorf("%w: not UTF-8 without control characters", ErrMalformed)
		}
		i += size
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return "", fmt.Errorf("%w: no blank line before the signatures", ErrMalformed)
	}
	text, sigs := msg[:split+1], msg[split+2:]
	if len(sigs) == 0 || sigs[len(sigs)-1] != '\n' {
		return "", fmt.Errorf("%w: the signature block must end with a newline", ErrMalformed)
	}
	mine := 0
	for n := 0; len(sigs) > 0; n++ {
		if n == MaxSignatures {
			return "", fmt.Errorf("%w: more than %d signatures", ErrMalformed, MaxSignatures)
		}
		i := bytes.IndexByte(sigs, '\n')
		line := sigs[:i]
		sigs = sigs[i+1:]
		if !bytes.HasPrefix(line, sigPrefix) {
			return "", fmt.Errorf("%w: signature line %d does not start with \"— \"", ErrMalformed, n+1)
		}
		name, b64, ok := strings.Cut(string(line[len(sigPrefix):]), " ")
		sig, canon := canonicalBase64(b64)
		if !ok || !validName(name) || !canon || len(sig) < 5 {
			return "", fmt.Errorf("%w: signature line %d is not \"— <name> <canonical base64>\"", ErrMalformed, n+1)
		}
		if name != v.Name() || binary.BigEndian.Uint32(sig) != v.KeyHash() {
			continue // another key (e.g. a witness): ignored
		}
		if mine++; mine > 1 {
			return "", fmt.Errorf("%w: %s", ErrTwice, v.Name())
		}
		if !v.Verify(text, sig[4:]) {
			return "", fmt.Errorf("%w: %s", ErrSignature, v.Name())
		}
	}
	if mine == 0 {
		return "", fmt.Errorf("%w: %s", ErrUnsigned, v.Name())
	}
	return string(text), nil
}
