package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/stv"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// unionRankings are n voters' rankings of six candidates, with a bias
// towards candidate 0 so that the count has surpluses and exclusions.
func unionRankings(n int) [][]int {
	rng := mrand.New(mrand.NewPCG(26, 1000))
	rs := make([][]int, n)
	for i := range rs {
		perm := rng.Perm(6)
		if rng.IntN(3) == 0 {
			j := slices.Index(perm, 0)
			perm[0], perm[j] = perm[j], perm[0]
		}
		rs[i] = perm[:1+rng.IntN(6)]
	}
	return rs
}

// TestUnionElectionPipeline1000 runs a union election (manifest version
// 2: a choose question and a ranked STV question of six candidates for
// three seats) of 1,000 ballots through the scrutineer from the export to
// the result, as the scrutineer and the trustees would: the ballots are
// encrypted into an export (fixture), `verify` checks it, two trustees mix
// the ranked ballots in turn straight from the export (`ranked mix
// --export`), two decrypt, `ranked count --export` counts and signs, and
// `verify --ranked` re-checks every shuffle and decryption proof and
// re-runs the count. The elected set and every stage equal crypto/stv's
// count of the same rankings in the clear with the same lot. Then a
// tampered shuffle, a wrong decryption and a ballot with an invalid
// ranking are each detected and named.
func TestUnionElectionPipeline1000(t *testing.T) {
	const ballots, seats = 1000, 3
	dir := t.TempDir()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	os.WriteFile(p("pass"), []byte("pw\n"), 0o600)
	clear := unionRankings(ballots)
	rj, _ := json.Marshal(clear)
	os.WriteFile(p("rankings.json"), rj, 0o644)
	out := ok(t, "fixture", "--rankings", p("rankings.json"), "--candidates", "6", "--seats", "3", "--rule", "ers97",
		"--independent-person", "Ruth Jones", "--out", p("export.jsonl"), "--secrets", p("s"), "--passphrase-file", p("pass"))
	if !strings.Contains(out, "union election of 1000 ballots") {
		t.Fatal(out)
	}
	if out := ok(t, "verify", p("export.jsonl")); !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "union_election") {
		t.Fatalf("verify: %s", out)
	}
	key := func(j int) []string {
		s := string(rune('0' + j))
		return []string{"--index", s, "--key", p("s", "trustee-"+s+".key"), "--share", p("s", "share-"+s+".age"), "--passphrase-file", p("pass")}
	}
	ex := []string{"--export", p("export.jsonl")}
	for m := 1; m <= 2; m++ {
		out := ok(t, append([]string{"ranked", "mix"}, ex...)...)
		if !strings.Contains(out, "Export verified: 1000 ballots counted; question \"executive\"") || !strings.Contains(out, "Shuffle "+string(rune('0'+m))) {
			t.Fatalf("mix %d: %s", m, out)
		}
	}
	for _, j := range []int{1, 3} {
		ok(t, append(append([]string{"ranked", "decrypt"}, ex...), key(j)...)...)
	}
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("sk.key"), "--passphrase-file", p("pass"))
	cd := p("executive") // the default folder: <export's folder>/<question id>
	out = ok(t, append([]string{"ranked", "count"}, append(ex, "--out", filepath.Join(cd, "result.json"), "--key", p("sk.key"),
		"--passphrase-file", p("pass"), "--markdown", p("count.md"))...)...)
	if !strings.Contains(out, "1000 ballots, 0 set aside, 2 shuffles and 2 trustees' decryptions verified") || !strings.Contains(out, "Result signed by scrutineers.example") {
		t.Fatalf("count: %s", out)
	}

	// The reference: crypto/stv's count of the same rankings in the clear,
	// with the lot of §9.7 (manifest hash ‖ SHA-256 of the final list).
	var got rankedResult
	rb, _ := os.ReadFile(filepath.Join(cd, "result.json"))
	if err := json.Unmarshal(rb, &got); err != nil {
		t.Fatal(err)
	}
	final, _ := os.ReadFile(filepath.Join(cd, "mix-2.list"))
	fh := sha256.Sum256(final)
	mh, _ := hex.DecodeString(got.ManifestHash)
	lot := stv.LotFromSeed(append(mh, fh[:]...), 6)
	ref := &stv.Election{Candidates: 6, Names: got.Candidates, Seats: seats, Lot: lot}
	for _, r := range clear {
		ref.Ballots = append(ref.Ballots, stv.Ballot{Weight: 1, Prefs: r})
	}
	want, err := stv.Count(stv.ERS97, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Count.Elected) != seats || !slices.Equal(got.Count.Elected, want.Elected) {
		t.Fatalf("elected %v, the count in the clear elects %v", got.Count.Elected, want.Elected)
	}
	gj, _ := json.Marshal(got.Count)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Fatal("the stages differ from the count in the clear")
	}
	if got.Ballots != ballots || got.Contest != 1 || got.IndependentPerson != "Ruth Jones" || got.Entitled == 0 || !slices.Equal(got.Trustees, []int{1, 3}) {
		t.Fatalf("result %+v", got)
	}
	t.Logf("elected %v in %d stages", got.Count.Elected, len(got.Count.Stages))

	// verify --ranked: every shuffle and decryption proof, and the count
	// re-run, reproducing the published result.
	out = ok(t, "verify", "--ranked", dir, p("export.jsonl"))
	if !strings.Contains(out, `VERIFIED question "executive": 1000 ballots, 2 shuffles`) || !strings.Contains(out, "reproduces") {
		t.Fatalf("verify --ranked: %s", out)
	}

	// A tampered shuffle: two rows of the second mixer's output swapped.
	copyDir(t, cd, p("t1", "executive"))
	l2, _ := os.ReadFile(p("t1", "executive", "mix-2.list"))
	w := len(l2[8:]) / ballots
	row0 := slices.Clone(l2[8 : 8+w])
	copy(l2[8:], l2[8+w:8+2*w])
	copy(l2[8+w:], row0)
	os.WriteFile(p("t1", "executive", "mix-2.list"), l2, 0o644)
	if code, out, _ := sh(t, "verify", "--ranked", p("t1"), p("export.jsonl")); code != 1 || !strings.Contains(out, `FAIL [ranked] question "executive"`) || !strings.Contains(out, "shuffle 2 of 2") {
		t.Fatalf("tampered shuffle: %d %s", code, out)
	}
	// A wrong decryption: trustee 3's decryption of the first mixer's list
	// given as its decryption of the final list.
	copyDir(t, cd, p("t2", "executive"), "mix-2.list", "mix-2.proof", "decrypt-1.bin", "decrypt-3.bin", "result.json")
	ok(t, append([]string{"ranked", "decrypt", "--export", p("export.jsonl"), "--dir", p("t2", "executive")}, key(3)...)...)
	wrong, _ := os.ReadFile(p("t2", "executive", "decrypt-3.bin"))
	copyDir(t, cd, p("t3", "executive"), "decrypt-3.bin")
	os.WriteFile(p("t3", "executive", "decrypt-3.bin"), wrong, 0o644)
	if code, out, _ := sh(t, "verify", "--ranked", p("t3"), p("export.jsonl")); code != 1 || !strings.Contains(out, "decryption by trustee 3") {
		t.Fatalf("wrong decryption: %d %s", code, out)
	}
}

