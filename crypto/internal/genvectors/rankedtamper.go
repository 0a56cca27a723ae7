package main

// The tampered ranked counts (protocol §9.5–§9.7): ranked_tamper_v1.json,
// edits of the published contest folder ranked_count_v1/ that a verifier
// of a ranked count must detect and name: a mixer's shuffle (its proof, or
// its list), a trustee's decryption, a ballot that does not prove a valid
// ranking. Each case changes files of the folder (or one ballot of
// contest.json) byte for byte, deterministically, and says what must be
// named: the ballots set aside (1-based, as `scrutineer ranked` numbers
// them), the mixers whose shuffle fails when each is checked against the
// list the mixer before published (1-based), and the trustees' decryptions
// that fail (trustee, row, column of the first failing proof). Checked by
// crypto/ranked TestTamperVectors and crypto/js/test/rankedcount.test.mjs.

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
)

type tamperExpect struct {
	SetAside    []int           `json:"set_aside"`
	Shuffles    []int           `json:"shuffles"`
	Decryptions []tamperDecrypt `json:"decryptions"`
}

type tamperDecrypt struct {
	Trustee int `json:"trustee"`
	Row     int `json:"row"`
	Column  int `json:"column"`
}

type tamperCase struct {
	Name    string            `json:"name"`
	Files   map[string]string `json:"files"`   // file of the folder → hex of its new bytes
	Ballots map[string]string `json:"ballots"` // 1-based ballot of contest.json → hex of its new bytes
	Expect  tamperExpect      `json:"expect"`
}

func genRankedTamper(dir string) any {
	folder := "ranked_count_v1"
	read := func(name string) []byte { return get(os.ReadFile(filepath.Join(dir, folder, name))) }
	var contest struct {
		Candidates []string `json:"candidates"`
		Ballots    []string `json:"ballots"`
	}
	must(json.Unmarshal(read("contest.json"), &contest))
	n := len(contest.Candidates)
	ok := tamperExpect{SetAside: []int{}, Shuffles: []int{}, Decryptions: []tamperDecrypt{}}
	with := func(f func(e *tamperExpect)) tamperExpect {
		e := ok
		f(&e)
		return e
	}
	cases := []tamperCase{{Name: "honest", Files: map[string]string{}, Ballots: map[string]string{}, Expect: ok}}

	// Mixer 2's proof with s_1 and s_2 swapped: canonical scalars, check
	// t_1 fails. The proof is 8 + 32·(5N + 3w + 6) bytes: C, Ĉ (N each),
	// t_1…t_3, t_4 (2w), t̂ (N), then s_1, s_2, … (protocol §9.4).
	p2 := read("mix-2.proof")
	rows := int(uint32(p2[2])<<24 | uint32(p2[3])<<16 | uint32(p2[4])<<8 | uint32(p2[5]))
	w := int(p2[6])<<8 | int(p2[7])
	s1 := 8 + 32*(3*rows+3+2*w)
	swap(p2[s1:s1+32], p2[s1+32:s1+64])
	cases = append(cases, tamperCase{Name: "mixer 2: the proof's s_1 and s_2 swapped", Files: map[string]string{"mix-2.proof": hx(p2)},
		Ballots: map[string]string{}, Expect: with(func(e *tamperExpect) { e.Shuffles = []int{2} })})

	// Mixer 1's list with rows 0 and 1 swapped: mixer 1's proof no
	// longer holds for its output, nor mixer 2's for its input.
	l1 := read("mix-1.list")
	row := 64 * w
	swap(l1[8:8+row], l1[8+row:8+2*row])
	cases = append(cases, tamperCase{Name: "mixer 1: rows 1 and 2 of its list swapped", Files: map[string]string{"mix-1.list": hx(l1)},
		Ballots: map[string]string{}, Expect: with(func(e *tamperExpect) { e.Shuffles = []int{1, 2} })})

	// Trustee 3's decryption share of row 5 replaced by that of row 6: a
	// valid point, a false proof. A partial (after the u32 length of the
	// first part) is u8 version ‖ u8 kind ‖ manifest hash ‖ u16 trustee ‖
	// u32 count, then D (32) and its DLEQ proof (96) per ciphertext.
	d3 := read("decrypt-3.bin")
	at := func(x int) int { return 12 + 40 + 128*x }
	copy(d3[at(5*w):at(5*w)+32], append([]byte(nil), d3[at(6*w):at(6*w)+32]...))
	cases = append(cases, tamperCase{Name: "trustee 3: the decryption share of row 5 replaced by row 6's", Files: map[string]string{"decrypt-3.bin": hx(d3)},
		Ballots: map[string]string{}, Expect: with(func(e *tamperExpect) { e.Decryptions = []tamperDecrypt{{Trustee: 3, Row: 5, Column: 0}} })})

	// Ballot 7 with candidates 1 and 2's rank ciphertexts R_0 and R_1
	// swapped: every ciphertext valid, the ranking proof false (§9.1).
	// The ballot is set aside, so the mix input has a row fewer than
	// mixer 1's list.
	b7 := get(hex.DecodeString(contest.Ballots[6]))
	r0 := 39 + 64*n
	swap(b7[r0:r0+64], b7[r0+64:r0+128])
	cases = append(cases, tamperCase{Name: "ballot 7: the rank ciphertexts of candidates 1 and 2 swapped", Files: map[string]string{},
		Ballots: map[string]string{"7": hx(b7)}, Expect: with(func(e *tamperExpect) { e.SetAside = []int{7}; e.Shuffles = []int{1} })})

	return struct {
		Description string       `json:"description"`
		Folder      string       `json:"folder"`
		Cases       []tamperCase `json:"cases"`
	}{
		Description: "Tampered ranked counts: edits of the published folder ranked_count_v1/ (crypto/testdata/README.md) that a verifier must name",
		Folder:      folder, Cases: cases,
	}
}

// swap exchanges the bytes of two equal-length, non-overlapping slices.
func swap(a, b []byte) {
	t := append([]byte(nil), a...)
	copy(a, b)
	copy(b, t)
}
