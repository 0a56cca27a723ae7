package report

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/verify"
)

// TestRoundTrip: the result file `scrutineer tally` writes for a real
// ballot, made into a report, signed and opened with the verifier key, is
// the same report; it re-signs to the same bytes.
func TestRoundTrip(t *testing.T) {
	b := load(t, "fixture-ballot")
	// The fixture: per workplace 7 ballots, 4 Yes, 2 No, 1 blank.
	for i, s := range b.rf.Result.Styles {
		q := s.Questions[0]
		if s.VotesCast != 7 || q.Yes != 4 || q.No != 2 || q.Spoilt != 1 {
			t.Fatalf("fixture workplace %d: %+v", i, s)
		}
	}
	rep, js, sig := b.signed(t)
	if !bytes.HasPrefix(sig, []byte("\n— scrutineer.test ")) || bytes.Count(sig, []byte("\n")) != 2 {
		t.Fatalf("signature lines: %q", sig)
	}
	got, err := Open(js, sig, testVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) {
		t.Fatalf("opened report differs:\n got %+v\nwant %+v", got, rep)
	}
	js2, sig2, err := Sign(got, signer(t, testSignerKey))
	if err != nil || !bytes.Equal(js2, js) || !bytes.Equal(sig2, sig) {
		t.Fatalf("re-signing the opened report gives other bytes (%v)", err)
	}
	// The verifier key may come from a .pub file (surrounding space).
	if _, err := Open(js, sig, "\n "+testVerifierKey+"\n"); err != nil {
		t.Fatal(err)
	}
	// The report names the scrutineer of the manifest, signer and date,
	// and says every statement is satisfied.
	if got.Scrutineer != "Fixture Scrutineers Ltd" || got.SignedBy != "scrutineer.test" || got.Date != testDate ||
		got.ElectionID != "fixture-ballot" || got.ManifestHash != b.rf.Result.ManifestHash {
		t.Fatalf("report header: %+v", got)
	}
	for _, s := range got.Statements {
		if !s.Satisfied || len(s.Particulars) != 0 {
			t.Fatalf("statement %s: %+v", s.Clause, s)
		}
	}
	if probs := Check(got, b.res, b.partials, b.issued); len(probs) != 0 {
		t.Fatalf("Check of a true report: %q", probs)
	}
}

// TestGolden: the stored result file makes, with the same options and key,
// byte for byte the stored signed report (the format a third-party
// verifier reads does not change unnoticed), and that report opens.
func TestGolden(t *testing.T) {
	rfb, js, sig := golden(t)
	rf, err := ParseResultFile(rfb)
	if err != nil {
		t.Fatal(err)
	}
	re, _ := json.MarshalIndent(rf, "", "  ")
	if !bytes.Equal(append(re, '\n'), rfb) {
		t.Fatal("the result file does not re-encode to its bytes")
	}
	js2, sig2, err := Sign(New(rf, "scrutineer.test", Options{Date: testDate}), signer(t, testSignerKey))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js2, js) || !bytes.Equal(sig2, sig) {
		t.Fatalf("the report made from testdata/result_v1.json differs from testdata/report_v1.json (run with -update if the format changed on purpose):\n%s", js2)
	}
	rep, err := Open(js, sig, testVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ElectionID != "golden-ballot" || rep.Result.Aggregate.VotesCast != 14 || len(rep.Verification.Issued) != 2 {
		t.Fatalf("golden report: %+v", rep)
	}
}

