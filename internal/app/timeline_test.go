package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// clock is a controllable clock for the whole site.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newSiteClock is newSite (development SMS outbox) with every module that
// decides by the time on clk.
func newSiteClock(t *testing.T, clk *clock) *site {
	t.Helper()
	return newSiteHooks(t, nil, buildHooks{now: clk.Now})
}

// memberSession signs member in with a session row made at now, as a
// passkey sign-in from an earlier ballot would leave it.
func (s *site) memberSession(memberID int64, now time.Time) *browser {
	s.t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	v := base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(v))
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO auth_sessions (id_hash, kind, member_id, method, created_at, last_seen_at, idle_seconds, expires_at)
		VALUES ($1, 'member', $2, 'test', $3, $3, 3600, $4)`, h[:], memberID, now, now.Add(4*time.Hour)); err != nil {
		s.t.Fatal(err)
	}
	b := &browser{webtest.NewBrowser(s.t, s.base, 30*time.Second)}
	b.SetCookie("eb_session", v)
	return b
}

// texts is every text in the development outbox.
func (s *site) texts() []string {
	s.t.Helper()
	ms, err := s.svc.smsOutbox.Recent(context.Background(), 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.To+": "+m.Body)
	}
	return out
}

var inviteLinkRE = regexp.MustCompile(`/i/[A-Za-z0-9_-]{43}`)

// TestOpenPressedEarly: the scrutineer presses Open two days before the
// notified opening. The ballot is scheduled, not open: no invitation or
// text goes out, no pack code or voting link works, and a signed-in member
// is told when voting opens (English and Welsh). At the opening time (the
// site's clock) the scheduler opens it, and then the invitations go out
// and the link, the text code and the pack code all work.
func TestOpenPressedEarly(t *testing.T) {
	start := time.Now()
	clk := &clock{t: start}
	s := newSiteClock(t, clk)
	ctx := context.Background()
	opens := start.Add(48 * time.Hour).Truncate(time.Minute)
	mobiles := []string{"+447700900310", "+447700900311"}
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "early", Members: 2, Ready: true, OpensAt: opens,
		Member: func(i int) (string, string, string) { return fmt.Sprintf("Member %d", i+1), mobiles[i], "" }})
	id := strconv.FormatInt(b.ID, 10)

	sc := s.staff("scrutineer", 0)
	sc.get("/scrutineer/ballots/" + id)
	p := sc.post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"early"}})
	if p.code != 200 || !strings.Contains(p.body, `id="scheduled"`) {
		t.Fatalf("open pressed early: %d %.400s", p.code, p.body)
	}
	var status string
	s.pool.QueryRow(ctx, `SELECT status FROM ballots WHERE id = $1`, b.ID).Scan(&status)
	if status != "scheduled" {
		t.Fatalf("status %q after an early Open, want scheduled", status)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Before the opening: nothing.
	clk.Set(opens.Add(-time.Second))
	if n := InvitationsOnce(ctx, s.svc.Auth, s.pool, log); n != 0 {
		t.Errorf("the invitation sweep worked on %d ballots before the opening", n)
	}
	if _, err := s.svc.Auth.IssueInvitations(ctx, b.ID); err == nil {
		t.Error("invitations issued before the opening")
	}
	if _, err := s.svc.Auth.InvitationURL(ctx, b.ID, b.MemberIDs[0]); err == nil {
		t.Error("a voting link was made before the opening")
	}
	if txt := s.texts(); len(txt) != 0 {
		t.Fatalf("texts sent before the opening: %q", txt)
	}
	code, err := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	m := s.anon()
	m.get("/p")
	// The member is told when voting opens (issue 19).
	if p := m.post("/p", url.Values{"code": {code}}); p.code != 403 || !strings.Contains(p.body, "Voting is not open yet. It opens on "+page.When("en", opens)+" (UK time).") {
		t.Fatalf("pack code before the opening: %d %.600s", p.code, p.body)
	}
	if _, err := s.svc.Issuance.Authorise(ctx, "early", b.MemberIDs[0], make([]byte, 256)); err == nil || !strings.Contains(err.Error(), "not open") {
		t.Fatalf("authorisation before the opening: %v", err)
	}
	if done, err := s.svc.Admin.RunOnce(ctx); err != nil || len(done.Opened) != 0 {
		t.Fatalf("scheduler before the opening: %+v %v", done, err)
	}
	member := s.memberSession(b.MemberIDs[0], clk.Now())
	for lang, want := range map[string]string{"en": "Voting has not started yet", "cy": "Nid yw'r pleidleisio wedi dechrau eto"} {
		p := member.get("/vote/early?lang=" + lang)
		if p.code != 200 || !strings.Contains(p.body, html.EscapeString(want)) || strings.Contains(p.body, `id="paper"`) {
			t.Fatalf("paper before the opening (%s): %d %.600s", lang, p.code, p.body)
		}
		if when := page.When(lang, opens); !strings.Contains(p.body, when) {
			t.Errorf("the page (%s) does not say when voting opens (%s)", lang, when)
		}
	}

	// The opening time: the scheduler opens the ballot, then everything works.
	clk.Set(opens)
	done, err := s.svc.Admin.RunOnce(ctx)
	if err != nil || len(done.Opened) != 1 || done.Opened[0] != b.ID {
		t.Fatalf("scheduler at the opening: %+v %v", done, err)
	}
	var openedAt time.Time
	s.pool.QueryRow(ctx, `SELECT status, opened_at FROM ballots WHERE id = $1`, b.ID).Scan(&status, &openedAt)
	if status != "open" || !openedAt.Equal(opens) {
		t.Fatalf("after the scheduler: %s opened %v, want open at %v", status, openedAt, opens)
	}
	if n := InvitationsOnce(ctx, s.svc.Auth, s.pool, log); n != 1 {
		t.Fatalf("invitation sweep at the opening: %d ballots", n)
	}
	txt := s.texts()
	if len(txt) != 2 {
		t.Fatalf("texts at the opening: %q", txt)
	}
	link := inviteLinkRE.FindString(strings.Join(txt, "\n"))
	if link == "" {
		t.Fatalf("no link in %q", txt)
	}
	v := s.anon()
	if p := v.get(link); p.code != 200 {
		t.Fatalf("voting link after the opening: %d", p.code)
	}
	if p := v.post(link, url.Values{}); p.code != 200 || !strings.Contains(p.body, `name="code"`) {
		t.Fatalf("text code after the opening: %d %.300s", p.code, p.body)
	}
	if n := len(s.texts()); n != 3 {
		t.Fatalf("%d texts after asking for a code, want 3", n)
	}
	m = s.anon()
	m.get("/p")
	if p := m.post("/p", url.Values{"code": {code}}); p.code != 200 || !strings.Contains(p.body, `id="paper"`) {
		t.Fatalf("pack code after the opening: %d %.300s", p.code, p.body)
	}
}

// TestCloseOnTimeAndEarly: a ballot reaching its notified close is closed
// by the scheduler at that instant (closed_at is the notified close, not
// when the scheduler ran); a close before it is the scrutineer's, refused
// without a reason, warned about, and recorded with its reason and the
// actual time, which a late member is shown; a pack code tried after
// either close is refused.
func TestCloseOnTimeAndEarly(t *testing.T) {
	start := time.Now()
	clk := &clock{t: start}
	s := newSiteClock(t, clk)
	ctx := context.Background()
	sc := s.staff("scrutineer", 0)
	openOver := func(electionID string) *electiontest.Ballot {
		b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: electionID, Members: 2, Ready: true})
		id := strconv.FormatInt(b.ID, 10)
		sc.get("/scrutineer/ballots/" + id)
		if p := sc.post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {electionID}}); p.code != 200 {
			t.Fatalf("open %s: %d %.300s", electionID, p.code, p.body)
		}
		return b
	}
	onTime, early := openOver("on-time"), openOver("early-close")
	var closes time.Time
	s.pool.QueryRow(ctx, `SELECT closes_at FROM ballots WHERE id = $1`, onTime.ID).Scan(&closes)
	lateCode, err := s.svc.Auth.PackCode(ctx, onTime.ID, onTime.MemberIDs[1])
	if err != nil {
		t.Fatal(err)
	}

	// Early: the scrutineer closes "early-close" an hour after opening.
	clk.Set(start.Add(time.Hour))
	earlyAt := clk.Now()
	id := strconv.FormatInt(early.ID, 10)
	p := sc.get("/scrutineer/ballots/" + id)
	if !strings.Contains(p.body, "The notices to employers and the voting paper give the close as") {
		t.Fatalf("no early-close warning on the ballot page: %.300s", p.body)
	}
	if p := sc.post("/scrutineer/ballots/"+id+"/close", url.Values{"confirm": {"early-close"}}); p.code != 422 || !strings.Contains(p.body, "give the reason for closing") {
		t.Fatalf("early close without a reason: %d", p.code)
	}
	const reason = "Dispute settled: the union withdrew the ballot."
	if p := sc.post("/scrutineer/ballots/"+id+"/close", url.Values{"confirm": {"early-close"}, "reason": {reason}}); p.code != 200 {
		t.Fatalf("early close: %d %.300s", p.code, p.body)
	}
	var status string
	var closedAt time.Time
	var why *string
	s.pool.QueryRow(ctx, `SELECT status, closed_at, close_reason FROM ballots WHERE id = $1`, early.ID).Scan(&status, &closedAt, &why)
	if status != "closed" || !closedAt.Equal(earlyAt.Truncate(time.Microsecond)) || why == nil || *why != reason {
		t.Fatalf("after the early close: %s at %v (%v), want closed at %v with the reason", status, closedAt, why, earlyAt)
	}
	var detail string
	s.pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE ballot_id = $1 AND action = 'ballot.close'`, early.ID).Scan(&detail)
	if !strings.Contains(detail, reason) || !strings.Contains(detail, `"early":true`) {
		t.Fatalf("audit of the early close: %s", detail)
	}
	member := s.memberSession(early.MemberIDs[0], clk.Now())
	if p := member.get("/vote/early-close"); !strings.Contains(p.body, "Voting closed on") || !strings.Contains(p.body, page.When("en", earlyAt)) {
		t.Fatalf("late member not shown the actual close %s: %.800s", page.When("en", earlyAt), p.body)
	}

	// On time: the scheduler runs a while after the notified close.
	clk.Set(closes.Add(40 * time.Second))
	done, err := s.svc.Admin.RunOnce(ctx)
	if err != nil || len(done.Closed) != 1 || done.Closed[0] != onTime.ID {
		t.Fatalf("scheduler after the close: %+v %v", done, err)
	}
	s.pool.QueryRow(ctx, `SELECT status, closed_at FROM ballots WHERE id = $1`, onTime.ID).Scan(&status, &closedAt)
	if status != "closed" || !closedAt.Equal(closes) {
		t.Fatalf("after the scheduler: %s at %v, want closed at the notified %v", status, closedAt, closes)
	}
	if done, err := s.svc.Admin.RunOnce(ctx); err != nil || len(done.Closed)+len(done.Opened) != 0 {
		t.Fatalf("second scheduler run did something: %+v %v", done, err)
	}
	m := s.anon()
	m.get("/p")
	if p := m.post("/p", url.Values{"code": {lateCode}}); p.code != 403 {
		t.Fatalf("pack code after the close: %d", p.code)
	}
}

