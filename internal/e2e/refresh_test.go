package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/internal/auth"
)

// refreshText waits for the contact-refresh text to demo member n's mobile
// (the running service's outbox worker sends it) and returns the link in
// it and the mobile.
func (s *site) refreshText(t *testing.T, n int) (string, string) {
	t.Helper()
	ctx := context.Background()
	mobile := s.mobile(t, s.memberID(t, n))
	deadline := time.Now().Add(navWait)
	for {
		var body string
		err := s.pool.QueryRow(ctx, `SELECT body FROM sms_outbox WHERE to_number = $1 AND body LIKE '%/r/%' ORDER BY id DESC LIMIT 1`, mobile).Scan(&body)
		if err == nil {
			l := regexp.MustCompile(`http://\S+/r/[A-Za-z0-9_-]{43}`).FindString(body)
			if l == "" {
				t.Fatal("no link in the refresh text")
			}
			return l, mobile
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refresh text to member %d: %v", n, err)
		}
		time.Sleep(200 * time.Millisecond) // polling the outbox for the worker's send
	}
}

// weight is the bytes the browser fetched for the page shown (the page
// and every resource it loaded), as sent over the wire.
func (b *staffBrowser) weight() int {
	var n int
	b.run(chromedp.Evaluate(`performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
		.reduce((a, e) => a + (e.transferSize || e.encodedBodySize || 0), 0)`, &n))
	return n
}

