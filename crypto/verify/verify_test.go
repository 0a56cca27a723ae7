package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

type fx struct {
	el  *fixture.Election
	exp []byte
	n   int
}

var (
	fixtures   = map[int]*fx{}
	fixturesMu sync.Mutex
)

// load builds (once per size) an election of n ballots across 2 workplaces,
// 3 trustees, threshold 2.
func load(t testing.TB, n int) *fx {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[n]; f != nil {
		return f
	}
	// Workplace 1 reaches 50% turnout, workplace 2 does not.
	el, err := fixture.New(fixture.Options{}, []int64{int64(n), int64(2 * n)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := el.WriteExport(context.Background(), &buf, n, fixture.WriteOptions{CheckpointEvery: 100}); err != nil {
		t.Fatal(err)
	}
	f := &fx{el, buf.Bytes(), n}
	fixtures[n] = f
	return f
}

func run(t testing.TB, exp []byte) *verify.Result {
	t.Helper()
	res, err := verify.Verify(context.Background(), bytes.NewReader(exp), verify.Options{Batch: 64})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestFullElection: 3 trustees, threshold 2, 1,000 ballots across 2
// workplaces; every pair of trustees gives the plaintext counts; a wrong
// partial is detected and its trustee named.
func TestFullElection(t *testing.T) {
	f := load(t, 1000)
	res := run(t, f.exp)
	if !res.OK() {
		t.Fatalf("valid export fails: %v", res.Failures)
	}
	if res.Entries != 1000 || res.Checkpoints != 11 {
		t.Fatalf("entries %d checkpoints %d", res.Entries, res.Checkpoints)
	}
	alphas := res.Sums.Alphas()
	mh := res.Election.ManifestHash()
	pub, err := tally.TrusteeKey(res.Manifest)
	if err != nil || !pub.Equal(f.el.Public) {
		t.Fatalf("trustee key: %v", err)
	}
	partials := make([]*threshold.Partial, 3)
	for j := 1; j <= 3; j++ {
		if partials[j-1], err = threshold.PartialDecrypt(rand.Reader, pub, f.el.Shares[j-1], mh[:], alphas); err != nil {
			t.Fatal(err)
		}
	}
	want := f.el.Expected(1000)
	var first []byte
	for _, pair := range [][2]int{{1, 2}, {1, 3}, {2, 3}} {
		c, bad, err := tally.Decrypt(pub, res.Sums, []*threshold.Partial{partials[pair[0]-1], partials[pair[1]-1]})
		if err != nil || len(bad) != 0 {
			t.Fatalf("pair %v: %v %v", pair, err, bad)
		}
		for s := range 2 {
			if got := [2]int64{int64(c.Count(s, 0, 0)), int64(c.Count(s, 0, 1))}; got != [2]int64{want[s][0], want[s][1]} {
				t.Fatalf("pair %v style %d: got %v want %v", pair, s, got, want[s])
			}
		}
		r, err := tally.Compute(res.Manifest, c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Styles[0].Questions[0].Spoilt != want[0][2] || r.Styles[1].Questions[0].Spoilt != want[1][2] {
			t.Fatalf("spoilt: %+v", r.Styles)
		}
		if !*r.Styles[0].TurnoutMet || *r.Styles[1].TurnoutMet {
			t.Fatalf("turnout: %s %s", r.Styles[0].Turnout, r.Styles[1].Turnout)
		}
		if r.MandateExpires != "2027-12-14" {
			t.Fatalf("mandate expires %s", r.MandateExpires)
		}
		r.Trustees = nil
		b, _ := json.Marshal(r)
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("pairs disagree")
		}
	}

	// Trustee 2 publishes a wrong partial (a different D for one sum).
	wrong, _ := threshold.PartialDecrypt(rand.Reader, pub, f.el.Shares[1], mh[:], alphas)
	wrong.D[0] = wrong.D[1]
	c, bad, err := tally.Decrypt(pub, res.Sums, []*threshold.Partial{partials[0], wrong, partials[2]})
	if err != nil || len(bad) != 1 || bad[0].Trustee != 2 || !strings.Contains(bad[0].Error(), "trustee 2") {
		t.Fatalf("wrong partial not named: %v %v", err, bad)
	}
	if c.Count(0, 0, 0) != uint64(want[0][0]) {
		t.Fatal("counts with the two good partials")
	}
	// One byte of trustee 3's published partial (in a DLEQ proof's z) changed.
	pj, _ := partials[2].MarshalJSON()
	i := bytes.Index(pj, []byte(`"proof":"`)) + len(`"proof":"`) + 2*64 + 1 // low nibble of z's first byte
	if pj[i] == '0' {
		pj[i] = '1'
	} else {
		pj[i] = '0'
	}
	var p3 threshold.Partial
	if err := p3.UnmarshalJSON(pj); err != nil {
		t.Fatalf("z stays canonical: %v", err)
	}
	_, bad, err = tally.Decrypt(pub, res.Sums, []*threshold.Partial{partials[0], partials[1], &p3})
	if err != nil || len(bad) != 1 || bad[0].Trustee != 3 || !strings.Contains(bad[0].Error(), "partial decryption of trustee 3 is wrong: DLEQ proof") {
		t.Fatalf("tampered partial: %v %v", err, bad)
	}
	// With only the wrong one and one good one, there are not enough.
	if _, _, err := tally.Decrypt(pub, res.Sums, []*threshold.Partial{partials[0], wrong}); err == nil {
		t.Fatal("tally with one valid partial")
	}
}

func lines(exp []byte) [][]byte { return bytes.SplitAfter(exp, []byte("\n")) }

func join(ls [][]byte) []byte { return bytes.Join(ls, nil) }

// editEntry decodes the entry line l, applies fn to its bytes, and
// re-encodes the line (canonical JSON, as the format writes it).
func editEntry(t *testing.T, l []byte, fn func([]byte)) []byte {
	var e map[string]any
	if err := json.Unmarshal(l, &e); err != nil || e["type"] != "entry" {
		t.Fatalf("not an entry line: %s", l)
	}
	raw, _ := base64.StdEncoding.DecodeString(e["entry"].(string))
	fn(raw)
	e["entry"] = base64.StdEncoding.EncodeToString(raw)
	b, _ := json.Marshal(e)
	c, err := manifest.Canonicalize(b)
	if err != nil {
		t.Fatal(err)
	}
	return append(c, '\n')
}

// TestTamper changes one byte in each part of the export and checks that
// verification fails naming the check and the item. (The tamper corpus,
// crypto/testdata/tamper_v2.json, covers every field of every record in
// both verifiers; these are the cases of a streaming 40-ballot file.)
func TestTamper(t *testing.T) {
	f := load(t, 40)
	ls := lines(f.exp)
	// Layout: 0 header, 1 manifest, 2 checkpoint 0, 3.. entries (with
	// checkpoints every 100: none here), the last checkpoint, the close,
	// the end.
	entryLine := 3 + 7 // entry 7
	cpLine := len(ls) - 4
	closeLine := len(ls) - 3
	endLine := len(ls) - 2
	if !bytes.Contains(ls[entryLine], []byte(`"index":7,`)) || !bytes.HasSuffix(ls[cpLine], []byte(`"size":40,"type":"checkpoint"}`+"\n")) ||
		!bytes.HasSuffix(ls[closeLine], []byte(`"size":40,"type":"close"}`+"\n")) {
		t.Fatalf("unexpected layout")
	}
	flip := func(line int, at func(l []byte) int) []byte {
		c := make([][]byte, len(ls))
		copy(c, ls)
		l := append([]byte(nil), ls[line]...)
		i := at(l)
		// Change a hex or base64 character to another valid one of both.
		switch {
		case l[i] == '9':
			l[i] = '0'
		case l[i] == 'f':
			l[i] = 'a'
		case l[i] >= '0' && l[i] <= '8', l[i] >= 'a' && l[i] <= 'e', l[i] >= 'A' && l[i] <= 'Y':
			l[i]++
		default:
			l[i] = 'B'
		}
		c[line] = l
		return join(c)
	}
	after := func(key string, off int) func(l []byte) int {
		return func(l []byte) int { return bytes.Index(l, []byte(key)) + len(key) + off }
	}
	entry := func(fn func([]byte)) []byte {
		c := make([][]byte, len(ls))
		copy(c, ls)
		c[entryLine] = editEntry(t, ls[entryLine], fn)
		return join(c)
	}
	sig := bytes.Index(ls[cpLine], []byte("\u2014 "))
	cases := []struct {
		name  string
		exp   []byte
		check string
		want  string
	}{
		{"header manifest_hash", flip(0, after(`"manifest_hash":"`, 5)), verify.CheckManifestHash, "manifest: SHA-256 of the manifest"},
		{"header format", flip(0, after(`"format":"`, 0)), verify.CheckHeaderVersion, "format"},
		{"manifest byte", flip(1, after(`"manifest":"`, 40)), verify.CheckManifestHash, "manifest: SHA-256 of the manifest"},
		{"manifest JSON spacing", bytes.Replace(f.exp, []byte(`{"manifest":"`), []byte(`{"manifest": "`), 1), verify.CheckFileLine, "line 2"},
		{"entry tracker byte", entry(func(b []byte) { b[3] ^= 1 }), verify.CheckEntryTracker, "entry 7 (tracker"},
		{"entry authorisation byte", entry(func(b []byte) { b[100] ^= 1 }), verify.CheckEntryAuthorisation, "authorisation (blind signature) does not verify"},
		{"entry ballot α the identity", entry(func(b []byte) { clear(b[320+39 : 320+39+32]) }), verify.CheckEntryBallot, "entry 7"},
		{"proof byte", entry(func(b []byte) { b[320+39+64+64] ^= 1 }), verify.CheckEntryProof, "invalid proof"},
		{"entry index", bytes.Replace(f.exp, []byte(`"index":7,`), []byte(`"index":8,`), 1), verify.CheckFileOrder, "entry index 8, want 7"},
		{"entry style", bytes.Replace(ls[entryLine], []byte(`"style":1,`), []byte(`"style":0,`), 1), "", ""},
		{"checkpoint root (hash)", flip(cpLine, after(`"root":"`, 3)), verify.CheckCheckpointLine, "checkpoint 40"},
		{"checkpoint note size", bytes.Replace(f.exp, []byte(`"note":"eballot/fixture-ballot\n40\n`), []byte(`"note":"eballot/fixture-ballot\n41\n`), 1), verify.CheckCheckpointSignature, "checkpoint 40"},
		{"checkpoint signature", flip(cpLine, func(l []byte) int { return sig + 40 }), verify.CheckCheckpointSignature, "checkpoint 40"},
		{"close signature", flip(closeLine, func(l []byte) int { return bytes.Index(l, []byte("\u2014 ")) + 40 }), verify.CheckCheckpointSignature, "close 40"},
		{"close without its closed line", bytes.Replace(f.exp, ls[closeLine], bytes.Replace(ls[closeLine], []byte(`"type":"close"`), []byte(`"type":"close"`), 1), 1), "", ""},
		{"end root (hash)", flip(endLine, after(`"root":"`, 10)), verify.CheckEndRoot, "end: root"},
		{"end style count", bytes.Replace(f.exp, []byte(`"style_counts":[20,20]`), []byte(`"style_counts":[21,20]`), 1), verify.CheckEndStyleCounts, "end: style_counts"},
		{"truncated", f.exp[:len(f.exp)-len(ls[endLine])], verify.CheckFileEnd, "file ends before the end line"},
		{"missing entry", join(append(append([][]byte{}, ls[:entryLine]...), ls[entryLine+1:]...)), verify.CheckFileOrder, "entry index 8, want 7"},
		{"duplicate entry", func() []byte {
			c := append([][]byte{}, ls[:entryLine+1]...)
			c = append(c, bytes.Replace(ls[entryLine], []byte(`"index":7`), []byte(`"index":8`), 1))
			c = append(c, ls[entryLine+2:]...)
			return join(c)
		}(), verify.CheckEntryDupTracker, "duplicate tracker (also entry 7)"},
	}
	// The recorded style of entry 7 changed (style 1 → 0).
	c := append([][]byte{}, ls...)
	c[entryLine] = bytes.Replace(ls[entryLine], []byte(`"style":1,`), []byte(`"style":0,`), 1)
	cases[9].exp, cases[9].check, cases[9].want = join(c), verify.CheckEntryStyle, "the ledger recorded style 0"
	// The close's note without its "closed" line (re-signed by the ledger key).
	cl := receipt.Checkpoint{Origin: receipt.Origin(f.el.Manifest.ElectionID), Size: 40}
	var tb receipt.TreeBuilder
	for _, l := range ls[3 : 3+40] {
		var e map[string]any
		_ = json.Unmarshal(l, &e)
		raw, _ := base64.StdEncoding.DecodeString(e["entry"].(string))
		tb.Append(raw)
	}
	cl.Root = tb.Root()
	note, _ := f.el.SignCheckpoint(cl)
	nl, _ := json.Marshal(map[string]any{"type": "close", "size": 40, "root": fmt.Sprintf("%x", cl.Root[:]), "note": string(note)})
	nl, _ = manifest.Canonicalize(nl)
	c = append([][]byte{}, ls...)
	c[closeLine] = append(nl, '\n')
	cases[14].exp, cases[14].check, cases[14].want = join(c), verify.CheckCheckpointText, "does not say \"closed\""
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if bytes.Equal(c.exp, f.exp) {
				t.Fatal("tamper did nothing")
			}
			res := run(t, c.exp)
			if res.OK() {
				t.Fatal("tampered export verifies")
			}
			var all []string
			for _, fl := range res.Failures {
				all = append(all, fl.String())
			}
			if s := strings.Join(all, "\n"); !strings.Contains(s, c.want) || !slices.Contains(res.Failed(), c.check) {
				t.Fatalf("want %s %q in:\n%s", c.check, c.want, s)
			}
		})
	}
}

// TestOverEntitled: more ballots than entitled or authorisations issued.
func TestCounts(t *testing.T) {
	f := load(t, 40)
	res, _ := verify.Verify(context.Background(), bytes.NewReader(f.exp), verify.Options{Issued: []int64{19, 20}})
	if res.OK() || !strings.Contains(fmt.Sprint(res.Failures), "20 ballots but only 19 authorisations issued") {
		t.Fatalf("%v", res.Failures)
	}
}
