package e2e

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRankedCountVerifiedInBrowser drives the ranked count verifier page
// the way a member does: from the ballot's verifier page they follow the
// link to /verify-ranked, choose the files the scrutineer published for a
// ranked contest (the real folder crypto/testdata/ranked_count_v1: 24
// ballots, two mixings, trustees 1 and 3) and press the button: every
// ballot, mixing and unlocking checks out and the recount elects the
// published candidates. Then with mixer 2's proof tampered (the case of
// crypto/testdata/ranked_tamper_v1.json that Go and the JS tests share)
// the page names mixing 2, in English and in Welsh. The ballots and the
// mixings are checked in Web Workers and the page says how many ballots.
func TestRankedCountVerifiedInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)
	src := filepath.Join("..", "..", "crypto", "testdata", "ranked_count_v1")
	names := []string{"contest.json", "mix-1.list", "mix-1.proof", "mix-2.list", "mix-2.proof", "decrypt-1.bin", "decrypt-3.bin", "result.json"}
	honest := make([]string, len(names))
	for i, n := range names {
		p, err := filepath.Abs(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		honest[i] = p
	}
	// The tampered folder: the shared vector's "mixer 2" case.
	var vec struct {
		Cases []struct {
			Name  string            `json:"name"`
			Files map[string]string `json:"files"`
		} `json:"cases"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "crypto", "testdata", "ranked_tamper_v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vec); err != nil {
		t.Fatal(err)
	}
	var proof2 []byte
	for _, c := range vec.Cases {
		if strings.HasPrefix(c.Name, "mixer 2:") {
			if proof2, err = hex.DecodeString(c.Files["mix-2.proof"]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if proof2 == nil {
		t.Fatal("ranked_tamper_v1.json has no case tampering mixer 2's proof")
	}
	dir := t.TempDir()
	tampered := make([]string, len(names))
	for i, n := range names {
		data, err := os.ReadFile(honest[i])
		if err != nil {
			t.Fatal(err)
		}
		if n == "mix-2.proof" {
			data = proof2
		}
		tampered[i] = filepath.Join(dir, n)
		if err := os.WriteFile(tampered[i], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	o := newBrowser(t, "ranked-verifier")
	o.run(chromedp.Navigate(s.base+"/verify/"+electionID), chromedp.WaitVisible(`a[href="/verify-ranked"]`, chromedp.ByQuery))
	o.run(chromedp.Click(`a[href="/verify-ranked"]`, chromedp.ByQuery), chromedp.WaitVisible(`#ranked-start`, chromedp.ByID))
	o.axe("ranked verifier")
	outcome, text := o.rankedCheck(honest)
	if outcome != "ok" {
		t.Fatalf("the honest count: %s\n%s", outcome, text)
	}
	if !strings.Contains(text, "Elected: Candidate A; Candidate C") {
		t.Errorf("the page does not show the recount's elected candidates:\n%s", text)
	}
	if !strings.Contains(text, "Checked 24 of 24 ballots.") {
		t.Errorf("the page does not show how many ballots it checked:\n%s", text)
	}
	// The ballots and mixings were checked in Web Workers (issue 26), not in the page.
	var inWorkers string
	o.run(chromedp.Evaluate(`document.getElementById('ranked-verifier').dataset.inWorkers`, &inWorkers))
	if inWorkers == "" || inWorkers == "0" {
		t.Errorf("no batch of ballots or mixing was checked in a worker (data-in-workers %q)", inWorkers)
	}
	o.axe("ranked verifier passed")
	o.shot("01-ranked-verified")

	for _, tc := range []struct{ lang, want, progress string }{
		{"en", "Mixing 2: its proof does not check out", "Checked 24 of 24 ballots."},
		{"cy", "Cymysgu 2: nid yw ei brawf yn gywir", "Wedi gwirio 24 o 24 papur pleidleisio."},
	} {
		o.run(chromedp.Navigate(s.base+"/verify-ranked?lang="+tc.lang), chromedp.WaitVisible(`#ranked-start`, chromedp.ByID))
		outcome, text := o.rankedCheck(tampered)
		if outcome != "failed" {
			t.Fatalf("%s: a tampered mixing: %s\n%s", tc.lang, outcome, text)
		}
		var failures []string
		o.run(chromedp.Evaluate(`[...document.querySelectorAll('#ranked-failures li')].map((li) => li.textContent)`, &failures))
		if len(failures) != 1 || !strings.HasPrefix(failures[0], tc.want) {
			t.Errorf("%s: failures %q, want only %q…", tc.lang, failures, tc.want)
		}
		if !strings.Contains(text, tc.progress) {
			t.Errorf("%s: the page does not say %q:\n%s", tc.lang, tc.progress, text)
		}
		o.axe("ranked verifier failed (" + tc.lang + ")")
		o.shot("02-ranked-tampered-" + tc.lang)
	}
}

// rankedCheck chooses files on the ranked count verifier page, presses the
// button and waits for the outcome ("ok" or "failed") and the page's text.
func (b *browser) rankedCheck(files []string) (string, string) {
	b.t.Helper()
	b.run(chromedp.SetUploadFiles(`#ranked-files`, files, chromedp.ByID), chromedp.Click(`#ranked-start`, chromedp.ByID))
	var outcome string
	for deadline := time.Now().Add(90 * time.Second); outcome == ""; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.t.Fatal("the ranked count check did not finish in 90 s")
		}
		b.run(chromedp.Evaluate(`document.getElementById('ranked-verifier').dataset.outcome || ''`, &outcome))
	}
	var text string
	b.run(chromedp.Evaluate(`document.getElementById('ranked-verifier').innerText`, &text))
	return outcome, text
}
