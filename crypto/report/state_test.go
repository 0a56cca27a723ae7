package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/tally"
)

// TestStateRoundTrip: a state file read back gives the same manifest, sums
// (the same partial decryptions verify against them and decrypt to the same
// counts) and result as the verification it recorded.
func TestStateRoundTrip(t *testing.T) {
	b := load(t, "state-ballot")
	sum := sha256.Sum256([]byte("the export"))
	st, err := NewState(b.res, sum, 10)
	if err != nil {
		t.Fatal(err)
	}
	js, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseState(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.CheckExport(sum, 10); err != nil {
		t.Fatal(err)
	}
	m, el, sums, err := got.Open()
	if err != nil {
		t.Fatal(err)
	}
	if el.ManifestHash() != b.res.Election.ManifestHash() || m.ElectionID != "state-ballot" {
		t.Fatal("manifest differs")
	}
	pub, _ := tally.TrusteeKey(m)
	counts, bad, err := tally.Decrypt(pub, sums, b.partials)
	if err != nil || len(bad) > 0 {
		t.Fatalf("partials against the state's sums: %v %v", err, bad)
	}
	// The actual close, read again from the verified close (as `scrutineer
	// tally --state` does).
	counts.Paper, counts.ClosedAt = got.Paper, got.Verification.ClosedAt()
	r, err := tally.Compute(m, counts)
	if err != nil {
		t.Fatal(err)
	}
	rf := ResultFile{Version: Version, Result: r, Verification: got.Verification, Rejected: []RejectedTrust{}}
	if a, c := mustJSON(t, rf), mustJSON(t, b.rf); !bytes.Equal(a, c) {
		t.Fatalf("result from the state differs from the re-verified one:\n%s\n%s", a, c)
	}
	if st.Digest != got.Digest || !bytes.Equal(js, must(got.Marshal())) {
		t.Fatal("state does not re-encode to itself")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestStateTampered: a changed state file is refused by name (state.digest),
// a state of another export too (state.export), and a state whose digest was
// recomputed over different sums still decrypts to counts that the trustees'
// proofs do not support.
func TestStateTampered(t *testing.T) {
	b := load(t, "state-ballot")
	sum := sha256.Sum256([]byte("the export"))
	st, _ := NewState(b.res, sum, 10)
	js, _ := st.Marshal()

	// One sum swapped for another: the digest no longer holds.
	s0, s1 := st.Sums.Sums[0][0], st.Sums.Sums[0][1]
	bad := bytes.Replace(js, []byte(s0), []byte(s1), 1)
	if _, err := ParseState(bad); !errors.Is(err, ErrStateDigest) || !strings.Contains(err.Error(), "state.digest") {
		t.Fatalf("changed sums: %v", err)
	}
	// A count changed.
	bad = bytes.Replace(js, []byte(`"entries": 14`), []byte(`"entries": 15`), 1)
	if bytes.Equal(bad, js) {
		t.Fatal("test does not change the file")
	}
	if _, err := ParseState(bad); !errors.Is(err, ErrStateDigest) {
		t.Fatalf("changed entries: %v", err)
	}
	// The digest itself.
	bad = bytes.Replace(js, []byte(st.Digest), []byte(strings.Repeat("0", 64)), 1)
	if _, err := ParseState(bad); !errors.Is(err, ErrStateDigest) {
		t.Fatalf("changed digest: %v", err)
	}
	// A member added or missing: not a state file.
	if _, err := ParseState(bytes.Replace(js, []byte(`"closed": true,`), nil, 1)); !errors.Is(err, ErrStateDecode) {
		t.Fatalf("missing member: %v", err)
	}
	// Another export.
	got, err := ParseState(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.CheckExport(sha256.Sum256([]byte("another export")), 10); !errors.Is(err, ErrStateExport) || !strings.Contains(err.Error(), "state.export") {
		t.Fatalf("another export: %v", err)
	}
	if err := got.CheckExport(sum, 11); !errors.Is(err, ErrStateExport) {
		t.Fatalf("another length: %v", err)
	}

	// Sums changed and the digest recomputed (a forged state): the
	// trustees' partials, proved against the true sums, fail against it.
	forged := *st
	forged.Sums.Sums = [][]string{append([]string{s1, s0}, st.Sums.Sums[0][2:]...), st.Sums.Sums[1]}
	fj, _ := forged.Marshal()
	fs, err := ParseState(fj)
	if err != nil {
		t.Fatal(err)
	}
	m, _, sums, err := fs.Open()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := tally.TrusteeKey(m)
	if _, bad, _ := tally.Decrypt(pub, sums, b.partials); len(bad) == 0 {
		t.Fatal("partials of the true sums accepted against forged sums")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStateSumsStrict: sums that are not canonical group elements, or not
// one per option, are refused even under a valid digest.
func TestStateSumsStrict(t *testing.T) {
	b := load(t, "state-ballot")
	st, _ := NewState(b.res, sha256.Sum256(nil), 0)
	row := st.Sums.Sums[0]
	for name, r := range map[string][]string{
		"not canonical": append([]string{strings.Repeat("ff", 64)}, row[1:]...),
		"upper case":    append([]string{strings.ToUpper(row[0])}, row[1:]...),
		"one short":     row[1:],
	} {
		f := *st
		f.Sums.Sums = [][]string{r, st.Sums.Sums[1]}
		js, _ := f.Marshal()
		g, err := ParseState(js)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, _, _, err := g.Open(); !errors.Is(err, ErrStateDecode) || !errors.Is(err, tally.ErrSumsFile) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func FuzzParseState(f *testing.F) {
	b := load(f, "state-ballot")
	st, _ := NewState(b.res, sha256.Sum256(nil), 0)
	js, _ := st.Marshal()
	f.Add(js)
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParseState(in)
		if err != nil {
			return
		}
		if _, _, _, err := s.Open(); err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseState(out); err != nil {
			t.Fatalf("a state that opens does not re-parse: %v", err)
		}
	})
}
