// Package receipt is the public verifier side of the eBallot ledger
// (docs/protocol.md §6): signed checkpoints, RFC 6962 inclusion and
// consistency proofs, and voter receipts.
//
// The ledger is an RFC 6962 Merkle tree (golang.org/x/mod/sumdb/tlog) over
// records entry_bytes = T ‖ authorisation ‖ ballot_bytes ([EntryBytes],
// [LeafHash]). A checkpoint is a golang.org/x/mod/sumdb/note signed note
// whose text is the C2SP tlog-checkpoint body
//
//	<origin>\n<tree size>\n<base64 root hash>\n
//
// with origin "eballot/<election_id>" ([Origin]). A [Receipt] names a ballot
// by tracker, short code and index and carries an inclusion proof against a
// signed checkpoint; [VerifyReceipt] checks it and [VerifyReceiptAgainst]
// checks it against any later checkpoint with a consistency proof.
//
// What a valid receipt proves: the holder of the ledger key committed, in a
// signed tree head, to a tree containing this exact entry at this index; with
// consistency proofs, that later heads extend that tree (the entry was not
// removed). It assumes the verifier key is authentic (it comes from the
// manifest's log_key) and that someone compares the checkpoints seen by
// different people (split-view detection is out of scope here).
//
// [MemoryLog] is an in-memory tlog store for tests and tools, and
// [TreeBuilder] computes the root of a long list of leaves in O(log n)
// memory for the scrutineer.
package receipt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/internal/snote"
)

const (
	// MaxTreeSize bounds the tree size in a checkpoint.
	MaxTreeSize = 1 << 40
	// MaxSignedCheckpoint bounds the length of a signed checkpoint.
	MaxSignedCheckpoint = 4096
	maxOrigin           = 255
)

// emptyRoot is the RFC 6962 root of the empty tree, SHA-256("").
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// ClosedLine is the one extension line a checkpoint may carry: the ledger's
// signed statement that the election is closed and that this tree is its
// final tree (docs/protocol.md §6, protocol version 2).
const ClosedLine = "closed"

// CloseTimeFormat is the form of the close time on the close's line
// (protocol version 4): RFC 3339 UTC, seconds precision, as the manifest's
// opens_at and closes_at.
const CloseTimeFormat = "2006-01-02T15:04:05Z"

// Checkpoint is a tree head: origin, size and RFC 6962 root hash, and
// whether it is the close (the final tree, signed as such).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Closed bool
	// ClosedAt is the time the close says voting stopped (protocol version
	// 4: "closed <time>"), in [CloseTimeFormat]; empty for a close without
	// one (versions 2 and 3) and for every other checkpoint.
	ClosedAt string
}

// ParseCloseTime parses a close time in its one accepted form
// ([CloseTimeFormat], canonical: formatting it again gives the same text).
func ParseCloseTime(s string) (time.Time, error) {
	t, err := time.Parse(CloseTimeFormat, s)
	if err != nil || t.Format(CloseTimeFormat) != s {
		return time.Time{}, fmt.Errorf("receipt: close time %q is not RFC 3339 UTC to the second", s)
	}
	return t, nil
}

// Origin returns the checkpoint origin for an election: "eballot/<id>".
func Origin(electionID string) string { return "eballot/" + electionID }

func checkOrigin(o string) error {
	if len(o) == 0 || len(o) > maxOrigin {
		return errors.New("receipt: origin must be 1 to 255 bytes")
	}
	for i := 0; i < len(o); i++ {
		if o[i] <= 0x20 || o[i] >= 0x7f {
			return errors.New("receipt: origin must be printable ASCII without spaces")
		}
	}
	return nil
}

// Format returns the checkpoint body "<origin>\n<size>\n<base64 root>\n",
// followed by "closed\n" for the close, or "closed <time>\n" for a close
// with its time (protocol version 4).
func (c Checkpoint) Format() ([]byte, error) {
	if err := checkOrigin(c.Origin); err != nil {
		return nil, err
	}
	if c.ClosedAt != "" {
		if !c.Closed {
			return nil, errors.New("receipt: only the close has a close time")
		}
		if _, err := ParseCloseTime(c.ClosedAt); err != nil {
			return nil, err
		}
	}
	if c.Size < 0 || c.Size > MaxTreeSize {
		return nil, errors.New("receipt: tree size out of range")
	}
	b := fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	if c.Closed {
		b = append(b, ClosedLine...)
		if c.ClosedAt != "" {
			b = append(b, " "+c.ClosedAt...)
		}
		b = append(b, '\n')
	}
	return b, nil
}

