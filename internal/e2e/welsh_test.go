package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/election"
)

// TestWelshJourneys walks issue 22's Welsh items in the browser, with axe
// and screenshots at 360 and 1280 px: a member reading in Welsh opens the
// (bilingual) demo ballot's paper and reads its questions, answers and
// s.229(4) statement in Welsh, as signed in the manifest, and votes; an
// organiser fills the Welsh fields of the ballot form, and the opening
// checklist refuses the ballot while one Welsh text is missing, naming it.
func TestWelshJourneys(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)
	ctx := context.Background()

	t.Run("member", func(t *testing.T) {
		demo := election.DemoConfig()
		regime, err := election.RegimeFor(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		statement := regime.Texts["s229_4"].TextCy
		b := newBrowser(t, "welsh-member")
		link, mobile := s.invitation(t, 3)
		b.run(chromedp.Navigate(link+"?lang=cy"), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery))
		b.memberPage("cy invitation", "cy")
		b.run(chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#code`, chromedp.ByID))
		b.run(chromedp.SendKeys(`#code`, s.latestCode(t, mobile), chromedp.ByID), chromedp.Submit(`#code`, chromedp.ByID))
		b.waitPath("/auth/passkey")
		b.run(chromedp.Click(`main a[href="/vote/`+electionID+`"]`, chromedp.ByQuery), chromedp.WaitVisible(`#paper`, chromedp.ByID))
		b.memberPage("cy paper", "cy")

		var h1, statementShown string
		var legends, labels, paperLangs []string
		b.run(
			chromedp.Text(`main h1`, &h1, chromedp.ByQuery),
			chromedp.Evaluate(`[...document.querySelectorAll('#paper legend')].map((e) => e.textContent)`, &legends),
			chromedp.Evaluate(`[...document.querySelectorAll('#paper .choice label')].map((e) => e.textContent)`, &labels),
			chromedp.Evaluate(`[...document.querySelectorAll('#paper legend, #paper .choice label, .statement p, main h1')].map((e) => e.lang)`, &paperLangs),
			chromedp.Text(`.statement p`, &statementShown, chromedp.ByQuery),
		)
		if h1 != demo.TitleCy {
			t.Errorf("title %q, want the Welsh %q", h1, demo.TitleCy)
		}
		want := []string{election.StrikeQuestion.TextCy, election.ASOSQuestion.TextCy}
		if strings.Join(legends, "|") != strings.Join(want, "|") {
			t.Errorf("questions %q, want %q", legends, want)
		}
		if strings.Join(labels, "|") != "Ydw|Nac ydw|Ydw|Nac ydw" {
			t.Errorf("answers %q, want Ydw / Nac ydw", labels)
		}
		if statement == "" || strings.TrimSpace(statementShown) != statement {
			t.Errorf("s.229(4) statement %q, want the Welsh %q", statementShown, statement)
		}
		for _, l := range paperLangs {
			if l != "cy" {
				t.Errorf("a paper text is marked lang=%q, want cy", l)
			}
		}
		txt := b.text()
		for _, en := range []string{election.StrikeQuestion.Text, "Yes", "If you take part in a strike", demo.Texts["dispute_summary"]} {
			if strings.Contains(txt, en) {
				t.Errorf("the Welsh paper shows the English %q", en)
			}
		}
		if !strings.Contains(txt, demo.TextsCy["dispute_summary"]) {
			t.Error("the Welsh paper lacks the Welsh summary of the dispute")
		}
		// The member votes: strike Ydw, action short of a strike Nac ydw.
		b.run(chromedp.Click(`#q0o0`, chromedp.ByID), chromedp.Click(`#q1o1`, chromedp.ByID),
			chromedp.Click(`#paper button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#review`, chromedp.ByID))
		var review string
		b.run(chromedp.Text(`#review-list`, &review, chromedp.ByID))
		if !strings.Contains(review, election.StrikeQuestion.TextCy) || !strings.Contains(review, "Ydw") || !strings.Contains(review, "Nac ydw") {
			t.Errorf("the review reads %q, want the Welsh questions and answers", review)
		}
		b.memberPage("cy review", "cy")
		b.run(chromedp.Click(`#confirm`, chromedp.ByID))
		if code := b.receiptCode(); code == "" {
			t.Fatal("no receipt")
		}
		b.memberPage("cy receipt", "cy")
		if marked, _ := s.recorded(t, s.memberID(t, 3)); !marked {
			t.Error("the Welsh member's vote is not recorded")
		}
	})

	t.Run("staff", func(t *testing.T) {
		var unionID int64
		if err := s.pool.QueryRow(ctx, `SELECT union_id FROM ballots WHERE id = $1`, s.ballotID).Scan(&unionID); err != nil {
			t.Fatal(err)
		}
		org := &staffBrowser{browser: newBrowser(t, "welsh-organiser"), base: s.base}
		org.enrol(s, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: unionID, Name: "Welsh Organiser"}, "en")
		for _, lang := range langs {
			org.open("/organiser/ballots/new", lang)
			org.page("new bilingual ballot form "+lang, lang)
		}
		// A bilingual industrial action ballot, the period left in English only.
		org.open("/organiser/ballots/new", "en")
		fill := func(id, v string) { org.run(chromedp.SetValue(`#`+id, v, chromedp.ByID)) }
		fill("election_id", "pay-2027-cymru")
		fill("title", "Pay 2027 ballot")
		org.run(chromedp.Click(`#bilingual`, chromedp.ByID))
		fill("title_cy", "Pleidlais cyflog 2027")
		fill("dispute_summary", "Pay 2027.")
		fill("dispute_summary_cy", "Cyflog 2027.")
		fill("types_of_action", "An overtime ban.")
		fill("types_of_action_cy", "Gwaharddiad ar oramser.")
		fill("period", "From March 2027.")
		fill("authorised_person", "The General Secretary.")
		fill("authorised_person_cy", "Yr Ysgrifennydd Cyffredinol.")
		fill("workplaces", "Bangor Office | Demo Transport Ltd")
		org.run(chromedp.Click(`form button[type=submit]`, chromedp.ByQuery))
		org.waitFor("ballot created", func(loc string) bool { return strings.Contains(loc, "done=created") })
		org.run(chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
		org.page("bilingual ballot missing a Welsh text en", "en")
		missing := "give the period in which action is expected in Welsh"
		txt := org.text()
		if !strings.Contains(txt, missing) {
			t.Errorf("the checklist does not name the missing Welsh period:\n%s", txt)
		}
		for _, named := range []string{"title in Welsh", "question 1 in Welsh", "summary of the matters in dispute in Welsh", "authorised to call industrial action (s.229(3)) in Welsh"} {
			if strings.Contains(txt, named) {
				t.Errorf("the checklist asks for %q, which was given", named)
			}
		}
		var ballotPath string
		org.run(chromedp.Evaluate(`location.pathname`, &ballotPath))
		org.open(ballotPath, "cy")
		org.page("bilingual ballot missing a Welsh text cy", "cy")
		if txt := org.text(); !strings.Contains(txt, "rhowch y cyfnod y disgwylir gweithredu ynddo yn Gymraeg") {
			t.Errorf("in Welsh, the checklist does not name the missing Welsh period:\n%s", txt)
		}
		// The organiser adds it: the checklist no longer asks for Welsh.
		org.open(ballotPath+"/edit", "en")
		var kept string
		org.run(chromedp.Value(`#title_cy`, &kept, chromedp.ByID))
		if kept != "Pleidlais cyflog 2027" {
			t.Errorf("the form shows the Welsh title %q back", kept)
		}
		org.page("edit bilingual ballot en", "en")
		fill("period_cy", "O fis Mawrth 2027.")
		org.run(chromedp.Click(`form button[type=submit]`, chromedp.ByQuery))
		org.waitFor("ballot saved", func(loc string) bool { return strings.Contains(loc, "done=saved") })
		org.run(chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
		org.page("bilingual ballot complete en", "en")
		if txt := org.text(); strings.Contains(txt, "bilingual ballot:") {
			t.Errorf("every Welsh text given, but the checklist still asks:\n%s", txt)
		}
	})
}
