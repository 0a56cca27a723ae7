package shuffle

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// DSTGenerator is the hash-to-group domain tag of the independent
// generators (protocol §9.2).
const DSTGenerator = "eballot-v1/shuffle/generator"

// chainIndex is the generator index of the commitment chain's base H.
const chainIndex = 0xffffffff

// Generator returns the independent generator number i for label:
// H_G("eballot-v1/shuffle/generator", lp(label) ‖ u32(i)) (RFC 9380
// hash_to_ristretto255 with expand_message_xmd/SHA-512). Nobody knows its
// discrete logarithm to G or to another generator. Index 0xffffffff is the
// base H of the commitment chain; 0 … N−1 are the commitment generators
// G_0 … G_{N−1}.
func Generator(label string, i uint32) *ristretto255.Element {
	msg := enc.AppendLP(nil, []byte(label))
	msg = binary.BigEndian.AppendUint32(msg, i)
	return enc.ToFast(enc.G.HashToElement(msg, []byte(DSTGenerator)))
}

// generatorSet caches G_0 … G_{n−1} and H for one label.
type generatorSet struct {
	mu  sync.Mutex
	h   *ristretto255.Element
	gs  []ristretto255.Element
	sum []ristretto255.Element // sum[i] = G_0 + … + G_{i−1}, len(gs)+1
}

var generatorCache sync.Map // label → *generatorSet

// generators returns H and G_0 … G_{n−1} for label (computed once per
// label and cached: the label is public and the generators never change),
// and Σ G_i.
func generators(label string, n int) (h *ristretto255.Element, gs []ristretto255.Element, sum *ristretto255.Element) {
	v, _ := generatorCache.LoadOrStore(label, &generatorSet{})
	set := v.(*generatorSet)
	set.mu.Lock()
	defer set.mu.Unlock()
	if set.h == nil {
		set.h = Generator(label, chainIndex)
		set.sum = []ristretto255.Element{*ristretto255.NewElement().Zero()}
	}
	if old := len(set.gs); old < n {
		grown := make([]ristretto255.Element, n)
		copy(grown, set.gs)
		_ = parallelRange(n-old, func(lo, hi int) error {
			for i := old + lo; i < old+hi; i++ {
				grown[i] = *Generator(label, uint32(i))
			}
			return nil
		})
		sums := make([]ristretto255.Element, n+1)
		copy(sums, set.sum)
		for i := old; i < n; i++ {
			sums[i+1].Add(&sums[i], &grown[i])
		}
		set.gs, set.sum = grown, sums
	}
	return set.h, set.gs[:n:n], &set.sum[n]
}

func checkLabel(label string) error {
	if len(label) == 0 || len(label) > 255 {
		return fmt.Errorf("shuffle: generator label must be 1 to 255 bytes")
	}
	return nil
}
