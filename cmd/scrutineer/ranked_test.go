package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/stv"
)

// copyDir copies the files of a folder (not sub-folders) into a new one.
func copyDir(t *testing.T, from, to string, skip ...string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.IsDir() || slices.Contains(skip, e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRankedPipeline1000 runs an STV election of 1,000 ranked ballots
// through the scrutineer as trustees would: test trustees (a 2-of-3 key
// ceremony), the ballots encrypted with their proofs, one of them replaced
// by a ballot with an invalid ranking (two candidates given the same
// preference), a shuffle by each of the three trustees in turn (each
// verifying the ballots and the shuffles before it), partial decryptions
// by trustees 1 and 3, and the count. The elected candidates and every
// stage equal a reference count of the same rankings in the clear (the
// invalid ballot left out), for ERS97 and Meek; `--expect` reproduces the
// published result. Then a tampered shuffle, a wrong decryption and a
// dropped ballot are each detected and named.
func TestRankedPipeline1000(t *testing.T) {
	const ballots, n, seats, invalid = 1000, 6, 3, 500 // invalid: 1-based
	dir := t.TempDir()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	os.WriteFile(p("pass"), []byte("pw\n"), 0o600)
	ok(t, "fixture", "--ballots", "1", "--out", p("yesno.jsonl"), "--secrets", p("s"), "--passphrase-file", p("pass"))

	// Voters: a bias towards candidate 0 so that the count has surpluses
	// and exclusions.
	rng := mrand.New(mrand.NewPCG(1000, 26))
	clear := make([][]int, ballots)
	for i := range clear {
		perm := rng.Perm(n)
		if rng.IntN(3) == 0 {
			j := slices.Index(perm, 0)
			perm[0], perm[j] = perm[j], perm[0]
		}
		clear[i] = perm[:1+rng.IntN(n)]
	}
	rj, _ := json.Marshal(clear)
	os.WriteFile(p("rankings.json"), rj, 0o644)
	os.MkdirAll(p("c"), 0o755)
	contest := p("c", "contest.json")
	ok(t, "ranked", "fixture", "--trustees", p("s", "trustees.json"), "--rankings", p("rankings.json"),
		"--candidates", "6", "--seats", "3", "--out", contest)

	// Ballot 500: R_1 replaced by R_0, so candidates 0 and 1 have the same
	// rank (or 1 has rank 0's and 0 none): not a ranking. Its proofs fail.
	var rc rankedContest
	cb, _ := os.ReadFile(contest)
	if err := json.Unmarshal(cb, &rc); err != nil {
		t.Fatal(err)
	}
	bb, _ := hex.DecodeString(rc.Ballots[invalid-1])
	r0 := 39 + 64*n // after the header and the B_j
	copy(bb[r0+64:r0+128], bb[r0:r0+64])
	rc.Ballots[invalid-1] = hex.EncodeToString(bb)
	cb, _ = json.Marshal(&rc)
	os.WriteFile(contest, cb, 0o644)
	valid := slices.Delete(slices.Clone(clear), invalid-1, invalid)

	key := func(j int) []string {
		return []string{"--index", string(rune('0' + j)), "--key", p("s", "trustee-"+string(rune('0'+j))+".key"),
			"--share", p("s", "share-"+string(rune('0'+j))+".age"), "--passphrase-file", p("pass")}
	}
	// Nothing is decrypted or counted before the ballots are mixed.
	if code, _, errs := sh(t, append([]string{"ranked", "decrypt", "--contest", contest}, key(1)...)...); code != 1 || !strings.Contains(errs, "must be mixed") {
		t.Fatalf("decrypt before the mix: %d %s", code, errs)
	}
	for t0 := 1; t0 <= 3; t0++ {
		out := ok(t, "ranked", "mix", "--contest", contest)
		if !strings.Contains(out, "ballot 500 set aside: invalid ranking") || !strings.Contains(out, "Shuffle "+string(rune('0'+t0))) {
			t.Fatalf("mix %d: %s", t0, out)
		}
	}
	if code, _, errs := sh(t, "ranked", "count", "--contest", contest); code != 1 || !strings.Contains(errs, "0 trustees' decryptions, the count needs 2") {
		t.Fatalf("count without decryptions: %d %s", code, errs)
	}
	for _, j := range []int{1, 3} {
		ok(t, append([]string{"ranked", "decrypt", "--contest", contest}, key(j)...)...)
	}
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("sk.key"), "--passphrase-file", p("pass"))
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("other.key"), "--passphrase-file", p("pass"))
	out := ok(t, "ranked", "count", "--contest", contest, "--out", p("c", "result.json"), "--key", p("sk.key"), "--passphrase-file", p("pass"),
		"--entitled", "2000", "--markdown", p("count.md"))
	if !strings.Contains(out, "ballot 500 set aside: invalid ranking") || !strings.Contains(out, "1000 ballots, 1 set aside, 3 shuffles and 2 trustees' decryptions verified") ||
		!strings.Contains(out, "Result signed by scrutineers.example") {
		t.Fatalf("count: %s", out)
	}

	// The reference count: the same rankings in the clear, the same lot
	// (drawn from the manifest hash and the final list, protocol §9.7).
	final, _ := os.ReadFile(p("c", "mix-3.list"))
	fh := sha256.Sum256(final)
	mh, _ := hex.DecodeString(rc.ManifestHash)
	lot := stv.LotFromSeed(append(mh, fh[:]...), n)
	reference := func(rule stv.Rule) *stv.Result {
		e := &stv.Election{Candidates: n, Names: rc.Candidates, Seats: seats, Lot: lot}
		for _, r := range valid {
			e.Ballots = append(e.Ballots, stv.Ballot{Weight: 1, Prefs: r})
		}
		res, err := stv.Count(rule, e)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	check := func(file string, rule stv.Rule) {
		var got rankedResult
		b, _ := os.ReadFile(file)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		want := reference(rule)
		if len(got.Count.Elected) != seats || !slices.Equal(got.Count.Elected, want.Elected) {
			t.Fatalf("%s: elected %v, the count in the clear elects %v", rule, got.Count.Elected, want.Elected)
		}
		gj, _ := json.Marshal(got.Count)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("%s: the stages differ from the count in the clear", rule)
		}
		if len(got.Spoilt) != 1 || got.Spoilt[0].Ballot != invalid || got.Ballots != ballots || len(got.Trustees) < 2 {
			t.Fatalf("%s: result %+v", rule, got)
		}
		t.Logf("%s: elected %v in %d stages", rule, got.Count.Elected, len(got.Count.Stages))
	}
	check(p("c", "result.json"), stv.ERS97)
	// The count stage by stage, for the report to members.
	mdb, _ := os.ReadFile(p("count.md"))
	md := string(mdb)
	if !strings.Contains(md, "Ballots: 1000. Spoilt: 1. Valid papers: 999. Entitled to vote: 2000. Turnout: 50.0%.") ||
		!strings.Contains(md, "| "+rc.Candidates[0]+" | ") || strings.Count(md, " elected |") != seats || !strings.Contains(md, "- ballot 500: invalid ranking") {
		t.Fatalf("count.md:\n%s", md)
	}
	// Anyone re-runs the count and gets the published result exactly, and
	// checks the scrutineer's signature on it.
	if out := ok(t, "ranked", "count", "--contest", contest, "--entitled", "2000", "--expect", p("c", "result.json"), "--signed-by", p("sk.key.pub")); !strings.Contains(out, "reproduces") ||
		!strings.Contains(out, "signature by scrutineers.example is good") {
		t.Fatalf("count --expect: %s", out)
	}
	if code, _, errs := sh(t, "ranked", "count", "--contest", contest, "--entitled", "2000", "--expect", p("c", "result.json"), "--signed-by", p("other.key.pub")); code != 1 || !strings.Contains(errs, "signature does not verify") {
		t.Fatalf("count --expect with another key: %d %s", code, errs)
	}
	// A result that was altered is named.
	rb, _ := os.ReadFile(p("c", "result.json"))
	os.WriteFile(p("altered.json"), bytes.Replace(rb, []byte(`"ballots": 1000`), []byte(`"ballots": 999`), 1), 0o644)
	if code, _, errs := sh(t, "ranked", "count", "--contest", contest, "--entitled", "2000", "--expect", p("altered.json")); code != 1 || !strings.Contains(errs, "does not reproduce") || !strings.Contains(errs, `ballots\": 999`) {
		t.Fatalf("count --expect of an altered result: %d %s", code, errs)
	}
	// The same ballots under Meek's method (the union's rules choose).
	rc.Rule = stv.Meek
	mb, _ := json.Marshal(&rc)
	os.WriteFile(p("c", "contest-meek.json"), mb, 0o644)
	ok(t, "ranked", "count", "--contest", p("c", "contest-meek.json"), "--out", p("meek.json"))
	check(p("meek.json"), stv.Meek)

	// A tampered shuffle: two rows of the second mixer's output swapped.
	copyDir(t, p("c"), p("t1"))
	l2, _ := os.ReadFile(p("t1", "mix-2.list"))
	w := len(l2[8:]) / (ballots - 1) // bytes a row
	row0, row1 := slices.Clone(l2[8:8+w]), slices.Clone(l2[8+w:8+2*w])
	copy(l2[8:], row1)
	copy(l2[8+w:], row0)
	os.WriteFile(p("t1", "mix-2.list"), l2, 0o644)
	if code, _, errs := sh(t, "ranked", "count", "--contest", p("t1", "contest.json")); code != 1 || !strings.Contains(errs, "shuffle 2 of 3") {
		t.Fatalf("tampered shuffle: %d %s", code, errs)
	}
	// A mixer who drops a ballot is named too.
	copyDir(t, p("c"), p("t2"))
	l3, _ := os.ReadFile(p("t2", "mix-3.list"))
	l3 = l3[:len(l3)-w]
	binary.BigEndian.PutUint32(l3[2:], ballots-2)
	os.WriteFile(p("t2", "mix-3.list"), l3, 0o644)
	if code, _, errs := sh(t, "ranked", "count", "--contest", p("t2", "contest.json")); code != 1 || !strings.Contains(errs, "shuffle 3 of 3") {
		t.Fatalf("dropped ballot: %d %s", code, errs)
	}

	// A wrong decryption: trustee 3's decryption of the second mixer's
	// list (proofs valid for other ciphertexts) given as its decryption of
	// the final list.
	copyDir(t, p("c"), p("t3"), "mix-3.list", "mix-3.proof", "decrypt-1.bin", "decrypt-3.bin")
	ok(t, append([]string{"ranked", "decrypt", "--contest", p("t3", "contest.json")}, key(3)...)...)
	copyDir(t, p("c"), p("t4"), "decrypt-3.bin")
	wrong, _ := os.ReadFile(p("t3", "decrypt-3.bin"))
	os.WriteFile(p("t4", "decrypt-3.bin"), wrong, 0o644)
	if code, _, errs := sh(t, "ranked", "count", "--contest", p("t4", "contest.json")); code != 1 ||
		!strings.Contains(errs, "decryption by trustee 3") || !strings.Contains(errs, "row 0, column 0") {
		t.Fatalf("wrong decryption: %d %s", code, errs)
	}

	// Where the union's rules require the independent person's key share
	// (s.51A), the count waits for their decryption, and names them.
	rc.Rule = stv.ERS97
	rc.IndependentPerson = &independentPerson{Name: "Ruth Jones", Trustee: 2}
	ib, _ := json.Marshal(&rc)
	os.WriteFile(p("c", "contest-ip.json"), ib, 0o644)
	if code, _, errs := sh(t, "ranked", "count", "--contest", p("c", "contest-ip.json")); code != 1 ||
		!strings.Contains(errs, "no decryption by trustee 2, the independent person Ruth Jones") {
		t.Fatalf("count without the independent person: %d %s", code, errs)
	}
	ok(t, append([]string{"ranked", "decrypt", "--contest", p("c", "contest-ip.json")}, key(2)...)...)
	ok(t, "ranked", "count", "--contest", p("c", "contest-ip.json"), "--out", p("ip.json"), "--markdown", p("ip.md"))
	var ipr rankedResult
	b, _ := os.ReadFile(p("ip.json"))
	json.Unmarshal(b, &ipr)
	mdb, _ = os.ReadFile(p("ip.md"))
	if ipr.IndependentPerson != "Ruth Jones" || !slices.Equal(ipr.Trustees, []int{1, 2, 3}) || !strings.Contains(string(mdb), "Independent person (s.51A): Ruth Jones.") {
		t.Fatalf("result with the independent person: %+v\n%s", ipr, mdb)
	}
	check(p("ip.json"), stv.ERS97)
}

