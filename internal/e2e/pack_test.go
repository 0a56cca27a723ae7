package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPackCodeInBrowser walks the pack-code route of a hybrid ballot (issue
// 18) as a member holding a postal pack would, on a 360-px phone, in
// English (member 4) and in Welsh (member 5): the short URL printed in the
// pack, the code typed as read off paper (lower case, spaces, a look-alike
// O for 0 where the code has a 0), the voting paper, review, confirm, the
// receipt; the member is then in the marked register and the ledger holds
// one more ballot. Before that, a mistyped code is refused with the
// message in the page's language, and after it the used code is refused.
// axe passes and no jargon shows on each page.
func TestPackCodeInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)
	ctx := context.Background()
	for _, tc := range []struct {
		member      int
		lang        string
		title, used string // the form's heading, the refusal of a wrong or used code
	}{
		{4, "en", "Vote online with the code on your voting paper", "it has been used already"},
		{5, "cy", "Pleidleisio ar-lein gyda'r cod ar eich papur pleidleisio", "mae wedi cael ei ddefnyddio eisoes"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			id := s.memberID(t, tc.member)
			code, err := s.auth.PackCode(ctx, s.ballotID, id)
			if err != nil {
				t.Fatal(err)
			}
			printed := s.auth.PackURL() // the short URL as printed in the pack
			if !strings.HasSuffix(printed, "/p") {
				t.Fatalf("the pack's URL is %q, want the short /p", printed)
			}
			_, before := s.recorded(t, id)
			b := newBrowser(t, "pack-"+tc.lang)
			open := func(step string) {
				b.run(chromedp.Navigate(printed+"?lang="+tc.lang), chromedp.WaitVisible(`#code`, chromedp.ByID))
				var h1 string
				b.run(chromedp.Text(`main h1`, &h1, chromedp.ByQuery))
				if h1 != tc.title {
					t.Errorf("%s: heading %q, want %q", step, h1, tc.title)
				}
				b.memberPage(step, tc.lang)
			}
			enter := func(typed string) {
				b.run(chromedp.SendKeys(`#code`, typed, chromedp.ByID), chromedp.Click(`form[action="/p"] button[type=submit]`, chromedp.ByQuery))
			}
			// A mistyped code: refused, said in the page's language, nothing used.
			open("pack form")
			wrong := []byte(code)
			if wrong[0] == 'Z' {
				wrong[0] = 'Y'
			} else {
				wrong[0] = 'Z'
			}
			enter(string(wrong))
			b.run(chromedp.WaitVisible(`#pack-error`, chromedp.ByID))
			var msg string
			b.run(chromedp.Text(`#pack-error`, &msg, chromedp.ByID))
			if !strings.Contains(msg, tc.used) {
				t.Errorf("wrong code: %q, want %q", msg, tc.used)
			}
			b.memberPage("pack wrong code", tc.lang)

			// The code as read off the paper: lower case, groups split by spaces.
			typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
			typed = strings.Replace(typed, "0", "o", 1) // an O typed for a zero
			open("pack form again")
			enter(typed)
			b.waitPath("/vote/" + electionID)
			b.run(chromedp.WaitVisible(`#paper`, chromedp.ByID))
			b.memberPage("pack paper", tc.lang)
			b.run(chromedp.Click(`#q0o0`, chromedp.ByID), chromedp.Click(`#q1o1`, chromedp.ByID),
				chromedp.Click(`#paper button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#review`, chromedp.ByID))
			b.memberPage("pack review", tc.lang)
			b.run(chromedp.Click(`#confirm`, chromedp.ByID))
			b.receiptCode()
			b.memberPage("pack receipt", tc.lang)
			if marked, n := s.recorded(t, id); !marked || n != before+1 {
				t.Fatalf("after the vote: marked %v, %d ballots, want marked and %d", marked, n, before+1)
			}

			// The code is used: a second phone is refused, in the same words.
			c := newBrowser(t, "pack-used-"+tc.lang)
			c.run(chromedp.Navigate(printed+"?lang="+tc.lang), chromedp.WaitVisible(`#code`, chromedp.ByID))
			c.run(chromedp.SendKeys(`#code`, code, chromedp.ByID), chromedp.Click(`form[action="/p"] button[type=submit]`, chromedp.ByQuery),
				chromedp.WaitVisible(`#pack-error`, chromedp.ByID), chromedp.Text(`#pack-error`, &msg, chromedp.ByID))
			if !strings.Contains(msg, tc.used) {
				t.Errorf("used code: %q, want %q", msg, tc.used)
			}
		})
	}
	s.scrutineerVerifies(t, 2)
}

