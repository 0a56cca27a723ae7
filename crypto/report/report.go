// Package report is the independent scrutineer's signed document: the
// statutory result of a ballot (TULRCA s.231) and the scrutineer's report
// (s.231B), as `scrutineer report` writes and signs it, and the checks that
// anyone — the service before it publishes, `scrutineer check-result`
// against a board, a third party — runs on it: the signature under the
// scrutineer's key bound in the manifest, and that the signed counts are
// the decryption of this ballot's ledger by the trustees' published
// partial decryptions.
package report

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/unionvote/eballot/crypto/manifest"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/verify"
)

// MaxSize bounds a result or report file.
const MaxSize = 16 << 20

// ManifestKeyText is the manifest text that binds the scrutineer's public
// signing key (a golang.org/x/mod/sumdb/note verifier key) to the ballot.
const ManifestKeyText = "scrutineer_key"

// Verification is the verification summary kept in the result file.
type Verification struct {
	Entries     int64            `json:"entries"`
	Checkpoints int64            `json:"checkpoints"`
	Root        string           `json:"root"`
	StyleCounts []int64          `json:"style_counts"`
	Issued      []int64          `json:"authorisations_issued"`
	Failures    []verify.Failure `json:"failures"`
	More        int64            `json:"more_failures"`
	// Paper names the paper section verified (docs/protocol.md §9), when
	// the export has one: the signed report thereby commits to it.
	Paper *PaperSection `json:"paper,omitempty"`
}

// PaperSection is what a report says of the paper section it verified.
type PaperSection struct {
	Batches int64  `json:"batches"` // batch lines
	Counted int64  `json:"counted"` // valid batches, in the count
	Head    string `json:"head"`    // hex SHA-256 of the last batch line
}

// Summary is the Verification of a verify.Result.
func Summary(r *verify.Result) Verification {
	v := Verification{Entries: r.Entries, Checkpoints: r.Checkpoints, Root: hex.EncodeToString(r.Root[:]), StyleCounts: r.StyleCounts, Failures: r.Failures, More: r.More}
	if r.Paper != nil {
		v.Paper = &PaperSection{Batches: r.Paper.Batches, Counted: r.Paper.Counted, Head: r.Paper.Head()}
	}
	if v.Failures == nil {
		v.Failures = []verify.Failure{}
	}
	return v
}

// RejectedTrust names a trustee whose partial decryption was wrong.
type RejectedTrust struct {
	Trustee int    `json:"trustee"`
	Reason  string `json:"reason"`
}

// ResultFile is what `scrutineer tally` writes and `scrutineer report` signs.
type ResultFile struct {
	Version      int             `json:"version"`
	Result       *tally.Result   `json:"result"`
	Verification Verification    `json:"verification"`
	Rejected     []RejectedTrust `json:"rejected_partials"`
}

// Report is the signed document: the statutory result (s.231) and the
// scrutineer's report (s.231B).
type Report struct {
	Version      int             `json:"version"`
	Document     string          `json:"document"`
	ElectionID   string          `json:"election_id"`
	Title        string          `json:"title"`
	ManifestHash string          `json:"manifest_hash"`
	Scrutineer   string          `json:"scrutineer"`
	SignedBy     string          `json:"signed_by"` // the scrutineer's key name
	Date         string          `json:"date"`
	Statements   []Statement     `json:"statements"`
	Result       *tally.Result   `json:"result"`
	Verification Verification    `json:"verification"`
	Rejected     []RejectedTrust `json:"rejected_partials"`
	Notes        []string        `json:"notes"`
}

// Statement is one of the three s.231B(1) statements.
type Statement struct {
	Clause      string   `json:"clause"`
	Text        string   `json:"text"`
	Satisfied   bool     `json:"satisfied"`
	Particulars []string `json:"particulars"`
}

// Options are the scrutineer's own parts of a report.
type Options struct {
	Scrutineer string // name; default: the manifest's scrutineer text, then the key name
	Date       string // YYYY-MM-DD
	// NotSatisfiedA/B/C are particulars where the scrutineer is not
	// satisfied of s.231B(1)(a), (b) or (c).
	NotSatisfiedA, NotSatisfiedB, NotSatisfiedC []string
	Notes                                       []string
}

