package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/sms/smstest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

const volunteerTwilioToken = "apptwiliotoken0123456789"

// TestVolunteerSignedInOverHTTP drives peer-to-peer texting through the
// whole service as a volunteer's browser would, without a browser: the
// organiser invites the volunteer; the volunteer enrols with the link,
// registers a passkey and signs in with it (a virtual authenticator
// against the real WebAuthn endpoints), then accepts the code of
// conduct, claims a batch, sends, reads a reply that came through the
// signed Twilio webhook, and tags it — every form with the page's CSRF
// token. Refused, each with its message, logged in the audit log and
// with nothing sent: a form without the CSRF token, a claim outside the
// volunteer's branch, a conversation of another campaign, a send in
// quiet hours, a reused expired claim, a text after the member said they
// voted. Every list or export route refuses the volunteer, and no
// response the volunteer gets holds a phone number. The
// scrutineer's approval to use turnout is recorded over HTTP, and the
// audit log export, checked by the independent scrutineer tool, states
// it (who, when, the policy wording) with the campaigns' sources.
func TestVolunteerSignedInOverHTTP(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	n := time.Now().In(london).AddDate(0, 0, 1)
	clk := &clock{t: time.Date(n.Year(), n.Month(), n.Day(), 19, 0, 0, 0, london)} // an hour before quiet hours
	s := newSiteHooks(t, func(c *config.Config) { c.Twilio.AuthToken = volunteerTwilioToken }, buildHooks{now: clk.Now})
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "p2p-http", Members: 30, Open: true,
		Member: func(i int) (string, string, string) {
			return fmt.Sprintf("Name%d Surname%d", i+1, i+1), fmt.Sprintf("+4477009%05d", i+1), ""
		}})
	for i, id := range b.MemberIDs {
		if _, err := s.pool.Exec(ctx, `UPDATE members SET branch = $2 WHERE id = $1`, id, []string{"North", "South"}[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	texts := func() int {
		t.Helper()
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sms_outbox WHERE to_number LIKE '+4477009%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ballot := fmt.Sprint(b.ID)

	// The organiser: two campaigns; a volunteer of the North branch on
	// the first. The scrutineer approves turnout use for the ballot.
	org := s.staffAt("organiser", b.UnionID, clk.Now())
	org.get("/organiser/outreach/ballots/" + ballot)
	p := org.post("/organiser/outreach/ballots/"+ballot+"/campaigns", url.Values{"name": {"Branch texting"}, "source": {"self_reported"},
		"script": {"Hi {first_name}, it's {volunteer} from the union. Have you voted yet?"}})
	campaignURL := regexp.MustCompile(`/organiser/outreach/campaigns/([0-9]+)/volunteers`).FindStringSubmatch(p.body)
	if p.code != 200 || campaignURL == nil {
		t.Fatalf("campaign: %d\n%s", p.code, p.body)
	}
	camp := campaignURL[1]
	scr := s.staffAt("scrutineer", 0, clk.Now())
	scr.get("/organiser/outreach/ballots/" + ballot)
	policy := "Trained volunteers may text members who have not yet voted; no one is told how anyone voted."
	if p := scr.post("/scrutineer/outreach/ballots/"+ballot+"/approval", url.Values{"approve": {"on"}, "policy": {policy}}); p.code != 200 {
		t.Fatalf("approval: %d\n%s", p.code, p.body)
	}
	org.get("/organiser/outreach/ballots/" + ballot)
	if p := org.post("/organiser/outreach/ballots/"+ballot+"/campaigns", url.Values{"name": {"Turnout texting"}, "source": {"turnout"},
		"script": {"Hi {first_name}, the ballot closes soon."}}); p.code != 200 {
		t.Fatalf("turnout campaign: %d\n%s", p.code, p.body)
	}
	var other int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM outreach_campaigns WHERE name = 'Turnout texting'`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	org.get("/organiser/outreach/campaigns/" + camp)
	p = org.post("/organiser/outreach/campaigns/"+camp+"/volunteers", url.Values{"name": {"Vol North"}, "mobile": {"+447700800001"},
		"scope_kind": {"branch"}, "scope": {"North"}})
	m := regexp.MustCompile(`<code id="enrol-link">([^<]+)</code>`).FindStringSubmatch(p.body)
	if p.code != 200 || m == nil {
		t.Fatalf("invite: %d\n%s", p.code, p.body)
	}
	link := m[1]

	// The volunteer's browser: every response is checked for numbers.
	vol := &browser{webtest.NewBrowser(t, s.base, 30*time.Second)}
	seen := 0
	check := func(what string, p pageView, code int) pageView {
		t.Helper()
		seen++
		if p.code != code {
			t.Fatalf("%s: %d, want %d\n%s", what, p.code, code, p.body)
		}
		all := p.body
		for k, v := range p.h {
			all += "\n" + k + ": " + strings.Join(v, ",")
		}
		if hasNineDigits(all) {
			t.Fatalf("%s shows a phone number:\n%s", what, all)
		}
		return p
	}
	postJSON := func(path, body string) pageView {
		t.Helper()
		return vol.do(mustRequest(t, http.MethodPost, s.base+path, body, vol.CSRF))
	}

	// Enrolment: the link, then a passkey registered.
	check("enrol landing", vol.get(link), 200)
	check("enrol redeem", view(vol.PostForm(link, url.Values{"csrf": {vol.CSRF}})), 303)
	check("enrol page", vol.get("/staff/enrol"), 200)
	r := check("register begin", postJSON("/staff/passkey/register/begin", "{}"), 200)
	ao, err := virtualwebauthn.ParseAttestationOptions(r.body)
	if err != nil {
		t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{Name: "Union e-ballot", ID: "localhost", Origin: s.base}
	cred := ecCredential(t)
	authn := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
	check("register finish", postJSON("/staff/passkey/register/finish", virtualwebauthn.CreateAttestationResponse(rp, authn, cred, *ao)), 200)
	authn.AddCredential(cred)
	// Not signed in yet: the volunteer pages send to sign-in.
	if p := vol.get("/volunteer"); p.code == 200 {
		t.Fatal("volunteer page without a session")
	}
	// Sign-in with the passkey (again after each idle timeout below).
	signIn := func() {
		t.Helper()
		check("sign-in page", vol.get("/staff/signin"), 200)
		r := check("login begin", postJSON("/staff/passkey/login/begin", "{}"), 200)
		po, err := virtualwebauthn.ParseAssertionOptions(r.body)
		if err != nil {
			t.Fatal(err)
		}
		cred.Counter++
		check("login finish", postJSON("/staff/passkey/login/finish", virtualwebauthn.CreateAssertionResponse(rp, authn, cred, *po)), 200)
	}
	signIn()
	if home := check("staff home", vol.get("/staff"), 200); !strings.Contains(home.body, `href="/volunteer"`) {
		t.Fatalf("staff home has no volunteer link:\n%s", home.body)
	}
	var volID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM staff WHERE role = 'volunteer' AND name = 'Vol North'`).Scan(&volID); err != nil {
		t.Fatal(err)
	}

	// A form without the page's token is refused before anything happens.
	check("conduct page", vol.get("/volunteer"), 200)
	check("conduct without CSRF", view(vol.PostForm("/volunteer/conduct", url.Values{"accept": {"on"}})), 403)
	check("claim before conduct", view(vol.PostForm("/volunteer/claim", url.Values{"csrf": {vol.CSRF}})), 409)
	check("conduct", view(vol.PostForm("/volunteer/conduct", url.Values{"accept": {"on"}, "csrf": {vol.CSRF}})), 303)
	check("volunteer home", vol.get("/volunteer"), 200)
	if p := check("claim outside the branch", view(vol.PostForm("/volunteer/claim", url.Values{"scope": {"South"}, "csrf": {vol.CSRF}})), 403); !strings.Contains(p.body, "You can only claim members of your own branch or workplace.") {
		t.Fatalf("refusal message:\n%s", p.body)
	}
	check("volunteer home", vol.get("/volunteer"), 200)
	check("claim", view(vol.PostForm("/volunteer/claim", url.Values{"scope": {"North"}, "csrf": {vol.CSRF}})), 303)
	home := check("batch", vol.get("/volunteer"), 200)
	var convs []string
	for _, m := range regexp.MustCompile(`/volunteer/conversations/([0-9]+)`).FindAllStringSubmatch(home.body, -1) {
		convs = append(convs, m[1])
	}
	if len(convs) != 15 { // 30 members, half in North
		t.Fatalf("%d conversations in the batch", len(convs))
	}
	// No list can be exported: every list or export route of the site
	// refuses a volunteer.
	for _, path := range []string{"/organiser/gotv/ballots/" + ballot + "/turnout.csv", "/organiser/gotv/campaigns/1/nonvoters.csv",
		"/organiser/refresh/changes.csv", "/scrutineer/ballots/" + ballot + "/audit.jsonl", "/organiser/outreach/campaigns/" + camp,
		"/organiser/outreach/ballots/" + ballot, "/organiser/gotv/ballots/" + ballot} {
		p := vol.get(path)
		if p.code == 200 || strings.Contains(p.h.Get("Content-Type"), "csv") || strings.Contains(p.h.Get("Content-Type"), "jsonl") {
			t.Fatalf("a volunteer got %s: %d %s", path, p.code, p.h.Get("Content-Type"))
		}
		check(path, p, p.code)
	}
	mobileOf := func(conv string) string {
		t.Helper()
		var member int64
		if err := s.pool.QueryRow(ctx, `SELECT cv.member_id FROM outreach_conversations cv WHERE cv.id = $1`,
			conv).Scan(&member); err != nil {
			t.Fatal(err)
		}
		return s.contact(member).Mobile
	}
	conv := "/volunteer/conversations/" + convs[0]
	check("conversation", vol.get(conv), 200)
	check("send without CSRF", view(vol.PostForm(conv+"/send", url.Values{})), 403)
	if texts() != 0 {
		t.Fatal("a text was sent without the form's token")
	}
	check("send", view(vol.PostForm(conv+"/send", url.Values{"csrf": {vol.CSRF}})), 303)
	var body string
	if err := s.pool.QueryRow(ctx, `SELECT body FROM sms_outbox WHERE to_number = $1`, mobileOf(convs[0])).Scan(&body); err != nil ||
		!strings.HasPrefix(body, "Hi Name") || !strings.Contains(body, "Vol North from the union") || strings.Contains(body, "Surname") {
		t.Fatalf("the text: %q %v", body, err)
	}
	check("conversation", vol.get(conv), 200)
	check("second press", view(vol.PostForm(conv+"/send", url.Values{"csrf": {vol.CSRF}})), 409)

	// The member replies through Twilio's signed webhook.
	form := url.Values{"From": {mobileOf(convs[0])}, "To": {"+447700900000"}, "Body": {"Voted already! Ring 07700 900 555"}, "MessageSid": {"SMapp1"}}
	req := mustRequest(t, http.MethodPost, s.base+"/webhooks/twilio/inbound", form.Encode(), "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Signature(volunteerTwilioToken, s.base+"/webhooks/twilio/inbound", form))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("inbound webhook: %v %v", res, err)
	}
	if p := check("conversation with the reply", vol.get(conv), 200); !strings.Contains(p.body, "Voted already! Ring [number removed]") {
		t.Fatalf("reply not in the conversation:\n%s", p.body)
	}
	check("tag voted", view(vol.PostForm(conv+"/tag", url.Values{"tag": {"voted"}, "csrf": {vol.CSRF}})), 303)
	check("conversation", vol.get(conv), 200)
	before := texts()
	if p := check("reply after voted", view(vol.PostForm(conv+"/reply", url.Values{"canned": {"thanks"}, "csrf": {vol.CSRF}})), 409); !strings.Contains(p.body, "This member told us they have voted: no text was sent.") {
		t.Fatalf("refusal message:\n%s", p.body)
	}

	// Quiet hours: at 20:30 (the claim still live) the press is refused
	// with a message.
	clk.Set(clk.Now().Add(90 * time.Minute))
	signIn() // the staff session's 30 minutes idle passed
	conv2 := "/volunteer/conversations/" + convs[1]
	check("conversation", vol.get(conv2), 200)
	if p := check("send in quiet hours", view(vol.PostForm(conv2+"/send", url.Values{"csrf": {vol.CSRF}})), 409); !strings.Contains(p.body, "It is too late or too early to text this member.") {
		t.Fatalf("refusal message:\n%s", p.body)
	}
	// Another campaign's conversation (its volunteer's claim of South
	// members): not found.
	org = s.staffAt("organiser", b.UnionID, clk.Now())
	org.get("/organiser/outreach/campaigns/" + fmt.Sprint(other))
	if p := org.post(fmt.Sprintf("/organiser/outreach/campaigns/%d/volunteers", other), url.Values{"name": {"Vol South"}, "mobile": {"+447700800002"},
		"scope_kind": {"branch"}, "scope": {"South"}}); p.code != 200 {
		t.Fatalf("invite: %d\n%s", p.code, p.body)
	}
	var southID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM staff WHERE role = 'volunteer' AND name = 'Vol South'`).Scan(&southID); err != nil {
		t.Fatal(err)
	}
	south := page.Staff{ID: southID, UnionID: b.UnionID, Role: "volunteer"}
	if err := s.svc.Outreach.AcceptConduct(ctx, south); err != nil {
		t.Fatal(err)
	}
	if n, err := s.svc.Outreach.Claim(ctx, south, ""); err != nil || n == 0 {
		t.Fatalf("south claim: %d %v", n, err)
	}
	var foreign int64
	if err := s.pool.QueryRow(ctx, `SELECT min(id) FROM outreach_conversations WHERE campaign_id = $1`, other).Scan(&foreign); err != nil {
		t.Fatal(err)
	}
	check("another campaign's conversation", vol.get(fmt.Sprintf("/volunteer/conversations/%d", foreign)), 404)
	check("volunteer home", vol.get("/volunteer"), 200)
	check("send in another campaign", view(vol.PostForm(fmt.Sprintf("/volunteer/conversations/%d/send", foreign), url.Values{"csrf": {vol.CSRF}})), 404)
	// The next morning the claim has lapsed: reusing it is refused.
	clk.Set(clk.Now().Add(13 * time.Hour))
	signIn()
	check("expired claim", vol.get(conv2), 409)
	check("volunteer home", vol.get("/volunteer"), 200)
	check("send on an expired claim", view(vol.PostForm(conv2+"/send", url.Values{"csrf": {vol.CSRF}})), 409)
	if texts() != before {
		t.Fatal("a refused action sent a text")
	}
	if seen < 30 {
		t.Fatalf("only %d responses checked", seen)
	}

	// Every access and refusal is in the audit log under the volunteer.
	rows, err := s.pool.Query(ctx, `SELECT action || coalesce(' ' || (detail::jsonb->>'reason'), '') FROM audit_log WHERE actor = $1 ORDER BY seq`,
		fmt.Sprintf("volunteer:%d", volID))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	got := strings.Join(actions, ",")
	for _, want := range []string{"outreach.conduct_accepted", "outreach.refused conduct", "outreach.refused outside_scope", "outreach.claim", "outreach.view",
		"outreach.send", "outreach.refused already_sent", "outreach.tag", "outreach.refused voted", "outreach.refused quiet_hours",
		"outreach.refused not_found", "outreach.refused claim_expired"} {
		if !strings.Contains(got, want) {
			t.Fatalf("audit log lacks %q: %s", want, got)
		}
	}

	// The scrutineer's export states the approval, checked by the
	// independent tool.
	a := s.staffAt("scrutineer", 0, clk.Now()).get("/scrutineer/ballots/" + ballot + "/audit.jsonl")
	if a.code != 200 {
		t.Fatalf("audit export: %d", a.code)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "scrutineer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/unionvote/eballot/cmd/scrutineer").CombinedOutput(); err != nil {
		t.Fatalf("build scrutineer: %v\n%s", err, out)
	}
	f := filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(f, []byte(a.body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "verify-audit", f)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("verify-audit: %v\n%s", err, out.String())
	}
	var scrID int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM staff WHERE role = 'scrutineer' ORDER BY id LIMIT 1`).Scan(&scrID); err != nil {
		t.Fatal(err)
	}
	var turnoutID, selfID int64
	if err := s.pool.QueryRow(ctx, `SELECT max(id) FILTER (WHERE source = 'turnout'), max(id) FILTER (WHERE source = 'self_reported') FROM outreach_campaigns`).
		Scan(&turnoutID, &selfID); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("the scrutineer's account scrutineer:%d approved that the union may use turnout data (members not yet in the marked register) "+
			"for volunteer texting, under the union's published policy: %q", scrID, policy),
		fmt.Sprintf("Volunteer texting: campaign %d texted members not yet in the marked register, under the approval.", turnoutID),
		fmt.Sprintf("Volunteer texting: campaign %d texted only members who had not told the union they voted (no turnout data).", selfID),
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("verify-audit lacks %q:\n%s", want, out.String())
		}
	}
}

func mustRequest(t *testing.T, method, u, body, csrf string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if csrf != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
	}
	return req
}

// ecCredential is a virtual EC2 passkey whose public key coordinates are
// both 32 bytes (virtualwebauthn drops a leading zero byte, which
// go-webauthn rightly rejects; internal/auth's tests do the same).
func ecCredential(t *testing.T) virtualwebauthn.Credential {
	t.Helper()
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ec := k.(*ecdsa.PrivateKey); len(ec.X.Bytes()) == 32 && len(ec.Y.Bytes()) == 32 {
			return c
		}
	}
}

// hasNineDigits reports a run of 9 or more digits, allowing the
// separators numbers are written with (a UK mobile has 10 or 11).
func hasNineDigits(s string) bool {
	for _, m := range regexp.MustCompile(`\+?[0-9][0-9 ().\-]*[0-9]`).FindAllString(s, -1) {
		d := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				d++
			}
		}
		if d >= 9 {
			return true
		}
	}
	return false
}
