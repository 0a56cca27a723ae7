package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/internal/register"
)

// shots saves the page at 360 px (the phone) and at 1280 px (a laptop)
// to the artifacts directory, for people to look at.
func (b *browser) shots(name string) {
	b.t.Helper()
	name = strings.NewReplacer(" ", "-", "(", "", ")", "", "/", "-").Replace(name)
	b.shot(name + "-360")
	var png []byte
	b.run(emulation.SetDeviceMetricsOverride(1280, 800, 1, false), chromedp.Sleep(50*time.Millisecond),
		chromedp.FullScreenshot(&png, 100),
		emulation.SetDeviceMetricsOverride(360, 740, 2, true))
	_ = os.WriteFile(filepath.Join(b.artifacts, name+"-1280.png"), png, 0o644)
}

// text is the visible text of the page (closed <details> excluded).
func (b *browser) text() string {
	var s string
	b.run(chromedp.Evaluate(`document.body.innerText`, &s))
	return s
}

// jargon is what a member must never have to read (issue 22): the
// technical words stay one tap away, in <details>.
var jargon = regexp.MustCompile(`(?i)authoris|awdurdod|merkle|position in the ballot box|blind[- ]signature`)

// memberPage checks a member's page: axe, no jargon in the visible text,
// the language, and screenshots at both widths.
func (b *browser) memberPage(name, lang string) {
	b.t.Helper()
	b.axe(name)
	if m := jargon.FindString(b.text()); m != "" {
		b.t.Errorf("%s: a member reads %q", name, m)
	}
	var got string
	b.run(chromedp.Evaluate(`document.documentElement.lang`, &got))
	if got != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", name, got, lang)
	}
	b.shots(name)
}

// oneTapToPaper checks that the page has a link to the member's voting
// paper.
func (b *browser) oneTapToPaper(name string) {
	b.t.Helper()
	var n int
	b.run(chromedp.Evaluate(`document.querySelectorAll('main a[href="/vote/`+electionID+`"]').length`, &n))
	if n == 0 {
		b.t.Errorf("%s: no link to the voting paper", name)
	}
}

