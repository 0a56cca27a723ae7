package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/internal/auth"
)

// TestWorkplacePagesInBrowser: workplace voting on a 360-px-wide phone,
// in English and Welsh, each page checked as TestStaffPagesInBrowser
// checks staff pages (axe, no sideways scroll, language, title, h1, the
// error state of a form sent with a mistake). The scrutineer opens a box
// for the demo ballot in the browser; its presiding officer enrols with
// the link the page shows, signs in with a passkey, marks the register
// for a member by their paper number (which issues the paper), is
// refused a second paper for the same member with the reason, and closes
// the box.
func TestWorkplacePagesInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)
	ctx := context.Background()
	sc := &staffBrowser{browser: newBrowser(t, "workplace-scrutineer"), base: s.base}
	sc.enrol(s, auth.StaffInput{Role: auth.RoleScrutineer, Name: "Demo Scrutineer"}, "en")
	boxes := fmt.Sprintf("/scrutineer/ballots/%d/workplace", s.ballotID)
	sc.both("workplace boxes", boxes)
	for _, lang := range langs {
		sc.formError("open a box "+lang, boxes, lang, `#officer`, chromedp.SendKeys(`#box`, "north-1", chromedp.ByID))
	}
	var style string
	if err := s.pool.QueryRow(ctx, `SELECT style FROM register_entries WHERE ballot_id = $1 ORDER BY paper_number LIMIT 1`, s.ballotID).Scan(&style); err != nil {
		t.Fatal(err)
	}
	sc.run(chromedp.Navigate(s.base+boxes+"?lang=en"), chromedp.WaitVisible(`#box`, chromedp.ByID),
		chromedp.SendKeys(`#box`, "depot-1", chromedp.ByID), chromedp.SetValue(`#style`, style, chromedp.ByID),
		chromedp.SendKeys(`#place`, "Depot canteen", chromedp.ByID), chromedp.SendKeys(`#officer`, "Pat Officer", chromedp.ByID),
		chromedp.Submit(`#officer`, chromedp.ByID), chromedp.WaitVisible(`#enrol-link`, chromedp.ByID))
	sc.check("box opened", "en", 200)
	var link string
	sc.run(chromedp.Text(`#enrol-link`, &link, chromedp.ByID))

	// The presiding officer, on their phone, in Welsh first.
	po := &staffBrowser{browser: newBrowser(t, "workplace-officer"), base: s.base}
	po.enrolLink(strings.TrimSpace(link), "cy")
	po.both("staff home (presiding officer)", "/staff")
	po.both("officer's boxes", "/workplace")
	var box string
	po.run(chromedp.Navigate(s.base+"/workplace?lang=en"), chromedp.WaitVisible(`a[href^="/workplace/boxes/"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`a[href^="/workplace/boxes/"]`, "href", &box, nil, chromedp.ByQuery))
	po.both("box", box)
	for _, lang := range langs {
		po.formError("box "+lang, box, lang, `#paper`, chromedp.SendKeys(`#paper`, "12x", chromedp.ByID))
	}
	// A member of the box's workplace ballot who has not voted.
	var paper int
	if err := s.pool.QueryRow(ctx, `SELECT paper_number FROM register_entries r WHERE ballot_id = $1 AND style = $2
		AND NOT EXISTS (SELECT 1 FROM marked_register m WHERE m.ballot_id = r.ballot_id AND m.member_id = r.member_id)
		ORDER BY paper_number LIMIT 1`, s.ballotID, style).Scan(&paper); err != nil {
		t.Fatal(err)
	}
	issue := func(lang string) {
		po.run(chromedp.Navigate(s.base+box+"?lang="+lang), chromedp.WaitVisible(`#paper`, chromedp.ByID),
			chromedp.SendKeys(`#paper`, fmt.Sprint(paper), chromedp.ByID), chromedp.Submit(`#paper`, chromedp.ByID))
	}
	issue("en")
	po.run(chromedp.WaitVisible(`#wp-done`, chromedp.ByID))
	po.check("paper issued", "en", 200)
	issue("cy")
	po.run(chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery))
	po.errorState("second paper cy", "cy", `#paper`, 409)
	var msg string
	po.run(chromedp.Text(`#wp-error`, &msg, chromedp.ByID))
	if !strings.Contains(msg, "a.230(4)(b)") {
		t.Errorf("second paper: the refusal gives no reason: %q", msg)
	}
	po.run(chromedp.Navigate(s.base+box+"?lang=en"), chromedp.WaitVisible(`form[action$="/close"] button`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/close"] button`, chromedp.ByQuery), chromedp.WaitVisible(`#wp-closed`, chromedp.ByID))
	po.check("box closed", "en", 200)
	sc.both("workplace boxes with a closed box", boxes)
	var issued int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM marked_register WHERE ballot_id = $1 AND channel = 'workplace'`, s.ballotID).Scan(&issued); err != nil || issued != 1 {
		t.Fatalf("workplace marks: %d %v", issued, err)
	}
}