// TestRefreshInBrowser runs a contact-refresh campaign on 360-px phones:
// the organiser (passkey sign-in) sees the coverage page in English and
// Welsh, makes a mistake in the campaign form (Welsh) and starts the
// campaign; the running service texts every member a personal link. One
// member opens it in Welsh, sends a malformed postcode (the message sits
// beside the field), then a new mobile, enters a wrong code and then the
// code texted to the new number: the number changes and the old one gets
// a notice. Another confirms in English in one tap, and the link then
// says it was used. The member's page weighs under 30 KB; every page
// passes axe and does not scroll sideways; the dashboard counts both.
func TestRefreshInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSiteWith(t, map[string]string{"EBALLOT_GOTV_QUIET_HOURS": "00:00-24:00"}, nil)
	ctx := context.Background()
	var unionID int64
	var members int
	if err := s.pool.QueryRow(ctx, `SELECT union_id FROM ballots WHERE id = $1`, s.ballotID).Scan(&unionID); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE union_id = $1`, unionID).Scan(&members); err != nil {
		t.Fatal(err)
	}

	org := &staffBrowser{browser: newBrowser(t, "refresh-organiser"), base: s.base}
	org.enrol(s, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: unionID, Name: "Refresh Organiser", Mobile: "+447700900983"}, "en")
	org.both("refresh dashboard", "/organiser/refresh")
	org.formError("refresh campaign", "/organiser/refresh", "cy", "#privacy_url",
		chromedp.SendKeys(`#privacy_url`, "http://union.example/privacy", chromedp.ByID))
	org.run(chromedp.Navigate(s.base+"/organiser/refresh?lang=en"), chromedp.WaitVisible(`#privacy_url`, chromedp.ByID),
		chromedp.SendKeys(`#privacy_url`, "https://union.example/privacy", chromedp.ByID),
		chromedp.Click(`#start`, chromedp.ByID))
	org.waitFor("the campaign page", func(loc string) bool { return strings.Contains(loc, "/organiser/refresh/campaigns/") })
	org.run(chromedp.WaitVisible(`#c-members`, chromedp.ByID))
	org.check("refresh campaign en", "en", 200)

	// Member 1, in Welsh: a wrong postcode, then a new mobile verified by
	// its code.
	link, old := s.refreshText(t, 1)
	m := &staffBrowser{browser: newBrowser(t, "refresh-member"), base: s.base}
	m.run(chromedp.Navigate(link+"?lang=cy"), chromedp.WaitVisible(`#confirm`, chromedp.ByID))
	m.check("refresh member cy", "cy", 200)
	if w := m.weight(); w == 0 || w > 30*1024 {
		t.Errorf("the member's page weighs %d bytes, want under 30 KB", w)
	}
	var shown string
	m.run(chromedp.Text(`#held-mobile`, &shown, chromedp.ByID))
	if strings.Contains(shown, old[3:]) || !strings.HasSuffix(shown, old[len(old)-3:]) {
		t.Errorf("the mobile is shown as %q, want it masked", shown)
	}
	m.run(chromedp.Click(`#change summary`, chromedp.ByQuery), chromedp.WaitVisible(`#postcode`, chromedp.ByID),
		chromedp.SendKeys(`#address`, "2 Heol Isaf\nCaerdydd", chromedp.ByID),
		chromedp.SendKeys(`#postcode`, "XX", chromedp.ByID),
		chromedp.Click(`#save`, chromedp.ByID), chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery))
	m.errorState("refresh member postcode", "cy", "#postcode", 400)
	const newMobile = "+447911123456"
	m.run(chromedp.Evaluate(`document.getElementById("postcode").value = ""`, nil), chromedp.SendKeys(`#postcode`, "CF10 2BB", chromedp.ByID),
		chromedp.SendKeys(`#mobile`, "07911 123456", chromedp.ByID),
		chromedp.Click(`#save`, chromedp.ByID), chromedp.WaitVisible(`#code`, chromedp.ByID))
	m.check("refresh verify cy", "cy", 200)
	m.run(chromedp.SendKeys(`#code`, "000000", chromedp.ByID), chromedp.Submit(`#code`, chromedp.ByID),
		chromedp.WaitVisible(`#code-error`, chromedp.ByID))
	m.errorState("refresh verify wrong code", "cy", "#code", 400)
	code := s.latestCode(t, newMobile)
	m.run(chromedp.Evaluate(`document.getElementById("code").value = ""`, nil), chromedp.SendKeys(`#code`, code, chromedp.ByID),
		chromedp.Submit(`#code`, chromedp.ByID), chromedp.WaitVisible(`#done`, chromedp.ByID))
	m.check("refresh done cy", "cy", 200)
	var now string
	var notices int
	now = s.mobile(t, s.memberID(t, 1))
	// The notice goes through the outbox: the running worker sends it.
	for deadline := time.Now().Add(navWait); ; {
		s.pool.QueryRow(ctx, `SELECT count(*) FROM sms_outbox WHERE to_number = $1 AND body LIKE '%newid%'`, old).Scan(&notices)
		if notices > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling the outbox for the worker's send
	}
	if now != newMobile || notices != 1 {
		t.Fatalf("after the code: mobile %q, %d Welsh notices to the old number (want the new number and 1)", now, notices)
	}

	// Member 2, in English: one tap; the link is then used.
	link2, _ := s.refreshText(t, 2)
	m2 := &staffBrowser{browser: newBrowser(t, "refresh-member-2"), base: s.base}
	m2.run(chromedp.Navigate(link2+"?lang=en"), chromedp.WaitVisible(`#confirm`, chromedp.ByID))
	m2.check("refresh member en", "en", 200)
	m2.run(chromedp.Click(`#confirm`, chromedp.ByID), chromedp.WaitVisible(`#done`, chromedp.ByID))
	m2.check("refresh done en", "en", 200)
	m2.run(chromedp.Navigate(link2+"?lang=en"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
	m2.check("refresh used link en", "en", 410)

	// The dashboard counts both verified mobiles.
	var got string
	org.run(chromedp.Navigate(s.base+"/organiser/refresh?lang=en"), chromedp.Text(`#t-mobile`, &got, chromedp.ByID))
	if want := fmt.Sprintf("2 (%d%%)", (200*2+members)/(2*members)); got != want {
		t.Errorf("dashboard: verified mobiles %q, want %q", got, want)
	}
}
