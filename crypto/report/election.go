package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/unionvote/eballot/crypto/internal/canonjson"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// Input is what a whole-election verification takes (docs/protocol.md §8):
// what the board publishes, and what the verifier knows from elsewhere.
type Input struct {
	// Export is the ledger export (crypto/export).
	Export io.Reader
	// Options are those of the ledger's verification: the authorisations
	// issued or the published counts, the expected manifest hash and final
	// checkpoint.
	Options verify.Options
	// Report and Signature are the scrutineer's signed result (report.json
	// and report.json.sig); nil when none is published.
	Report, Signature []byte
	// Partials is the board's partial decryptions document
	// {"partials":[partial, …]} (GET /ledger/v1/{election}/partials).
	Partials []byte
	// Key is the scrutineer's public key from outside the export; "" uses
	// the key the manifest binds (texts.scrutineer_key).
	Key string
}

// Outcome is the result of VerifyElection.
type Outcome struct {
	Ledger   *verify.Result
	Report   *Report       // nil unless the report opened and decoded
	Counts   *tally.Counts // the decrypted counts, when the partials allowed it
	Failures []verify.Failure
	Limits   []verify.Limit
}

// OK reports whether every check passed.
func (o *Outcome) OK() bool { return len(o.Failures) == 0 && o.Ledger.More == 0 }

// Failed returns the distinct names of the checks that failed, in the
// order of verify.Checks.
func (o *Outcome) Failed() []string {
	r := verify.Result{Failures: o.Failures}
	return r.Failed()
}

// MaxPartials bounds the partial decryptions document.
const MaxPartials = MaxSize

// VerifyElection runs every check of docs/protocol.md §8.2 on a ballot's
// published record, in the order the JavaScript verifier of the public
// verifier page runs them (crypto/js/src/verifier.mjs): the ledger
// (crypto/verify); then, when a signed result is given, its key, signature
// and form, the trustees' partial decryptions and the result against the
// decryption of the ledger's valid ballots (Checks). A structural failure
// of the export, or an unusable manifest, ends it: nothing else is checked.
// The error is only for a cancelled context.
func VerifyElection(ctx context.Context, in Input) (*Outcome, error) {
	led, err := verify.Verify(ctx, in.Export, in.Options)
	if err != nil {
		return nil, err
	}
	o := &Outcome{Ledger: led, Failures: slices.Clone(led.Failures)}
	defer func() { o.Limits = append(o.Limits, led.Limits...) }()
	if led.Stopped {
		return o, nil
	}
	if in.Report == nil {
		o.Limits = append(o.Limits, verify.Limit{Name: verify.LimitResult, Reason: "no signed result was given: the count was not checked"})
		return o, nil
	}
	fail := func(check, item string, index int64, reason string) {
		o.Failures = append(o.Failures, verify.Failure{Check: check, Item: item, Index: index, Reason: reason})
	}
	key, bound := in.Key, led.Manifest.Texts[ManifestKeyText]
	if key == "" {
		key = bound
	}
	if bound != "" && in.Key != "" && strings.TrimSpace(in.Key) != bound {
		fail(verify.CheckResultKey, "result", -1, fmt.Sprintf("the manifest binds the scrutineer key %s, not the one given (%s)", bound, strings.TrimSpace(in.Key)))
		return o, nil
	}
	if key == "" {
		fail(verify.CheckResultKey, "result", -1, "the manifest binds no scrutineer key (texts.scrutineer_key), and none was given")
		return o, nil
	}
	v, err := ParseKey(key)
	if err != nil {
		fail(verify.CheckResultKey, "result", -1, err.Error())
		return o, nil
	}
	text, err := OpenText(in.Report, in.Signature, v)
	if err != nil {
		fail(verify.CheckResultSignature, "result", -1, err.Error())
		return o, nil
	}
	rep, err := Parse([]byte(text))
	if err != nil {
		fail(verify.CheckResultDecode, "result", -1, "the signed document is not a scrutineer's report: "+err.Error())
		return o, nil
	}
	o.Report = rep
	// The completeness of the ledger and (with a key from outside) its
	// manifest are now checked against the scrutineer's signed statement.
	led.Limits = slices.DeleteFunc(led.Limits, func(l verify.Limit) bool {
		return l.Name == verify.LimitFinal || l.Name == verify.LimitUnsignedClose || l.Name == verify.LimitOpen ||
			in.Key != "" && l.Name == verify.LimitManifestHash
	})
	partials, bad := ParsePartials(in.Partials)
	o.Failures = append(o.Failures, bad...)
	c := &checker{rep: rep, v: led}
	c.run(partials, led.Issued, v.Name())
	o.Failures = append(o.Failures, c.out...)
	o.Counts = c.counts
	return o, nil
}

// ParsePartials decodes the board's partial decryptions document
// {"partials":[partial, …]} strictly, each partial in its one accepted
// JSON form (crypto/threshold). It returns the partials that decode and a
// failure (check partial.decode) for each that does not.
func ParsePartials(b []byte) ([]*threshold.Partial, []verify.Failure) {
	var w struct {
		Partials []json.RawMessage `json:"partials"`
	}
	if len(b) > MaxPartials {
		return nil, []verify.Failure{{Check: verify.CheckPartialDecode, Item: "partial", Index: -1, Reason: "the partial decryptions document is too large"}}
	}
	if err := canonjson.Decode(b, &w); err != nil {
		return nil, []verify.Failure{{Check: verify.CheckPartialDecode, Item: "partial", Index: -1, Reason: "the partial decryptions document is not {\"partials\":[…]}: " + err.Error()}}
	}
	var out []*threshold.Partial
	var bad []verify.Failure
	for i, raw := range w.Partials {
		var p threshold.Partial
		if err := p.UnmarshalJSON(raw); err != nil {
			bad = append(bad, verify.Failure{Check: verify.CheckPartialDecode, Item: "partial", Index: int64(i), Reason: fmt.Sprintf("partial decryption %d does not decode: %v", i+1, err)})
			continue
		}
		out = append(out, &p)
	}
	return out, bad
}
