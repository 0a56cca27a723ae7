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
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/internal/canonjson"
	"github.com/unionvote/eballot/crypto/internal/snote"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/verify"
)

// MaxSize bounds a result or report file.
const MaxSize = 16 << 20

// Version is the version of the result file and report this package writes
// (protocol version 4: the result carries the actual close time,
// closed_at, from the ledger's signed close; version 2: the verification
// names the ledger's signed final checkpoint). Versions 1 and 2 are still
// read and checked.
const Version = 3

// Document is the report's "document" member.
const Document = "Result (TULRCA 1992 s.231) and scrutineer's report (s.231B)"

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
	// FinalCheckpoint (version 2, required there; absent in version 1) is
	// the ledger's signed close exactly as in the export: the final tree
	// size and root the scrutineer verified, signed by the ledger and, in
	// the report, by the scrutineer. Anyone checks an export against it
	// (`scrutineer verify --report`). Empty for a version 1 export, whose
	// close was not signed.
	FinalCheckpoint *string `json:"final_checkpoint,omitempty"`
	// Paper names the paper section verified (docs/protocol.md §10), when
	// the export has one (version 3): the signed report thereby commits to
	// it. Absent when the export has none.
	Paper *PaperSection `json:"paper,omitempty"`
}

// PaperSection is what a report says of the paper section it verified.
type PaperSection struct {
	Batches int64  `json:"batches"` // batch lines
	Counted int64  `json:"counted"` // valid batches, in the count
	Head    string `json:"head"`    // hex SHA-256 of the last batch line
}

// Summary is the Verification of a verify.Result (version 2).
func Summary(r *verify.Result) Verification {
	final := ""
	if r.Close != nil {
		final = string(r.Close.Note)
	}
	v := Verification{Entries: r.Entries, Checkpoints: r.Checkpoints, Root: hex.EncodeToString(r.Root[:]), StyleCounts: r.StyleCounts,
		Failures: r.Failures, More: r.More, FinalCheckpoint: &final}
	if r.Paper != nil {
		v.Paper = &PaperSection{Batches: r.Paper.Batches, Counted: r.Paper.Counted, Head: r.Paper.Head()}
	}
	if v.Failures == nil {
		v.Failures = []verify.Failure{}
	}
	return v
}