// TestNew: the statements and notes New derives from the result file and
// the scrutineer's options.
func TestNew(t *testing.T) {
	base := load(t, "fixture-ballot").rf
	rf := *base
	rf.Verification.Failures = []verify.Failure{{Item: "entry", Index: 3, Reason: "bad proof"}}
	rf.Verification.More = 2
	rf.Verification.Issued = nil
	rf.Rejected = []RejectedTrust{{Trustee: 3, Reason: "DLEQ proof: invalid"}}
	o := Options{Scrutineer: "A. Scrutineer", Date: testDate, NotSatisfiedA: []string{"a1"}, NotSatisfiedB: []string{"b1"},
		NotSatisfiedC: []string{"c1", "c2"}, Notes: []string{"my note"}}
	rep := New(&rf, "scrutineer.test", o)
	want := [][]string{{"a1", "verification failure: entry 3: bad proof", "and 2 further verification failures"}, {"b1"}, {"c1", "c2"}}
	for i, s := range rep.Statements {
		if s.Satisfied || !reflect.DeepEqual(s.Particulars, want[i]) {
			t.Errorf("statement %s: satisfied %v, particulars %q, want %q", s.Clause, s.Satisfied, s.Particulars, want[i])
		}
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, w := range []string{"my note", "trustee 3's partial decryption was wrong and was not used (DLEQ proof: invalid); the count used the valid partials of trustees [1 2]",
		"the number of authorisations issued per workplace was not supplied", rf.Result.Regime.Notes[0]} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
	if rep.Notes[0] != "my note" || rep.Scrutineer != "A. Scrutineer" {
		t.Errorf("notes %q, scrutineer %q", rep.Notes, rep.Scrutineer)
	}
	// New copies the options: changing them after does not change the report.
	o.Notes[0], o.NotSatisfiedB[0] = "changed", "changed"
	if rep.Notes[0] != "my note" || rep.Statements[1].Particulars[0] != "b1" {
		t.Error("the report aliases the options' slices")
	}
	// Without a scrutineer name in the options or the manifest: the key name.
	r2 := *rf.Result
	r2.Scrutineer = ""
	rf.Result = &r2
	if rep := New(&rf, "scrutineer.test", Options{}); rep.Scrutineer != "scrutineer.test" {
		t.Errorf("scrutineer %q", rep.Scrutineer)
	}
	// A nil rejected list is written as [] (the report always has the key).
	rf.Rejected = nil
	if rep := New(&rf, "k", Options{}); rep.Rejected == nil {
		t.Error("nil rejected_partials")
	}
}

// flip returns b with its i-th byte changed.
func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0x01
	return c
}

// TestOpenChangedByte: changing any one byte of report.json — so any byte
// of any field, key or punctuation — or removing any one of its lines makes
// Open fail with ErrSignature.
func TestOpenChangedByte(t *testing.T) {
	_, js, sig := golden(t)
	for i := range js {
		if _, err := Open(flip(js, i), sig, testVerifierKey); !errors.Is(err, ErrSignature) {
			t.Fatalf("byte %d (%q) changed: err = %v", i, js[max(0, i-20):i+1], err)
		}
	}
	lines := bytes.SplitAfter(js, []byte("\n"))
	for i := range lines {
		if len(lines[i]) == 0 {
			continue
		}
		c := bytes.Join(append(append([][]byte{}, lines[:i]...), lines[i+1:]...), nil)
		if _, err := Open(c, sig, testVerifierKey); !errors.Is(err, ErrSignature) {
			t.Fatalf("line %d (%q) removed: err = %v", i, lines[i], err)
		}
	}
	// Changed values that still parse, with the message Open gives.
	for _, c := range [][2]string{{`"yes": 4`, `"yes": 5`}, {`"date": "2026-12-16"`, `"date": "2026-12-17"`}, {`"satisfied": true`, `"satisfied": false`}} {
		_, err := Open(bytes.Replace(js, []byte(c[0]), []byte(c[1]), 1), sig, testVerifierKey)
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "under scrutineer.test: the report was changed or not signed by this key") {
			t.Fatalf("%s: %v", c[1], err)
		}
	}
}

