package result_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/mail/mailtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// noticesOf is gotv.ResultNotices over an After built later (each
// "process" builds its own pair, as internal/app does).
type noticesOf struct{ a **result.After }

func (n noticesOf) ResultNotice(ctx context.Context, id int64) (gotv.Notice, error) {
	return (*n.a).ResultNotice(ctx, id)
}

// afterRig is one "process" of the service after the close: its outbox
// worker and its After, over the fakes at the wire.
type afterRig struct {
	svc   *gotv.Service
	after *result.After
}

type wires struct {
	c      *counted
	pages  *page.Pages
	twilio *smstest.Twilio
	smtp   *mailtest.Server
	sender sms.Sender
	mailer mail.Sender
	clk    *testClock
	scr    map[int64]string
}

func newWires(t *testing.T, c *counted, dropEmail string) *wires {
	t.Helper()
	pages, err := page.New(slog.New(slog.DiscardHandler))
	must(t, err)
	must(t, election.RegisterPages(pages))
	must(t, result.RegisterPages(pages))
	must(t, result.RegisterAfterPages(pages))
	w := &wires{c: c, pages: pages, twilio: smstest.NewTwilio(t), clk: &testClock{t: londonNoon(time.Now())}, scr: map[int64]string{}}
	w.smtp = mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, DropAfterData: func(to string) bool { return to == dropEmail }})
	w.sender, err = sms.NewTwilio(sms.TwilioConfig{AccountSID: "ACtest", AuthToken: "tok", From: "+447700900000",
		HTTPClient: w.twilio.ClientWithTimeout(10 * time.Second)})
	must(t, err)
	w.mailer, err = mail.NewSMTP(mail.SMTPConfig{Host: "localhost", Port: w.smtp.Port, From: "Union e-ballot <ballots@vote.example>",
		HelloName: "vote.example", TLSConfig: &tls.Config{RootCAs: w.smtp.RootCAs()}})
	must(t, err)
	return w
}

// process builds a fresh outbox worker and After, as a restarted
// service does.
func (w *wires) process(t *testing.T) *afterRig {
	t.Helper()
	r := &afterRig{}
	svc, err := gotv.New(gotv.Options{Pool: w.c.b.Pool, Sender: w.sender, Mail: w.mailer, Results: noticesOf{&r.after},
		SecretKey: electiontest.SecretKey, Now: w.clk.Now,
		Link: func(context.Context, int64, int64) (string, error) { return "", fmt.Errorf("no links after the close") },
		Config: gotv.Config{PublicURL: "https://vote.example", TwilioAuthToken: "tok", RatePerSecond: 1e6, Burst: 1000, Batch: 20,
			PollInterval: 10 * time.Millisecond}})
	must(t, err)
	r.svc = svc
	r.after = result.NewAfter(result.AfterOptions{Pool: w.c.b.Pool, Ballots: w.c.b.Store, Register: w.c.b.Register, Outbox: svc,
		Scrutineers: func(context.Context) (map[int64]string, error) { return w.scr, nil },
		T:           w.pages.T, PublicURL: "https://vote.example", Now: w.clk.Now})
	return r
}