// ClosedAt is the time voting stopped as the verified close names it
// (protocol version 4, verify.Result.ClosedAt), read again from
// final_checkpoint (a state file keeps the verification, not the result);
// empty when the close states none.
func (v Verification) ClosedAt() string {
	if v.FinalCheckpoint == nil {
		return ""
	}
	text, _, ok := strings.Cut(*v.FinalCheckpoint, "\n\n")
	if !ok {
		return ""
	}
	cp, err := receipt.ParseCheckpoint([]byte(text + "\n"))
	if err != nil {
		return ""
	}
	return cp.ClosedAt
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
//
// The report has the version of the result file (a version 1 result file,
// made before version 2, gives a version 1 report).
func New(rf *ResultFile, signedBy string, o Options) *Report {
	r := rf.Result
	rep := &Report{Version: rf.Version, Document: Document,
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
	rep.Statements = statements(statementTexts, [3][]string{a, append([]string{}, o.NotSatisfiedB...), append([]string{}, o.NotSatisfiedC...)})
	return rep
}

// statements are the three statements of texts (clause, text) with their
// particulars: each satisfied exactly when it has none.
func statements(texts [3][2]string, parts [3][]string) []Statement {
	var out []Statement
	for i, t := range texts {
		out = append(out, Statement{t[0], t[1], len(parts[i]) == 0, parts[i]})
	}
	return out
}

// Sign returns the report's JSON (report.json) and its signature lines
// (report.json.sig): together, a signed note.
func Sign(rep *Report, signer note.Signer) (js, sig []byte, err error) {
	return signDocument(rep, signer)
}

// signDocument is the indented JSON of a document, ending with a newline,
// and its signature lines: together, a signed note.
func signDocument(doc any, signer note.Signer) (js, sig []byte, err error) {
	js, err = json.MarshalIndent(doc, "", "  ")
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

// ErrKey is returned by Open and ParseKey for a scrutineer key that is not
// a note verifier key in its one accepted form.
var ErrKey = errors.New("report: bad scrutineer key")

// ParseKey parses the scrutineer's public key (a golang.org/x/mod/sumdb/note
// Ed25519 verifier key, the manifest's texts.scrutineer_key) in its one
// accepted form (docs/protocol.md §6.1); surrounding white space (a .pub
// file) is allowed.
func ParseKey(verifierKey string) (note.Verifier, error) {
	v, err := snote.ParseVerifierKey(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	return v, nil
}

// Open checks that sig is a signature of js by the scrutineer's verifier
// key and decodes the report. The signed note js ‖ sig is checked under
// the strict signed-note rules of docs/protocol.md §6.1: exactly one
// signature line by the scrutineer's key, every signature line in
// canonical base64. The error wraps ErrKey for a bad key, ErrSignature
// when the signature is wrong (the report was changed or signed by another
// key), and neither when the signed text is not a report.
func Open(js, sig []byte, verifierKey string) (*Report, error) {
	text, _, err := openKey(js, sig, verifierKey)
	if err != nil {
		return nil, err
	}
	rep, err := Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("report: the signed document is not a scrutineer's report: %w", err)
	}
	return rep, nil
}

// openKey parses the verifier key and checks the signature of js ‖ sig by
// it (OpenText); it returns the signed text and the key's name.
func openKey(js, sig []byte, verifierKey string) (text, name string, err error) {
	v, err := ParseKey(verifierKey)
	if err != nil {
		return "", "", err
	}
	text, err = OpenText(js, sig, v)
	return text, v.Name(), err
}

// OpenText checks the signature of js ‖ sig by v (see Open) and returns
// the signed text.
func OpenText(js, sig []byte, v note.Verifier) (string, error) {
	if len(js) > MaxSize || len(sig) > 64<<10 {
		return "", errors.New("report: too large")
	}
	if len(js) == 0 || js[len(js)-1] != '\n' {
		return "", fmt.Errorf("%w: the report does not end with a newline (it is not a report.json written by `scrutineer report`)", ErrSignature)
	}
	text, err := snote.Open(append(append([]byte{}, js...), sig...), v)
	if err != nil {
		return "", fmt.Errorf("%w under %s: the report was changed or not signed by this key (%v)", ErrSignature, v.Name(), err)
	}
	return text, nil
}

// errForm: the document decodes but is not in its one accepted form.
var errForm = errors.New("not in the form the scrutineer's tools write (a key in another case, a missing field, or a value in another form)")

// strictJSON decodes one JSON value in its one accepted form (see
// canonjson.Decode: no duplicate, unknown, missing or differently-cased
// member, integers only, nothing after the value). On errForm, v holds the
// decoded value (the callers first name what is missing from it).
func strictJSON(b []byte, v any) error {
	if err := canonjson.Decode(b, v); err != nil {
		if errors.Is(err, canonjson.ErrForm) {
			return errForm
		}
		return err
	}
	return nil
}

// checkVersion checks the version-dependent members of a document: the
// final_checkpoint from version 2, the result's closed_at only from
// version 3.
func checkVersion(version int, v Verification, r *tally.Result) error {
	switch {
	case version < 1 || version > Version:
		return fmt.Errorf("version %d is not supported (this reader knows versions 1, 2 and 3)", version)
	case version == 1 && v.FinalCheckpoint != nil:
		return errors.New("a version 1 document has no final_checkpoint")
	case version >= 2 && v.FinalCheckpoint == nil:
		return fmt.Errorf("a version %d document must name its final_checkpoint", version)
	case version < 3 && r != nil && r.ClosedAt != "":
		return fmt.Errorf("a version %d document has no closed_at in its result", version)
	}
	return nil
}

// ParseResultFile decodes a result file written by `scrutineer tally`
// (version 1, 2 or 3).
func ParseResultFile(b []byte) (*ResultFile, error) {
	var rf ResultFile
	if len(b) > MaxSize {
		return nil, errors.New("too large")
	}
	err := strictJSON(b, &rf)
	if err != nil && err != errForm {
		return nil, err
	}
	if rf.Result == nil {
		return nil, errors.New("not a result file (no result)")
	}
	if err := checkVersion(rf.Version, rf.Verification, rf.Result); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return &rf, nil
}

var dateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// Parse decodes a report's JSON strictly (version 1, 2 or 3).
func Parse(b []byte) (*Report, error) {
	var r Report
	if len(b) > MaxSize {
		return nil, errors.New("too large")
	}
	err := strictJSON(b, &r)
	if err != nil && err != errForm {
		return nil, err
	}
	if r.Result == nil || len(r.Statements) != 3 {
		return nil, errors.New("not a report with a result and three statements")
	}
	if err := checkVersion(r.Version, r.Verification, r.Result); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if !dateRE.MatchString(r.Date) {
		return nil, errors.New("the date is not YYYY-MM-DD")
	}
	return &r, nil
}
