package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/vote/votetest"
)

// styleCount is one workplace ballot's count as a page shows it: votes
// cast, then [Yes, No] of each question.
type styleCount struct {
	Name  string
	Votes int
	Q     [][]int
}

// TestResultPublishedAndVerified drives the result the way people do on a
// small real election: a member votes in the browser and four more through
// the HTTP API; the scrutineer (enrolled with a passkey) closes the ballot;
// two trustees decrypt and the scrutineer tallies and signs the report with
// cmd/scrutineer against the board URL; the scrutineer uploads the files on
// the publish page; the public result page shows the counts; an observer
// runs /verify/{e} and every check passes with the same totals. Then the
// board is made to serve a different result, re-signed with the
// scrutineer's key: the verifier names the failing check, in English and in
// Welsh.
func TestResultPublishedAndVerified(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	start := time.Now()
	s := startSite(t)
	ctx := context.Background()

	// The scrutineer tool is built while the members vote.
	tools := t.TempDir()
	bin := filepath.Join(tools, "scrutineer")
	var build sync.WaitGroup
	var buildOut []byte
	var buildErr error
	build.Go(func() {
		buildOut, buildErr = exec.Command("go", "build", "-o", bin, "github.com/unionvote/eballot/cmd/scrutineer").CombinedOutput()
	})

	// Member 1 (Cardiff Depot) votes in the browser: strike Yes, ASOS No.
	m := newBrowser(t, "result-member-1")
	m.signInBySMS(s, 1)
	m.fillAndReview()
	m.run(chromedp.Click(`#confirm`, chromedp.ByID))
	m.receiptCode()
	// Members 2–5 through the API (issuance, then the ledger's cast endpoint).
	s.castByAPI(t, map[int][][]int{
		2: {{1, 0}, {1, 0}}, // Swansea: Yes, Yes
		3: {{0, 1}, {0, 1}}, // Cardiff: No, No
		4: {{1, 0}, {0, 1}}, // Swansea: Yes, No
		5: {{1, 0}, {1, 0}}, // Cardiff: Yes, Yes
	})
	want := []styleCount{
		{"Cardiff Depot", 3, [][]int{{2, 1}, {1, 2}}},
		{"Swansea Depot", 2, [][]int{{2, 0}, {1, 1}}},
	}

	// The scrutineer enrols with a passkey and closes the ballot.
	_, link, err := s.auth.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleScrutineer, Name: "Demo Scrutineer"})
	if err != nil {
		t.Fatal(err)
	}
	sc := newBrowser(t, "result-scrutineer")
	sc.run(chromedp.Navigate(link), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery),
		chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`button[data-passkey=create]`, chromedp.ByQuery),
		chromedp.Click(`button[data-passkey=create][data-ready]`, chromedp.ByQuery))
	// Enrolled: sign in with the new passkey.
	sc.waitFor("staff sign-in", func(loc string) bool { return strings.HasSuffix(loc, "/staff/signin") })
	sc.run(chromedp.WaitVisible(`button[data-passkey=get]`, chromedp.ByQuery), chromedp.Click(`button[data-passkey=get][data-ready]`, chromedp.ByQuery))
	sc.waitFor("the staff home page", func(loc string) bool { return !strings.Contains(loc, "/signin") })
	ballotPage := fmt.Sprintf("%s/scrutineer/ballots/%d", s.base, s.ballotID)
	sc.run(chromedp.Navigate(ballotPage), chromedp.WaitVisible(`#confirm-close`, chromedp.ByID),
		chromedp.SendKeys(`#close-reason`, "Counting now: every member has voted.", chromedp.ByID),
		chromedp.SendKeys(`#confirm-close`, electionID, chromedp.ByID), chromedp.Submit(`#confirm-close`, chromedp.ByID))
	s.waitStatus(t, "closed")

	// Trustees 1 and 2 decrypt; the scrutineer tallies and signs.
	build.Wait()
	if buildErr != nil {
		t.Fatalf("build scrutineer: %v\n%s", buildErr, buildOut)
	}
	work := s.scrutineerFiles(t)
	boardURL := s.base + "/ledger/v1/" + electionID
	scrutineer := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("scrutineer %s: %v\n%s", args[0], err, out)
		}
		return string(out)
	}
	for _, j := range []string{"1", "2"} {
		scrutineer("decrypt", "--export", boardURL, "--index", j, "--key", "trustee-"+j+".key", "--passphrase-file", "passphrase",
			"--share", "share-"+j+".age", "--out", "partial-"+j+".json")
	}
	if out := scrutineer("tally", "--export", boardURL, "--out", "result.json", "partial-1.json", "partial-2.json"); !strings.Contains(out, "authorisations issued fetched") {
		t.Fatalf("tally did not use the service's issued counts:\n%s", out)
	}
	scrutineer("report", "--result", "result.json", "--key", "scrutineer.key.age", "--passphrase-file", "passphrase", "--out-dir", "report")

	// The scrutineer publishes on the result page.
	sc.run(chromedp.Navigate(fmt.Sprintf("%s/result", ballotPage)), chromedp.WaitVisible(`#publish-form`, chromedp.ByID))
	sc.axe("publish result")
	sc.shot("01-publish-form")
	sc.run(
		chromedp.SetUploadFiles(`#report`, []string{filepath.Join(work, "report", "report.json")}, chromedp.ByID),
		chromedp.SetUploadFiles(`#signature`, []string{filepath.Join(work, "report", "report.json.sig")}, chromedp.ByID),
		chromedp.SetUploadFiles(`#partials`, []string{filepath.Join(work, "partial-1.json"), filepath.Join(work, "partial-2.json")}, chromedp.ByID),
		chromedp.Click(`#publish-form button[type=submit]`, chromedp.ByQuery),
	)
	sc.waitFor("the published page", func(loc string) bool { return strings.Contains(loc, "done=published") })
	sc.axe("result published")
	sc.shot("02-published")
	s.waitStatus(t, "published")
	// After the close: the s.231B deadline, the notices and the request
	// log, in English and Welsh.
	for _, lang := range []string{"en", "cy"} {
		sc.run(chromedp.Navigate(ballotPage+"/after-close?lang="+lang), chromedp.WaitVisible(`dd.report-given`, chromedp.ByQuery))
		sc.axe("after the close " + lang)
	}

	// Anyone reads the result.
	o := newBrowser(t, "result-observer")
	o.run(chromedp.Navigate(s.base+"/results/"+electionID), chromedp.WaitVisible(`dd.votes-cast`, chromedp.ByQuery))
	var shown []styleCount
	o.run(chromedp.Evaluate(`[...document.querySelectorAll('section.card')].filter((s) => s.querySelector('dd.votes-cast')).map((s) => ({
		Name: s.querySelector('h3').textContent.trim(), Votes: +s.querySelector('dd.votes-cast').textContent,
		Q: [...s.querySelectorAll('table')].map((t) => [+t.querySelector('td.yes').textContent, +t.querySelector('td.no').textContent])}))`, &shown))
	if len(shown) != 3 || !reflect.DeepEqual(shown[:2], want) || shown[2].Votes != 5 {
		t.Fatalf("the result page shows %+v, want %+v and 5 votes in all", shown, want)
	}
	o.axe("public result")
	o.shot("01-result")

	// … and checks it in the browser: every check passes, same totals.
	o.run(chromedp.Click(`a[href="/verify/`+electionID+`"]`, chromedp.ByQuery), chromedp.WaitVisible(`#verify-start`, chromedp.ByID))
	o.axe("verifier")
	states, totals, _ := o.verify()
	for id, st := range states {
		switch {
		case id == "paper": // an online-only ballot has no paper section
			if st[0] != "skip" || st[1] != "not applicable" {
				t.Errorf("check paper: %s %q, want skip/not applicable; failures %v", st[0], st[1], st[2:])
			}
		case st[0] != "ok" || st[1] != "passed":
			t.Errorf("check %s: %s %q, want ok/passed; failures %v", id, st[0], st[1], st[2:])
		}
	}
	if len(states) != 8 {
		t.Errorf("%d groups of checks on the page, want 8", len(states))
	}
	// The ballots were checked in Web Workers (the worker bundle served
	// under the page's CSP), not in the page as a fallback.
	var inWorkers string
	o.run(chromedp.Evaluate(`document.getElementById('verifier').dataset.inWorkers`, &inWorkers))
	if inWorkers == "" || inWorkers == "0" {
		t.Errorf("batches of ballots checked in workers: %q, want at least 1", inWorkers)
	}
	if !reflect.DeepEqual(totals, want) {
		t.Fatalf("the verifier's decrypted totals %+v, want %+v (the result page's)", totals, want)
	}
	o.axe("verifier passed")
	o.shot("02-verified")

	// The board serves another result, signed with the scrutineer's key:
	// the signature verifies, the counts do not.
	js, sig := s.tamperedResult(t)
	o.intercept(map[string][]byte{"/ledger/v1/" + electionID + "/result": js, "/ledger/v1/" + electionID + "/result/signature": sig})
	for _, tc := range []struct{ lang, fail, text string }{
		{"en", "FAILED", `Cardiff Depot, question "strike", Yes: the result says 3, the ledger decrypts to 2`},
		{"cy", "METHODD", `Cardiff Depot, cwestiwn "strike", Yes: mae'r canlyniad yn dweud 3, mae'r cyfriflyfr yn dadgryptio i 2`},
	} {
		o.run(chromedp.Navigate(s.base+"/verify/"+electionID+"?lang="+tc.lang), chromedp.WaitVisible(`#verify-start`, chromedp.ByID))
		states, _, failed := o.verify()
		if !failed {
			t.Fatalf("%s: the verifier passed a result whose counts differ from the ledger's", tc.lang)
		}
		for id, st := range states {
			switch {
			case id == "result" && (st[0] != "bad" || st[1] != tc.fail || !contains(st[2:], tc.text)):
				t.Errorf("%s: check result: %s %q, failures %q, want %q named", tc.lang, st[0], st[1], st[2:], tc.text)
			case id == "paper" && st[0] != "skip":
				t.Errorf("%s: check paper: %s %v, want skip (no paper section)", tc.lang, st[0], st[2:])
			case id != "result" && id != "paper" && st[0] != "ok":
				t.Errorf("%s: check %s: %s %v, want ok (only the result differs)", tc.lang, id, st[0], st[2:])
			}
		}
		o.axe("verifier failed (" + tc.lang + ")")
		o.shot("03-tampered-" + tc.lang)
	}
	t.Logf("whole result path in %v", time.Since(start).Round(100*time.Millisecond))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitFor polls the page's location until ok.
