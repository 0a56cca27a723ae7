package ledger

import (
	"time"
)

// spec is what the ledger needs from an election manifest. It is built once
// per election from the stored canonical manifest by a [scheme].
type spec struct {
	canonical []byte   // canonical JSON (protocol §3)
	hash      [32]byte // SHA-256(canonical)
	id        string
	logKey    string
	opensAt   time.Time
	closesAt  time.Time
	styles    int
	checker   checker
}

// decoded is a ballot that decoded against the manifest (structure only).
type decoded struct {
	tracker [32]byte
	style   int
	alphas  [][32]byte
	ballot  any // the scheme's decoded ballot, for verify
}

// checker decodes and verifies the casts of one election. Implementations
// MUST NOT panic on any input.
type checker interface {
	// decode checks a ballot's structure against the manifest (version,
	// manifest hash, style, counts, canonical encodings, no identity α, no
	// trailing bytes) and returns its tracker, style and every α. Errors
	// wrap ErrMalformed or ErrTooLarge.
	decode(ballot []byte) (*decoded, error)
	// verify checks, for each i, the authorisation auths[i] on ds[i]'s
	// tracker under its style's issuer key and every proof of ds[i].
	// errs[i] is nil or wraps ErrBadSignature, ErrBadProof or ErrMalformed.
	// It may use every core.
	verify(ds []*decoded, auths [][]byte) []error
}

// scheme turns manifest JSON into a spec: strict decode, canonical form,
// hash, bounds, and a checker.
type scheme func(manifestJSON []byte) (*spec, error)