// ParseCheckpoint parses a checkpoint body strictly: three lines, each
// ending in "\n" — a valid origin; a decimal size without sign or leading
// zeros, at most [MaxTreeSize]; a canonical padded standard base64 root of
// 32 bytes — and, for the close only, a fourth line "closed", or "closed
// <time>" with the time voting stopped in [CloseTimeFormat] (protocol
// version 4). Any other extension line is rejected.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(text) > MaxSignedCheckpoint || len(text) == 0 || text[len(text)-1] != '\n' {
		return c, errors.New("receipt: malformed checkpoint")
	}
	lines := bytes.Split(text[:len(text)-1], []byte("\n"))
	if len(lines) == 4 {
		ext := string(lines[3])
		if at, ok := strings.CutPrefix(ext, ClosedLine+" "); ok {
			if _, err := ParseCloseTime(at); err != nil {
				return c, err
			}
			c.ClosedAt = at
			ext = ClosedLine
		}
		if ext == ClosedLine {
			c.Closed = true
			lines = lines[:3]
		}
	}
	if len(lines) != 3 {
		return c, errors.New("receipt: checkpoint must have three lines (and \"closed\" or \"closed <time>\" as a fourth for the close)")
	}
	c.Origin = string(lines[0])
	if err := checkOrigin(c.Origin); err != nil {
		return c, err
	}
	sz := string(lines[1])
	if sz == "" || len(sz) > 16 || (len(sz) > 1 && sz[0] == '0') {
		return c, errors.New("receipt: malformed tree size")
	}
	for i := 0; i < len(sz); i++ {
		if sz[i] < '0' || sz[i] > '9' {
			return c, errors.New("receipt: malformed tree size")
		}
	}
	n, err := strconv.ParseInt(sz, 10, 64)
	if err != nil || n > MaxTreeSize {
		return c, errors.New("receipt: tree size out of range")
	}
	c.Size = n
	root, err := base64.StdEncoding.Strict().DecodeString(string(lines[2]))
	if err != nil || len(root) != len(c.Root) || base64.StdEncoding.EncodeToString(root) != string(lines[2]) {
		return c, errors.New("receipt: malformed root hash")
	}
	copy(c.Root[:], root)
	if c.Size == 0 && c.Root != emptyRoot {
		return c, errors.New("receipt: empty tree with a non-empty root")
	}
	return c, nil
}

// SignCheckpoint returns the signed note for c.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	text, err := c.Format()
	if err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return nil, fmt.Errorf("receipt: sign checkpoint: %w", err)
	}
	return msg, nil
}

// ErrCheckpointSignature is wrapped by OpenCheckpoint when the signed note
// is malformed or its signature by the ledger key does not verify (as
// opposed to a well-signed text that is not a checkpoint).
var ErrCheckpointSignature = errors.New("receipt: checkpoint signature")

// OpenCheckpoint verifies a signed checkpoint with the ledger's note
// verifier key (the manifest's log_key, in its one canonical form) under
// the strict signed-note rules of docs/protocol.md §6.1 (exactly one
// signature line by the ledger key, every signature line in canonical
// base64; lines of other keys, e.g. witnesses, are ignored) and parses its
// text with [ParseCheckpoint].
func OpenCheckpoint(signed []byte, verifierKey string) (Checkpoint, error) {
	if len(signed) > MaxSignedCheckpoint {
		return Checkpoint{}, fmt.Errorf("%w: signed checkpoint too long", ErrCheckpointSignature)
	}
	v, err := snote.ParseVerifierKey(verifierKey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("receipt: verifier key: %w", err)
	}
	text, err := snote.Open(signed, v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrCheckpointSignature, err)
	}
	return ParseCheckpoint([]byte(text))
}

// VerifyInclusion checks that leaf is the index'th leaf of the tree c.
func VerifyInclusion(c Checkpoint, index int64, leaf tlog.Hash, proof tlog.RecordProof) error {
	if index < 0 || index >= c.Size {
		return errors.New("receipt: index outside the tree")
	}
	if len(proof) > 64 {
		return errors.New("receipt: proof too long")
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, leaf); err != nil {
		return fmt.Errorf("receipt: inclusion proof: %w", err)
	}
	return nil
}

// VerifyConsistency checks that the tree later extends the tree old (same
// origin, later.Size ≥ old.Size). Equal sizes need equal roots and an
// empty proof.
func VerifyConsistency(old, later Checkpoint, proof tlog.TreeProof) error {
	if old.Origin != later.Origin {
		return errors.New("receipt: checkpoints have different origins")
	}
	if old.Size < 0 || later.Size < old.Size {
		return errors.New("receipt: later checkpoint is smaller")
	}
	if len(proof) > 128 {
		return errors.New("receipt: proof too long")
	}
	if old.Size == later.Size {
		if len(proof) != 0 || old.Root != later.Root {
			return errors.New("receipt: checkpoints of equal size differ")
		}
		return nil
	}
	if old.Size == 0 {
		if len(proof) != 0 || old.Root != emptyRoot {
			return errors.New("receipt: non-empty proof from the empty tree")
		}
		return nil
	}
	if err := tlog.CheckTree(proof, later.Size, later.Root, old.Size, old.Root); err != nil {
		return fmt.Errorf("receipt: consistency proof: %w", err)
	}
	return nil
}