// TestPackLinkBeforeOpening (issue 19): Open was pressed two days before
// the notified opening, so the ballot is scheduled, not open. A member
// who follows the short URL printed in their pack and types the code, on
// a 360-px phone in English and in Welsh, is told that voting is not open
// yet and when it opens (the notified opening, UK time, in their
// language); no session starts and the code is not used up. axe passes
// and no jargon shows.
func TestPackLinkBeforeOpening(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)
	ctx := context.Background()
	// What the scrutineer's early Open leaves (internal/app's
	// TestOpenPressedEarly drives that page): status scheduled, the
	// notified opening two days on, at 09:30 UK time.
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Now().In(london).AddDate(0, 0, 2)
	opens := time.Date(d.Year(), d.Month(), d.Day(), 9, 30, 0, 0, london)
	if _, err := s.pool.Exec(ctx, `UPDATE ballots SET status = 'scheduled', opens_at = $2,
		closes_at = $2::timestamptz + interval '14 days' WHERE id = $1`, s.ballotID, opens); err != nil {
		t.Fatal(err)
	}
	welshMonths := []string{"Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"}
	for _, tc := range []struct {
		member     int
		lang, want string
	}{
		{4, "en", fmt.Sprintf("Voting is not open yet. It opens on %d %s %d 09:30 (UK time). Your code will work from then until the close shown on your voting paper.",
			opens.Day(), opens.Month().String()[:3], opens.Year())},
		{5, "cy", fmt.Sprintf("Nid yw'r bleidlais ar agor eto. Mae'n agor ar %d %s %d 09:30 (amser y DU). Bydd eich cod yn gweithio o hynny ymlaen tan y cau a ddangosir ar eich papur pleidleisio.",
			opens.Day(), welshMonths[opens.Month()-1], opens.Year())},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			id := s.memberID(t, tc.member)
			code, err := s.auth.PackCode(ctx, s.ballotID, id)
			if err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t, "pack-early-"+tc.lang)
			b.run(chromedp.Navigate(s.auth.PackURL()+"?lang="+tc.lang), chromedp.WaitVisible(`#code`, chromedp.ByID))
			b.memberPage("pack form before opening", tc.lang)
			b.run(chromedp.SendKeys(`#code`, code, chromedp.ByID), chromedp.Click(`form[action="/p"] button[type=submit]`, chromedp.ByQuery),
				chromedp.WaitVisible(`#pack-error`, chromedp.ByID))
			var msg string
			b.run(chromedp.Text(`#pack-error`, &msg, chromedp.ByID))
			if !strings.Contains(msg, tc.want) {
				t.Errorf("before opening: %q, want %q", msg, tc.want)
			}
			b.memberPage("pack code before opening", tc.lang)
			var used bool
			if err := s.pool.QueryRow(ctx, `SELECT used_hour IS NOT NULL FROM auth_pack_codes WHERE ballot_id = $1 AND member_id = $2`,
				s.ballotID, id).Scan(&used); err != nil || used {
				t.Errorf("the code was used up before the opening (%v)", err)
			}
			var sessions int
			if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM auth_sessions WHERE member_id = $1`, id).Scan(&sessions); err != nil || sessions != 0 {
				t.Errorf("%d sessions for the member before the opening (%v)", sessions, err)
			}
		})
	}
}