func (b *browser) waitFor(what string, ok func(loc string) bool) {
	b.t.Helper()
	for deadline := time.Now().Add(navWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// The address changes when the navigation commits, before the new
		// page is parsed: wait for both, or a check of the page can run
		// on a document still loading.
		if ok(b.location()) && b.loaded() {
			return
		}
	}
	var text string
	b.run(chromedp.Evaluate(`document.body ? document.body.innerText : ""`, &text))
	b.t.Fatalf("never reached %s (at %s)\n%s", what, b.location(), text)
}

// loaded reports whether the page shown is parsed (document.readyState
// past "loading"); an evaluation that fails while a navigation replaces
// the document counts as not yet.
func (b *browser) loaded() bool {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	var state string
	return chromedp.Run(ctx, chromedp.Evaluate(`document.readyState`, &state)) == nil && state != "" && state != "loading"
}

// verify presses Start on the verifier page and waits for the outcome: each
// check's state, shown label and failures, the decrypted totals shown, and
// whether the page reports a failure.
func (b *browser) verify() (map[string][]string, []styleCount, bool) {
	b.t.Helper()
	b.run(chromedp.Click(`#verify-start`, chromedp.ByID))
	var done string
	for deadline := time.Now().Add(40 * time.Second); done == ""; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.t.Fatal("the verifier did not finish in 40 s")
		}
		b.run(chromedp.Evaluate(`!document.getElementById('verify-ok').hidden ? 'ok' : !document.getElementById('verify-failed').hidden ? 'failed' : ''`, &done))
	}
	var states map[string][]string
	var totals []styleCount
	b.run(
		chromedp.Evaluate(`Object.fromEntries([...document.querySelectorAll('#verify-checks > li')].map((li) => [li.id.slice(6),
			[li.dataset.state, li.querySelector('.check-state').textContent, ...[...li.querySelectorAll('.check-failures li')].map((f) => f.textContent)]]))`, &states),
		chromedp.Evaluate(`[...document.querySelectorAll('#verify-totals .verify-style')].map((s) => ({
			Name: s.querySelector('h3').textContent, Votes: +s.querySelector('.verify-ballots').textContent,
			Q: [...s.querySelectorAll('table')].map((t) => [...t.querySelectorAll('td')].map((td) => +td.textContent))}))`, &totals),
	)
	return states, totals, done == "failed"
}

