package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/retention"
)

// publishedBallot is an opened, closed ballot whose result was announced
// ago before now (the result itself is not needed by retention).
func publishedBallot(t *testing.T, pool *pgxpool.Pool, id string, members int, ago time.Duration,
	member func(i int) (string, string, string)) *electiontest.Ballot {
	t.Helper()
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: id, Members: members, Open: true, Member: member})
	if err := b.Admin.Close(ctx, "scrutineer:test", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE ballots SET status = 'published', published_at = $2 WHERE id = $1`,
		b.ID, time.Now().Add(-ago)); err != nil {
		t.Fatal(err)
	}
	return b
}

// text is the page as a reader sees it (entities decoded).
func (p pageView) text() string { return html.UnescapeString(p.body) }

func (p pageView) has(s ...string) bool {
	for _, x := range s {
		if !strings.Contains(p.text(), x) {
			return false
		}
	}
	return true
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The scrutineer's retention page as a scrutineer uses it: from the
// ballot's page to its retention state; a hold recorded with a complaint
// reference stops deletion (Apply refuses); releasing it makes the ballot
// due again; the deletion record appears once the job has deleted. Only the
// scrutineer may use it, every form needs its CSRF token, mistakes are
// explained in place (English and Welsh).
func TestRetentionPage(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := publishedBallot(t, s.pool, "ret-page", 3, 400*24*time.Hour, nil)
	path := fmt.Sprintf("/scrutineer/ballots/%d/retention", b.ID)
	scr := s.staff("scrutineer", 0)
	org := s.staff("organiser", b.UnionID)
	holds := func() int { return count(t, s.pool, `SELECT count(*) FROM retention_holds WHERE ballot_id = $1`, b.ID) }

	// Linked from the scrutineer's ballot page, beside the postal returns.
	if p := scr.get(fmt.Sprintf("/scrutineer/ballots/%d", b.ID)); p.code != 200 || !p.has(`href="`+path+`"`, "Retention and deletion of personal data") {
		t.Fatalf("no link from the ballot page: %d", p.code)
	}
	p := scr.get(path)
	if p.code != 200 || !p.has(`data-state="due"`, "Due for deletion", "The retention period has ended",
		"Deletion is not done from this page", "ballotd retention --apply", "No hold is open.", `id="hold-form"`) {
		t.Fatalf("due page: %d %s", p.code, p.body)
	}
	if p.has(`id="release-form"`) || p.has(`id="deletion-record"`) || strings.Contains(strings.ToLower(p.body), `value="delete`) {
		t.Fatal("the due page offers a release, a deletion record or a delete button")
	}

	// Organisers: 403 on the page and on the form, even with a valid token.
	if p := org.get(path); p.code != 403 || !p.has("Your account cannot open this page.") {
		t.Fatalf("organiser page: %d", p.code)
	}
	org.get(fmt.Sprintf("/organiser/ballots/%d/replacements", b.ID)) // a page with a form: the organiser's CSRF token
	if org.CSRF == "" {
		t.Fatal("no organiser CSRF token")
	}
	if p := org.post(path, url.Values{"action": {"hold"}, "reason": {"CO/2027/001"}}); p.code != 403 || !p.has("Your account cannot open this page.") {
		t.Fatalf("organiser hold: %d %s", p.code, p.body)
	}

	// No CSRF token, or a wrong one: refused by the middleware (the error page saying why), nothing recorded.
	for _, tok := range []string{"", "not-the-token"} {
		v := url.Values{"action": {"hold"}, "reason": {"CO/2027/002"}}
		if tok != "" {
			v.Set("csrf", tok)
		}
		req, _ := http.NewRequest(http.MethodPost, scr.Base+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if p := scr.do(req); p.code != 403 || !strings.Contains(p.body, "did not come from this service") {
			t.Fatalf("CSRF token %q: %d %s", tok, p.code, p.body)
		}
	}
	scr.get(path) // the page's token again
	if n := holds(); n != 0 {
		t.Fatalf("%d holds after refused posts", n)
	}

	// A bad reference: 422, the message beside the field, which is marked.
	for _, reason := range []string{"", "   ", strings.Repeat("x", 1001), "CO\x00001"} {
		p := scr.post(path, url.Values{"action": {"hold"}, "reason": {reason}})
		if p.code != 422 || !p.has(`role="alert"`, `id="hold-reason-error"`, "Give the complaint's reference", "Do not write names") ||
			!regexpHas(p.body, `<textarea id="hold-reason"[^>]*aria-describedby="hold-reason-hint hold-reason-error"[^>]*aria-invalid="true"`) {
			t.Fatalf("reason %.20q: %d %s", reason, p.code, p.body)
		}
	}
	if n := holds(); n != 0 {
		t.Fatalf("%d holds after invalid reasons", n)
	}

	// The scrutineer records a hold: held, and Apply refuses the ballot.
	p = scr.post(path, url.Values{"action": {"hold"}, "reason": {"CO complaint CO/2027/014"}})
	if p.code != 200 || !p.has("The hold was recorded", `data-state="held"`, "Held: a complaint is recorded",
		"CO complaint CO/2027/014", "Staff Person", `id="release-form"`) {
		t.Fatalf("hold: %d %s", p.code, p.body)
	}
	if _, err := s.svc.Retention.Apply(ctx, b.ID, time.Now(), "test"); !errors.Is(err, retention.ErrHeld) {
		t.Fatalf("Apply while held: %v", err)
	}
	if n := count(t, s.pool, `SELECT count(*) FROM audit_log WHERE ballot_id = $1 AND action = 'retention.hold'`, b.ID); n != 1 {
		t.Fatalf("%d retention.hold audit entries", n)
	}

	// Releasing needs a reason and an open hold.
	if p := scr.post(path, url.Values{"action": {"release"}, "hold": {"0"}, "reason": {""}}); p.code != 422 ||
		!p.has(`id="release-reason-error"`, "Say who authorised disposal") ||
		!regexpHas(p.body, `<textarea id="release-reason"[^>]*aria-invalid="true"`) {
		t.Fatalf("release without reason: %d %s", p.code, p.body)
	}
	if p := scr.post(path, url.Values{"action": {"release"}, "hold": {"999999"}, "reason": {"CO authorised"}}); p.code != 409 ||
		!p.has(`role="alert"`, "There is no such open hold") {
		t.Fatalf("release of no hold: %d %s", p.code, p.body)
	}
	if p := scr.post(path, url.Values{"action": {"release"}, "hold": {"first"}, "reason": {"CO authorised"}}); p.code != 422 ||
		!p.has("Choose which hold to release.") {
		t.Fatalf("release of hold \"first\": %d", p.code)
	}
	if p := scr.post(path, url.Values{"action": {"delete"}}); p.code != 422 || !p.has("Choose to record a hold or to release holds.") {
		t.Fatalf("action delete: %d", p.code)
	}
	if n := count(t, s.pool, `SELECT count(*) FROM retention_holds WHERE ballot_id = $1 AND released_at IS NULL`, b.ID); n != 1 {
		t.Fatalf("%d open holds after refused releases", n)
	}

	// Release: due again, the hold listed as released with its authority.
	p = scr.post(path, url.Values{"action": {"release"}, "hold": {"0"}, "reason": {"CO decision CO/2027/014 authorised disposal"}})
	if p.code != 200 || !p.has("The hold was released.", `data-state="due"`, "Due for deletion", "No hold is open.",
		"Released holds", "CO complaint CO/2027/014", "CO decision CO/2027/014 authorised disposal") || p.has(`id="release-form"`) {
		t.Fatalf("release: %d %s", p.code, p.body)
	}

	// In Welsh: the page, and a refusal.
	p = scr.get(path + "?lang=cy")
	if p.code != 200 || !p.has(`<html lang="cy">`, "Cadw a dileu data personol", "Yn barod i'w dileu", "Ni wneir y dileu o'r dudalen hon",
		"Ataliadau a ryddhawyd", "Cofnodi'r ataliad") {
		t.Fatalf("Welsh page: %d %s", p.code, p.body)
	}
	if p := scr.post(path, url.Values{"action": {"hold"}, "reason": {""}}); p.code != 422 || !p.has("Rhowch gyfeirnod y gŵyn") {
		t.Fatalf("Welsh refusal: %d %s", p.code, p.body)
	}
	scr.get(path + "?lang=en")

	// The job deletes: the page shows the record, and no hold can follow.
	d, err := s.svc.Retention.Apply(ctx, b.ID, time.Now(), "job:retention")
	if err != nil {
		t.Fatal(err)
	}
	p = scr.get(path)
	if p.code != 200 || !p.has(`data-state="deleted"`, "Personal data deleted", `id="deletion-record"`,
		"The service's daily retention job", fmt.Sprintf("%x", d.Digest), "<code>register_entries</code></td><td>3</td>",
		fmt.Sprintf("<dd>%d</dd>", d.Total())) || p.has(`id="hold-form"`) {
		t.Fatalf("deleted page: %d %s", p.code, p.body)
	}
	if p := scr.post(path, url.Values{"action": {"hold"}, "reason": {"late complaint"}}); p.code != 409 || !p.has("already been deleted") {
		t.Fatalf("hold after deletion: %d", p.code)
	}
	if p := scr.get(fmt.Sprintf("/scrutineer/ballots/%d/retention", b.ID+1000)); p.code != 404 {
		t.Fatalf("unknown ballot: %d", p.code)
	}
}

