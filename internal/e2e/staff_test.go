package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/internal/auth"
)

// TestStaffPagesInBrowser visits every organiser and scrutineer page of
// the demo ballot (and of a draft ballot the organiser sets up in the
// browser) on a 360-px-wide phone, in English and in Welsh: each page
// must pass axe (WCAG 2.2 A/AA, no serious or critical violation), not
// scroll sideways, declare the language it is in, and have a title and an
// h1. A few forms are sent with a mistake and the error state is checked
// the same way (an alert, the field marked invalid).
//
// Covered: the staff enrolment, sign-in, home and account recovery pages
// (request, code, requested, the approvers' list, approval); ballots list,
// ballot page (draft and open, both roles), new ballot and edit forms,
// register import (form and preview), employer notices and records,
// printable notices and sample paper, replacements (both roles), postal
// returns, retention, invitation delivery (both roles), GOTV dashboard
// (both roles), new campaign and campaign page, result page (draft and
// open, both roles).
//
// Not visited: downloads that are not pages (audit.jsonl, turnout.csv and
// .json, nonvoters.csv, status.json); the result upload form of a closed
// ballot, which TestResultPublishedAndVerified checks (closing the demo
// ballot here would hide the pages of an open one).
func TestStaffPagesInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	start := time.Now()
	s := startSite(t)
	ctx := context.Background()
	var unionID int64
	if err := s.pool.QueryRow(ctx, `SELECT union_id FROM ballots WHERE id = $1`, s.ballotID).Scan(&unionID); err != nil {
		t.Fatal(err)
	}
	demo := fmt.Sprintf("/ballots/%d", s.ballotID)

	// An organiser who lost their passkey asks for a recovery, in the
	// browser the organiser below enrols in afterwards: the recovery pages
	// are checked, and the others then have a request to decide.
	const lostMobile = "+447700900990"
	if _, _, err := s.auth.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: unionID, Name: "Lost Organiser", Mobile: lostMobile}); err != nil {
		t.Fatal(err)
	}
	org := &staffBrowser{browser: newBrowser(t, "staff-organiser"), base: s.base}
	org.both("recover", "/staff/recover")
	for _, lang := range langs {
		org.formError("recover "+lang, "/staff/recover", lang, `#mobile`, chromedp.SendKeys(`#mobile`, "123", chromedp.ByID))
	}
	org.run(chromedp.Navigate(s.base+"/staff/recover?lang=en"), chromedp.WaitVisible(`#mobile`, chromedp.ByID),
		chromedp.SendKeys(`#mobile`, "07700 900990", chromedp.ByID), chromedp.Submit(`#mobile`, chromedp.ByID))
	org.waitFor("the recovery code page", func(loc string) bool { return strings.HasSuffix(loc, "/staff/recover/code") })
	org.both("recovery code", "/staff/recover/code")
	for _, lang := range langs {
		org.formError("recovery code "+lang, "/staff/recover/code", lang, `#code`, chromedp.SendKeys(`#code`, "000000", chromedp.ByID))
	}
	code := s.latestCode(t, lostMobile)
	org.run(chromedp.Navigate(s.base+"/staff/recover/code?lang=cy"), chromedp.WaitVisible(`#code`, chromedp.ByID),
		chromedp.SendKeys(`#code`, code, chromedp.ByID), chromedp.Submit(`#code`, chromedp.ByID),
		chromedp.WaitVisible(`main p[role=status]`, chromedp.ByQuery))
	org.check("recovery requested cy", "cy", 200)

	// Both enrol with a passkey and sign in: the scrutineer in English, the
	// organiser in Welsh.
	sc := &staffBrowser{browser: newBrowser(t, "staff-scrutineer"), base: s.base}
	sc.enrol(s, auth.StaffInput{Role: auth.RoleScrutineer, Name: "Demo Scrutineer"}, "en")
	org.enrol(s, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: unionID, Name: "Demo Organiser"}, "cy")
	for _, b := range []*staffBrowser{sc, org} {
		b.both("staff home", "/staff")
		b.both("recoveries", "/staff/recoveries")
	}
	// The scrutineer approves the lost organiser's recovery.
	sc.run(chromedp.Navigate(s.base+"/staff/recoveries?lang=en"), chromedp.WaitVisible(`form[action$="/approve"] button`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/approve"] button`, chromedp.ByQuery), chromedp.WaitVisible(`main p[role=status]`, chromedp.ByQuery))
	sc.check("recovery approved", "en", 200)

	// The organiser sets up a draft ballot: first with a mistake (no question).
	org.both("new ballot", "/organiser/ballots/new")
	org.run(chromedp.Navigate(s.base+"/organiser/ballots/new?lang=cy"), chromedp.WaitVisible(`#election_id`, chromedp.ByID),
		chromedp.SendKeys(`#election_id`, "staff-e2e", chromedp.ByID), chromedp.SendKeys(`#title`, "Staff pages ballot", chromedp.ByID),
		chromedp.SendKeys(`#workplaces`, "Newport Depot | Demo Buses Ltd", chromedp.ByID),
		chromedp.Click(`#strike`, chromedp.ByID), chromedp.Submit(`#title`, chromedp.ByID),
		chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery))
	org.check("new ballot error cy", "cy", 422, 400)
	org.run(chromedp.Click(`#strike`, chromedp.ByID), chromedp.Submit(`#title`, chromedp.ByID))
	org.waitFor("the new ballot", func(loc string) bool { return strings.Contains(loc, "done=created") })
	var draft string
	if err := s.pool.QueryRow(ctx, `SELECT '/ballots/' || id FROM ballots WHERE election_id = 'staff-e2e'`).Scan(&draft); err != nil {
		t.Fatal(err)
	}
	org.check("ballot created cy", "cy", 200)

	// The draft ballot's pages.
	for _, p := range []struct{ name, path string }{
		{"draft ballot", "/organiser" + draft},
		{"edit ballot", "/organiser" + draft + "/edit"},
		{"register", "/organiser" + draft + "/register"},
		{"draft employer notices", "/organiser" + draft + "/employer-notices"},
		{"draft notices", "/organiser" + draft + "/notices"},
		{"draft sample paper", "/organiser" + draft + "/sample-paper"},
		{"draft result (organiser)", "/organiser" + draft + "/result"},
	} {
		org.both(p.name, p.path)
	}
	// A register with one good and one bad row: the preview shows both.
	csv := filepath.Join(t.TempDir(), "register.csv")
	if err := os.WriteFile(csv, []byte("member_number,name,mobile,email,workplace\nS001,Staff Test One,07700 900501,,Newport Depot\nS002,Staff Test Two,not a number,,Newport Depot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lang := range langs {
		org.run(chromedp.Navigate(s.base+"/organiser"+draft+"/register?lang="+lang), chromedp.WaitVisible(`#file`, chromedp.ByID),
			chromedp.SetUploadFiles(`#file`, []string{csv}, chromedp.ByID), chromedp.Submit(`#file`, chromedp.ByID),
			chromedp.WaitVisible(`#rep-h`, chromedp.ByID))
		org.check("register preview "+lang, lang, 200, 422)
	}
	for _, p := range []struct{ name, path string }{
		{"draft ballot (scrutineer)", "/scrutineer" + draft},
		{"draft result (scrutineer)", "/scrutineer" + draft + "/result"},
	} {
		sc.both(p.name, p.path)
	}

	// The open demo ballot. The scrutineer enables reminders first, so the
	// organiser can start a campaign.
	sc.run(chromedp.Navigate(s.base+"/organiser/gotv"+demo+"?lang=en"), chromedp.WaitVisible(`#enabled`, chromedp.ByID),
		chromedp.Click(`#enabled`, chromedp.ByID), chromedp.Submit(`#enabled`, chromedp.ByID))
	sc.waitFor("reminders saved", func(loc string) bool { return strings.Contains(loc, "done=reminders") })
	sc.check("reminders saved", "en", 200)
	for _, p := range []struct{ name, path string }{
		{"ballots (scrutineer)", "/scrutineer"},
		{"open ballot (scrutineer)", "/scrutineer" + demo},
		{"postal returns", "/scrutineer" + demo + "/postal"},
		{"paper count (voting still open)", "/scrutineer" + demo + "/paper"},
		{"retention", "/scrutineer" + demo + "/retention"},
		{"invitations (scrutineer)", "/scrutineer" + demo + "/invitations"},
		{"result (scrutineer)", "/scrutineer" + demo + "/result"},
		{"gotv dashboard (scrutineer)", "/organiser/gotv" + demo},
	} {
		sc.both(p.name, p.path)
	}
	for _, lang := range langs {
		sc.formError("postal "+lang, "/scrutineer"+demo+"/postal", lang, `#paper`)
		sc.formError("retention "+lang, "/scrutineer"+demo+"/retention", lang, `#hold-reason`)
	}
	// A hold recorded: the page then lists it and offers the release form.
	sc.run(chromedp.Navigate(s.base+"/scrutineer"+demo+"/retention?lang=en"), chromedp.WaitVisible(`#hold-reason`, chromedp.ByID),
		chromedp.SendKeys(`#hold-reason`, "Certification Officer complaint CO/2026/17", chromedp.ByID), chromedp.Submit(`#hold-reason`, chromedp.ByID))
	sc.waitFor("the hold recorded", func(loc string) bool { return strings.Contains(loc, "done=held") })
	sc.both("retention with a hold", "/scrutineer"+demo+"/retention")

	for _, p := range []struct{ name, path string }{
		{"ballots (organiser)", "/organiser"},
		{"open ballot (organiser)", "/organiser" + demo},
		{"employer notices", "/organiser" + demo + "/employer-notices"},
		{"notices", "/organiser" + demo + "/notices"},
		{"sample paper", "/organiser" + demo + "/sample-paper"},
		{"replacements (organiser)", "/organiser" + demo + "/replacements"},
		{"invitations (organiser)", "/organiser" + demo + "/invitations"},
		{"result (organiser)", "/organiser" + demo + "/result"},
		{"gotv dashboard", "/organiser/gotv" + demo},
		{"new campaign", "/organiser/gotv" + demo + "/campaigns/new"},
	} {
		org.both(p.name, p.path)
	}
	for _, lang := range langs {
		org.formError("replacement "+lang, "/organiser"+demo+"/replacements", lang, `#member_number`)
	}
	// A replacement request, for the scrutineer to decide.
	org.run(chromedp.Navigate(s.base+"/organiser"+demo+"/replacements?lang=en"), chromedp.WaitVisible(`#member_number`, chromedp.ByID),
		chromedp.SendKeys(`#member_number`, "D00007", chromedp.ByID), chromedp.SendKeys(`#reason`, "Lost phone, new number confirmed by branch secretary", chromedp.ByID),
		chromedp.Submit(`#member_number`, chromedp.ByID))
	org.waitFor("the replacement requested", func(loc string) bool { return strings.Contains(loc, "done=requested") })
	org.both("replacements with a request (organiser)", "/organiser"+demo+"/replacements")
	sc.both("replacements with a request (scrutineer)", "/scrutineer"+demo+"/replacements")

	// A campaign: first with a mistake (a time chosen but not given).
	org.run(chromedp.Navigate(s.base+"/organiser/gotv"+demo+"/campaigns/new?lang=en"), chromedp.WaitVisible(`#name`, chromedp.ByID),
		chromedp.SendKeys(`#name`, "Last week push", chromedp.ByID),
		chromedp.SendKeys(`#template1`, "Hi {first_name}, the pay ballot closes {closes}. Vote: {link}", chromedp.ByID),
		// The demo ballot is bilingual: each message has its Welsh text.
		chromedp.SendKeys(`#template_cy1`, "Helo {first_name}, mae'r bleidlais yn cau {closes}. Pleidleisiwch: {link}", chromedp.ByID),
		chromedp.Click(`#when-at`, chromedp.ByID), chromedp.Submit(`#name`, chromedp.ByID),
		chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery))
	org.errorState("new campaign", "en", `#at1`, 400)
	org.run(chromedp.Click(`#when-now`, chromedp.ByID), chromedp.Submit(`#name`, chromedp.ByID))
	org.waitFor("the campaign", func(loc string) bool { return strings.Contains(loc, "/organiser/gotv/campaigns/") })
	campaign := strings.TrimPrefix(org.location(), s.base)
	org.both("campaign", campaign)
	org.both("gotv dashboard with a campaign", "/organiser/gotv"+demo)
	sc.both("campaign (scrutineer)", campaign)

	t.Logf("%d staff pages checked in %v", sc.pages+org.pages, time.Since(start).Round(100*time.Millisecond))
}

