package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompactCount: a practice ballot of compact yes/no ballots (protocol
// 7, ballot version 3) is verified, decrypted by two trustees and counted
// through the CLI, and every count is the fixture's marks (ballot i: style
// i mod 2; Yes when i mod 7 < 4, No when 4 or 5, blank otherwise).
func TestCompactCount(t *testing.T) {
	dir := t.TempDir()
	p := func(f string) string { return filepath.Join(dir, f) }
	os.WriteFile(p("pass"), []byte("pw\n"), 0o600)
	const n = 30
	ok(t, "fixture", "--compact", "--ballots", fmt.Sprint(n), "--checkpoint-every", "7", "--out", p("e.jsonl"), "--secrets", p("s"), "--passphrase-file", p("pass"))
	if out := ok(t, "verify", p("e.jsonl")); !strings.Contains(out, "VERIFIED") {
		t.Fatal(out)
	}
	for _, j := range []int{1, 2} {
		out := ok(t, "decrypt", "--export", p("e.jsonl"), "--index", fmt.Sprint(j), "--key", p(fmt.Sprintf("s/trustee-%d.key", j)),
			"--share", p(fmt.Sprintf("s/share-%d.age", j)), "--passphrase-file", p("pass"), "--out", p(fmt.Sprintf("p%d.json", j)))
		// One sum a style for the compact question, not one an option.
		if !strings.Contains(out, "Partial decryption of 2 sums") {
			t.Fatal(out)
		}
	}
	ok(t, "tally", "--export", p("e.jsonl"), "--out", p("r.json"), p("p1.json"), p("p2.json"))
	raw, err := os.ReadFile(p("r.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Result struct {
			Styles []struct {
				Questions []struct {
					Yes, No, Spoilt int64
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	var want [2][3]int64
	for i := range n {
		switch i % 7 {
		case 0, 1, 2, 3:
			want[i%2][0]++
		case 4, 5:
			want[i%2][1]++
		default:
			want[i%2][2]++
		}
	}
	if len(r.Result.Styles) != 2 {
		t.Fatalf("%s", raw)
	}
	for s, st := range r.Result.Styles {
		q := st.Questions[0]
		if got := [3]int64{q.Yes, q.No, q.Spoilt}; got != want[s] {
			t.Errorf("workplace %d: yes, no, spoilt %v, want %v", s+1, got, want[s])
		}
	}
}