// RetentionOnce, the daily job: reporting logs the due ballot by number and
// election id and deletes nothing; applying deletes the due ballot only,
// once; no log line carries a member's name, number, mobile or email.
func TestRetentionOnce(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	person := func(prefix int) func(i int) (string, string, string) {
		return func(i int) (string, string, string) {
			return fmt.Sprintf("Gwenllian Retention%d-%d", prefix, i), fmt.Sprintf("+447700900%d%02d", prefix, i),
				fmt.Sprintf("gwen%d-%d@example.org", prefix, i)
		}
	}
	due := publishedBallot(t, pool, "once-due", 3, 400*24*time.Hour, person(1))
	fresh := publishedBallot(t, pool, "once-fresh", 2, time.Hour, person(2))
	open := electiontest.New(t, pool, electiontest.Options{ElectionID: "once-open", Members: 2, Open: true, Member: person(3)})
	pub, _ := url.Parse("http://localhost:8080")
	all, err := Build(&config.Config{SecretKey: electiontest.SecretKey, PublicURL: pub, SMSProvider: "dev"},
		slog.New(slog.DiscardHandler), pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	svc := all.Retention
	var personal []string
	for p := 1; p <= 3; p++ {
		for i := 0; i < 3; i++ {
			n, m, e := person(p)(i)
			personal = append(personal, n, m, e, strings.TrimPrefix(m, "+"))
		}
	}
	for i := 1; i <= 3; i++ {
		personal = append(personal, fmt.Sprintf("M%06d", i))
	}
	run := func(apply bool) []map[string]any {
		t.Helper()
		var buf bytes.Buffer
		RetentionOnce(ctx, svc, apply, time.Now(), slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
		for _, x := range personal {
			if strings.Contains(buf.String(), x) {
				t.Fatalf("log (apply=%v) contains personal data %q:\n%s", apply, x, buf.String())
			}
		}
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			out = append(out, m)
		}
		return out
	}
	find := func(recs []map[string]any, msg string) []map[string]any {
		var out []map[string]any
		for _, r := range recs {
			if r["msg"] == msg {
				out = append(out, r)
			}
		}
		return out
	}
	summary := func(recs []map[string]any) string {
		s := find(recs, "retention")
		if len(s) != 1 {
			t.Fatalf("%d summary lines", len(s))
		}
		return fmt.Sprintf("due=%v held=%v not_due=%v unpublished=%v deleted=%v",
			s[0]["due"], s[0]["held"], s[0]["not_due"], s[0]["unpublished"], s[0]["deleted"])
	}
	registers := func() string {
		return fmt.Sprintf("%d/%d/%d members=%d deletions=%d",
			count(t, pool, `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, due.ID),
			count(t, pool, `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, fresh.ID),
			count(t, pool, `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, open.ID),
			count(t, pool, `SELECT count(*) FROM members`),
			count(t, pool, `SELECT count(*) FROM retention_deletions`))
	}

	// Report only.
	recs := run(false)
	rep := find(recs, "retention: ballot due for deletion of personal data")
	if len(rep) != 1 || rep[0]["ballot"] != float64(due.ID) || rep[0]["election"] != "once-due" || rep[0]["due_at"] == nil {
		t.Fatalf("report: %v", recs)
	}
	// A ballot still open has no result yet: counted as unpublished in the
	// summary, not reported one by one every day.
	if u := find(recs, "retention: ballot without a published result is never deleted automatically"); len(u) != 0 {
		t.Fatalf("an open ballot reported as unpublished: %v", u)
	}
	if len(find(recs, "retention: personal data deleted")) != 0 {
		t.Fatal("report deleted")
	}
	if got := summary(recs); got != "due=1 held=0 not_due=1 unpublished=1 deleted=0" {
		t.Fatalf("summary: %s", got)
	}
	if got := registers(); got != "3/2/2 members=7 deletions=0" {
		t.Fatalf("after report: %s", got)
	}
	// Closed, still no result: now it is worth a line of its own.
	if _, err := pool.Exec(ctx, `UPDATE ballots SET status = 'closed' WHERE id = $1`, open.ID); err != nil {
		t.Fatal(err)
	}
	if u := find(run(false), "retention: ballot without a published result is never deleted automatically"); len(u) != 1 || u[0]["ballot"] != float64(open.ID) {
		t.Fatalf("a closed ballot without a result is not reported: %v", u)
	}

	// Apply: the due ballot only.
	recs = run(true)
	del := find(recs, "retention: personal data deleted")
	if len(del) != 1 || del[0]["ballot"] != float64(due.ID) || del[0]["election"] != "once-due" || del[0]["rows"].(float64) < 6 {
		t.Fatalf("apply: %v", recs)
	}
	if got := registers(); got != "0/2/2 members=4 deletions=1" {
		t.Fatalf("after apply: %s", got)
	}
	var actor string
	if err := pool.QueryRow(ctx, `SELECT actor FROM retention_deletions WHERE ballot_id = $1`, due.ID).Scan(&actor); err != nil || actor != "job:retention" {
		t.Fatalf("deletion record: %q %v", actor, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM members WHERE id = ANY($1)`, due.MemberIDs); n != 0 {
		t.Fatalf("%d members of the deleted ballot left", n)
	}

	// Again: nothing more to do.
	recs = run(true)
	if len(find(recs, "retention: personal data deleted")) != 0 || len(find(recs, "retention: ballot due for deletion of personal data")) != 0 {
		t.Fatalf("second run: %v", recs)
	}
	if got := summary(recs); got != "due=0 held=0 not_due=1 unpublished=1 deleted=1" {
		t.Fatalf("summary after apply: %s", got)
	}
	if got := registers(); got != "0/2/2 members=4 deletions=1" {
		t.Fatalf("after second apply: %s", got)
	}
}

func regexpHas(body, re string) bool { return regexp.MustCompile(re).MatchString(body) }
