package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/unionvote/eballot/crypto/manifest"
)

// codec is the line encoding of one version of the format. New versions
// add a codec (and the lines they change) here: the Reader and Writer pick
// one by the header's version.
type codec interface {
	// encode returns the line for v (without its LF).
	encode(v any) ([]byte, error)
	// decode decodes line b into v strictly: b must be exactly encode(v).
	decode(b []byte, v any) error
	// closes reports whether a closed export carries the close line.
	closes() bool
}

// codecFor returns the codec of a version, nil for an unknown one.
func codecFor(version int) codec {
	switch version {
	case 1:
		return &v1codec{}
	case Version2, Version3, Version, PaperVersion:
		// Version 3 is version 2 with the paper section: the same lines;
		// versions 4 and 5 are 2 and 3 with a member more on entry lines.
		return v2codec{}
	}
	return nil
}

// v2codec: canonical JSON (docs/protocol.md §3).
type v2codec struct{}

func (v2codec) encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return manifest.Canonicalize(b)
}

func (c v2codec) decode(b []byte, v any) error {
	canon, err := manifest.Canonicalize(b)
	if err != nil {
		return fmt.Errorf("not canonical JSON: %w", err)
	}
	if !bytes.Equal(canon, b) {
		return errors.New("not in canonical JSON form (key order, spacing, escapes or number form)")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("invalid member: %w", err)
	}
	// encoding/json matches member names case-insensitively and leaves
	// missing members at zero: the value must give back exactly the line.
	again, err := c.encode(v)
	if err != nil || !bytes.Equal(again, b) {
		return errors.New("the members are not exactly those of the line type (a name in another case, or one missing)")
	}
	return nil
}

func (v2codec) closes() bool { return true }

// v1codec: encoding/json with HTML escaping off, members in field order.
type v1codec struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (c *v1codec) encode(v any) ([]byte, error) {
	if c.enc == nil {
		c.enc = json.NewEncoder(&c.buf)
		c.enc.SetEscapeHTML(false)
	}
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return nil, err
	}
	b := c.buf.Bytes()
	return b[:len(b)-1], nil
}

func (c *v1codec) decode(b []byte, v any) error {
	// One JSON value of the canonical subset (no duplicate member, integers
	// below 2^53): what every reader, in any language, parses alike.
	if _, err := manifest.Canonicalize(b); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	again, err := c.encode(v)
	if err != nil || !bytes.Equal(again, b) {
		return errors.New("line is not in canonical form (field names, order, spacing or escapes differ from the format)")
	}
	return nil
}

func (*v1codec) closes() bool { return false }