// TestUnionElectionInvalidRanking: an export with a ballot whose ranked
// part does not prove a valid ranking (candidate 1 given candidate 0's
// encrypted rank) fails `scrutineer verify`, which names the entry, its
// tracker and the question; nothing is mixed from it.
func TestUnionElectionInvalidRanking(t *testing.T) {
	dir := t.TempDir()
	rs := unionRankings(8)
	f, err := fixture.New(fixture.Options{Styles: 1, Ranked: &fixture.Ranked{Candidates: 6, Seats: 2, Rule: "meek", Rankings: rs}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Election.Contest(1)
	var made []fixture.Made
	for i := range rs {
		st, marks := f.Choice(i)
		b, _, err := f.Election.Encrypt(rand.Reader, st, marks)
		if err != nil {
			t.Fatal(err)
		}
		bb, _ := b.MarshalBinary()
		if i == 5 {
			r0 := len(bb) - c.Size() + 39 + 64*6 // R_0 of the ranked part
			copy(bb[r0+64:r0+128], bb[r0:r0+64])
		}
		en, err := f.Authorise(st, bb)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, fixture.Made{Style: st, Entry: en})
	}
	xb, err := f.Export(made, fixture.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xp := filepath.Join(dir, "export.jsonl")
	os.WriteFile(xp, xb, 0o644)
	code, out, _ := sh(t, "verify", xp)
	if code != 1 || !strings.Contains(out, "FAIL [entry.proof] entry 5") || !strings.Contains(out, "invalid ranking: question 1 (executive)") {
		t.Fatalf("verify: %d %s", code, out)
	}
	if code, _, errs := sh(t, "ranked", "mix", "--export", xp); code != 1 || !strings.Contains(errs, "does not verify") {
		t.Fatalf("mix from an export that does not verify: %d %s", code, errs)
	}
}

// TestUnionElectionIndependentTrustee: a union election whose manifest
// names its s.51A independent person and the trustee whose key share the
// union's rules require (manifest independent_person, protocol 7). From
// the export, neither `ranked count` nor `ranked report` is made without
// that trustee's decryption, even with enough other trustees'; with it,
// the signed s.52 report names them and `check-result --export` recounts
// it from the export.
func TestUnionElectionIndependentTrustee(t *testing.T) {
	dir := t.TempDir()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	os.WriteFile(p("pass"), []byte("pw\n"), 0o600)
	rj, _ := json.Marshal(unionRankings(30))
	os.WriteFile(p("rankings.json"), rj, 0o644)
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("sk.key"), "--passphrase-file", p("pass"))
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("other.key"), "--passphrase-file", p("pass"))
	ok(t, "fixture", "--rankings", p("rankings.json"), "--candidates", "6", "--seats", "2", "--rule", "meek", "--scrutineer-key", p("sk.key.pub"),
		"--independent-person", "Ruth Jones", "--independent-trustee", "2", "--out", p("export.jsonl"), "--secrets", p("s"), "--passphrase-file", p("pass"))
	key := func(j int) []string {
		s := string(rune('0' + j))
		return []string{"--index", s, "--key", p("s", "trustee-"+s+".key"), "--share", p("s", "share-"+s+".age"), "--passphrase-file", p("pass")}
	}
	ex := []string{"--export", p("export.jsonl")}
	ok(t, append([]string{"ranked", "mix"}, ex...)...)
	for _, j := range []int{1, 3} {
		ok(t, append(append([]string{"ranked", "decrypt"}, ex...), key(j)...)...)
	}
	report := append([]string{"ranked", "report"}, append(ex, "--key", p("sk.key"), "--passphrase-file", p("pass"), "--date", "2026-12-07")...)
	for _, args := range [][]string{append([]string{"ranked", "count"}, ex...), report} {
		if code, _, errs := sh(t, args...); code != 1 || !strings.Contains(errs, "no decryption by trustee 2, the independent person Ruth Jones") {
			t.Fatalf("%s without trustee 2: %d %s", args[1], code, errs)
		}
	}
	ok(t, append(append([]string{"ranked", "decrypt"}, ex...), key(2)...)...)
	out := ok(t, report...)
	if !strings.Contains(out, "Independent person (s.51A): Ruth Jones, trustee 2") {
		t.Fatalf("ranked report: %s", out)
	}
	js, _ := os.ReadFile(p("executive", "election-report.json"))
	if !strings.Contains(string(js), `"question": "executive"`) || !strings.Contains(string(js), `"title": "Number the candidates in the order of your choice."`) {
		t.Fatalf("report: %s", js)
	}
	out = ok(t, append([]string{"check-result", "--key", p("sk.key.pub"), p("executive", "election-report.json")}, ex...)...)
	if !strings.Contains(out, "VERIFIED: the recount reproduces the signed count") {
		t.Fatalf("check-result --export: %s", out)
	}
	// verify --ranked checks the signed election report in the question's
	// folder with the key the manifest binds.
	out = ok(t, "verify", "--ranked", dir, p("export.jsonl"))
	if !strings.Contains(out, "The count reproduces the signed "+p("executive", "election-report.json")+" (signed by scrutineers.example)") {
		t.Fatalf("verify --ranked: %s", out)
	}
	// Signed by another key of the same name: refused.
	ok(t, append([]string{"ranked", "report"}, append(ex, "--key", p("other.key"), "--passphrase-file", p("pass"), "--out-dir", p("o"))...)...)
	for _, f := range []string{"election-report.json", "election-report.json.sig"} {
		b, _ := os.ReadFile(p("o", f))
		os.WriteFile(p("executive", f), b, 0o644)
	}
	code, out, _ := sh(t, "verify", "--ranked", dir, p("export.jsonl"))
	if code != 1 || !strings.Contains(out, `FAIL [ranked] question "executive": election-report.json: the signature does not verify`) {
		t.Fatalf("verify --ranked, report by another key: %d %s", code, out)
	}
}