// server serves the result and after-close pages as internal/app wires
// them.
func (w *wires) server(t *testing.T, r *afterRig) *httptest.Server {
	t.Helper()
	c := w.c
	issued := func(ctx context.Context, e string) (map[string]int64, error) {
		cs, err := c.iss.CountsFor(ctx, e)
		out := map[string]int64{}
		for _, x := range cs {
			out[x.Style] = int64(x.Online + x.Replaced)
		}
		return out, err
	}
	rt := chi.NewRouter()
	result.NewPages(result.New(c.b.Pool, c.b.Store, ledger.HandOver{L: c.led}, issued), c.b.Admin, c.b.Store, c.b.Register, w.pages, webtest.Staff,
		"https://vote.example").Routes(rt)
	result.NewAfterPages(r.after, c.b.Store, w.pages, webtest.Staff).Routes(rt)
	election.NewAdminPages(c.b.Admin, c.b.Store, w.pages, webtest.Staff, slog.New(slog.DiscardHandler)).Routes(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	return srv
}

func londonNoon(t time.Time) time.Time {
	l := t.In(page.London)
	return time.Date(l.Year(), l.Month(), l.Day(), 12, 0, 0, 0, page.London)
}

// drain runs passes of the worker until nothing moves.
func drain(t *testing.T, r *afterRig) {
	t.Helper()
	for i := 0; i < 200; i++ {
		must(t, r.after.Tick(context.Background()))
		n, err := r.svc.Tick(context.Background())
		must(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox did not drain")
}

// Every s.231 and s.231A notice is sent once, even across a restart
// mid-send: a published ballot of 240 members (by email, by text or both)
// and two employers, one with an address recorded on the staff page. The
// first worker is stopped while the 40th text is at the provider (the
// started call is finished and recorded); one text and one email are
// taken by the provider whose answer is lost (the connection dropped):
// those are set aside as unknown by the restarted worker, never sent
// again. At the wire (fake Twilio, fake SMTP server) every address gets
// exactly one message, with the regime's particulars in English and
// Welsh.
func TestAfterCloseNoticesExactlyOnceAcrossRestart(t *testing.T) {
	const members = 240
	contacts := func(i int) (string, string, string) {
		mobile, email := fmt.Sprintf("+4477009%05d", i), fmt.Sprintf("member%d@example.org", i)
		switch i % 3 {
		case 1:
			email = ""
		case 2:
			mobile = ""
		}
		if i == members-1 { // told by post
			email = ""
		}
		return fmt.Sprintf("Member %d", i+1), mobile, email
	}
	c := runElection(t, "after-once", members, 7, contacts)
	ctx := context.Background()
	pool := c.b.Pool
	// Two employers on the register.
	_, err := pool.Exec(ctx, `UPDATE members SET employer = CASE WHEN id % 2 = 0 THEN 'Acme Transport Ltd' ELSE 'Borough  Council' END
		WHERE id = ANY($1)`, c.b.MemberIDs)
	must(t, err)
	// Lost answers: one text, one email.
	lostMobile, lostEmail := "+447700900003", "member5@example.org"
	w := newWires(t, c, lostEmail)
	r1 := w.process(t)
	srv := w.server(t, r1)
	org := webtest.NewClient(t, srv.URL, "organiser", c.b.UnionID)
	scr := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	id := strconv.FormatInt(c.b.ID, 10)

	// The organiser records Acme's address before the result (a bad one
	// first); the Council has none.
	if st, body := org.Post("/organiser/ballots/"+id+"/after-close/employer", url.Values{"employer": {"acme transport ltd"}, "email": {"hr at acme"}}); st != 422 ||
		!strings.Contains(body, "Enter an email address") {
		t.Fatalf("bad address: %d", st)
	}
	if st, body := org.Post("/organiser/ballots/"+id+"/after-close/employer", url.Values{"employer": {"acme transport ltd"}, "email": {"hr@acme.example"}}); st != 200 ||
		!strings.Contains(body, "hr@acme.example") || !strings.Contains(body, "None recorded") {
		t.Fatalf("address: %d", st)
	}
	// Published by the scrutineer, as on the page.
	if st, _ := upload(scr, "/scrutineer/ballots/"+id+"/result", map[string][][]byte{"report": {c.js}, "signature": {c.sig}, "partials": c.partials}); st != 200 {
		t.Fatalf("publish: %d", st)
	}
	rep, err := report.Parse(c.js)
	must(t, err)

	// The notices are planned by two "processes" at once: once only.
	r0 := w.process(t)
	must(t, r0.after.Tick(ctx))
	must(t, r1.after.Tick(ctx))
	var rows, byEmail, bySMS int
	must(t, pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE channel = 'email' AND kind = 'member'), count(*) FILTER (WHERE channel = 'sms')
		FROM result_notices WHERE ballot_id = $1`, c.b.ID).Scan(&rows, &byEmail, &bySMS))
	if byEmail != 159 || bySMS != 160 || rows != 320 {
		t.Fatalf("notices: %d rows, %d by email, %d by text", rows, byEmail, bySMS)
	}

	w.twilio.Drop = func(to string) bool { return to == lostMobile }

	// Run 1: stopped while the 40th text is at the provider.
	p1 := w.process(t)
	runCtx, stop := context.WithCancel(ctx)
	var seen atomic.Int64
	w.twilio.Fail = func(string) (int, int) {
		if seen.Add(1) == 40 {
			stop()
			time.Sleep(50 * time.Millisecond) // the worker's context is done before the answer
		}
		return 0, 0
	}
	done := make(chan error, 1)
	go func() { done <- p1.svc.Run(runCtx) }()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("worker did not stop")
	}
	w.twilio.Fail = nil
	var started int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE source = 'result' AND state = 'sending' AND send_started_at IS NOT NULL
		AND coalesce(member_id, 0) NOT IN (SELECT id FROM members WHERE mobile_index = $1 OR email_index = $2)`,
		register.MobileIndex(electiontest.SecretKey, lostMobile), register.EmailIndex(electiontest.SecretKey, lostEmail)).Scan(&started))
	if started != 0 {
		t.Fatalf("%d sends started and not recorded after the stop", started)
	}

	// Run 2, a restarted process; then, after the lease, run 3 sets the
	// lost answers aside.
	drain(t, w.process(t))
	w.clk.Set(w.clk.Now().Add(3 * time.Minute))
	drain(t, w.process(t))

	// At the wire: exactly one message per address.
	texts := map[string]int{}
	for _, q := range w.twilio.Requests() {
		texts[q.Form.Get("To")]++
		if body := q.Form.Get("Body"); !strings.Contains(body, "/results/after-once") {
			t.Fatalf("text without the result link: %q", body)
		}
	}
	emails := map[string][]string{}
	for _, m := range w.smtp.Messages() {
		for _, to := range m.To {
			emails[to] = append(emails[to], string(m.Data))
		}
	}
	agg := rep.Result.Aggregate
	for i := 0; i < members; i++ {
		_, mobile, email := contacts(i)
		if mobile != "" && texts[mobile] != 1 {
			t.Errorf("member %d: %d texts, want 1", i, texts[mobile])
		}
		if email != "" && len(emails[email]) != 1 {
			t.Errorf("member %d: %d emails, want 1", i, len(emails[email]))
		}
	}
	if len(texts) != 160 || len(emails) != 160 {
		t.Fatalf("%d numbers texted, %d addresses emailed", len(texts), len(emails))
	}
	emp := emails["hr@acme.example"]
	if len(emp) != 1 || !strings.Contains(emp[0], "231A") {
		t.Fatalf("employer notice: %d", len(emp))
	}
	// The particulars of the signed result (s.231(a)–(e)), in both languages.
	body := emails["member0@example.org"][0]
	for _, want := range []string{fmt.Sprintf("Entitled to vote: %d", agg.Entitled), fmt.Sprintf("Votes cast: %d", agg.VotesCast),
		fmt.Sprintf("Yes: %d", agg.Questions[0].Yes), fmt.Sprintf("No: %d", agg.Questions[0].No), "Spoilt or otherwise invalid: " + fmt.Sprint(agg.Questions[0].Spoilt),
		fmt.Sprintf("=C3=82 hawl i bleidleisio: %d", agg.Entitled), "Content-Language: en, cy"} {
		if !strings.Contains(body, want) {
			t.Errorf("member email lacks %q:\n%s", want, body)
		}
	}
	sms0 := ""
	for _, q := range w.twilio.Requests() {
		if q.Form.Get("To") == "+447700900000" {
			sms0 = q.Form.Get("Body")
		}
	}
	if want := fmt.Sprintf("%d of %d voted. Q1 Yes %d, No %d", agg.VotesCast, agg.Entitled, agg.Questions[0].Yes, agg.Questions[0].No); !strings.Contains(sms0, want) {
		t.Errorf("text %q lacks %q", sms0, want)
	}

	// The outbox states: all sent but the two lost answers (unknown).
	states := map[string]int{}
	rs, err := pool.Query(ctx, `SELECT state, count(*) FROM gotv_messages WHERE source = 'result' GROUP BY state`)
	must(t, err)
	for rs.Next() {
		var s string
		var n int
		must(t, rs.Scan(&s, &n))
		states[s] = n
	}
	rs.Close()
	if states["sent"] != 318 || states["unknown"] != 2 || len(states) != 2 {
		t.Fatalf("outbox states: %v", states)
	}

	// The organiser's page: counts, the employer's send time, the
	// Council still without an address.
	st, page := org.Get("/organiser/ballots/" + id + "/after-close")
	if st != 200 || !strings.Contains(page, `class="by-email">159<`) || !strings.Contains(page, `class="by-post">1<`) || !strings.Contains(page, `class="state-sent">317<`) ||
		!strings.Contains(page, `class="state-unknown">2<`) || !strings.Contains(page, "Sent "+page0When(w.clk.Now().Add(-3*time.Minute))) {
		t.Fatalf("after-close page: %d\n%s", st, page)
	}
	// The notice to post, in English and Welsh, and the one member to post it to.
	if st, body := org.Get("/organiser/ballots/" + id + "/after-close/post"); st != 200 || !strings.Contains(body, "Members to post it to: 1") ||
		!strings.Contains(body, "Member 240") || !strings.Contains(body, fmt.Sprintf("Â hawl i bleidleisio: %d", agg.Entitled)) {
		t.Fatalf("post list: %d\n%s", st, body)
	}
	if st, _ := webtest.NewClient(t, srv.URL, "organiser", c.b.UnionID+1).Get("/organiser/ballots/" + id + "/after-close"); st != 404 {
		t.Fatalf("another union's organiser: %d", st)
	}
}

// page0When is a time as the English pages show it.
func page0When(t time.Time) string { return page.When("en", t) }

// The staff steps after the close, as staff take them on the pages: the
// scrutineer's dashboard and page show the s.231B deadline; each
// scrutineer with a mobile is texted once a week before it and once a
// day before it (two "processes" planning at once), then the page says it
// is overdue; the organiser logs requests for a copy of the report by a
// member entitled to vote and by an employer (others refused, naming
// s.231B(2)) and marks each supplied, once.
func TestAfterCloseStaffSteps(t *testing.T) {
	c := runElection(t, "after-steps", 8, 7)
	ctx := context.Background()
	pool := c.b.Pool
	_, err := pool.Exec(ctx, `UPDATE members SET employer = 'Acme Transport Ltd' WHERE id = ANY($1)`, c.b.MemberIDs)
	must(t, err)
	var withMobile, without int64
	must(t, pool.QueryRow(ctx, `INSERT INTO staff (role, name, mobile) VALUES ('scrutineer', 'S. One', '+447700911111') RETURNING id`).Scan(&withMobile))
	must(t, pool.QueryRow(ctx, `INSERT INTO staff (role, name) VALUES ('scrutineer', 'S. Two') RETURNING id`).Scan(&without))
	var closedAt time.Time
	must(t, pool.QueryRow(ctx, `SELECT closed_at FROM ballots WHERE id = $1`, c.b.ID).Scan(&closedAt))
	due := election.ReportDue(closedAt)
	w := newWires(t, c, "")
	w.scr = map[int64]string{withMobile: "+447700911111", without: ""}
	w.clk.Set(londonNoon(due.AddDate(0, 0, -6)))
	r := w.process(t)
	srv := w.server(t, r)
	scr := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	org := webtest.NewClient(t, srv.URL, "organiser", c.b.UnionID)
	id := strconv.FormatInt(c.b.ID, 10)

	lastMinute := page.When("en", due.Add(-time.Minute))
	if st, body := scr.Get("/scrutineer"); st != 200 || !strings.Contains(body, `class="report-due">`+lastMinute) {
		t.Fatalf("dashboard: %d, want the deadline %s\n%s", st, lastMinute, body)
	}
	if st, body := scr.Get("/scrutineer/ballots/" + id + "/after-close"); st != 200 ||
		!strings.Contains(body, `class="report-due">`+result.NoticeTime{Time: due.Add(-time.Second)}.DateTime("en")) || strings.Contains(body, "Overdue") {
		t.Fatalf("scrutineer's page: %d\n%s", st, body)
	}

	// The week's reminder, planned by two processes, sent once.
	other := w.process(t)
	must(t, other.after.Tick(ctx))
	drain(t, r)
	drain(t, other)
	texts := func() []string {
		var out []string
		for _, q := range w.twilio.Requests() {
			if q.Form.Get("To") != "+447700911111" {
				t.Fatalf("a text to %s", q.Form.Get("To"))
			}
			out = append(out, q.Form.Get("Body"))
		}
		return out
	}
	if got := texts(); len(got) != 1 || !strings.Contains(got[0], "due by "+result.NoticeTime{Time: due.Add(-time.Second)}.DateTime("en")) ||
		!strings.Contains(got[0], "/scrutineer/ballots/"+id+"/result") {
		t.Fatalf("week reminder: %q", got)
	}
	// The day's, once; none after the deadline.
	w.clk.Set(due.Add(-12 * time.Hour))
	drain(t, w.process(t))
	drain(t, w.process(t))
	w.clk.Set(due.Add(time.Hour))
	drain(t, w.process(t))
	if got := texts(); len(got) != 2 {
		t.Fatalf("reminders: %q", got)
	}
	if st, body := scr.Get("/scrutineer/ballots/" + id + "/after-close"); st != 200 || !strings.Contains(body, "Overdue") {
		t.Fatalf("overdue: %d", st)
	}

	// Requests for a copy of the report.
	today := w.clk.Now().In(page.London).Format("2006-01-02")
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"requester": {"member"}, "member_number": {"M999999"}, "requested_on": {today}}, "No member with that number was entitled to vote in this ballot (section 231B(2))"},
		{url.Values{"requester": {"employer"}, "employer": {"Another Employer"}, "requested_on": {today}}, "That employer is not on this ballot"},
		{url.Values{"requester": {"member"}, "member_number": {"M000001"}, "requested_on": {"2099-01-01"}}, "not in the future"},
		{url.Values{"requester": {"member"}, "member_number": {"M000001"}, "requested_on": {"yesterday"}}, "Enter the date of the request"},
	} {
		if st, body := org.Post("/organiser/ballots/"+id+"/after-close/requests", tc.form); st != 422 || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, want 422 naming %q", tc.form, st, tc.want)
		}
	}
	if st, _ := scr.Post("/organiser/ballots/"+id+"/after-close/requests", url.Values{"requester": {"member"}, "member_number": {"M000001"},
		"requested_on": {today}}); st != 403 {
		t.Fatalf("a scrutineer recorded a request: %d", st)
	}
	st, body := org.Post("/organiser/ballots/"+id+"/after-close/requests", url.Values{"requester": {"member"}, "member_number": {"M000001"}, "requested_on": {today}})
	if st != 200 || !strings.Contains(body, "The request is recorded") || !strings.Contains(body, "Member M000001") {
		t.Fatalf("member request: %d", st)
	}
	st, body = org.Post("/organiser/ballots/"+id+"/after-close/requests", url.Values{"requester": {"employer"}, "employer": {" acme  transport ltd"}, "requested_on": {today}})
	if st != 200 || !strings.Contains(body, "Acme Transport Ltd") || strings.Count(body, `class="request"`) != 2 {
		t.Fatalf("employer request: %d", st)
	}
	supply := regexp.MustCompile(`/after-close/requests/(\d+)/supplied`).FindAllStringSubmatch(body, -1)
	if len(supply) != 2 {
		t.Fatalf("supply buttons: %v", supply)
	}
	w.clk.Set(w.clk.Now().Add(2 * time.Hour))
	st, body = org.Post("/organiser/ballots/"+id+supply[0][0], nil)
	if st != 200 || !strings.Contains(body, "The copy is recorded as supplied") || !strings.Contains(body, page.When("en", w.clk.Now())) ||
		strings.Count(body, "/supplied\"") != 1 {
		t.Fatalf("supplied: %d\n%s", st, body)
	}
	if st, body := org.Post("/organiser/ballots/"+id+supply[0][0], nil); st != 422 || !strings.Contains(body, "That request is not waiting for a copy") {
		t.Fatalf("supplied twice: %d", st)
	}
	var audited int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('result.copy_request', 'result.copy_supplied') AND ballot_id = $1`, c.b.ID).Scan(&audited))
	if audited != 3 {
		t.Fatalf("%d audit entries", audited)
	}

	// Under the s.226C exemption there is no report to wait for; a ballot
	// of another kind has none of these duties.
	_, err = pool.Exec(ctx, `UPDATE ballots SET small_ballot_exemption = true WHERE id = $1`, c.b.ID)
	must(t, err)
	if st, body := scr.Get("/scrutineer/ballots/" + id + "/after-close"); st != 200 || !strings.Contains(body, "No report: 50 or fewer members") ||
		strings.Contains(body, "Overdue") {
		t.Fatalf("s.226C: %d", st)
	}
	if st, body := scr.Get("/scrutineer"); st != 200 || strings.Contains(body, `class="report-due"`) {
		t.Fatalf("dashboard under s.226C: %d", st)
	}
	_, err = pool.Exec(ctx, `UPDATE ballots SET kind = 'political_fund' WHERE id = $1`, c.b.ID)
	must(t, err)
	if st, body := org.Get("/organiser/ballots/" + id + "/after-close"); st != 200 || !strings.Contains(body, "This page is for industrial action ballots") ||
		strings.Contains(body, "Member M000001") {
		t.Fatalf("another kind: %d", st)
	}
}

// TestEmployerNoticeOnPaper: an employer without an email address is
// given its s.231A notice on paper: the organiser prints the notice (the
// words of the email, in English and Welsh) and records the day it was
// posted or handed over, once, as the page and the audit log show.
func TestEmployerNoticeOnPaper(t *testing.T) {
	c := runElection(t, "after-paper", 6, 5)
	ctx := context.Background()
	pool := c.b.Pool
	_, err := pool.Exec(ctx, `UPDATE members SET employer = CASE WHEN id % 2 = 0 THEN 'Acme Transport Ltd' ELSE 'Brown & Sons / Depot 2' END
		WHERE id = ANY($1)`, c.b.MemberIDs)
	must(t, err)
	var closedAt time.Time
	must(t, pool.QueryRow(ctx, `SELECT closed_at FROM ballots WHERE id = $1`, c.b.ID).Scan(&closedAt))
	w := newWires(t, c, "")
	w.clk.Set(londonNoon(closedAt.AddDate(0, 0, 2)))
	r := w.process(t)
	srv := w.server(t, r)
	org := webtest.NewClient(t, srv.URL, "organiser", c.b.UnionID)
	scr := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	id := strconv.FormatInt(c.b.ID, 10)
	const brown = "brown & sons / depot 2"
	today := w.clk.Now().In(page.London).Format("2006-01-02")
	given := func(form url.Values) (int, string) {
		return org.Post("/organiser/ballots/"+id+"/after-close/employer-given", form)
	}

	// Before the result is published there is nothing to give.
	if st, body := given(url.Values{"employer": {brown}, "method": {"post"}, "given_on": {today}}); st != 422 || !strings.Contains(body, "The result is not published yet") {
		t.Fatalf("before publication: %d", st)
	}
	if st, _ := org.Get("/organiser/ballots/" + id + "/after-close/employer-notice?employer=" + url.QueryEscape(brown)); st != 404 {
		t.Fatalf("notice before publication: %d", st)
	}
	if st, _ := upload(scr, "/scrutineer/ballots/"+id+"/result", map[string][][]byte{"report": {c.js}, "signature": {c.sig}, "partials": c.partials}); st != 200 {
		t.Fatalf("publish: %d", st)
	}
	rep, err := report.Parse(c.js)
	must(t, err)

	// The page links each employer's notice to print; the notice names
	// the employer and gives the result in both languages.
	st, body := org.Get("/organiser/ballots/" + id + "/after-close")
	if st != 200 || strings.Count(body, "/after-close/employer-notice?employer=") != 2 || strings.Count(body, `class="emp-given">Not yet`) != 2 {
		t.Fatalf("after-close page: %d\n%s", st, body)
	}
	st, body = org.Get("/organiser/ballots/" + id + "/after-close/employer-notice?employer=" + url.QueryEscape(brown))
	if st != 200 || !strings.Contains(body, "To Brown &amp; Sons / Depot 2.") || !strings.Contains(body, "section 231A") ||
		!strings.Contains(body, `lang="cy"`) || !strings.Contains(body, "adran 231A") || !strings.Contains(body, rep.Result.Title) {
		t.Fatalf("notice to print: %d\n%s", st, body)
	}
	if st, _ := org.Get("/organiser/ballots/" + id + "/after-close/employer-notice?employer=nobody"); st != 404 {
		t.Fatalf("notice of an employer not on the register: %d", st)
	}

	// Refused, each with its reason.
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"employer": {"nobody ltd"}, "method": {"post"}, "given_on": {today}}, "That employer is not on this ballot"},
		{url.Values{"employer": {brown}, "method": {"pigeon"}, "given_on": {today}}, "Choose how the notice was given"},
		{url.Values{"employer": {brown}, "method": {"hand"}, "given_on": {"2099-01-01"}}, "not in the future"},
		{url.Values{"employer": {brown}, "method": {"hand"}, "given_on": {closedAt.AddDate(0, 0, -3).In(page.London).Format("2006-01-02")}}, "not before the date of the ballot"},
		{url.Values{"employer": {brown}, "method": {"hand"}, "given_on": {"soon"}}, "Enter the day the notice was posted"},
	} {
		if st, body := given(tc.form); st != 422 || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, want 422 naming %q", tc.form, st, tc.want)
		}
	}
	if st, _ := scr.Post("/organiser/ballots/"+id+"/after-close/employer-given", url.Values{"employer": {brown}, "method": {"hand"}, "given_on": {today}}); st != 403 {
		t.Fatalf("a scrutineer recorded a notice: %d", st)
	}

	// Handed over today: recorded at this moment, once.
	st, body = given(url.Values{"employer": {brown}, "method": {"hand"}, "given_on": {today}})
	if st != 200 || !strings.Contains(body, "The notice given on paper is recorded") ||
		!strings.Contains(body, `class="emp-given">By hand, `+page.When("en", w.clk.Now())) || strings.Count(body, "/after-close/employer-given") != 1 {
		t.Fatalf("given: %d\n%s", st, body)
	}
	if st, body := given(url.Values{"employer": {brown}, "method": {"post"}, "given_on": {today}}); st != 422 || !strings.Contains(body, "The notice to Brown &amp; Sons / Depot 2 on paper is recorded already") {
		t.Fatalf("given twice: %d\n%s", st, body)
	}
	var method, employer string
	must(t, pool.QueryRow(ctx, `SELECT detail::jsonb->>'method', detail::jsonb->>'employer' FROM audit_log WHERE action = 'result.employer_notice_given' AND ballot_id = $1`, c.b.ID).Scan(&method, &employer))
	if method != "hand" || employer != "Brown & Sons / Depot 2" {
		t.Fatalf("audit: %q %q", method, employer)
	}
	// The scrutineer sees it too (read only).
	if st, body := scr.Get("/scrutineer/ballots/" + id + "/after-close"); st != 200 || !strings.Contains(body, `class="emp-given">By hand`) ||
		strings.Contains(body, "/after-close/employer-given") {
		t.Fatalf("scrutineer's page: %d", st)
	}
}