// New makes the report of a result file, to be signed by the key named
// signedBy.
func New(rf *ResultFile, signedBy string, o Options) *Report {
	r := rf.Result
	rep := &Report{Version: 1, Document: "Result (TULRCA 1992 s.231) and scrutineer's report (s.231B)",
		ElectionID: r.ElectionID, Title: r.Title, ManifestHash: r.ManifestHash, Scrutineer: o.Scrutineer, SignedBy: signedBy,
		Date: o.Date, Result: r, Verification: rf.Verification, Rejected: rf.Rejected, Notes: append([]string{}, o.Notes...)}
	if rep.Rejected == nil {
		rep.Rejected = []RejectedTrust{}
	}
	if rep.Scrutineer == "" {
		rep.Scrutineer = r.Scrutineer
	}
	if rep.Scrutineer == "" {
		rep.Scrutineer = signedBy
	}
	a := append([]string{}, o.NotSatisfiedA...)
	for _, f := range rf.Verification.Failures {
		a = append(a, "verification failure: "+f.String())
	}
	if rf.Verification.More > 0 {
		a = append(a, fmt.Sprintf("and %d further verification failures", rf.Verification.More))
	}
	for _, x := range rf.Rejected {
		rep.Notes = append(rep.Notes, fmt.Sprintf("trustee %d's partial decryption was wrong and was not used (%s); the count used the valid partials of trustees %v", x.Trustee, x.Reason, r.Trustees))
	}
	if rf.Verification.Issued == nil {
		rep.Notes = append(rep.Notes, "the number of authorisations issued per workplace was not supplied to the verification: ballots were checked against the number entitled only")
	}
	rep.Notes = append(rep.Notes, r.Regime.Notes...)
	rep.Statements = []Statement{
		{"s.231B(1)(a)", "There are no reasonable grounds for believing that there was any contravention of a requirement imposed by or under any enactment in relation to the ballot.", len(a) == 0, a},
		{"s.231B(1)(b)", "The arrangements made with respect to the production, storage, distribution, return or other handling of the voting papers used in the ballot, and the arrangements for the counting of the votes, included all such security arrangements as were reasonably practicable for the purpose of minimising the risk that any unfairness or malpractice might occur.", len(o.NotSatisfiedB) == 0, append([]string{}, o.NotSatisfiedB...)},
		{"s.231B(1)(c)", "The scrutineer has been able to carry out the scrutineer's functions without such interference as would make it reasonable for any person to call the scrutineer's independence in relation to the union into question.", len(o.NotSatisfiedC) == 0, append([]string{}, o.NotSatisfiedC...)},
	}
	return rep
}

// Sign returns the report's JSON (report.json) and its signature lines
// (report.json.sig): together, a signed note.
func Sign(rep *Report, signer note.Signer) (js, sig []byte, err error) {
	js, err = json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	js = append(js, '\n')
	signed, err := note.Sign(&note.Note{Text: string(js)}, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	return js, signed[len(js):], nil
}

// ErrSignature is returned by Open when the signature does not verify.
var ErrSignature = errors.New("report: the signature does not verify")

// Open checks that sig is a signature of js by the scrutineer's verifier
// key and decodes the report. The error wraps ErrSignature when the
// signature is wrong (the report was changed or signed by another key).
func Open(js, sig []byte, verifierKey string) (*Report, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("report: bad scrutineer key: %w", err)
	}
	if len(js) > MaxSize || len(sig) > 64<<10 {
		return nil, errors.New("report: too large")
	}
	if len(js) == 0 || js[len(js)-1] != '\n' {
		return nil, fmt.Errorf("%w: the report does not end with a newline (it is not a report.json written by `scrutineer report`)", ErrSignature)
	}
	n, err := note.Open(append(append([]byte{}, js...), sig...), note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("%w under %s: the report was changed or not signed by this key (%v)", ErrSignature, v.Name(), err)
	}
	rep, err := Parse([]byte(n.Text))
	if err != nil {
		return nil, fmt.Errorf("report: the signed document is not a scrutineer's report: %w", err)
	}
	return rep, nil
}

// strictJSON decodes one JSON value with no unknown field and nothing after.
func strictJSON(b []byte, v any, form *[]byte) error {
	// The canonical JSON subset first: no duplicate keys, integers only,
	// nothing after the value.
	canon, err := manifest.Canonicalize(b)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	// Only white space may follow. (Decoder.More is not enough: it is
	// false before a stray ']' or '}'.)
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	*form = canon
	return nil
}

// sameForm checks that what was read is all there is: encoding/json matches
// keys case-insensitively ("Result" fills Result like "result"), so a
// document with both would read differently here than in JavaScript.
// Re-encoded, the value must give the canonical JSON of the input.
func sameForm(canon []byte, v any) error {
	re, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if again, err := manifest.Canonicalize(re); err != nil || !bytes.Equal(canon, again) {
		return errors.New("not in the form the scrutineer's tools write (a key in another case, a missing field, or a value in another form)")
	}
	return nil
}

// ParseResultFile decodes a result file written by `scrutineer tally`.
func ParseResultFile(b []byte) (*ResultFile, error) {
	var rf ResultFile
	if len(b) > MaxSize {
		return nil, errors.New("too large")
	}
	var form []byte
	if err := strictJSON(b, &rf, &form); err != nil {
		return nil, err
	}
	if rf.Version != 1 || rf.Result == nil {
		return nil, errors.New("not a version 1 result")
	}
	if err := sameForm(form, &rf); err != nil {
		return nil, err
	}
	return &rf, nil
}

// Parse decodes a report's JSON strictly.
func Parse(b []byte) (*Report, error) {
	var r Report
	if len(b) > MaxSize {
		return nil, errors.New("too large")
	}
	var form []byte
	if err := strictJSON(b, &r, &form); err != nil {
		return nil, err
	}
	if r.Version != 1 || r.Result == nil || len(r.Statements) != 3 {
		return nil, errors.New("not a version 1 report with three statements")
	}
	if err := sameForm(form, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