var langs = []string{"en", "cy"}

// staffBrowser is a staff member's browser, counting the pages checked.
type staffBrowser struct {
	*browser
	base  string // the site's origin
	pages int
}

// enrol creates the staff account, opens its enrolment link in lang,
// registers the browser's passkey and signs in with it, checking each
// page on the way.
func (b *staffBrowser) enrol(s *site, in auth.StaffInput, lang string) {
	b.t.Helper()
	_, link, err := s.auth.CreateStaff(context.Background(), in)
	if err != nil {
		b.t.Fatal(err)
	}
	b.enrolLink(link, lang)
}

// enrolLink opens a staff member's enrolment link in lang, registers the
// browser's passkey and signs in with it, checking each page on the way.
func (b *staffBrowser) enrolLink(link, lang string) {
	b.t.Helper()
	b.run(chromedp.Navigate(link+"?lang="+lang), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery))
	b.check("enrolment link "+lang, lang, 200)
	b.run(chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`button[data-passkey=create]`, chromedp.ByQuery))
	b.check("enrolment "+lang, lang, 200)
	b.run(chromedp.Click(`button[data-passkey=create][data-ready]`, chromedp.ByQuery))
	b.waitFor("staff sign-in", func(loc string) bool { return strings.HasSuffix(loc, "/staff/signin") })
	b.run(chromedp.WaitVisible(`button[data-passkey=get]`, chromedp.ByQuery))
	b.check("staff sign-in "+lang, lang, 200)
	b.run(chromedp.Click(`button[data-passkey=get][data-ready]`, chromedp.ByQuery))
	b.waitFor("the staff home page", func(loc string) bool { return strings.HasSuffix(loc, "/staff") })
}

