package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/verify"
)

// expectFlags are the flags that give verify what the export must match
// from outside the file (docs/protocol.md §8.3).
type expectFlags struct {
	manifestHash, final, report, reportSig, key string
}

func (x *expectFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&x.manifestHash, "manifest-hash", "", "the manifest hash the export must have (64 hex digits, e.g. from the voting paper or a notice)")
	fs.StringVar(&x.final, "final-checkpoint", "", "the final checkpoint the export must end with: a file holding the signed close (as in the scrutineer's report), or SIZE:ROOT (root in hex)")
	fs.StringVar(&x.report, "report", "", "the scrutineer's signed report (report.json; its signature next to it as report.json.sig): the export must have its manifest hash and final checkpoint")
	fs.StringVar(&x.reportSig, "report-sig", "", "the report's signature file (default <report>.sig)")
	fs.StringVar(&x.key, "key", "", "with --report: the scrutineer's public key (a .pub file or the key itself); default the key the manifest binds")
}

// expect is what was loaded from the flags (or the board).
type expect struct {
	verify.Expected
	report, sig []byte // the report the expectations came from, if any
	keyGiven    bool
	key         string
	from        string // where the expectations came from, for messages
}

// load reads the expectations. For a board URL without --report or
// --final-checkpoint, the result published on the board (if any) is used.
func (x *expectFlags) load(src string, e *env) (expect, error) {
	var ex expect
	if x.manifestHash != "" {
		b, err := hex.DecodeString(x.manifestHash)
		if err != nil || len(b) != 32 || hex.EncodeToString(b) != strings.ToLower(x.manifestHash) {
			return ex, errors.New("--manifest-hash must be 64 hex digits")
		}
		h := [32]byte(b)
		ex.ManifestHash = &h
	}
	if x.final != "" {
		c, err := parseFinal(x.final)
		if err != nil {
			return ex, err
		}
		ex.Final = c
	}
	if x.key != "" {
		ex.key, ex.keyGiven = x.key, true
		if b, err := os.ReadFile(x.key); err == nil {
			ex.key = strings.TrimSpace(string(b))
		}
		if _, err := report.ParseKey(ex.key); err != nil {
			return ex, fmt.Errorf("--key: %w", err)
		}
	}
	switch {
	case x.report != "":
		js, err := os.ReadFile(x.report)
		if err != nil {
			return ex, err
		}
		sp := x.reportSig
		if sp == "" {
			sp = x.report + ".sig"
		}
		sig, err := os.ReadFile(sp)
		if err != nil {
			return ex, err
		}
		return ex, ex.fromReport(js, sig, x.report)
	case isURL(src) && ex.Final == nil:
		b, err := parseBoard(src)
		if err != nil {
			return ex, err
		}
		js, err := get(context.Background(), b.ledger("/result"), report.MaxSize)
		var nf *notFoundError
		if errors.As(err, &nf) {
			return ex, nil // no result published yet
		}
		if err != nil {
			return ex, err
		}
		sig, err := get(context.Background(), b.ledger("/result/signature"), 64<<10)
		if err != nil {
			return ex, err
		}
		fmt.Fprintln(e.stderr, "Using the manifest hash and final checkpoint of the result published on the board.")
		return ex, ex.fromReport(js, sig, "the published result")
	}
	return ex, nil
}

// fromReport takes the manifest hash and the final checkpoint of a report
// (its signature is checked once the manifest is known: checkSignature).
func (ex *expect) fromReport(js, sig []byte, from string) error {
	rep, err := report.Parse(js)
	if err != nil {
		return fmt.Errorf("%s is not a scrutineer's report: %w", from, err)
	}
	ex.report, ex.sig, ex.from = js, sig, from
	b, err := hex.DecodeString(rep.ManifestHash)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("%s: bad manifest_hash", from)
	}
	if ex.ManifestHash != nil && *ex.ManifestHash != [32]byte(b) {
		return fmt.Errorf("--manifest-hash differs from the manifest hash of %s", from)
	}
	h := [32]byte(b)
	ex.ManifestHash = &h
	if ex.Final != nil {
		return nil
	}
	if f := rep.Verification.FinalCheckpoint; f != nil && *f != "" {
		c, err := closeOf([]byte(*f))
		if err != nil {
			return fmt.Errorf("%s: final_checkpoint: %w", from, err)
		}
		ex.Final = c
		return nil
	}
	// A version 1 report (or one of a version 1 export): the size and root
	// the scrutineer verified.
	root, err := hex.DecodeString(rep.Verification.Root)
	if err != nil || len(root) != 32 {
		return fmt.Errorf("%s: bad root", from)
	}
	ex.Final = &receipt.Checkpoint{Size: rep.Verification.Entries, Root: [32]byte(root)}
	return nil
}

// checkSignature opens the report the expectations came from with the key
// given or bound in the manifest; a failure means the expectations are not
// the scrutineer's.
func (ex *expect) checkSignature(m *manifest.Manifest) *verify.Failure {
	key := ex.key
	if key == "" {
		key = m.Texts[report.ManifestKeyText]
	}
	fail := func(check, reason string) *verify.Failure {
		return &verify.Failure{Check: check, Item: "result", Index: -1, Reason: reason}
	}
	if key == "" {
		return fail(verify.CheckResultKey, "the manifest binds no scrutineer key: give --key to check the signature of "+ex.from)
	}
	if _, err := report.Open(ex.report, ex.sig, key); err != nil {
		return fail(verify.CheckResultSignature, fmt.Sprintf("%s: %v: its manifest hash and final checkpoint are not the scrutineer's", ex.from, err))
	}
	return nil
}

// adjust says where the expectations came from in the limits.
func (ex *expect) adjust(res *verify.Result) {
	if ex.report != nil && !ex.keyGiven {
		res.Limits = append(res.Limits, verify.Limit{Name: verify.LimitManifestHash,
			Reason: "the manifest hash was compared with that of " + ex.from + ", whose signing key is the one the manifest itself binds: give --key (the scrutineer's key from elsewhere) or --manifest-hash (from the voting paper) to tie it to the ballot the voters saw"})
	}
}

// parseFinal reads --final-checkpoint: SIZE:ROOT or a file holding a
// signed close.
func parseFinal(s string) (*receipt.Checkpoint, error) {
	if size, root, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(s, "/\\.") {
		n, err1 := strconv.ParseInt(size, 10, 64)
		r, err2 := hex.DecodeString(root)
		if err1 != nil || err2 != nil || n < 0 || len(r) != 32 {
			return nil, errors.New("--final-checkpoint SIZE:ROOT needs a decimal size and a 64-hex-digit root")
		}
		return &receipt.Checkpoint{Size: n, Root: [32]byte(r)}, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("--final-checkpoint: %w", err)
	}
	c, err := closeOf(b)
	if err != nil {
		return nil, fmt.Errorf("--final-checkpoint %s: %w", s, err)
	}
	return c, nil
}

// closeOf reads the size and root of a signed close (its signature is the
// ledger's; what matters here is that it is the one the scrutineer
// published, compared with the export's own signed close).
func closeOf(signed []byte) (*receipt.Checkpoint, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("not a signed checkpoint")
	}
	c, err := receipt.ParseCheckpoint(signed[:i+1])
	if err != nil {
		return nil, err
	}
	if !c.Closed {
		return nil, errors.New("the checkpoint does not say \"closed\": it is not a final checkpoint")
	}
	return &c, nil
}
