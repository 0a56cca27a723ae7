package app

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// TestActionNotices (issue 19): after an industrial action ballot closes
// (here early, by the scrutineer), the organiser's ballot page and list
// show the s.234 mandate's last day, and the organiser drafts, prints and
// records the s.234A notice of industrial action for an employer over
// HTTP. The law's figures for a ballot opened under ERA25 (from 18 Feb
// 2026; statutory.md §1) are written here: a mandate of 12 months
// beginning with the date of the ballot (the day of the actual close),
// and 10 days' notice. A notice whose day leaves less than 10 days before
// the action, action after the mandate, a notice before the ballot, and
// a notice recorded as given too late are refused with the rule named.
func TestActionNotices(t *testing.T) {
	start := time.Now()
	clk := &clock{t: start}
	s := newSiteClock(t, clk)
	ctx := context.Background()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "mandate", Members: 2, Ready: true})
	id := strconv.FormatInt(b.ID, 10)
	sc := s.staffAt("scrutineer", 0, start)
	sc.get("/scrutineer/ballots/" + id)
	if p := sc.post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"mandate"}}); p.code != 200 {
		t.Fatalf("open: %d %.300s", p.code, p.body)
	}
	org := s.staffAt("organiser", b.UnionID, start)
	if p := org.get("/organiser/ballots/" + id + "/action-notices"); p.code != 404 {
		t.Fatalf("notices of action while the ballot is open: %d", p.code)
	}
	clk.Set(start.Add(30 * time.Minute))
	sc.get("/scrutineer/ballots/" + id)
	if p := sc.post("/scrutineer/ballots/"+id+"/close", url.Values{"confirm": {"mandate"}, "reason": {"Settled early."}}); p.code != 200 {
		t.Fatalf("early close: %d %.300s", p.code, p.body)
	}
	var closedAt time.Time
	if err := s.pool.QueryRow(ctx, `SELECT closed_at FROM ballots WHERE id = $1`, b.ID).Scan(&closedAt); err != nil {
		t.Fatal(err)
	}
	c := closedAt.In(london)
	ballotDay := time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, london)
	lastDay := ballotDay.AddDate(0, 12, -1) // 12 months beginning with the date of the ballot
	en := func(d time.Time) string { return d.Format("2 Jan 2006") }
	iso := func(d time.Time) string { return d.Format("2006-01-02") }

	org = s.staffAt("organiser", b.UnionID, clk.Now())
	if p := org.get("/organiser/ballots/" + id); !strings.Contains(p.body, `id="mandate-ends">`+en(lastDay)+"<") {
		t.Fatalf("ballot page: no mandate to %s: %.2000s", en(lastDay), p.body)
	}
	if p := org.get("/organiser"); !strings.Contains(p.body, "The mandate (s.234) ends at the end of</dt><dd>"+en(lastDay)) {
		t.Fatalf("dashboard: no mandate to %s", en(lastDay))
	}
	p := org.get("/organiser/ballots/" + id + "/action-notices")
	if p.code != 200 || !strings.Contains(p.body, `id="notice-period">10 days`) || !strings.Contains(p.body, `id="date-of-ballot">`+en(ballotDay)) {
		t.Fatalf("action notices page: %d %.2000s", p.code, p.body)
	}
	form := func(noticeOn time.Time, pattern string, days ...time.Time) url.Values {
		var ds []string
		for _, d := range days {
			ds = append(ds, iso(d))
		}
		return url.Values{"employer": {"Acme Transport Ltd"}, "categories": {"Drivers\nDepot staff"}, "workplaces": {"North Depot"},
			"employees": {"42"}, "action": {"strike"}, "pattern": {pattern}, "days": {strings.Join(ds, "\n")}, "notice_on": {iso(noticeOn)}}
	}
	for _, tc := range []struct {
		name string
		path string
		f    url.Values
		want string
	}{
		{"nine days", "", form(ballotDay, "continuous", ballotDay.AddDate(0, 0, 9)),
			"s.234A(4): the notice must be given at least 10 days before the action: the action on " + en(ballotDay.AddDate(0, 0, 9)) +
				" is too soon after a notice given on " + en(ballotDay) + "; the first day of action can be " + en(ballotDay.AddDate(0, 0, 10)) + " at the earliest"},
		{"after the mandate", "", form(ballotDay, "discontinuous", ballotDay.AddDate(0, 0, 10), lastDay.AddDate(0, 0, 1)),
			"s.234: the action on " + en(lastDay.AddDate(0, 0, 1)) + " is after the mandate ends (the end of " + en(lastDay) + ", 12 months"},
		{"before the ballot", "", form(ballotDay.AddDate(0, 0, -1), "continuous", ballotDay.AddDate(0, 0, 12)), "s.233: industrial action follows the ballot"},
		{"continuous with two days", "", form(ballotDay, "continuous", ballotDay.AddDate(0, 0, 10), ballotDay.AddDate(0, 0, 11)), "continuous action: give only its first day"},
		{"nine days, in Welsh", "?lang=cy", form(ballotDay, "continuous", ballotDay.AddDate(0, 0, 9)), "a.234A(4): rhaid rhoi&#39;r hysbysiad o leiaf 10 diwrnod cyn y gweithredu"},
	} {
		if p := org.post("/organiser/ballots/"+id+"/action-notices"+tc.path, tc.f); p.code != 422 || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s: %d, want 422 with %q: %.3000s", tc.name, p.code, tc.want, p.body)
		}
	}
	org.get("/organiser/ballots/" + id + "/action-notices?lang=en") // the language choice is kept: back to English
	var n int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM action_notices WHERE ballot_id = $1`, b.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("%d notices saved from refused forms", n)
	}

	// Ten days: saved, printable, then recorded as given.
	first := ballotDay.AddDate(0, 0, 10)
	if p := org.post("/organiser/ballots/"+id+"/action-notices", form(ballotDay, "continuous", first)); p.code != 200 || !strings.Contains(p.body, "The notice was saved.") {
		t.Fatalf("ten days: %d %.2000s", p.code, p.body)
	}
	if p := org.post("/organiser/ballots/"+id+"/action-notices", form(ballotDay, "discontinuous", first, lastDay)); p.code != 200 {
		t.Fatalf("second notice, up to the mandate's last day: %d %.2000s", p.code, p.body)
	}
	var nid, nid2 int64
	s.pool.QueryRow(ctx, `SELECT min(id), max(id) FROM action_notices WHERE ballot_id = $1`, b.ID).Scan(&nid, &nid2)
	pr := org.get("/organiser/ballots/" + id + "/action-notices/" + strconv.FormatInt(nid, 10))
	for _, want := range []string{"Notice of industrial action", "section 234A", "Acme Transport Ltd", `id="print-total">42<`, "<li>Drivers</li>", "<li>North Depot</li>",
		"It will begin on " + en(first), "at least 10 days before the action", "mandate ends at the end of " + en(lastDay), `href="/static/notice-print.`} {
		if !strings.Contains(pr.body, want) {
			t.Errorf("printed notice lacks %q", want)
		}
	}
	if strings.Contains(pr.body, "Member 1") {
		t.Error("the printed notice names a member")
	}
	if p := org.get("/organiser/ballots/" + id + "/action-notices/" + strconv.FormatInt(nid, 10) + "?lang=cy"); !strings.Contains(p.body, "Hysbysiad o weithredu diwydiannol") {
		t.Error("no Welsh notice")
	}
	sentAt := clk.Now().In(london).Truncate(time.Minute)
	sent := url.Values{"sent_at": {sentAt.Format("2006-01-02T15:04")}}
	org.get("/organiser/ballots/" + id + "/action-notices?lang=en")
	if p := org.post("/organiser/ballots/"+id+"/action-notices/"+strconv.FormatInt(nid, 10)+"/sent", sent); p.code != 200 || !strings.Contains(p.body, "was recorded") {
		t.Fatalf("record as given: %d %.2000s", p.code, p.body)
	}
	var got *time.Time
	s.pool.QueryRow(ctx, `SELECT sent_at FROM action_notices WHERE id = $1`, nid).Scan(&got)
	if got == nil || !got.Equal(sentAt) {
		t.Fatalf("sent_at %v, want %v", got, sentAt)
	}
	var audits int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE ballot_id = $1 AND action = 'action_notice.sent'`, b.ID).Scan(&audits)
	if audits != 1 {
		t.Errorf("%d audit entries for the notice given", audits)
	}
	if p := org.post("/organiser/ballots/"+id+"/action-notices/"+strconv.FormatInt(nid, 10)+"/sent", sent); p.code != 422 || !strings.Contains(p.body, "already recorded as given") {
		t.Errorf("recorded twice: %d", p.code)
	}

	// The second notice is given two days late: the first day of action
	// is then 8 days on, too soon.
	late := ballotDay.AddDate(0, 0, 2).Add(11 * time.Hour)
	clk.Set(late.Add(time.Minute))
	org = s.staffAt("organiser", b.UnionID, clk.Now())
	org.get("/organiser/ballots/" + id + "/action-notices")
	p = org.post("/organiser/ballots/"+id+"/action-notices/"+strconv.FormatInt(nid2, 10)+"/sent", url.Values{"sent_at": {late.Format("2006-01-02T15:04")}})
	if p.code != 422 || !strings.Contains(p.body, "s.234A(4): the notice must be given at least 10 days before the action: the action on "+en(first)) {
		t.Errorf("given too late: %d %.2000s", p.code, p.body)
	}
	s.pool.QueryRow(ctx, `SELECT sent_at FROM action_notices WHERE id = $1`, nid2).Scan(&got)
	if got != nil {
		t.Errorf("a notice given too late was recorded: %v", got)
	}
	if p := s.staffAt("scrutineer", 0, clk.Now()).get("/organiser/ballots/" + id + "/action-notices"); p.code != 403 {
		t.Errorf("the scrutineer reached the union's notices: %d", p.code)
	}
}