// intercept makes the browser receive body instead of what the server
// sends for each path (Chrome's Fetch domain: a test-only man in the
// middle, as a compromised board or network would be).
func (b *browser) intercept(bodies map[string][]byte) {
	b.t.Helper()
	var patterns []*fetch.RequestPattern
	for p := range bodies {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: "*" + p, RequestStage: fetch.RequestStageRequest})
	}
	chromedp.ListenTarget(b.ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			c := chromedp.FromContext(b.ctx)
			ctx := cdp.WithExecutor(b.ctx, c.Target)
			path := e.Request.URL
			if i := strings.Index(path, "/ledger/"); i >= 0 {
				path = path[i:]
			}
			body, ok := bodies[path]
			if !ok {
				_ = fetch.ContinueRequest(e.RequestID).Do(ctx)
				return
			}
			_ = fetch.FulfillRequest(e.RequestID, 200).
				WithResponseHeaders([]*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}, {Name: "Cache-Control", Value: "no-store"}}).
				WithBody(base64.StdEncoding.EncodeToString(body)).Do(ctx)
		}()
	})
	b.run(fetch.Enable().WithPatterns(patterns))
}

// castByAPI votes for demo members (number → choices) as the voting page
// does, without a browser: a blind-signed authorisation from issuance, then
// the ballot and the authorisation to the ledger's cast endpoint.
func (s *site) castByAPI(t *testing.T, votes map[int][][]int) {
	t.Helper()
	ctx := context.Background()
	resp, err := http.Get(s.base + "/ledger/v1/" + electionID + "/manifest")
	if err != nil {
		t.Fatal(err)
	}
	mj, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	paper := votetest.NewPaper(t, mj)
	iss := issuance.New(s.pool, s.cfg.SecretKey)
	for n, choices := range votes {
		memberID := s.memberID(t, n)
		entry, err := register.NewStore(s.pool, s.cfg.SecretKey).Entry(ctx, nil, s.ballotID, memberID)
		if err != nil {
			t.Fatal(err)
		}
		styleID := entry.Style
		bb, sig := paper.Vote(t, paper.Style(styleID), choices, func(blinded []byte) ([]byte, error) {
			au, err := iss.Authorise(ctx, electionID, memberID, blinded)
			if err != nil {
				return nil, err
			}
			return au.BlindSignature, nil
		})
		body, _ := json.Marshal(map[string]string{"ballot": base64.StdEncoding.EncodeToString(bb), "authorisation": base64.StdEncoding.EncodeToString(sig)})
		resp, err := http.Post(s.base+"/ledger/v1/"+electionID+"/cast", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("cast for member %d: %s %s", n, resp.Status, out)
		}
	}
}