// memberID is the id of the demo ballot's member numbered D<n> (found
// through the number's blind index: numbers are sealed at rest).
func (s *site) memberID(t *testing.T, n int) int64 {
	t.Helper()
	id, err := register.NewStore(s.pool, s.cfg.SecretKey).MemberByNumber(context.Background(), s.ballotID, fmt.Sprintf("D%05d", n))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// expireSessions ages the member's sessions past their idle timeout, as if
// the phone had been put down on the review page for an hour.
func (s *site) expireSessions(t *testing.T, member int64) {
	if _, err := s.pool.Exec(context.Background(), `UPDATE auth_sessions SET last_seen_at = last_seen_at - interval '1 hour', created_at = created_at - interval '1 hour'
		WHERE member_id = $1`, member); err != nil {
		t.Fatal(err)
	}
}

// recorded is whether the member is in the marked register, and the
// number of ballots in the ledger.
func (s *site) recorded(t *testing.T, member int64) (marked bool, ballots int) {
	if err := s.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM marked_register WHERE member_id = $1),
		(SELECT count(*) FROM ledger_entries)`, member).Scan(&marked, &ballots); err != nil {
		t.Fatal(err)
	}
	return marked, ballots
}

// TestMemberJourneys walks issue 22's member journeys as members would, on
// a 360-px phone, in English (member 1, who adds a passkey) and in Welsh
// (member 2, who does not): every signed-in page leads to the paper in one
// tap; the session expires on the review page and Confirm says so, the
// member signs in again (passkey; or the personal link and a code) and
// is back on the same paper with the choices still there, unsent and
// unrecorded, then votes; the receipt counts from 1 and keeps the ledger's
// index one tap away. No page shows jargon; axe passes on each.
func TestMemberJourneys(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)
	for _, tc := range []struct {
		member  int
		lang    string
		passkey bool
		expired string // the expired-session message, in tc.lang
	}{
		{1, "en", true, "You were signed out"},
		{2, "cy", false, "Cawsoch eich allgofnodi"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := newBrowser(t, "journey-member-"+tc.lang)
			id := s.memberID(t, tc.member)
			_, before := s.recorded(t, id)
			link, mobile := s.invitation(t, tc.member)
			signIn := func(step string) {
				b.run(chromedp.Navigate(link+"?lang="+tc.lang), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery))
				b.memberPage(step+" invitation", tc.lang)
				b.run(chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#code`, chromedp.ByID))
				b.memberPage(step+" code", tc.lang)
				b.run(chromedp.SendKeys(`#code`, s.latestCode(t, mobile), chromedp.ByID), chromedp.Submit(`#code`, chromedp.ByID))
				b.waitPath("/auth/passkey")
				b.run(chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
				b.memberPage(step+" passkey offer", tc.lang)
				b.oneTapToPaper(step + " passkey offer")
			}
			signIn("1")
			if tc.passkey {
				b.run(chromedp.Click(`button[data-passkey=create][data-ready]`, chromedp.ByQuery))
				b.waitPath("/me")
				b.run(chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
				b.memberPage("me", tc.lang)
				b.oneTapToPaper("me")
			}
			// One tap: the paper.
			b.run(chromedp.Click(`main a[href="/vote/`+electionID+`"]`, chromedp.ByQuery), chromedp.WaitVisible(`#paper`, chromedp.ByID))
			b.memberPage("paper", tc.lang)
			b.run(chromedp.Click(`#q0o0`, chromedp.ByID), chromedp.Click(`#q1o1`, chromedp.ByID),
				chromedp.Click(`#paper button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#review`, chromedp.ByID))
			b.memberPage("review", tc.lang)

			// The phone is put down; the session expires; then Confirm.
			s.expireSessions(t, id)
			b.run(chromedp.Click(`#confirm`, chromedp.ByID), chromedp.WaitVisible(`#failed [data-error=not_signed_in]`, chromedp.ByQuery))
			if txt := b.text(); !strings.Contains(txt, tc.expired) || strings.Contains(txt, "refused") || strings.Contains(txt, "gwrthod") {
				t.Errorf("expired session at Confirm says:\n%s", txt)
			}
			var retry bool
			b.run(chromedp.Evaluate(`document.getElementById('retry').hidden`, &retry))
			if !retry {
				t.Error("the expired-session message offers to send again, which cannot work")
			}
			b.memberPage("session expired", tc.lang)
			if marked, n := s.recorded(t, id); marked || n != before {
				t.Fatalf("after the expired Confirm: marked %v, %d ballots in the ledger", marked, n)
			}

			// Sign in again, and back to the same paper.
			if tc.passkey {
				b.run(chromedp.Click(`#signin-again`, chromedp.ByID), chromedp.WaitVisible(`button[data-passkey=get]`, chromedp.ByQuery))
				b.memberPage("sign in again", tc.lang)
				b.run(chromedp.Click(`button[data-passkey=get][data-ready]`, chromedp.ByQuery))
				b.waitPath("/vote/" + electionID)
			} else {
				// No passkey: the personal link from the text, as the page says.
				signIn("2")
				b.run(chromedp.Click(`main a[href="/vote/`+electionID+`"]`, chromedp.ByQuery))
			}
			b.run(chromedp.WaitVisible(`#review`, chromedp.ByID), chromedp.WaitVisible(`#resumed`, chromedp.ByID))
			var ticked []bool
			b.run(chromedp.Evaluate(`['q0o0','q0o1','q1o0','q1o1'].map((id) => document.getElementById(id).checked)`, &ticked))
			if len(ticked) != 4 || !ticked[0] || ticked[1] || ticked[2] || !ticked[3] {
				t.Errorf("the paper came back with %v ticked, want strike Yes and action short of a strike No", ticked)
			}
			b.memberPage("back on the paper", tc.lang)
			if marked, n := s.recorded(t, id); marked || n != before {
				t.Fatalf("back on the paper: marked %v, %d ballots in the ledger", marked, n)
			}
			b.run(chromedp.Click(`#confirm`, chromedp.ByID))
			b.receiptCode()
			var index, tech string
			b.run(chromedp.Text(`#receipt-index`, &index, chromedp.ByID), chromedp.Click(`#receipt details summary`, chromedp.ByQuery),
				chromedp.Text(`#receipt-tech`, &tech, chromedp.ByID))
			if want := string(rune('1' + before)); index != want {
				t.Errorf("receipt: vote number %q, want %s (counted from 1)", index, want)
			}
			if !strings.Contains(tech, "("+string(rune('0'+before))+")") {
				t.Errorf("receipt's technical detail: %q, want the ledger index %d", tech, before)
			}
			b.run(chromedp.Click(`#receipt details summary`, chromedp.ByQuery))
			b.memberPage("receipt", tc.lang)
			if marked, n := s.recorded(t, id); !marked || n != before+1 {
				t.Fatalf("after the vote: marked %v, %d ballots", marked, n)
			}
			// The check page counts from 1 too.
			code := b.receiptCode()
			b.run(chromedp.Navigate(s.base+"/check/"+electionID), chromedp.WaitVisible(`#tracker`, chromedp.ByID),
				chromedp.SendKeys(`#tracker`, code, chromedp.ByID), chromedp.Click(`#check-form button[type=submit]`, chromedp.ByQuery),
				chromedp.WaitVisible(`#check-ok`, chromedp.ByID), chromedp.Text(`#check-index`, &index, chromedp.ByID))
			if want := string(rune('1' + before)); index != want {
				t.Errorf("check page: vote number %q, want %s", index, want)
			}
			b.memberPage("check my vote", tc.lang)
			// Signed in, with an open ballot: /me leads to the paper.
			b.run(chromedp.Navigate(s.base+"/me"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
			b.oneTapToPaper("me after voting")
		})
	}
	// The public verifier page: plain names, the technical check one tap away.
	b := newBrowser(t, "journey-verifier")
	for _, lang := range langs {
		b.run(chromedp.Navigate(s.base+"/verify/"+electionID+"?lang="+lang), chromedp.WaitVisible(`#verify-checks`, chromedp.ByID))
		b.memberPage("verifier "+lang, lang)
	}
}