// both checks the page at path in English, then in Welsh.
func (b *staffBrowser) both(name, path string) {
	b.t.Helper()
	for _, lang := range langs {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		b.run(chromedp.Navigate(b.base+path+sep+"lang="+lang), chromedp.WaitReady(`body`, chromedp.ByQuery))
		b.check(name+" "+lang, lang, 200)
	}
}

// formError opens the form at path in lang, runs fill (if any), submits
// the form of field and checks the page that comes back: an alert, and
// field marked invalid.
func (b *staffBrowser) formError(name, path, lang, field string, fill ...chromedp.Action) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path+"?lang="+lang), chromedp.WaitVisible(field, chromedp.ByQuery))
	b.run(fill...)
	b.run(chromedp.Submit(field, chromedp.ByQuery), chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery))
	b.errorState(name, lang, field, 400, 409, 422)
}

// errorState checks the page shown after a form was sent with a mistake:
// an alert with the message, field marked invalid and described by it,
// and the per-page checks.
func (b *staffBrowser) errorState(name, lang, field string, status ...int) {
	b.t.Helper()
	var st struct {
		Invalid, Described string
		Alert              string
	}
	b.run(chromedp.Evaluate(`(() => { const f = document.querySelector(`+"`"+field+"`"+`), a = document.querySelector('[role=alert]');
		return {Invalid: f ? f.getAttribute('aria-invalid') || '' : 'no field', Described: f ? f.getAttribute('aria-describedby') || '' : '',
			Alert: a ? a.textContent.trim() : ''}; })()`, &st))
	if st.Invalid != "true" {
		b.t.Errorf("%s: after the error %s has aria-invalid=%q, want true", name, field, st.Invalid)
	}
	if st.Alert == "" {
		b.t.Errorf("%s: the alert is empty", name)
	}
	alertID := ""
	b.run(chromedp.Evaluate(`(() => { const a = document.querySelector('[role=alert]'); const ids = [a.id, ...[...a.querySelectorAll('[id]')].map((e) => e.id)];
		return ids.filter(Boolean).join(' '); })()`, &alertID))
	linked := false
	for _, id := range strings.Fields(alertID) {
		linked = linked || strings.Contains(" "+st.Described+" ", " "+id+" ")
	}
	if !linked {
		b.t.Errorf("%s: %s is not described by the error message (aria-describedby=%q, alert ids %q)", name, field, st.Described, alertID)
	}
	b.check(name+" error", lang, status...)
}

