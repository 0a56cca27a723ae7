package outreach_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/outreach"
)

// TestNoPhoneNumberReachesAVolunteer drives a volunteer's whole session
// over HTTP — conduct, claim, conversations, send, a reply with a number
// in it, canned reply, tags, and refused actions (outside their branch,
// another volunteer's conversation, another campaign's) — and checks that
// no response a volunteer gets (body, headers, error pages) holds a phone
// number, in English and in Welsh.
func TestNoPhoneNumberReachesAVolunteer(t *testing.T) {
	w := newWorld(t, 60, gotvConfig())
	ctx := context.Background()
	camp, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Texting", Source: outreach.SourceSelfReported,
		Script: "Hi {first_name}, {volunteer} here. Have you voted?"})
	must(t, err)
	other, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Other", Source: outreach.SourceSelfReported,
		Script: "Hello {first_name}"})
	must(t, err)
	v := w.volunteer(t, camp, "Vol A", "branch", "North", 1)
	v2 := w.volunteer(t, other, "Vol B", "branch", "North", 2)
	w.signedIn["a"], w.signedIn["b"] = v, v2
	must(t, w.out.AcceptConduct(ctx, v2))
	_, err = w.out.Claim(ctx, v2, "")
	must(t, err)
	otherConv := batch(t, w, v2)[0].ID

	r := chi.NewRouter()
	w.out.Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	responses := 0
	do := func(method, path, who, lang string, form url.Values, want int) string {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, srv.URL+path+"?lang="+lang, body)
		req.Header.Set("X-Test-Staff", who)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := client.Do(req)
		must(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		responses++
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d\n%s", method, path, res.StatusCode, want, b)
		}
		all := string(b)
		for k, vs := range res.Header {
			all += "\n" + k + ": " + strings.Join(vs, ",")
		}
		if hasPhone(all) {
			t.Fatalf("%s %s (%s) shows a phone number:\n%s", method, path, lang, all)
		}
		for _, m := range w.mobiles {
			if strings.Contains(all, m) || strings.Contains(all, "0"+m[3:]) {
				t.Fatalf("%s %s shows a member's mobile", method, path)
			}
		}
		return string(b)
	}
	linkRE := regexp.MustCompile(`/volunteer/conversations/([0-9]+)`)
	for _, lang := range []string{"en", "cy"} {
		do("GET", "/volunteer", "a", lang, nil, 200)
	}
	do("POST", "/volunteer/claim", "a", "en", url.Values{}, 409) // conduct first
	do("POST", "/volunteer/conduct", "a", "en", url.Values{"accept": {"on"}}, 303)
	do("POST", "/volunteer/claim", "a", "cy", url.Values{"scope": {"South"}}, 403)
	do("POST", "/volunteer/claim", "a", "en", url.Values{"scope": {"North"}}, 303)
	home := do("GET", "/volunteer", "a", "en", nil, 200)
	var convs []string
	for _, m := range linkRE.FindAllStringSubmatch(home, -1) {
		convs = append(convs, m[1])
	}
	if len(convs) != 20 { // 60 members, a third in North
		t.Fatalf("%d conversations listed", len(convs))
	}
	for i, c := range convs[:3] {
		for _, lang := range []string{"en", "cy"} {
			do("GET", "/volunteer/conversations/"+c, "a", lang, nil, 200)
		}
		do("POST", "/volunteer/conversations/"+c+"/send", "a", "en", url.Values{}, 303)
		do("POST", "/volunteer/conversations/"+c+"/send", "a", "cy", url.Values{}, 409) // one press, one text
		if i == 0 {
			var id int64
			must(t, w.pool.QueryRow(ctx, `SELECT member_id FROM outreach_conversations WHERE id = $1`, c).Scan(&id))
			w.reply(t, w.mobiles[id], "Ring me on +44 7700 900123 or 07700900123")
			page := do("GET", "/volunteer/conversations/"+c, "a", "en", nil, 200)
			if !strings.Contains(page, "Ring me on [number removed]") {
				t.Fatalf("reply not shown masked:\n%s", page)
			}
			if cy := do("GET", "/volunteer/conversations/"+c, "a", "cy", nil, 200); !strings.Contains(cy, "Ring me on [rhif wedi’i dynnu]") ||
				strings.Contains(cy, "[number removed]") {
				t.Fatalf("masked number not in Welsh on the Welsh page:\n%s", cy)
			}
			do("POST", "/volunteer/conversations/"+c+"/reply", "a", "en", url.Values{"canned": {"postal"}}, 303)
			do("POST", "/volunteer/conversations/"+c+"/tag", "a", "en", url.Values{"tag": {"postal_pack"}}, 303)
			do("POST", "/volunteer/conversations/"+c+"/tag", "a", "en", url.Values{"tag": {"nonsense"}}, 400)
		}
	}
	for _, lang := range []string{"en", "cy"} {
		do("GET", "/volunteer", "a", lang, nil, 200)
		do("GET", "/volunteer/conversations/"+itoa(otherConv), "a", lang, nil, 404) // another campaign's
		do("POST", "/volunteer/conversations/"+itoa(otherConv)+"/send", "a", lang, url.Values{}, 404)
		do("GET", "/volunteer/conversations/"+convs[0], "b", lang, nil, 404)        // another volunteer's
		do("GET", "/organiser/outreach/ballots/"+itoa(w.b.ID), "a", lang, nil, 403) // not an organiser
		do("GET", "/organiser/outreach/campaigns/"+itoa(camp), "a", lang, nil, 403)
		do("GET", "/volunteer/conversations/nope", "a", lang, nil, 404)
	}
	if responses < 30 {
		t.Fatalf("only %d responses checked", responses)
	}
	// The organiser's pages work and show the queue (first name only).
	w.signedIn["org"] = w.org
	w.signedIn["scrut"] = w.scrut
	for _, lang := range []string{"en", "cy"} {
		p := do("GET", "/organiser/outreach/campaigns/"+itoa(camp), "org", lang, nil, 200)
		if !strings.Contains(p, "queue") {
			t.Fatalf("no queue on the campaign page")
		}
		do("GET", "/organiser/outreach/ballots/"+itoa(w.b.ID), "org", lang, nil, 200)
		do("GET", "/organiser/outreach/ballots/"+itoa(w.b.ID), "scrut", lang, nil, 200)
	}
	do("POST", "/organiser/outreach/ballots/"+itoa(w.b.ID)+"/campaigns", "org", "en",
		url.Values{"name": {"T"}, "source": {"turnout"}, "script": {"Hi"}}, 409) // not approved
	do("POST", "/scrutineer/outreach/ballots/"+itoa(w.b.ID)+"/approval", "scrut", "en",
		url.Values{"approve": {"on"}, "policy": {"Volunteers may text members not yet marked."}}, 303)
	do("POST", "/organiser/outreach/ballots/"+itoa(w.b.ID)+"/campaigns", "org", "en",
		url.Values{"name": {"T"}, "source": {"turnout"}, "script": {"Hi"}}, 303)
	do("POST", "/organiser/outreach/campaigns/"+itoa(camp)+"/volunteers", "org", "en",
		url.Values{"name": {"Vol C"}, "mobile": {"+447700800003"}, "scope_kind": {"workplace"}, "scope": {"North Depot"}}, 200)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
