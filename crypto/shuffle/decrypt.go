package shuffle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/threshold"
)

// kindDecryption is the encoding kind of a [PartialDecryption].
const kindDecryption = 3

// ErrBadDecryption is returned (wrapped, naming the trustee, row and
// column) when a trustee's partial decryption of a mixed list does not
// verify. Maps to HTTP 422.
var ErrBadDecryption = errors.New("shuffle: invalid partial decryption")

// PartialDecryption is trustee Trustee's partial decryption of every
// ciphertext of a list (protocol §9.6): the α's in row-major order, cut
// into parts of at most threshold.MaxAlphas, each a threshold.Partial
// (D = x_j·α with its DLEQ proof bound to the manifest hash and K).
type PartialDecryption struct {
	Trustee int
	Parts   []*threshold.Partial
}

// alphas returns the α's of l in row-major order, cut into parts.
func (l *List) alphaParts() [][]group.Element {
	all := make([]group.Element, len(l.alpha))
	_ = parallelRange(len(all), func(lo, hi int) error {
		for x := lo; x < hi; x++ {
			all[x] = enc.ToCircl(&l.alpha[x])
		}
		return nil
	})
	var parts [][]group.Element
	for len(all) > 0 {
		m := min(len(all), threshold.MaxAlphas)
		parts = append(parts, all[:m])
		all = all[m:]
	}
	return parts
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// PartialDecrypt computes trustee share.Index's partial decryption of every
// ciphertext of l (threshold.PartialDecrypt on each part, in parallel).
func PartialDecrypt(rand io.Reader, pub *threshold.PublicKey, share *threshold.SecretShare, manifestHash []byte, l *List) (*PartialDecryption, error) {
	if l == nil || share == nil {
		return nil, errors.New("shuffle: missing list or share")
	}
	alphas := l.alphaParts()
	pd := &PartialDecryption{Trustee: share.Index, Parts: make([]*threshold.Partial, len(alphas))}
	r := &lockedReader{r: rand}
	err := parallelRange(len(alphas), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			p, err := threshold.PartialDecrypt(r, pub, share, manifestHash, alphas[i])
			if err != nil {
				return fmt.Errorf("shuffle: partial decryption: %w", err)
			}
			pd.Parts[i] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pd, nil
}

// VerifyPartialDecryption checks every DLEQ proof of pd against the list's
// α's. On failure it names the trustee, row and column of the first bad
// decryption ([ErrBadDecryption]).
func VerifyPartialDecryption(pub *threshold.PublicKey, manifestHash []byte, l *List, pd *PartialDecryption) error {
	if pd == nil || l == nil {
		return fmt.Errorf("%w: missing", ErrBadDecryption)
	}
	alphas := l.alphaParts()
	if len(pd.Parts) != len(alphas) {
		return fmt.Errorf("%w: trustee %d sent %d parts for %d", ErrBadDecryption, pd.Trustee, len(pd.Parts), len(alphas))
	}
	return parallelRange(len(alphas), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := verifyPart(pub, manifestHash, l, pd, i, alphas[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func verifyPart(pub *threshold.PublicKey, mh []byte, l *List, pd *PartialDecryption, i int, alphas []group.Element) error {
	p := pd.Parts[i]
	if p == nil || p.Trustee != pd.Trustee {
		return fmt.Errorf("%w: trustee %d, part %d: missing or for another trustee", ErrBadDecryption, pd.Trustee, i)
	}
	if len(p.D) != len(alphas) || len(p.Proofs) != len(alphas) {
		return fmt.Errorf("%w: trustee %d, part %d: %d decryptions for %d ciphertexts", ErrBadDecryption, pd.Trustee, i, len(p.D), len(alphas))
	}
	err := threshold.VerifyPartial(pub, mh, alphas, p)
	if err == nil {
		return nil
	}
	// Name the first bad ciphertext.
	for x := range alphas {
		one := &threshold.Partial{ManifestHash: p.ManifestHash, Trustee: p.Trustee, D: p.D[x : x+1], Proofs: p.Proofs[x : x+1]}
		if e := threshold.VerifyPartial(pub, mh, alphas[x:x+1], one); e != nil {
			g := i*threshold.MaxAlphas + x
			return fmt.Errorf("%w: trustee %d, row %d, column %d: %w", ErrBadDecryption, pd.Trustee, g/l.width, g%l.width, e)
		}
	}
	return fmt.Errorf("%w: trustee %d, part %d: %w", ErrBadDecryption, pd.Trustee, i, err)
}

// Decrypt verifies the partial decryptions (at least the threshold, from
// distinct trustees) and combines them: it returns, for row i and column
// k, the encoding of m_{i,k}·G = β_{i,k} − x·α_{i,k}. The error names the
// first bad decryption (trustee, row, column).
func Decrypt(pub *threshold.PublicKey, manifestHash []byte, l *List, pds []*PartialDecryption) ([][][32]byte, error) {
	if l == nil || pub == nil {
		return nil, errors.New("shuffle: missing list or key")
	}
	if len(pds) < pub.Threshold {
		return nil, fmt.Errorf("%w: %d trustees decrypted, %d needed", ErrBadDecryption, len(pds), pub.Threshold)
	}
	var seen []int
	for _, pd := range pds {
		if pd == nil || slices.Contains(seen, pd.Trustee) {
			return nil, fmt.Errorf("%w: a trustee's decryption is missing or repeated", ErrBadDecryption)
		}
		seen = append(seen, pd.Trustee)
		if err := VerifyPartialDecryption(pub, manifestHash, l, pd); err != nil {
			return nil, err
		}
	}
	alphas := l.alphaParts()
	xa := make([]group.Element, 0, len(l.alpha))
	for i := range alphas {
		parts := make([]*threshold.Partial, len(pds))
		for t, pd := range pds {
			parts[t] = pd.Parts[i]
		}
		c, err := threshold.Combine(pub, manifestHash, alphas[i], parts)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadDecryption, err) // unreachable: verified above
		}
		xa = append(xa, c...)
	}
	out := make([][][32]byte, l.Len())
	w := l.width
	_ = parallelRange(l.Len(), func(lo, hi int) error {
		var m ristretto255.Element
		for i := lo; i < hi; i++ {
			out[i] = make([][32]byte, w)
			for k := 0; k < w; k++ {
				m.Subtract(&l.beta[i*w+k], enc.ToFast(xa[i*w+k]))
				m.Encode(out[i][k][:0])
			}
		}
		return nil
	})
	return out, nil
}

// MarshalBinary encodes pd: u8 version = 1 ‖ u8 kind = 3 ‖ u16 trustee ‖
// u32 parts ‖ parts × (u32 length ‖ threshold partial encoding).
func (pd *PartialDecryption) MarshalBinary() ([]byte, error) {
	out := []byte{wireVersion, kindDecryption}
	out = binary.BigEndian.AppendUint16(out, uint16(pd.Trustee))
	out = binary.BigEndian.AppendUint32(out, uint32(len(pd.Parts)))
	for i, p := range pd.Parts {
		if p == nil || p.Trustee != pd.Trustee {
			return nil, fmt.Errorf("shuffle: part %d is missing or for another trustee", i)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("shuffle: encode part %d: %w", i, err)
		}
		out = enc.AppendLP(out, b)
	}
	return out, nil
}

// ParsePartialDecryption strictly decodes [PartialDecryption.MarshalBinary]
// output: every part a canonical threshold partial of the same trustee, no
// trailing bytes, at most MaxRows·MaxWidth decryptions in all. It does not
// verify the proofs.
func ParsePartialDecryption(b []byte) (*PartialDecryption, error) {
	if len(b) < 8 || b[0] != wireVersion || b[1] != kindDecryption {
		return nil, fmt.Errorf("%w: partial decryption header", ErrMalformed)
	}
	pd := &PartialDecryption{Trustee: int(binary.BigEndian.Uint16(b[2:4]))}
	count := binary.BigEndian.Uint32(b[4:8])
	if pd.Trustee < 1 || pd.Trustee > threshold.MaxTrustees || count == 0 ||
		uint64(count) > uint64(MaxRows*MaxWidth/threshold.MaxAlphas) {
		return nil, fmt.Errorf("%w: trustee %d, %d parts", ErrMalformed, pd.Trustee, count)
	}
	r := b[8:]
	for i := uint32(0); i < count; i++ {
		if len(r) < 4 {
			return nil, fmt.Errorf("%w: truncated part %d", ErrMalformed, i)
		}
		m := binary.BigEndian.Uint32(r[:4])
		if uint64(len(r)-4) < uint64(m) {
			return nil, fmt.Errorf("%w: truncated part %d", ErrMalformed, i)
		}
		p, err := threshold.ParsePartial(r[4 : 4+m])
		if err != nil {
			return nil, fmt.Errorf("%w: part %d: %w", ErrMalformed, i, err)
		}
		if p.Trustee != pd.Trustee {
			return nil, fmt.Errorf("%w: part %d is for trustee %d", ErrMalformed, i, p.Trustee)
		}
		pd.Parts = append(pd.Parts, p)
		r = r[4+m:]
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	return pd, nil
}
