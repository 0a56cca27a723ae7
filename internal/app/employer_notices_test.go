package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
)

// The organiser records, per employer, when the s.226A notice and the
// sample voting paper were given; opening names each employer whose
// notice is missing or too recent.
func TestEmployerNoticesPerEmployer(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "per-employer", Members: 4})
	// North Depot's members work for Acme, South Depot's for Bolt.
	if _, err := s.pool.Exec(ctx, `UPDATE members SET employer = CASE workplace WHEN 'North Depot' THEN 'Acme Transport Ltd' ELSE 'Bolt  Buses plc' END
		WHERE union_id = $1`, b.UnionID); err != nil {
		t.Fatal(err)
	}
	file, _, _ := electiontest.Trustees(t, 3, 2)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Admin.AppointScrutineer(ctx, "scrutineer:1", b.ID, "Scrutineers Ltd", false))
	must(b.Admin.SignOffSecurityAssessment(ctx, "scrutineer:1", b.ID, "A. Assessor"))
	must(b.Admin.SetTrustees(ctx, "scrutineer:1", b.ID, file))
	must(b.Admin.SetScrutineerKey(ctx, "scrutineer:1", b.ID, electiontest.ScrutineerKey(t)))
	electiontest.Approve(t, b.Admin, b.ID)

	org := s.staff("organiser", b.UnionID)
	path := fmt.Sprintf("/organiser/ballots/%d/employer-notices", b.ID)
	p := org.get(path)
	if p.code != 200 || !strings.Contains(p.body, "Acme Transport Ltd") || !strings.Contains(p.body, "Bolt Buses plc") {
		t.Fatalf("page: %d %s", p.code, p.body)
	}
	// Each employer's printable notice is linked, and shows that employer only.
	link := fmt.Sprintf("/organiser/ballots/%d/notices?employer=%s", b.ID, url.QueryEscape("bolt buses plc"))
	if !strings.Contains(p.body, fmt.Sprintf("/organiser/ballots/%d/notices?employer=bolt", b.ID)) {
		t.Fatalf("no link to Bolt's notice")
	}
	if n := org.get(link); n.code != 200 || !strings.Contains(n.body, "Bolt") || strings.Contains(n.body, "Acme Transport Ltd") || strings.Count(n.body, "<article") != 1 {
		t.Fatalf("Bolt's notice: %d", n.code)
	}
	if n := org.get(fmt.Sprintf("/organiser/ballots/%d/notices?employer=nobody", b.ID)); n.code != 404 {
		t.Fatalf("unknown employer's notice: %d", n.code)
	}
	reasons, err := b.Admin.Readiness(ctx, b.ID)
	must(err)
	text := strings.Join(election.Englishes(reasons), "\n")
	for _, want := range []string{"Acme Transport Ltd: record when the s.226A notice", "Bolt Buses plc: record when the sample voting paper"} {
		if !strings.Contains(text, want) {
			t.Errorf("readiness lacks %q:\n%s", want, text)
		}
	}

	at := func(days int) string { return time.Now().AddDate(0, 0, -days).In(london()).Format("2006-01-02T15:04") }
	p = org.post(path, url.Values{"employer": {"Acme Transport Ltd"}, "notice_sent_at": {at(10)}, "sample_sent_at": {at(10)}})
	if p.code != 200 || !strings.Contains(p.body, "The dates were recorded.") {
		t.Fatalf("record Acme: %d %s", p.code, p.body)
	}
	p = org.post(path, url.Values{"employer": {"bolt buses PLC"}, "notice_sent_at": {at(2)}, "sample_sent_at": {at(5)}})
	if p.code != 200 {
		t.Fatalf("record Bolt: %d", p.code)
	}
	if !strings.Contains(p.body, "Too recent for the planned opening.") {
		t.Fatal("the page does not say Bolt's notice is too recent")
	}
	// Clear messages for bad input; nothing recorded.
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"employer": {"Acme Transport Ltd"}, "notice_sent_at": {"yesterday"}}, "give the date and time the notice of the ballot was given"},
		{url.Values{"employer": {"Acme Transport Ltd"}, "notice_sent_at": {time.Now().AddDate(0, 0, 2).Format("2006-01-02T15:04")}}, "that time is in the future"},
		{url.Values{"employer": {"Nobody Ltd"}, "notice_sent_at": {at(9)}}, "no member on the register works for that employer"},
	} {
		if p := org.post(path, c.form); p.code != 422 || !strings.Contains(p.body, c.want) {
			t.Errorf("%v: %d, want 422 with %q", c.form, p.code, c.want)
		}
	}
	// The same messages in Welsh on the Welsh page, not marked as English.
	p = org.post(path+"?lang=cy", url.Values{"employer": {"Acme Transport Ltd"}, "notice_sent_at": {"yesterday"}, "sample_sent_at": {"today"}})
	if p.code != 422 || !strings.Contains(p.body, "rhowch y dyddiad a&#39;r amser y rhoddwyd yr hysbysiad o&#39;r bleidlais a&#39;r papur pleidleisio enghreifftiol") ||
		strings.Contains(p.body, `<p lang="en"`) {
		t.Errorf("Welsh error: %d %s", p.code, p.body)
	}
	org.get(path + "?lang=en")
	// Only the ballot's organisers: another union's answer 404, the
	// scrutineer 403, and a form without its CSRF token is refused.
	other := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "other-union", Members: 1})
	if p := s.staff("organiser", other.UnionID).get(path); p.code != 404 {
		t.Fatalf("another union's organiser: %d", p.code)
	}
	if p := s.staff("scrutineer", 0).get(path); p.code != 403 {
		t.Fatalf("scrutineer: %d", p.code)
	}
	if p := org.post(path, url.Values{"csrf": {"forged"}, "employer": {"Acme Transport Ltd"}}); p.code != 403 {
		t.Fatalf("forged CSRF token: %d", p.code)
	}

	// Opening names Bolt only, for its 7-day notice.
	err = b.Admin.Open(ctx, "scrutineer:1", b.ID)
	if err == nil || !strings.Contains(err.Error(), "Bolt Buses plc: the s.226A notice must reach employers at least 7 days") ||
		strings.Contains(err.Error(), "Acme") || strings.Contains(err.Error(), "sample voting paper must") {
		t.Fatalf("open: %v", err)
	}
	org.get(path)
	org.post(path, url.Values{"employer": {"Bolt Buses plc"}, "notice_sent_at": {at(8)}, "sample_sent_at": {at(5)}})
	must(b.Admin.Open(ctx, "scrutineer:1", b.ID))
	// Once open, the records are frozen.
	org.get(path)
	if p := org.post(path, url.Values{"employer": {"Bolt Buses plc"}, "notice_sent_at": {at(9)}}); p.code != 409 || !strings.Contains(p.body, "no longer a draft") {
		t.Fatalf("record after open: %d", p.code)
	}
}

func london() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}
