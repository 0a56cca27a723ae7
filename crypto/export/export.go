// Package export reads and writes the public export file of an eBallot
// ledger (docs/export-format.md, produced by the service's ledger and served
// at /ledger/v1/{election}/export): JSON Lines, one object per line, in the
// order
//
//	header, manifest, (checkpoint | entry)*, [close], end
//
// where a checkpoint of size s comes right after the s-th entry (checkpoints
// of size 0 right after the manifest), entry indices run 0, 1, … without
// gaps, the close (version 2, closed elections only) is the ledger's signed
// final checkpoint, and the end line repeats the totals.
//
// Both sides are strict. The Writer is the one writer of the format (the
// service's ledger writes its exports with it). In version 2 (the current version) every line is
// the canonical JSON of docs/protocol.md §3 (keys sorted, one encoding per
// value) with exactly the members of its type; version 1 (still read, and
// written for elections closed before version 2) used encoding/json's form
// with the members in a fixed order. The Reader accepts only those bytes: a
// one-byte change anywhere in the file is either a structural error naming
// the line and the check of docs/protocol.md §8 that failed, or a change of
// value that the verifier (crypto/verify) reports.
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
	// Version is the export format version written by default: version 2
	// (the close is a signed checkpoint in the file) with decompression
	// hints on every entry line (docs/protocol.md §4.5).
	Version = 4
	// PaperVersion is the version of an export with a paper section
	// (version 4 and, after the close, the batch and paper_close lines of
	// docs/protocol.md §10): readers of version 4 refuse it by its version
	// rather than miscount it.
	PaperVersion = 5
	// Version2 and Version3 are versions 4 and 5 without hints (still read,
	// and written on request).
	Version2 = 2
	Version3 = 3
	// MinVersion and MaxVersion bound the versions the Reader accepts.
	MinVersion = 1
	MaxVersion = PaperVersion
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

// The checks of docs/protocol.md §8 that the Reader makes (a *LineError
// names one of them). Every one of them ends the reading of the file.
const (
	CheckEncoding           = "file.encoding"       // UTF-8, no byte-order mark, LF after every line, lines ≤ MaxLine
	CheckLine               = "file.line"           // a JSON object in the canonical form of its version and type
	CheckOrder              = "file.order"          // lines in order, indices without gaps, checkpoint sizes, the close
	CheckEnd                = "file.end"            // the file ends with its end line and nothing after it
	CheckVersion            = "header.version"      // format "eballot-export", a version this reader knows
	CheckHeader             = "header.field"        // election_id, manifest_hash and tree_size well formed
	CheckManifestEncoding   = "manifest.encoding"   // canonical base64 of at least one byte
	CheckCheckpointEncoding = "checkpoint.encoding" // root in lowercase hex, note of 1–4096 bytes
	CheckEntryEncoding      = "entry.encoding"      // style in range, canonical base64 of at most MaxEntry bytes
	CheckEndEncoding        = "end.encoding"        // root in lowercase hex, at most MaxStyles counts, none negative
	CheckEndTotals          = "end.totals"          // entries and checkpoints as counted, entries = tree_size
	CheckPaperEncoding      = "paper.encoding"      // a batch or paper close: canonical base64 of 1–MaxPaper bytes, note of 1–4096 bytes
)

// HasPaper reports whether an export of this version may have a paper
// section (and must, when it is read: versions 3 and 5).
func HasPaper(version int) bool { return version == Version3 || version == PaperVersion }

// HasHints reports whether the entry lines of this version carry
// decompression hints (versions 4 and 5).
func HasHints(version int) bool { return version == Version || version == PaperVersion }

// ErrFormat is returned (wrapped in a *LineError) for any structural defect:
// malformed JSON, unknown or missing fields, a line that is not in the
// canonical form, lines out of order, gaps in indices, a missing end line.
var ErrFormat = errors.New("export: malformed export")

// LineError locates a structural defect.
type LineError struct {
	Line  int64  // 1-based line number
	Check string // the check of docs/protocol.md §8 that failed (Check* above)
	Err   error
}

func (e *LineError) Error() string { return fmt.Sprintf("export: line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Header is the first line: what the file covers.
type Header struct {
	// Version is the export format version (0 when writing means Version).
	Version      int
	ElectionID   string
	ManifestHash [32]byte
	LogKey       string // the ledger's note verifier key
	TreeSize     int64  // number of entries in the file
	// Closed: the election was closed when exported. In version 2 a closed
	// export carries the close (the ledger's signed final checkpoint); in
	// version 1 this flag is the only, unsigned, statement of the close.
	Closed bool
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
	// Hints are the decompression hints of the ballot's group elements
	// (versions 4 and 5, docs/protocol.md §4.5; outside the leaf hash). The
	// Writer computes them when nil; the Reader gives them as read (empty,
	// not nil, when the line's are empty) and nil in versions 1 to 3.
	Hints []byte
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
	Checkpoints int64   // checkpoint lines (the close is not counted)
	StyleCounts []int64 // entries per style index
	Root        [32]byte
}

// Line types (the wire form). Version 1 writes the members in the order of
// the fields; version 2 in canonical JSON order (sorted).
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
		Type string `json:"type"` // "checkpoint", or "close" (version 2)
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
	// entryHintsLine is the entry line of versions 4 and 5.
	entryHintsLine struct {
		Type  string `json:"type"`
		Index int64  `json:"index"`
		Style int    `json:"style"`
		Entry string `json:"entry"`
		Hints string `json:"hints"`
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

func (h *Header) line(version int) headerLine {
	return headerLine{"header", Format, version, h.ElectionID, hex.EncodeToString(h.ManifestHash[:]), h.LogKey, h.TreeSize, h.Closed}
}

func (c *Checkpoint) line(typ string) checkpointLine {
	return checkpointLine{typ, c.Size, hex.EncodeToString(c.Root[:]), string(c.Note)}
}

func (e *Entry) line(version int) any {
	if HasHints(version) {
		return entryHintsLine{"entry", e.Index, e.Style, base64.StdEncoding.EncodeToString(e.Bytes), base64.StdEncoding.EncodeToString(e.Hints)}
	}
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

// strictBase64 is made once: Strict returns a new Encoding (a heap copy of
// the whole table) on each call, and decodeBase64 runs for every entry.
var strictBase64 = base64.StdEncoding.Strict()

// decodeBase64 decodes canonical standard padded base64: what
// base64.StdEncoding writes, nothing else (Strict alone still skips CR and
// LF, which a JSON string can carry as escapes).
func decodeBase64(s []byte, max int) ([]byte, bool) {
	if base64.StdEncoding.DecodedLen(len(s)) > max+2 {
		return nil, false
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := strictBase64.Decode(raw, s)
	raw = raw[:n]
	if err != nil || len(raw) > max || base64.StdEncoding.EncodedLen(n) != len(s) {
		return nil, false
	}
	for _, c := range s {
		if c == '\r' || c == '\n' {
			return nil, false
		}
	}
	return raw, true
}
