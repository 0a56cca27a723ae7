package ballot

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/unionvote/eballot/crypto/manifest"
)

type jsonBallot struct {
	Version      int            `json:"version"`
	ManifestHash string         `json:"manifest_hash"`
	Style        int            `json:"style"`
	Questions    []jsonQuestion `json:"questions"`
}

// jsonQuestion: selections and sum_proof for a choose question, ranked
// (hex of the §9.1 encoding) for a ranked question, compact (α, β and the
// proof) for a compact question; each omitted when absent, so a
// version-1 ballot's JSON is as before.
type jsonQuestion struct {
	Selections []jsonSelection `json:"selections,omitempty"`
	SumProof   string          `json:"sum_proof,omitempty"`
	Ranked     string          `json:"ranked,omitempty"`
	Compact    *jsonSelection  `json:"compact,omitempty"`
}

type jsonSelection struct {
	Alpha string `json:"alpha"`
	Beta  string `json:"beta"`
	Proof string `json:"proof"`
}

// MaxJSONSize bounds the JSON form accepted by [Election.ParseJSON].
const MaxJSONSize = 4 * MaxSize

// MarshalJSON returns the JSON form of protocol §4.2 (lowercase hex,
// canonical key order, no whitespace).
func (b *Ballot) MarshalJSON() ([]byte, error) {
	j := jsonBallot{Version: int(b.version()), ManifestHash: hex.EncodeToString(b.ManifestHash[:]), Style: int(b.Style),
		Questions: make([]jsonQuestion, len(b.Questions))}
	for qi, q := range b.Questions {
		if q.Ranked != nil {
			rb, _ := q.Ranked.MarshalBinary()
			j.Questions[qi] = jsonQuestion{Ranked: hex.EncodeToString(rb)}
			continue
		}
		if s := q.Compact; s != nil {
			if s.Ciphertext == nil || s.Proof == nil {
				return nil, ErrMalformed
			}
			c := s.Ciphertext.Bytes()
			j.Questions[qi] = jsonQuestion{Compact: &jsonSelection{hex.EncodeToString(c[:32]), hex.EncodeToString(c[32:]), hex.EncodeToString(s.Proof.Bytes())}}
			continue
		}
		if q.SumProof == nil {
			return nil, ErrMalformed
		}
		jq := jsonQuestion{Selections: make([]jsonSelection, len(q.Selections)), SumProof: hex.EncodeToString(q.SumProof.Bytes())}
		for oi, s := range q.Selections {
			if s.Ciphertext == nil || s.Proof == nil {
				return nil, ErrMalformed
			}
			c := s.Ciphertext.Bytes()
			jq.Selections[oi] = jsonSelection{hex.EncodeToString(c[:32]), hex.EncodeToString(c[32:]), hex.EncodeToString(s.Proof.Bytes())}
		}
		j.Questions[qi] = jq
	}
	raw, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	return manifest.Canonicalize(raw)
}

// ParseJSON strictly decodes the JSON form of a ballot of this election:
// at most [MaxJSONSize] bytes, exactly the fields of protocol §4.2 with
// lowercase hex of the exact lengths, then the same checks as
// [Election.Parse]. It returns [ErrMalformed] or [ErrWrongManifest].
func (e *Election) ParseJSON(data []byte) (*Ballot, error) {
	if len(data) > MaxJSONSize {
		return nil, fmt.Errorf("%w: JSON larger than %d bytes", ErrMalformed, MaxJSONSize)
	}
	canon, err := manifest.Canonicalize(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	d := json.NewDecoder(bytes.NewReader(canon))
	d.DisallowUnknownFields()
	var j jsonBallot
	if err := d.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if j.Version != int(e.version) {
		return nil, fmt.Errorf("%w: version %d, this manifest's ballots are version %d", ErrMalformed, j.Version, e.version)
	}
	if j.Style < 0 || j.Style > 0xffff || len(j.Questions) > 0xffff {
		return nil, fmt.Errorf("%w: style or question count out of range", ErrMalformed)
	}
	h, err := hex.DecodeString(j.ManifestHash)
	if err != nil || len(h) != 32 {
		return nil, fmt.Errorf("%w: manifest_hash", ErrMalformed)
	}
	bin := []byte{e.version}
	bin = append(bin, h...)
	bin = binary.BigEndian.AppendUint16(bin, uint16(j.Style))
	bin = binary.BigEndian.AppendUint16(bin, uint16(len(j.Questions)))
	for qi, q := range j.Questions {
		if qi < len(e.compact) && e.compact[qi] != nil {
			if q.Selections != nil || q.SumProof != "" || q.Ranked != "" || q.Compact == nil {
				return nil, fmt.Errorf("%w: question %d is compact", ErrMalformed, qi)
			}
			for _, f := range []string{q.Compact.Alpha, q.Compact.Beta, q.Compact.Proof} {
				if bin, err = appendHex(bin, f); err != nil {
					return nil, err
				}
			}
			if len(bin) > MaxSize {
				return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
			}
			continue
		}
		if q.Compact != nil {
			return nil, fmt.Errorf("%w: question %d is not compact", ErrMalformed, qi)
		}
		if qi < len(e.contests) && e.contests[qi] != nil {
			if q.Selections != nil || q.SumProof != "" {
				return nil, fmt.Errorf("%w: question %d is ranked", ErrMalformed, qi)
			}
			if bin, err = appendHex(bin, q.Ranked); err != nil {
				return nil, err
			}
			if len(bin) > MaxSize {
				return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
			}
			continue
		}
		if q.Ranked != "" {
			return nil, fmt.Errorf("%w: question %d is not ranked", ErrMalformed, qi)
		}
		if len(q.Selections) > 0xffff {
			return nil, fmt.Errorf("%w: too many selections", ErrMalformed)
		}
		bin = binary.BigEndian.AppendUint16(bin, uint16(len(q.Selections)))
		for _, s := range q.Selections {
			for _, f := range []string{s.Alpha, s.Beta, s.Proof} {
				if bin, err = appendHex(bin, f); err != nil {
					return nil, err
				}
			}
		}
		if bin, err = appendHex(bin, q.SumProof); err != nil {
			return nil, err
		}
		if len(bin) > MaxSize {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
		}
	}
	b, err := e.Parse(bin)
	if err != nil {
		return nil, err
	}
	// Field boundaries, lowercase hex, exact names and no null/missing
	// fields: the re-encoding must reproduce the input.
	again, err := b.MarshalJSON()
	if err != nil || !bytes.Equal(again, canon) {
		return nil, fmt.Errorf("%w: JSON fields not exactly the canonical form", ErrMalformed)
	}
	return b, nil
}

func appendHex(dst []byte, s string) ([]byte, error) {
	if len(s) > 2*MaxSize {
		return nil, fmt.Errorf("%w: field too long", ErrMalformed)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: bad hex", ErrMalformed)
	}
	return append(dst, b...), nil
}
