package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// reencode is the JSON Sign writes for v.
func reencode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("a decoded document does not encode: %v", err)
	}
	return append(b, '\n')
}

// FuzzParse: Parse never panics; what it accepts re-encodes to a report it
// accepts again, to the same bytes, that signs and opens to the same report;
// and comparing its result with a true one (as Check does) does not panic.
func FuzzParse(f *testing.F) {
	rfb, js, _ := golden(f)
	f.Add(js)
	f.Add([]byte(`{"version":1,"result":{},"statements":[{},{},{}]}`))
	rf, err := ParseResultFile(rfb)
	if err != nil {
		f.Fatal(err)
	}
	truth := rf.Result
	s := signer(f, testSignerKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Parse(b)
		if err != nil {
			return
		}
		re := reencode(t, rep)
		rep2, err := Parse(re)
		if err != nil {
			t.Fatalf("re-encoded report refused: %v\n%s", err, re)
		}
		if re2 := reencode(t, rep2); !bytes.Equal(re, re2) {
			t.Fatalf("report JSON not stable:\n%s\n%s", re, re2)
		}
		sj, sig, err := Sign(rep, s)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		if !bytes.Equal(sj, re) {
			t.Fatal("Sign wrote other JSON")
		}
		opened, err := Open(sj, sig, testVerifierKey)
		if err != nil {
			t.Fatalf("a signed report does not open: %v\n%s", err, sj)
		}
		if !reflect.DeepEqual(opened, rep2) {
			t.Fatal("opened report differs")
		}
		(&checker{}).compare(rep.Result, truth)
		(&checker{}).compare(truth, rep.Result)
	})
}

// FuzzParseResultFile: ParseResultFile never panics; what it accepts
// re-encodes stably, and New makes of it a report that signs and opens.
func FuzzParseResultFile(f *testing.F) {
	rfb, _, _ := golden(f)
	f.Add(rfb)
	f.Add([]byte(`{"version":1,"result":{}}`))
	s := signer(f, testSignerKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		rf, err := ParseResultFile(b)
		if err != nil {
			return
		}
		re := reencode(t, rf)
		rf2, err := ParseResultFile(re)
		if err != nil {
			t.Fatalf("re-encoded result file refused: %v\n%s", err, re)
		}
		if re2 := reencode(t, rf2); !bytes.Equal(re, re2) {
			t.Fatalf("result file JSON not stable:\n%s\n%s", re, re2)
		}
		rep := New(rf, s.Name(), Options{Date: testDate, NotSatisfiedB: []string{"b"}, Notes: []string{"n"}})
		js, sig, err := Sign(rep, s)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		opened, err := Open(js, sig, testVerifierKey)
		if err != nil {
			t.Fatalf("the report of an accepted result file does not open: %v\n%s", err, js)
		}
		if !bytes.Equal(reencode(t, opened), js) {
			t.Fatal("opened report re-encodes to other JSON")
		}
	})
}

// FuzzOpen: Open never panics, and what it accepts is exactly a text the
// scrutineer's key signed (a seed), as Sign writes it.
func FuzzOpen(f *testing.F) {
	_, js, sig := golden(f)
	f.Add(js, sig)
	f.Add(js[:len(js)-1], sig)
	f.Add(js, append(append([]byte{}, sig...), sig[1:]...))
	f.Add([]byte("{}\n"), sig)
	f.Add([]byte{}, []byte{})
	v, err := note.NewVerifier(testVerifierKey)
	if err != nil {
		f.Fatal(err)
	}
	_, js1, sig1 := goldenV(f, 1)
	f.Add(js1, sig1)
	f.Fuzz(func(t *testing.T, js, sig []byte) {
		rep, err := Open(js, sig, testVerifierKey)
		if err != nil {
			return
		}
		n, err := note.Open(append(append([]byte{}, js...), sig...), note.VerifierList(v))
		if err != nil {
			t.Fatalf("Open accepted what note.Open refuses: %v", err)
		}
		if re := reencode(t, rep); string(re) != n.Text {
			t.Fatalf("the accepted report is not the signed text:\n%s\n%s", re, n.Text)
		}
	})
}
