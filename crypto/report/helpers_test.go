package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

var update = flag.Bool("update", false, "rewrite testdata/result_v3.json, testdata/report_v3.json{,.sig} and the fuzz seed corpora in testdata/fuzz/ from a newly generated ballot (the version 1 and 2 files stay: they are what version 1 and 2 tools wrote)")

// Test keys (golang.org/x/mod/sumdb/note). They sign only test reports.
const (
	testSignerKey    = "PRIVATE+KEY+scrutineer.test+7953cadb+ASKbtTSpZpYp7mCURh6BxlyW5IAqmPuf0WIqorW3CFuA"
	testVerifierKey  = "scrutineer.test+7953cadb+AWpi/7SS+FXpKbE7Bzs8VC85+ZTR5APPFbEmuQPuzh2G"
	otherSignerKey   = "PRIVATE+KEY+other.test+ff32659d+ASW5nWRR9tXR0YVX3uLHlsjLmn38dbfC4IJP6A7fTQbc"
	otherVerifierKey = "other.test+ff32659d+AXsXoh7Um2kUQLZ66gE49L8GTuVHHCMQ4DVuLIYgufiv"
	// testDate is the date of the golden report.
	testDate = "2026-12-16"
)

func signer(t testing.TB, skey string) note.Signer {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ballot is a real, closed ballot: 14 ballots across two workplaces
// (entitled 10 and 40; each 4 Yes, 2 No, 1 blank), 3 trustees, threshold 2,
// its verification with the authorisations issued, the three trustees'
// partial decryptions and the result file `scrutineer tally` would write.
type ballot struct {
	el       *fixture.Election
	res      *verify.Result
	issued   []int64
	partials []*threshold.Partial
	rf       *ResultFile
}

var (
	ballots   = map[string]*ballot{}
	ballotsMu sync.Mutex
)

// testClosedAt is when a test ballot's close says voting stopped: before
// the fixture manifest's closes_at (2026-12-15T17:00:00Z), an early close.
const testClosedAt = "2026-12-10T12:00:00Z"

// ballotsN is the number of ballots cast in a test ballot.
const ballotsN = 14

// load builds (once per election ID) a test ballot.
func load(t testing.TB, id string) *ballot {
	t.Helper()
	ballotsMu.Lock()
	defer ballotsMu.Unlock()
	if b := ballots[id]; b != nil {
		return b
	}
	el, err := fixture.New(fixture.Options{ElectionID: id}, []int64{10, 40})
	if err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	// Closed early (protocol version 4: the close states the time).
	if err := el.WriteExport(context.Background(), &exp, ballotsN, fixture.WriteOptions{CheckpointEvery: 5, ClosedAt: testClosedAt}); err != nil {
		t.Fatal(err)
	}
	issued := []int64{9, 12}
	res, err := verify.Verify(context.Background(), &exp, verify.Options{Issued: issued})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("the fixture ballot does not verify: %v", res.Failures)
	}
	pub, err := tally.TrusteeKey(res.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	alphas := res.Sums.Alphas()
	mh := res.Election.ManifestHash()
	b := &ballot{el: el, res: res, issued: issued}
	for _, sk := range el.Shares {
		p, err := threshold.PartialDecrypt(rand.Reader, pub, sk, mh[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		b.partials = append(b.partials, p)
	}
	// As `scrutineer tally` makes it.
	counts, bad, err := tally.Decrypt(pub, res.Sums, b.partials)
	if err != nil || len(bad) > 0 {
		t.Fatalf("decrypt: %v %v", err, bad)
	}
	counts.ClosedAt = res.ClosedAt
	r, err := tally.Compute(res.Manifest, counts)
	if err != nil {
		t.Fatal(err)
	}
	b.rf = &ResultFile{Version: Version, Result: r, Verification: Summary(res), Rejected: []RejectedTrust{}}
	b.rf.Verification.Issued = issued
	ballots[id] = b
	return b
}

// signed returns the ballot's report (dated testDate), its JSON and
// signature under the test key.
func (b *ballot) signed(t testing.TB) (*Report, []byte, []byte) {
	t.Helper()
	rep := New(b.rf, "scrutineer.test", Options{Date: testDate})
	js, sig, err := Sign(rep, signer(t, testSignerKey))
	if err != nil {
		t.Fatal(err)
	}
	return rep, js, sig
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden returns testdata/result_v3.json and the report made from it,
// report_v3.json and report_v3.json.sig (signed with the test key).
func golden(t testing.TB) (rf, js, sig []byte) { return goldenV(t, Version) }

// goldenV returns the golden files of a version (1: as version 1 tools
// wrote them).
func goldenV(t testing.TB, v int) (rf, js, sig []byte) {
	n := fmt.Sprintf("_v%d.json", v)
	return readTestdata(t, "result"+n), readTestdata(t, "report"+n), readTestdata(t, "report"+n+".sig")
}

// TestUpdateTestdata rewrites the golden files and the fuzz seed corpora
// (go test ./crypto/report -run TestUpdateTestdata -update).
func TestUpdateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/")
	}
	b := load(t, "golden-ballot")
	rf, err := json.MarshalIndent(b.rf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	rf = append(rf, '\n')
	_, js, sig := b.signed(t)
	ojs, osig, err := Sign(New(b.rf, "other.test", Options{Date: testDate}), signer(t, otherSignerKey))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join("testdata", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("result_v%d.json", Version), rf)
	write(fmt.Sprintf("report_v%d.json", Version), js)
	write(fmt.Sprintf("report_v%d.json.sig", Version), sig)
	corpus := func(target, name string, args ...[]byte) {
		var s bytes.Buffer
		s.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&s, "[]byte(%q)\n", a)
		}
		write(filepath.Join("fuzz", target, name), s.Bytes())
	}
	replace1 := func(b []byte, old, new string) []byte {
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	corpus("FuzzParse", "valid", js)
	corpus("FuzzParse", "unknown-field", replace1(js, `"version": 3,`, `"version": 3, "extra": true,`))
	corpus("FuzzParse", "version-1", readTestdata(t, "report_v1.json"))
	corpus("FuzzParse", "no-final-checkpoint", replace1(js, `"final_checkpoint"`, `"final_checkpoinT"`))
	corpus("FuzzParse", "trailing-bracket", append(append([]byte{}, js...), ']'))
	corpus("FuzzParse", "unknown-statement-field", replace1(js, `"clause": "s.231B(1)(c)"`, `"clause": "s.231B(1)(c)", "x": 1`))
	corpus("FuzzParse", "no-result", []byte(`{"version":1,"result":null,"statements":[{},{},{}]}`))
	corpus("FuzzParseResultFile", "valid", rf)
	corpus("FuzzParseResultFile", "version-1", readTestdata(t, "result_v1.json"))
	corpus("FuzzParseResultFile", "version-2", readTestdata(t, "result_v2.json"))
	corpus("FuzzParseResultFile", "version-4", replace1(rf, `"version": 3`, `"version": 4`))
	corpus("FuzzParseResultFile", "unknown-nested-field", replace1(rf, `"entitled":`, `"Entitled2": 1, "entitled":`))
	corpus("FuzzParseResultFile", "trailing-brace", append(append([]byte{}, rf...), '}'))
	corpus("FuzzParseResultFile", "minimal", []byte(`{"version":1,"result":{}}`))
	corpus("FuzzOpen", "valid", js, sig)
	corpus("FuzzOpen", "other-key", ojs, osig)
	corpus("FuzzOpen", "truncated-signature", js, sig[:len(sig)/2])
	corpus("FuzzOpen", "extra-line", js, append(append([]byte{}, sig...), "extra\n"...))
	corpus("FuzzOpen", "no-newline", js[:len(js)-1], sig)
	corpus("FuzzOpen", "changed", replace1(js, `"yes": 4`, `"yes": 5`), sig)
	corpus("FuzzOpen", "repeated-signature", js, append(append([]byte{}, sig...), sig[1:]...))
	corpus("FuzzOpen", "non-canonical-base64", js, nonCanonicalSig(t, sig))
}

// nonCanonicalSig is sig with its base64 changed to a non-canonical
// encoding of the same bytes (a padding bit set): it still decodes with
// Go's lenient base64, and must be refused.
func nonCanonicalSig(t testing.TB, sig []byte) []byte {
	t.Helper()
	i := bytes.LastIndexByte(sig, '=')
	for i > 0 && sig[i-1] == '=' {
		i--
	}
	if i < 1 {
		t.Fatalf("signature %q has no padding", sig)
	}
	out := append([]byte{}, sig...)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out[i-1] = alphabet[strings.IndexByte(alphabet, out[i-1])|1]
	return out
}