// TestOpenChangedSignature: changing any byte of the signature lines fails,
// except the two unused low bits of the last base64 digit (base64
// malleability: the signature bytes, and so the report, are the same).
func TestOpenChangedSignature(t *testing.T) {
	_, js, sig := golden(t)
	want, err := Open(js, sig, testVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sig {
		rep, err := Open(js, flip(sig, i), testVerifierKey)
		switch {
		case err == nil && i == len(sig)-3 && sig[len(sig)-2] == '=' && reflect.DeepEqual(rep, want):
		case err == nil:
			t.Fatalf("signature byte %d changed: accepted", i)
		case !errors.Is(err, ErrSignature):
			t.Fatalf("signature byte %d changed: %v does not wrap ErrSignature", i, err)
		}
	}
}

// TestOpenSignatureLines: truncated, extra and foreign signature lines.
func TestOpenSignatureLines(t *testing.T) {
	_, js, sig := golden(t)
	js2, otherSig, err := Sign(mustParse(t, js), signer(t, otherSignerKey))
	if err != nil || !bytes.Equal(js2, js) {
		t.Fatal(err)
	}
	// A key with the scrutineer's name but another key.
	sk, _, err := note.GenerateKey(rand.Reader, "scrutineer.test")
	if err != nil {
		t.Fatal(err)
	}
	_, sameNameSig, err := Sign(mustParse(t, js), signer(t, sk))
	if err != nil {
		t.Fatal(err)
	}
	// Another key's signature under the scrutineer's name and key hash.
	forged := []byte("\n— scrutineer.test " + base64.StdEncoding.EncodeToString(append(sigBytes(t, sig)[:4:4], sigBytes(t, otherSig)[4:]...)) + "\n")
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, c := range []struct {
		name    string
		js, sig []byte
		key     string
		want    string // "" accepted
	}{
		{"valid", js, sig, testVerifierKey, ""},
		{"signed by another key", js, otherSig, testVerifierKey, "under scrutineer.test: the report was changed or not signed by this key (no signature by the verifier key: scrutineer.test)"},
		{"opened with another key", js, sig, otherVerifierKey, "under other.test: the report was changed or not signed by this key"},
		{"another key with the scrutineer's name", js, sameNameSig, testVerifierKey, "not signed by this key"},
		{"another key's signature under the scrutineer's key hash", js, forged, testVerifierKey, "signature does not verify: scrutineer.test"},
		{"no signature", js, nil, testVerifierKey, "malformed signed note"},
		{"blank line only", js, []byte("\n"), testVerifierKey, "malformed signed note"},
		{"signature line truncated", js, cat(sig[:len(sig)/2], []byte("\n")), testVerifierKey, "signature does not verify: scrutineer.test"},
		{"signature line truncated (bad base64)", js, cat(sig[:len(sig)/2+1], []byte("\n")), testVerifierKey, "malformed signed note"},
		{"last newline cut", js, sig[:len(sig)-1], testVerifierKey, "malformed signed note"},
		{"blank line cut", js, sig[1:], testVerifierKey, "malformed signed note"},
		{"extra text line", js, cat(sig, []byte("extra\n")), testVerifierKey, "malformed signed note"},
		{"extra blank line", js, cat(sig, []byte("\n")), testVerifierKey, "malformed signed note"},
		{"extra empty signature line", js, cat(sig, []byte("— other.test \n")), testVerifierKey, "malformed signed note"},
		{"no newline at the end of report.json", js[:len(js)-1], sig, testVerifierKey, "the report does not end with a newline"},
		{"empty report.json", nil, sig, testVerifierKey, "the report does not end with a newline"},
		{"report.json and signature swapped", sig, js, testVerifierKey, "malformed signed note"},
		{"bad verifier key", js, sig, "scrutineer.test+7953cadb+AWpi", "report: bad scrutineer key"},
		{"private key as verifier key", js, sig, testSignerKey, "report: bad scrutineer key"},
		// One accepted form (docs/protocol.md §6.1): the scrutineer's key
		// signs once, and every signature line is canonical base64.
		{"a repeated signature line", js, cat(sig, sig[1:]), testVerifierKey, "more than one signature by the verifier key"},
		{"a bad signature after a good one", js, cat(sig, forged[1:]), testVerifierKey, "more than one signature by the verifier key"},
		{"non-canonical base64", js, nonCanonicalSig(t, sig), testVerifierKey, "canonical base64"},
		{"an uppercase key hash", js, sig, strings.Replace(testVerifierKey, "7953cadb", "7953CADB", 1), "report: bad scrutineer key"},
		// Accepted: what is authenticated is the text signed by the
		// scrutineer's key, and that is unchanged.
		{"a cosignature by another key", js, cat(sig, otherSig[1:]), testVerifierKey, ""},
		{"the blank line in report.json", cat(js, []byte("\n")), sig[1:], testVerifierKey, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Open(c.js, c.sig, c.key)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if re, _ := json.MarshalIndent(rep, "", "  "); !bytes.Equal(append(re, '\n'), js) {
					t.Fatal("accepted report is not the signed one")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if bad := strings.HasPrefix(c.want, "report: bad"); errors.Is(err, ErrSignature) == bad {
				t.Fatalf("errors.Is(%v, ErrSignature) = %v", err, !bad)
			}
		})
	}
}

// sigBytes decodes the (one) signature line of sig: key hash ‖ signature.
func sigBytes(t testing.TB, sig []byte) []byte {
	t.Helper()
	f := strings.Fields(string(sig))
	b, err := base64.StdEncoding.DecodeString(f[len(f)-1])
	if err != nil || len(b) != 68 {
		t.Fatalf("signature line %q: %v", sig, err)
	}
	return b
}

func mustParse(t testing.TB, js []byte) *Report {
	t.Helper()
	r, err := Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOpenSize: report.json over MaxSize and signatures over 64 KiB are
// refused before any parsing.
func TestOpenSize(t *testing.T) {
	_, js, sig := golden(t)
	big := append(bytes.Repeat([]byte(" "), MaxSize+1-len(js)), js...)
	if _, err := Open(big, sig, testVerifierKey); err == nil || err.Error() != "report: too large" {
		t.Fatalf("over MaxSize: %v", err)
	}
	many := append(append([]byte{}, sig...), bytes.Repeat(sig[1:], 64<<10/len(sig[1:])+1)...)
	if _, err := Open(js, many, testVerifierKey); err == nil || err.Error() != "report: too large" {
		t.Fatalf("signature over 64 KiB: %v", err)
	}
}
