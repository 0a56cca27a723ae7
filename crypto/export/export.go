// Package export reads and writes the public export file of an eBallot
// ledger (docs/export-format.md, produced by the service's ledger and served
// at /ledger/v1/{election}/export): JSON Lines, one object per line, in the
// order
//
//	header, manifest, (checkpoint | entry)*, end
//
// where a checkpoint of size s comes right after the s-th entry (checkpoints
// of size 0 right after the manifest), entry indices run 0, 1, … without gaps
// and the end line repeats the totals.
//
// Both sides are strict. The Writer is the one writer of the format (the
// service's ledger writes its exports with it): encoding/json with HTML
// escaping off, fields in a fixed order, "\n" after every line; the Reader
// accepts only those bytes: each line must decode with no unknown field AND
// re-encode to the very same bytes, so a
// one-byte change anywhere in the file is either a structural error naming
// the line or a change of value that the verifier (crypto/verify) reports.
//
// The Reader streams: memory is bounded by the longest line (MaxLine) whatever
// the number of entries. It checks the structure only (order, gaps, sizes,
// encodings); signatures, proofs and the Merkle root are checked by
// crypto/verify.
package export

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

const (
	// Format is the value of the header's "format" field.
	Format = "eballot-export"
	// Version is the export format version of an export without a paper
	// section.
	Version = 1
	// PaperVersion is the version of an export with a paper section (batch
	// and paper_close lines, docs/protocol.md §9): readers of version 1
	// refuse it by its version rather than miscount it.
	PaperVersion = 3
	// MaxLine bounds one line of the file (the manifest line is the longest:
	// base64 of at most 1 MiB of canonical JSON).
	MaxLine = 2 << 20
	// MaxEntry bounds the entry bytes T ‖ authorisation ‖ ballot_bytes.
	MaxEntry = 32 + 288 + 64<<10
	// MaxStyles bounds the number of ballot styles (manifest bound).
	MaxStyles = 1024
	// MaxTreeSize bounds the tree size (receipt.MaxTreeSize).
	MaxTreeSize = 1 << 40
	// MaxPaper bounds the bytes of a batch or paper close
	// (crypto/paper.MaxEntry).
	MaxPaper = 256 << 10
	// MaxNote bounds a signed checkpoint note (receipt.MaxSignedCheckpoint).
	MaxNote = 4096
)

// ErrFormat is returned (wrapped in a *LineError) for any structural defect:
// malformed JSON, unknown or missing fields, a line that does not re-encode
// identically, lines out of order, gaps in indices, a missing end line.
var ErrFormat = errors.New("export: malformed export")

// LineError locates a structural defect.
type LineError struct {
	Line int64 // 1-based line number
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("export: line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Header is the first line: what the file covers.
type Header struct {
	// Version is the format version (0 when writing means Version).
	Version      int
	ElectionID   string
	ManifestHash [32]byte
	LogKey       string // the ledger's note verifier key
	TreeSize     int64  // number of entries in the file
	Closed       bool   // the election was closed when exported
}

// Checkpoint is a signed tree head of the ledger, as published.
type Checkpoint struct {
	Size int64
	Root [32]byte
	Note []byte // signed note text (golang.org/x/mod/sumdb/note)
}

// Entry is one ledger record.
type Entry struct {
	Index int64
	Style int    // the style the ledger recorded; must match the ballot's
	Bytes []byte // T ‖ authorisation ‖ ballot_bytes
}

// Batch is one signed paper batch entry (crypto/paper.Batch bytes).
type Batch struct {
	Bytes []byte // canonical JSON of the batch
	Note  []byte // the ledger's signed note over it
}

// PaperClose is the signed close of the paper count (crypto/paper.Close).
type PaperClose struct {
	Bytes []byte
	Note  []byte
}

// End is the last line: totals the writer computed.
type End struct {
	Entries     int64
	Checkpoints int64
	StyleCounts []int64 // entries per style index
	Root        [32]byte
}

// Line types in the order of their fields (the wire form).
type (
	headerLine struct {
		Type         string `json:"type"`
		Format       string `json:"format"`
		Version      int    `json:"version"`
		ElectionID   string `json:"election_id"`
		ManifestHash string `json:"manifest_hash"`
		LogKey       string `json:"log_key"`
		TreeSize     int64  `json:"tree_size"`
		Closed       bool   `json:"closed"`
	}
	manifestLine struct {
		Type     string `json:"type"`
		Manifest string `json:"manifest"`
	}
	checkpointLine struct {
		Type string `json:"type"`
		Size int64  `json:"size"`
		Root string `json:"root"`
		Note string `json:"note"`
	}
	entryLine struct {
		Type  string `json:"type"`
		Index int64  `json:"index"`
		Style int    `json:"style"`
		Entry string `json:"entry"`
	}
	batchLine struct {
		Type  string `json:"type"`
		Batch string `json:"batch"`
		Note  string `json:"note"`
	}
	paperCloseLine struct {
		Type  string `json:"type"`
		Close string `json:"close"`
		Note  string `json:"note"`
	}
	endLine struct {
		Type        string  `json:"type"`
		Entries     int64   `json:"entries"`
		Checkpoints int64   `json:"checkpoints"`
		StyleCounts []int64 `json:"style_counts"`
		Root        string  `json:"root"`
	}
)

func (h *Header) line() headerLine {
	v := h.Version
	if v == 0 {
		v = Version
	}
	return headerLine{"header", Format, v, h.ElectionID, hex.EncodeToString(h.ManifestHash[:]), h.LogKey, h.TreeSize, h.Closed}
}

func (c *Checkpoint) line() checkpointLine {
	return checkpointLine{"checkpoint", c.Size, hex.EncodeToString(c.Root[:]), string(c.Note)}
}

func (e *Entry) line() entryLine {
	return entryLine{"entry", e.Index, e.Style, base64.StdEncoding.EncodeToString(e.Bytes)}
}

func (e *End) line() endLine {
	sc := e.StyleCounts
	if sc == nil {
		sc = []int64{}
	}
	return endLine{"end", e.Entries, e.Checkpoints, sc, hex.EncodeToString(e.Root[:])}
}

func decodeHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 64 {
		return h, errors.New("hash must be 64 lowercase hex digits")
	}
	b, err := hex.DecodeString(s)
	if err != nil || hex.EncodeToString(b) != s {
		return h, errors.New("hash must be 64 lowercase hex digits")
	}
	copy(h[:], b)
	return h, nil
}
