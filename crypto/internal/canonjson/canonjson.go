// Package canonjson is the canonical JSON of docs/protocol.md §3, the one
// canonical-JSON rule of the protocol (the manifest, the lines of a version
// 2 export, the comparisons of crypto/report), and the strict decoder built
// on it that every JSON wire format of crypto/ uses: one accepted form per
// value, whatever encoding/json would tolerate.
package canonjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrNotCanonicalizable is returned by [Canonicalize] for input outside the
// canonical JSON subset: invalid JSON or UTF-8, a lone surrogate escape, a
// number that is not an integer with |n| < 2^53, a duplicate key, trailing
// data or nesting deeper than 64.
var ErrNotCanonicalizable = errors.New("not canonical-JSON representable")

const (
	maxDepth = 64
	maxSafe  = 1<<53 - 1
)

// Canonicalize parses one JSON value and returns its canonical form
// (protocol §3): object keys sorted by UTF-16 code units, no insignificant
// whitespace, integers only (|n| < 2^53, "-0" becomes "0"), strings escaped
// only as \" \\ \b \f \n \r \t and \u00xx (lowercase hex) below U+0020,
// every other character as literal UTF-8. The result equals JavaScript's
// JSON.stringify of the same value with sorted keys.
func Canonicalize(data []byte) ([]byte, error) {
	p := &parser{s: data}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("%w: trailing data at offset %d", ErrNotCanonicalizable, p.i)
	}
	var out bytes.Buffer
	out.Grow(len(data))
	writeValue(&out, v)
	return out.Bytes(), nil
}

// Value kinds of the parsed tree: nil, bool, int64, string, []any, object.
type object struct {
	keys []string
	vals map[string]any
}

type parser struct {
	s []byte
	i int
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrNotCanonicalizable, fmt.Sprintf(format, args...), p.i)
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) lit(w string, v any) (any, error) {
	if !bytes.HasPrefix(p.s[p.i:], []byte(w)) {
		return nil, p.errf("invalid literal")
	}
	p.i += len(w)
	return v, nil
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errf("nesting too deep")
	}
	if p.i >= len(p.s) {
		return nil, p.errf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return p.lit("true", true)
	case c == 'f':
		return p.lit("false", false)
	case c == 'n':
		return p.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errf("unexpected character %q", c)
	}
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	o := &object{vals: map[string]any{}}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return o, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errf("expected key")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		ks := k.(string)
		if _, dup := o.vals[ks]; dup {
			return nil, p.errf("duplicate key %q", ks)
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errf("expected colon")
		}
		p.i++
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		o.keys = append(o.keys, ks)
		o.vals[ks] = v
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.errf("unexpected end")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return o, nil
		default:
			return nil, p.errf("expected , or }")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.errf("unexpected end")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, p.errf("expected , or ]")
		}
	}
}

func (p *parser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.s) {
		return nil, p.errf("invalid number")
	}
	if p.s[p.i] == '0' {
		p.i++
	} else if p.s[p.i] >= '1' && p.s[p.i] <= '9' {
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
	} else {
		return nil, p.errf("invalid number")
	}
	if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		return nil, p.errf("only integers are allowed")
	}
	n, err := strconv.ParseInt(string(p.s[start:p.i]), 10, 64)
	if err != nil || n > maxSafe || n < -maxSafe {
		return nil, p.errf("integer out of range")
	}
	return n, nil
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, p.errf("short \\u escape")
	}
	var r rune
	for k := 0; k < 4; k++ {
		h := hexVal(p.s[p.i+k])
		if h < 0 {
			return 0, p.errf("invalid \\u escape")
		}
		r = r<<4 | h
	}
	p.i += 4
	return r, nil
}

func (p *parser) str() (any, error) {
	p.i++ // "
	var b []byte
	for {
		if p.i >= len(p.s) {
			return nil, p.errf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return nil, p.errf("control character in string")
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return nil, p.errf("unterminated escape")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xdc00 || p.i+6 > len(p.s) || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
						return nil, p.errf("lone surrogate")
					}
					p.i += 2
					r2, err := p.hex4()
					if err != nil {
						return nil, err
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return nil, p.errf("lone surrogate")
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, p.errf("invalid escape")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, p.errf("invalid UTF-8")
			}
			b = append(b, p.s[p.i:p.i+size]...)
			p.i += size
		}
	}
}

// lessUTF16 orders strings by UTF-16 code units (JavaScript's sort order).
func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

func writeValue(out *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		if x {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case int64:
		out.WriteString(strconv.FormatInt(x, 10))
	case string:
		writeString(out, x)
	case []any:
		out.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				out.WriteByte(',')
			}
			writeValue(out, e)
		}
		out.WriteByte(']')
	case *object:
		keys := append([]string(nil), x.keys...)
		sort.Slice(keys, func(i, j int) bool { return lessUTF16(keys[i], keys[j]) })
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			writeString(out, k)
			out.WriteByte(':')
			writeValue(out, x.vals[k])
		}
		out.WriteByte('}')
	}
}

const hexdigits = "0123456789abcdef"

func writeString(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if c < 0x20 {
				out.WriteString(`\u00`)
				out.WriteByte(hexdigits[c>>4])
				out.WriteByte(hexdigits[c&15])
			} else {
				out.WriteByte(c)
			}
		}
	}
	out.WriteByte('"')
}

// Decode decodes one JSON value b into v (a pointer to a struct with json
// tags, or a type whose MarshalJSON is the inverse of its UnmarshalJSON)
// with exactly one accepted form per value:
//
//   - b must be canonicalizable (see [Canonicalize]): valid UTF-8, no
//     duplicate key, integers only, nothing after the value;
//   - no member that v does not have (encoding/json's DisallowUnknownFields);
//   - re-encoded, v must give the canonical form of b: encoding/json matches
//     member names case-insensitively ("Result" fills Result like
//     "result") and leaves missing members at zero, so a document with a
//     differently-cased or missing member would read differently here than
//     in another implementation.
//
// Insignificant white space and member order are free (b need not be
// canonical itself); everything else is fixed.
func Decode(b []byte, v any) error {
	canon, err := Canonicalize(b)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	re, err := json.Marshal(v)
	if err != nil {
		return err
	}
	again, err := Canonicalize(re)
	if err != nil || !bytes.Equal(canon, again) {
		return ErrForm
	}
	return nil
}

// ErrForm is returned by [Decode] when the value decodes but is not in its
// one accepted form.
var ErrForm = errors.New("not in its one accepted form (a member name in another case, a missing member, or a value in another form)")