// pageFacts is what check reads from a page.
type pageFacts struct {
	Status      int
	Lang, Title string
	H1          int
	Scroll      int // document.documentElement.scrollWidth
	Width       int // window.innerWidth
	Client      int // document.documentElement.clientWidth
	Wide        []string
}

// check runs the per-page checks on the page shown (status: the HTTP
// statuses accepted).
func (b *staffBrowser) check(name, lang string, status ...int) {
	b.t.Helper()
	b.pages++
	var f pageFacts
	b.run(chromedp.Evaluate(`(() => {
		const nav = performance.getEntriesByType('navigation')[0], w = Math.min(window.innerWidth, document.documentElement.clientWidth);
		const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 0.5 ||
				(e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'))
			.map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : ''));
		return {Status: nav ? nav.responseStatus : 0, Lang: document.documentElement.lang, Title: document.title.trim(),
			H1: document.querySelectorAll('h1').length, Scroll: document.documentElement.scrollWidth, Width: window.innerWidth, Client: document.documentElement.clientWidth, Wide: wide.slice(0, 8)};
	})()`, &f))
	at := b.location()
	ok := false
	for _, s := range status {
		ok = ok || f.Status == s
	}
	if !ok {
		var text string
		b.run(chromedp.Evaluate(`document.body ? document.body.innerText.slice(0, 400) : ""`, &text))
		b.t.Errorf("%s: HTTP %d, want %v (at %s)\n%s", name, f.Status, status, at, text)
	}
	if f.Lang != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", name, f.Lang, lang)
	}
	if f.Title == "" {
		b.t.Errorf("%s: no title", name)
	}
	if f.H1 < 1 {
		b.t.Errorf("%s: no h1", name)
	}
	// Chromium's mobile emulation zooms out to fit content wider than the
	// layout viewport, which widens window.innerWidth with it: compare with
	// the layout viewport (clientWidth, 360 with width=device-width) too.
	if f.Scroll > f.Width || f.Scroll > f.Client || f.Client > 360 {
		b.t.Errorf("%s: scrolls sideways: content %d px wide, window %d px, layout viewport %d px; too wide: %v", name, f.Scroll, f.Width, f.Client, f.Wide)
	}
	b.axe(name)
	b.shot(strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(name))
}