func TestMarkdownCell(t *testing.T) {
	if got := mdCell("A | B\n<script>&"); got != `A \| B &lt;script&gt;&amp;` {
		t.Fatalf("mdCell: %q", got)
	}
}

// TestRankedCountPublished re-runs the count of the published contest
// folder crypto/testdata/ranked_count_v1 (made with `scrutineer ranked
// fixture`, two `ranked mix`, `ranked decrypt` by trustees 1 and 3 and
// `ranked count --entitled 50`; see crypto/testdata/README.md) and checks
// that it reproduces the published result exactly: the browser verifier's
// recount (crypto/js/test/rankedcount.test.mjs) is checked on the same files.
func TestRankedCountPublished(t *testing.T) {
	dir := filepath.Join("..", "..", "crypto", "testdata", "ranked_count_v1")
	out := ok(t, "ranked", "count", "--contest", filepath.Join(dir, "contest.json"), "--entitled", "50", "--expect", filepath.Join(dir, "result.json"))
	if !strings.Contains(out, "24 ballots, 0 set aside, 2 shuffles and 2 trustees' decryptions verified") || !strings.Contains(out, "reproduces") {
		t.Fatalf("count: %s", out)
	}
}

// TestRankedCountTampered runs `scrutineer ranked count --expect` on each
// tampered copy of the published folder in
// crypto/testdata/ranked_tamper_v1.json (shared with crypto/ranked and the
// browser's recount): the count fails, naming the mixer whose shuffle
// fails first, the trustee (row, column) whose decryption is wrong, or the
// ballot set aside for an invalid ranking.
func TestRankedCountTampered(t *testing.T) {
	src := filepath.Join("..", "..", "crypto", "testdata", "ranked_count_v1")
	var v struct {
		Cases []struct {
			Name    string            `json:"name"`
			Files   map[string]string `json:"files"`
			Ballots map[string]string `json:"ballots"`
			Expect  struct {
				SetAside    []int `json:"set_aside"`
				Shuffles    []int `json:"shuffles"`
				Decryptions []struct {
					Trustee, Row, Column int
				} `json:"decryptions"`
			} `json:"expect"`
		} `json:"cases"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "crypto", "testdata", "ranked_tamper_v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	tampered := 0
	for _, tc := range v.Cases {
		if tc.Name == "honest" {
			continue
		}
		tampered++
		t.Run(tc.Name, func(t *testing.T) {
			dir := t.TempDir()
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				data, err := os.ReadFile(filepath.Join(src, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if h, ok := tc.Files[e.Name()]; ok {
					if data, err = hex.DecodeString(h); err != nil {
						t.Fatal(err)
					}
				}
				if e.Name() == "contest.json" && len(tc.Ballots) > 0 {
					var rc map[string]any
					if err := json.Unmarshal(data, &rc); err != nil {
						t.Fatal(err)
					}
					ballots := rc["ballots"].([]any)
					for k, h := range tc.Ballots {
						i, _ := strconv.Atoi(k)
						ballots[i-1] = h
					}
					if data, err = json.Marshal(rc); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errs := sh(t, "ranked", "count", "--contest", filepath.Join(dir, "contest.json"), "--entitled", "50", "--expect", filepath.Join(dir, "result.json"))
			if code == 0 {
				t.Fatalf("the count of a tampered folder passed:\n%s", out)
			}
			var want []string
			for _, s := range tc.Expect.SetAside {
				want = append(want, fmt.Sprintf("ballot %d set aside: invalid ranking", s))
			}
			if len(tc.Expect.Shuffles) > 0 {
				want = append(want, fmt.Sprintf("shuffle %d of 2", tc.Expect.Shuffles[0]))
			}
			for _, d := range tc.Expect.Decryptions {
				want = append(want, fmt.Sprintf("decryption by trustee %d: shuffle: invalid partial decryption: trustee %d, row %d, column %d", d.Trustee, d.Trustee, d.Row, d.Column))
			}
			if len(want) == 0 {
				t.Fatal("the vector names nothing")
			}
			for _, w := range want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("%q not named:\nstdout:\n%s\nstderr:\n%s", w, out, errs)
				}
			}
		})
	}
	if tampered < 4 {
		t.Fatalf("%d tampered cases", tampered)
	}
}

// TestRankedReportPipeline runs a small STV election through the
// scrutineer as the trustees and the scrutineer would, to its signed
// result and s.52 report: test trustees (2 of 3), 40 ranked ballots of five
// candidates, one with an invalid ranking (a spoilt paper), an independent
// person (s.51A) holding trustee 3's share, two shuffles, decryptions,
// `ranked report` (JSON, signature, English and Welsh Markdown, HTML) and
// `check-result`, which checks the signature and, with --contest, recounts.
// The report is refused before the independent person's decryption, and a
// changed report, another key and a recount that differs are each named.
func TestRankedReportPipeline(t *testing.T) {
	const ballots, n = 40, 5
	dir := t.TempDir()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	os.WriteFile(p("pass"), []byte("pw\n"), 0o600)
	ok(t, "fixture", "--ballots", "1", "--out", p("yesno.jsonl"), "--secrets", p("s"), "--passphrase-file", p("pass"))
	rng := mrand.New(mrand.NewPCG(40, 52))
	clear := make([][]int, ballots)
	for i := range clear {
		clear[i] = rng.Perm(n)[:1+rng.IntN(n)]
	}
	rj, _ := json.Marshal(clear)
	os.WriteFile(p("rankings.json"), rj, 0o644)
	contest := p("c", "contest.json")
	os.MkdirAll(p("c"), 0o755)
	ok(t, "ranked", "fixture", "--trustees", p("s", "trustees.json"), "--rankings", p("rankings.json"), "--candidates", "5", "--seats", "2",
		"--independent-person", "Ruth Jones, Independent Counts Ltd", "--independent-trustee", "3", "--out", contest)
	// Ballot 7 gets an invalid ranking: it is set aside, a spoilt paper.
	var rc rankedContest
	cb, _ := os.ReadFile(contest)
	if err := json.Unmarshal(cb, &rc); err != nil {
		t.Fatal(err)
	}
	bb, _ := hex.DecodeString(rc.Ballots[6])
	r0 := 39 + 64*n
	copy(bb[r0+64:r0+128], bb[r0:r0+64])
	rc.Ballots[6] = hex.EncodeToString(bb)
	cb, _ = json.Marshal(&rc)
	os.WriteFile(contest, cb, 0o644)
	key := func(j int) []string {
		return []string{"--index", string(rune('0' + j)), "--key", p("s", "trustee-"+string(rune('0'+j))+".key"),
			"--share", p("s", "share-"+string(rune('0'+j))+".age"), "--passphrase-file", p("pass")}
	}
	ok(t, "ranked", "mix", "--contest", contest)
	ok(t, "ranked", "mix", "--contest", contest)
	ok(t, append([]string{"ranked", "decrypt", "--contest", contest}, key(1)...)...)
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("sk.key"), "--passphrase-file", p("pass"))
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("other.key"), "--passphrase-file", p("pass"))
	report := []string{"ranked", "report", "--contest", contest, "--key", p("sk.key"), "--passphrase-file", p("pass"), "--out-dir", p("r"),
		"--entitled", "60", "--date", "2026-12-07", "--scrutineer", "Jane Scrutineer", "--title", "President",
		"--register-inspected", "--register-particulars", "at my own instance", "--not-satisfied-b", "a trustee kept a share on a shared computer"}
	// s.51A: not before the independent person's decryption.
	if code, _, errs := sh(t, report...); code != 1 || !strings.Contains(errs, "no decryption by trustee 3, the independent person Ruth Jones") {
		t.Fatalf("report without the independent person's share: %d %s", code, errs)
	}
	if _, err := os.Stat(p("r", "election-report.json")); err == nil {
		t.Fatal("a refused report was written")
	}
	ok(t, append([]string{"ranked", "decrypt", "--contest", contest}, key(3)...)...)
	out := ok(t, report...)
	if !strings.Contains(out, "President: 60 papers distributed, 40 returned (turnout 66.66%), 1 spoilt.") ||
		!strings.Contains(out, "Independent person (s.51A): Ruth Jones, Independent Counts Ltd, trustee 3") || !strings.Contains(out, "s.52(2)(b) satisfied: no") {
		t.Fatalf("ranked report: %s", out)
	}
	// The signed count is the count of the same rankings in the clear
	// (ballot 7 left out), with the lot the tool drew.
	js, _ := os.ReadFile(p("r", "election-report.json"))
	var rep struct {
		Count struct {
			Spoilt     []spoilt    `json:"spoilt"`
			ValidVotes []string    `json:"valid_votes"`
			Elected    []int       `json:"elected"`
			Lot        []int       `json:"lot"`
			STV        *stv.Result `json:"stv"`
		} `json:"count"`
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatal(err)
	}
	el := &stv.Election{Candidates: n, Seats: 2, Lot: rep.Count.Lot}
	for i, r := range clear {
		if i != 6 {
			el.Ballots = append(el.Ballots, stv.Ballot{Weight: 1, Prefs: r})
		}
	}
	want, err := stv.Count(stv.ERS97, el)
	if err != nil {
		t.Fatal(err)
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(rep.Count.STV)
	if !bytes.Equal(wj, gj) || !slices.Equal(rep.Count.Elected, want.Elected) || !slices.Equal(rep.Count.ValidVotes, want.Stages[0].Votes) ||
		len(rep.Count.Spoilt) != 1 || rep.Count.Spoilt[0].Ballot != 7 {
		t.Fatalf("the signed count is not the count in the clear:\n%s\n%s\n%+v", gj, wj, rep.Count.Spoilt)
	}
	en, _ := os.ReadFile(p("r", "election-report.md"))
	cy, _ := os.ReadFile(p("r", "election-report.cy.md"))
	ht, _ := os.ReadFile(p("r", "election-report.html"))
	for _, w := range []string{"# President", "Voting papers distributed (s.52(1)(a)) | 60", "Spoilt or otherwise invalid papers (s.52(1)(d)) | 1",
		"- 7: invalid ranking", "holds the key share of trustee 3", "examine the copy supplied? **yes**", "- at my own instance"} {
		if !strings.Contains(string(en), w) {
			t.Errorf("English report has no %q", w)
		}
	}
	for _, w := range []string{"Papurau pleidleisio a ddychwelwyd (adran 52(1)(b)) | 40", "Mae'r craffwr yn fodlon: **nac ydy**", "yn dal rhan allwedd ymddiriedolwr 3"} {
		if !strings.Contains(string(cy), w) {
			t.Errorf("Welsh report has no %q", w)
		}
	}
	if !strings.Contains(string(ht), `lang="cy"`) || !strings.Contains(string(ht), `lang="en"`) {
		t.Error("the HTML report is not in both languages")
	}

	// check-result: the signature, then with --contest the recount.
	pub := p("sk.key.pub")
	out = ok(t, "check-result", "--key", pub, p("r", "election-report.json"))
	if !strings.Contains(out, "GOOD signature by scrutineers.example on the election result") || !strings.Contains(out, "NOT CHECKED: the count was not recounted") {
		t.Fatalf("check-result: %s", out)
	}
	out = ok(t, "check-result", "--key", pub, "--contest", contest, p("r", "election-report.json"))
	if !strings.Contains(out, "VERIFIED: the recount reproduces the signed count") {
		t.Fatalf("check-result --contest: %s", out)
	}
	if code, _, errs := sh(t, "check-result", "--key", p("other.key.pub"), p("r", "election-report.json")); code != 1 || !strings.Contains(errs, "signature does not verify") {
		t.Fatalf("other key: %d %s", code, errs)
	}
	copyDir(t, p("r"), p("r2"))
	os.WriteFile(p("r2", "election-report.json"), bytes.Replace(js, []byte(`"papers_returned": 40`), []byte(`"papers_returned": 39`), 1), 0o644)
	if code, _, errs := sh(t, "check-result", "--key", pub, p("r2", "election-report.json")); code != 1 || !strings.Contains(errs, "signature does not verify") {
		t.Fatalf("changed report: %d %s", code, errs)
	}
	// Another trustee's decryption added after the report: the recount
	// is made with other decryptions, and the difference is named.
	ok(t, append([]string{"ranked", "decrypt", "--contest", contest}, key(2)...)...)
	code, out, errs := sh(t, "check-result", "--key", pub, "--contest", contest, p("r", "election-report.json"))
	if code != 1 || !strings.Contains(out, "FAIL [election report] count.decrypted_by") || !strings.Contains(errs, "does not reproduce the signed election report") {
		t.Fatalf("recount with other decryptions: %d %s %s", code, out, errs)
	}
}