// TestStaleNoticeBlocksOpening: s.226A notices recorded as given state the
// opening day and the employees concerned; when the opening moves or the
// register changes after, the notice is stale and Open is refused naming
// the employer and the change, until the notices are given again.
func TestStaleNoticeBlocksOpening(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "stale", Members: 4, Ready: true})
	id := strconv.FormatInt(b.ID, 10)
	// The organiser moves the opening nine days on (the edit page's Configure).
	now := time.Now()
	opens := now.Add(9 * 24 * time.Hour)
	if err := b.Admin.Configure(ctx, "staff:test", b.ID, election.BallotSetup{Title: "Test ballot", Kind: "industrial_action",
		OpensAt: opens, ClosesAt: opens.Add(14 * 24 * time.Hour), Config: electiontest.IAConfig()}); err != nil {
		t.Fatal(err)
	}
	// ... and one more member joins the register (as an import would).
	var mid int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO members (union_id, member_number, name, mobile, workplace)
		VALUES ($1, 'M999999', 'Late Joiner', '+447700900399', 'North Depot') RETURNING id`, b.UnionID).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style, workplace) VALUES ($1, $2, 'north-depot', 'North Depot')`, b.ID, mid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Register.IndexMembers(ctx); err != nil { // written straight into the table: sealed as on startup
		t.Fatal(err)
	}
	sc := s.staff("scrutineer", 0)
	sc.get("/scrutineer/ballots/" + id)
	p := sc.post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"stale"}})
	for _, want := range []string{
		"the s.226A notice gave 4 employees concerned but the register now has 5",
		"the s.226A notice gave the opening day as " + page.Day(now).In("en") + " but the ballot now opens on " + page.Day(opens).In("en"),
	} {
		if p.code != 422 || !strings.Contains(p.body, html.EscapeString(want)) {
			t.Fatalf("open with stale notices: %d, want 422 with %q: %.2000s", p.code, want, p.body)
		}
	}
	// Given again (recorded on the scrutineer's page), the ballot can open.
	ago := now.AddDate(0, 0, -8).In(page.London).Format("2006-01-02T15:04")
	sc.get("/scrutineer/ballots/" + id)
	if p := sc.post("/scrutineer/ballots/"+id+"/notices", url.Values{"notice_sent_at": {ago}, "sample_sent_at": {ago}}); p.code != 200 {
		t.Fatalf("record notices again: %d %.300s", p.code, p.body)
	}
	// The paper changed too (its opening, its register): the scrutineer
	// approves it again.
	sc.approve(id)
	if p := sc.post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"stale"}}); p.code != 200 || strings.Contains(p.body, "give the notice again") {
		t.Fatalf("open after the notices were given again: %d %.1500s", p.code, p.body)
	}
	var status string
	s.pool.QueryRow(ctx, `SELECT status FROM ballots WHERE id = $1`, b.ID).Scan(&status)
	if status != "scheduled" {
		t.Fatalf("status %q, want scheduled (opening in nine days)", status)
	}
}