func (s *site) waitStatus(t *testing.T, want string) {
	t.Helper()
	var st string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := s.pool.QueryRow(context.Background(), `SELECT status FROM ballots WHERE id = $1`, s.ballotID).Scan(&st); err == nil && st == want {
			return
		}
	}
	t.Fatalf("ballot status %q, want %q", st, want)
}

// scrutineerFiles turns the demo's plain key material into the files a real
// trustee and scrutineer hold (passphrase-protected keys, shares encrypted
// to the trustee's key, as `scrutineer ceremony` and `keygen` write them;
// a low scrypt work factor keeps the test fast) and returns their folder.
func (s *site) scrutineerFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	const pass = "correct horse battery staple"
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	seal := func(data []byte, r age.Recipient) []byte {
		var buf bytes.Buffer
		aw := armor.NewWriter(&buf)
		w, err := age.Encrypt(aw, r)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
		aw.Close()
		return buf.Bytes()
	}
	withPass := func(data []byte) []byte {
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			t.Fatal(err)
		}
		r.SetWorkFactor(10)
		return seal(data, r)
	}
	write("passphrase", []byte(pass+"\n"))
	for _, j := range []string{"1", "2"} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		write("trustee-"+j+".key", withPass([]byte(id.String()+"\n")))
		h, err := os.ReadFile(filepath.Join(s.demoDir, "trustee-"+j+".share.hex"))
		if err != nil {
			t.Fatal(err)
		}
		share, err := hex.DecodeString(strings.TrimSpace(string(h)))
		if err != nil {
			t.Fatal(err)
		}
		write("share-"+j+".age", seal(share, id.Recipient()))
	}
	key, err := os.ReadFile(filepath.Join(s.demoDir, "scrutineer.key"))
	if err != nil {
		t.Fatal(err)
	}
	write("scrutineer.key.age", withPass(key))
	return dir
}

// tamperedResult is the published report with Cardiff Depot's strike Yes
// count raised by one, signed again with the demo scrutineer's key.
func (s *site) tamperedResult(t *testing.T) ([]byte, []byte) {
	t.Helper()
	resp, err := http.Get(s.base + "/ledger/v1/" + electionID + "/result")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rep, err := report.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	q := &rep.Result.Styles[0].Questions[0]
	if rep.Result.Styles[0].Name != "Cardiff Depot" || q.Counts[0].Count != 2 {
		t.Fatalf("published report: %+v", rep.Result.Styles[0])
	}
	q.Counts[0].Count++
	q.Yes++
	key, err := os.ReadFile(filepath.Join(s.demoDir, "scrutineer.key"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	js, sig, err := report.Sign(rep, signer)
	if err != nil {
		t.Fatal(err)
	}
	return js, sig
}
