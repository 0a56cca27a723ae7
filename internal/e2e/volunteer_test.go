package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

// e2eTwilioToken validates the site's Twilio webhooks in this test (the
// texts themselves go to the development outbox).
const e2eTwilioToken = "e2etwiliotoken0123456789"

// TestVolunteerSessionInBrowser runs peer-to-peer texting on a 360-px
// phone, in English and in Welsh, against the running service: the
// organiser creates a texting campaign and invites a volunteer in the
// browser; the volunteer enrols with the link (passkey), accepts the code
// of conduct, claims a batch, sends the script to one member, reads the
// member's reply (posted to the signed Twilio webhook as Twilio would),
// answers with a canned reply and tags the conversation "wants a postal
// pack", which reaches the organiser's queue. Every page passes axe, does
// not scroll sideways, and no page the volunteer sees holds a phone number.
func TestVolunteerSessionInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSiteWith(t, map[string]string{
		// Any hour: the test may run at night (quiet hours are tested in
		// internal/outreach and internal/gotv).
		"EBALLOT_GOTV_QUIET_HOURS": "00:00-24:00",
	}, func(c *config.Config) {
		// Texts go to the development outbox; the webhooks still check
		// Twilio's signature with this token.
		c.Twilio.AuthToken = e2eTwilioToken
	})
	ctx := context.Background()
	var unionID int64
	if err := s.pool.QueryRow(ctx, `SELECT union_id FROM ballots WHERE id = $1`, s.ballotID).Scan(&unionID); err != nil {
		t.Fatal(err)
	}

	// The organiser creates the campaign and invites the volunteer.
	org := &staffBrowser{browser: newBrowser(t, "volunteer-organiser"), base: s.base}
	org.enrol(s, auth.StaffInput{Role: auth.RoleOrganiser, UnionID: unionID, Name: "Texting Organiser", Mobile: "+447700900981"}, "en")
	ballotPage := fmt.Sprintf("/organiser/outreach/ballots/%d", s.ballotID)
	org.both("outreach ballot", ballotPage)
	org.run(chromedp.Navigate(s.base+ballotPage+"?lang=en"), chromedp.WaitVisible(`#name`, chromedp.ByID),
		chromedp.SendKeys(`#name`, "Branch texting", chromedp.ByID),
		chromedp.SendKeys(`#script`, "Hi {first_name}, it's {volunteer} from the union. Have you voted yet?", chromedp.ByID),
		chromedp.Submit(`#script`, chromedp.ByID))
	org.waitFor("the campaign page", func(loc string) bool { return strings.Contains(loc, "/organiser/outreach/campaigns/") })
	campaignPath := strings.TrimPrefix(org.location(), s.base)
	campaignPath = strings.SplitN(campaignPath, "?", 2)[0]
	org.both("outreach campaign", campaignPath)
	var link string
	org.run(chromedp.Navigate(s.base+campaignPath+"?lang=cy"), chromedp.WaitVisible(`#vname`, chromedp.ByID),
		chromedp.SendKeys(`#vname`, "Gwen Volunteer", chromedp.ByID),
		chromedp.SendKeys(`#mobile`, "+447700900982", chromedp.ByID),
		chromedp.SendKeys(`#scope`, "South Wales", chromedp.ByID),
		chromedp.Submit(`#scope`, chromedp.ByID),
		chromedp.WaitVisible(`#enrol-link`, chromedp.ByID),
		chromedp.Text(`#enrol-link`, &link, chromedp.ByID))
	org.check("volunteer invited cy", "cy", 200)
	if !strings.Contains(link, "/staff/enrol/") {
		t.Fatalf("enrolment link %q", link)
	}

	// The volunteer enrols with a passkey and signs in.
	vol := &staffBrowser{browser: newBrowser(t, "volunteer"), base: s.base}
	vol.run(chromedp.Navigate(link+"?lang=cy"), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery),
		chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`button[data-passkey=create]`, chromedp.ByQuery),
		chromedp.Click(`button[data-passkey=create][data-ready]`, chromedp.ByQuery))
	vol.waitFor("staff sign-in", func(loc string) bool { return strings.HasSuffix(loc, "/staff/signin") })
	vol.run(chromedp.WaitVisible(`button[data-passkey=get]`, chromedp.ByQuery), chromedp.Click(`button[data-passkey=get][data-ready]`, chromedp.ByQuery))
	vol.waitFor("the staff home page", func(loc string) bool { return strings.HasSuffix(loc, "/staff") })
	vol.run(chromedp.WaitVisible(`a[href="/volunteer"]`, chromedp.ByQuery))
	noNumber := func(name string) {
		t.Helper()
		var html string
		vol.run(chromedp.OuterHTML(`html`, &html, chromedp.ByQuery))
		if hasPhoneNumber(html) {
			t.Errorf("%s shows a phone number", name)
		}
	}
	volPage := func(name, path string) {
		t.Helper()
		vol.both(name, path)
		noNumber(name)
	}

	// Code of conduct, then a batch.
	volPage("code of conduct", "/volunteer")
	vol.run(chromedp.Navigate(s.base+"/volunteer?lang=en"), chromedp.WaitVisible(`#accept`, chromedp.ByID),
		chromedp.Click(`#accept`, chromedp.ByID), chromedp.Submit(`#accept`, chromedp.ByID), chromedp.WaitVisible(`#claim`, chromedp.ByID))
	vol.check("volunteer home en", "en", 200)
	vol.run(chromedp.Click(`#claim`, chromedp.ByID), chromedp.WaitVisible(`#batch`, chromedp.ByID))
	vol.check("batch en", "en", 200)
	volPage("batch", "/volunteer")
	var conv string
	vol.run(chromedp.AttributeValue(`#batch a`, "href", &conv, nil, chromedp.ByQuery))
	volPage("conversation", conv)

	// One press sends the script.
	vol.run(chromedp.Navigate(s.base+conv+"?lang=en"), chromedp.WaitVisible(`#send`, chromedp.ByID),
		chromedp.Click(`#send`, chromedp.ByID), chromedp.WaitVisible(`#messages`, chromedp.ByID))
	vol.check("sent en", "en", 200)
	var convID, member int64
	var mobile string
	if _, err := fmt.Sscanf(conv, "/volunteer/conversations/%d", &convID); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT cv.member_id FROM outreach_conversations cv
		WHERE cv.id = $1`, convID).Scan(&member); err != nil {
		t.Fatal(err)
	}
	mobile = s.mobile(t, member)
	var body string
	var scriptID int64
	if err := s.pool.QueryRow(ctx, `SELECT id, body FROM sms_outbox WHERE to_number = $1 ORDER BY id DESC LIMIT 1`, mobile).Scan(&scriptID, &body); err != nil {
		t.Fatalf("no text to the member: %v", err)
	}
	if !strings.Contains(body, "Gwen from the union") && !strings.Contains(body, "Gwen Volunteer from the union") {
		t.Fatalf("text %q", body)
	}

	// The member replies (Twilio's signed webhook).
	s.twilioReply(t, mobile, "I will vote tonight. Call me on 07700 900 555?")
	vol.run(chromedp.Navigate(s.base+conv+"?lang=en"), chromedp.WaitVisible(`#messages li.in`, chromedp.ByQuery))
	var replyText string
	vol.run(chromedp.Text(`#messages li.in`, &replyText, chromedp.ByQuery))
	if !strings.Contains(replyText, "I will vote tonight") || hasPhoneNumber(replyText) {
		t.Fatalf("reply shown as %q", replyText)
	}
	volPage("conversation with a reply", conv)

	// A canned reply and a tag.
	vol.run(chromedp.Navigate(s.base+conv+"?lang=cy"), chromedp.WaitVisible(`#canned-postal`, chromedp.ByID),
		chromedp.Click(`#canned-postal`, chromedp.ByID), chromedp.Click(`#reply`, chromedp.ByID),
		chromedp.WaitVisible(`#tag-postal_pack`, chromedp.ByID))
	vol.check("replied cy", "cy", 200)
	vol.run(chromedp.Click(`#tag-postal_pack`, chromedp.ByID), chromedp.Click(`#tag`, chromedp.ByID), chromedp.WaitVisible(`#tags`, chromedp.ByID))
	vol.check("tagged cy", "cy", 200)
	noNumber("tagged")
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sms_outbox WHERE to_number = $1 AND id >= $2`, mobile, scriptID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d texts to the member (%v), want the script and the canned reply", n, err)
	}

	// Refused: another branch, and the organiser's pages.
	vol.run(chromedp.Navigate(s.base+"/volunteer?lang=en"), chromedp.WaitVisible(`#claim`, chromedp.ByID),
		chromedp.SetAttributeValue(`input[name=scope]`, "value", "North Wales", chromedp.ByQuery),
		chromedp.Click(`#claim`, chromedp.ByID))
	vol.waitFor("the refusal", func(loc string) bool { return strings.HasSuffix(loc, "/volunteer/claim") })
	vol.run(chromedp.WaitReady(`h1`, chromedp.ByQuery))
	vol.check("claim outside the branch", "en", 403)
	vol.run(chromedp.Navigate(s.base+campaignPath+"?lang=en"), chromedp.WaitReady(`h1`, chromedp.ByQuery))
	vol.check("organiser page refused", "en", 403)

	// The organiser's queue has the postal pack request.
	org.run(chromedp.Navigate(s.base+campaignPath+"?lang=en"), chromedp.WaitVisible(`#queue`, chromedp.ByID))
	org.check("queue en", "en", 200)
	var q string
	org.run(chromedp.Text(`#queue`, &q, chromedp.ByID))
	if !strings.Contains(q, "postal pack") {
		t.Fatalf("queue shows %q", q)
	}
}

// twilioReply posts an inbound text to the site's Twilio webhook, signed
// as Twilio signs it (HMAC-SHA1 of the public URL and the sorted form).
func (s *site) twilioReply(t *testing.T, from, body string) {
	t.Helper()
	form := url.Values{"From": {from}, "To": {"+447700900000"}, "Body": {body}, "MessageSid": {"SMe2e"}}
	u := s.base + "/webhooks/twilio/inbound"
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Signature(e2eTwilioToken, u, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("inbound webhook: %d", res.StatusCode)
	}
}

// digitRun finds runs of digits and the separators numbers are written with.
var digitRun = regexp.MustCompile(`\+?[0-9][0-9 ().\-]*[0-9]`)

// hasPhoneNumber reports a run of 9 or more digits (a UK mobile has 10 or 11).
func hasPhoneNumber(s string) bool {
	for _, m := range digitRun.FindAllString(s, -1) {
		if strings.Count(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return 'd'
			}
			return -1
		}, m), "d") >= 9 {
			return true
		}
	}
	return false
}
