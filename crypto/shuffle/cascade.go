package shuffle

import (
	"encoding/binary"
	"fmt"
)

// MaxRounds bounds the number of shuffles in a cascade.
const MaxRounds = 64

// Mix is one shuffle of a cascade: the output list and its proof.
type Mix struct {
	Output *List
	Proof  *Proof
}

// RoundStatement returns the statement of shuffle number round (0-based)
// of a cascade whose statement is base: the same key and generators, the
// context extended with u16 round, so a proof cannot be moved to another
// position in the cascade.
func RoundStatement(base *Statement, round int) *Statement {
	ctx := append(append([]byte(nil), base.Context...), 0, 0)
	binary.BigEndian.PutUint16(ctx[len(ctx)-2:], uint16(round))
	return &Statement{Key: base.Key, Label: base.Label, Context: ctx}
}

// VerifyCascade verifies a cascade of shuffles (each trustee in turn
// shuffles the previous output, protocol §9.5): mixes[0] against in, and
// mixes[t] against mixes[t−1].Output, each under RoundStatement(base, t).
// It returns the final list, or an error naming the round (0-based: the
// t-th trustee to mix) and the failing check.
func VerifyCascade(base *Statement, in *List, mixes []Mix) (*List, error) {
	if len(mixes) == 0 || len(mixes) > MaxRounds {
		return nil, fmt.Errorf("%w: %d shuffles (need 1 to %d)", ErrShape, len(mixes), MaxRounds)
	}
	cur := in
	for t, m := range mixes {
		if err := Verify(RoundStatement(base, t), cur, m.Output, m.Proof); err != nil {
			return nil, fmt.Errorf("shuffle %d of %d: %w", t+1, len(mixes), err)
		}
		cur = m.Output
	}
	return cur, nil
}
