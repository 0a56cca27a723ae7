package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	bal "github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/internal/canonjson"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/verify"
)

// StateVersion is the version of the verified state file.
const StateVersion = 1

// StateDocument is the state file's "document" member.
const StateDocument = "eBallot verified count state (scrutineer verify --state)"

// stateTag separates the state digest from every other SHA-256 of the
// protocol.
const stateTag = "eballot-v1/state\x00"

// State is what `scrutineer verify --state` writes after a verification
// that passed, so that `decrypt` and `tally` need not verify every ballot
// again (docs/protocol.md §8.8): the SHA-256 and length of the export file
// it verified, the manifest, the verification summary (with the ledger's
// signed close), the homomorphic sums of the valid ballots and the paper
// totals, all bound together by a digest. A step that reads a state checks
// the digest and that the export it is given is byte for byte the one
// verified (its SHA-256); it then relies on the verification, and says so.
//
// The digest detects a changed or damaged file and a state of another
// export; it is not a signature: a state is a record of one's own
// verification, not evidence to accept from someone else.
type State struct {
	Version       int                 `json:"version"`
	Document      string              `json:"document"`
	Export        ExportRef           `json:"export"`
	ElectionID    string              `json:"election_id"`
	ManifestHash  string              `json:"manifest_hash"`
	Manifest      []byte              `json:"manifest"` // canonical manifest, base64
	FormatVersion int                 `json:"format_version"`
	Closed        bool                `json:"closed"`
	Verification  Verification        `json:"verification"`
	Valid         []int64             `json:"valid"`
	Paper         []tally.PaperTotals `json:"paper"`
	Sums          tally.SumsFile      `json:"sums"`
	Limits        []verify.Limit      `json:"not_checked"`
	Digest        string              `json:"digest"`
}

// ExportRef names an export file by its SHA-256 and length in bytes.
type ExportRef struct {
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Errors of the state file, each named by the check it failed.
var (
	// ErrStateDigest: the digest does not match the contents.
	ErrStateDigest = errors.New("state.digest: the state file's digest does not match its contents (changed or damaged since `scrutineer verify` wrote it)")
	// ErrStateExport: the export given is not the one verified.
	ErrStateExport = errors.New("state.export: the export is not the file this state was verified from")
	// ErrStateDecode: not a state file in its one accepted form.
	ErrStateDecode = errors.New("state.decode: not a verified state file")
)

// NewState records a verification that passed, of the export file with the
// given SHA-256 and length.
func NewState(r *verify.Result, exportSHA256 [32]byte, exportBytes int64) (*State, error) {
	if !r.OK() || r.Sums == nil || r.Manifest == nil || r.Election == nil {
		return nil, errors.New("report: a state records only a verification that passed")
	}
	canon, err := r.Manifest.Canonical()
	if err != nil {
		return nil, err
	}
	mh := r.Election.ManifestHash()
	v := Summary(r)
	v.Issued = r.Issued
	s := &State{Version: StateVersion, Document: StateDocument,
		Export:     ExportRef{SHA256: hex.EncodeToString(exportSHA256[:]), Bytes: exportBytes},
		ElectionID: r.Header.ElectionID, ManifestHash: hex.EncodeToString(mh[:]), Manifest: canon,
		FormatVersion: r.Header.Version, Closed: r.Header.Closed, Verification: v,
		Valid: r.Valid, Paper: r.PaperTotals(), Sums: r.Sums.File(), Limits: r.Limits}
	if s.Valid == nil {
		s.Valid = []int64{}
	}
	if s.Paper == nil {
		s.Paper = []tally.PaperTotals{}
	}
	if s.Limits == nil {
		s.Limits = []verify.Limit{}
	}
	return s, nil
}

func (s *State) digest() (string, error) {
	c := *s
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	canon, err := canonjson.Canonicalize(b)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(stateTag))
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Marshal sets the digest and returns the state file (indented JSON ending
// with LF).
func (s *State) Marshal() ([]byte, error) {
	d, err := s.digest()
	if err != nil {
		return nil, err
	}
	s.Digest = d
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseState decodes a state file strictly and checks its digest
// ([ErrStateDigest]).
func ParseState(b []byte) (*State, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: too large", ErrStateDecode)
	}
	var s State
	if err := canonjson.Decode(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStateDecode, err)
	}
	if s.Version != StateVersion || s.Document != StateDocument {
		return nil, fmt.Errorf("%w: version %d of %q (this reader knows version %d)", ErrStateDecode, s.Version, s.Document, StateVersion)
	}
	d, err := s.digest()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStateDecode, err)
	}
	if d != s.Digest {
		return nil, ErrStateDigest
	}
	if err := checkVersion(Version, s.Verification, nil); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStateDecode, err)
	}
	return &s, nil
}

// CheckExport checks that an export file with this SHA-256 and length is the
// one the state was verified from ([ErrStateExport]).
func (s *State) CheckExport(sum [32]byte, n int64) error {
	if got := hex.EncodeToString(sum[:]); got != s.Export.SHA256 || n != s.Export.Bytes {
		return fmt.Errorf("%w: it has SHA-256 %s (%d bytes), the state was verified from %s (%d bytes)", ErrStateExport, got, n, s.Export.SHA256, s.Export.Bytes)
	}
	return nil
}

// Open rebuilds the manifest, the election and the sums recorded in the
// state, checking that they belong together.
func (s *State) Open() (*manifest.Manifest, *bal.Election, *tally.Sums, error) {
	m, err := manifest.Parse(s.Manifest)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: manifest: %w", ErrStateDecode, err)
	}
	e, err := bal.NewElection(m)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: manifest: %w", ErrStateDecode, err)
	}
	if mh := e.ManifestHash(); hex.EncodeToString(mh[:]) != s.ManifestHash || m.ElectionID != s.ElectionID {
		return nil, nil, nil, fmt.Errorf("%w: the manifest is not that of election %s with hash %s", ErrStateDecode, s.ElectionID, s.ManifestHash)
	}
	sums, err := tally.ParseSumsFile(e, s.Sums)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrStateDecode, err)
	}
	return m, e, sums, nil
}
