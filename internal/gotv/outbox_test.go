package gotv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/sms"
)

// bigBallot is electiontest.New with the members inserted in bulk (the
// fixture inserts one row at a time), then opened the same way.
func bigBallot(t *testing.T, pool *pgxpool.Pool, electionID string, n int) *electiontest.Ballot {
	t.Helper()
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: electionID})
	cfg := electiontest.IAConfig()
	rows, err := pool.Query(ctx, `INSERT INTO members (union_id, member_number, name, mobile, workplace)
		SELECT $1, 'M' || lpad(i::text, 6, '0'), 'Member ' || i, '+4477009' || lpad((i % 100000)::text, 5, '0'),
		CASE WHEN i % 2 = 1 THEN $3 ELSE $4 END FROM generate_series(1, $2) i ORDER BY i RETURNING id`,
		b.UnionID, n, cfg.Workplaces[0].Name, cfg.Workplaces[1].Name)
	must(t, err)
	for rows.Next() {
		var id int64
		must(t, rows.Scan(&id))
		b.MemberIDs = append(b.MemberIDs, id)
	}
	rows.Close()
	_, err = b.Register.IndexMembers(ctx) // written straight into the table: their blind indexes
	must(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style, workplace)
		SELECT $1, m.id, CASE WHEN m.workplace = $2 THEN $3 ELSE $4 END, m.workplace FROM members m WHERE m.union_id = $5`,
		b.ID, cfg.Workplaces[0].Name, register.StyleFor(false, cfg.Workplaces[0]), register.StyleFor(false, cfg.Workplaces[1]), b.UnionID)
	must(t, err)
	file, _, _ := electiontest.Trustees(t, 3, 2)
	now := time.Now()
	must(t, b.Admin.AppointScrutineer(ctx, "staff:test", b.ID, "Independent Scrutineers Ltd", false))
	must(t, b.Admin.SignOffSecurityAssessment(ctx, "staff:test", b.ID, "A. Assessor"))
	must(t, b.Admin.SetTrustees(ctx, "staff:test", b.ID, file))
	must(t, b.Admin.RecordEmployerNotices(ctx, "staff:test", b.ID, now.AddDate(0, 0, -10), now.AddDate(0, 0, -10)))
	must(t, b.Admin.SetScrutineerKey(ctx, "scrutineer:test", b.ID, electiontest.ScrutineerKey(t)))
	electiontest.Approve(t, b.Admin, b.ID)
	must(t, b.Admin.Open(ctx, "scrutineer:test", b.ID))
	return b
}

// startCampaign creates and schedules a one-step campaign for everyone.
func startCampaign(t *testing.T, s *Service, pool *pgxpool.Pool, b *electiontest.Ballot, tmpl string) int64 {
	t.Helper()
	ctx := context.Background()
	must(t, s.SetReminders(ctx, scrutineer, b.ID, true))
	id, err := s.CreateCampaign(ctx, organiser(b.UnionID), b.ID, CampaignInput{Name: "Final push",
		Steps: []StepInput{{Template: tmpl}}})
	must(t, err)
	must(t, s.Schedule(ctx, organiser(b.UnionID), id))
	return id
}

// drain runs Tick until nothing moves.
func drain(t *testing.T, s *Service) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		n, err := s.Tick(context.Background())
		must(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("outbox does not settle")
}

func mobileOf(t *testing.T, pool *pgxpool.Pool, memberID int64) string {
	return registertest.Mobile(t, pool, memberID)
}

// TestCrashRestartExactlyOnce kills the sender mid-campaign — once by a
// crash between the provider's answer and the database record, once by
// cancelling several concurrent workers — and restarts it: every eligible
// member gets exactly one message; none go to voters (including members
// authorised mid-campaign), opted-out members, or members in quiet hours
// (who are deferred and sent when their quiet hours end).
func TestCrashRestartExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 members")
	}
	start := time.Now()
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	const members = 10000
	b := bigBallot(t, pool, "gotv-crash", members)
	t.Logf("fixture: %v", time.Since(start))

	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newTestService(t, pool, svcOpts{sender: fake, rec: fake, clock: clk.Now, log: log})

	ids := b.MemberIDs
	// Voted before the campaign: members 0..499 (postal returns).
	iss := issuance.New(pool, electiontest.SecretKey)
	paper := map[int64]int{}
	rows, err := pool.Query(ctx, `SELECT member_id, paper_number FROM register_entries WHERE ballot_id = $1`, b.ID)
	must(t, err)
	for rows.Next() {
		var m int64
		var p int
		must(t, rows.Scan(&m, &p))
		paper[m] = p
	}
	rows.Close()
	_, err = pool.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, hour)
		SELECT $1, unnest($2::bigint[]), 'postal', date_trunc('hour', now())`, b.ID, ids[:500])
	must(t, err)
	// Opted out: 500..549. Quiet hours (Tokyo): 550..649.
	for _, m := range ids[500:550] {
		_, err := pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) SELECT mobile_index, 'STOP', now() FROM members WHERE id = $1`, m)
		must(t, err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO gotv_contacts (member_id, time_zone) SELECT unnest($1::bigint[]), 'Asia/Tokyo'`, ids[550:650])
	must(t, err)

	startCampaign(t, s, pool, b, "Hi {first_name}, please vote before {closes}: {link}")

	// Run 1: crash between the provider's answer and the record, at the
	// 2,500th message.
	var sends atomic.Int64
	var crashed int64
	s.afterSend = func(memberID int64) bool {
		if sends.Add(1) == 2500 {
			crashed = memberID
			return true
		}
		return false
	}
	for {
		_, err := s.Tick(ctx)
		if errors.Is(err, errCrash) {
			break
		}
		must(t, err)
	}
	s.afterSend = nil
	if fake.count(mobileOf(t, pool, crashed)) != 1 {
		t.Fatal("the crashed send did not reach the provider")
	}

	// Members authorised mid-campaign: 300 of those still waiting.
	var waiting []int64
	rows, err = pool.Query(ctx, `SELECT member_id FROM gotv_messages WHERE state = 'pending' ORDER BY id DESC LIMIT 300`)
	must(t, err)
	for rows.Next() {
		var m int64
		must(t, rows.Scan(&m))
		waiting = append(waiting, m)
	}
	rows.Close()
	for _, m := range waiting {
		must(t, iss.RecordPostal(ctx, "scrutineer:test", b.ElectionID, paper[m]))
	}

	// Run 2: four concurrent workers (new process: a fresh Service, same
	// database), all cancelled after 3,000 more sends.
	s2 := newTestService(t, pool, svcOpts{sender: fake, rec: fake, clock: clk.Now, log: log,
		cfg: Config{PollInterval: 10 * time.Millisecond}})
	runCtx, cancel := context.WithCancel(ctx)
	target := int64(fake.total() + 3000)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s2.Run(runCtx)
		}()
	}
	for int64(fake.total()) < target && time.Since(start) < 50*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	// Restart after the crashed row's lease has expired: it is reconciled
	// (found at the provider), not resent.
	clk.Set(clk.Now().Add(5 * time.Minute))
	s3 := newTestService(t, pool, svcOpts{sender: fake, rec: fake, clock: clk.Now, log: log})
	drain(t, s3)
	var reason string
	must(t, pool.QueryRow(ctx, `SELECT state || '/' || reason FROM gotv_messages WHERE member_id = $1`, crashed).Scan(&reason))
	if reason != "sent/reconciled" {
		t.Fatalf("crashed row: %s", reason)
	}

	// Quiet-hours members have not been sent yet; at 09:05 Tokyo they are.
	for _, m := range ids[550:650] {
		if n := fake.count(mobileOf(t, pool, m)); n != 0 {
			t.Fatalf("member in quiet hours got %d messages", n)
		}
	}
	var deferred int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE state = 'pending' AND reason = 'quiet_hours'`).Scan(&deferred))
	if deferred != 100 {
		t.Fatalf("deferred for quiet hours: %d, want 100", deferred)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	nt := clk.Now().In(tokyo).AddDate(0, 0, 1)
	clk.Set(time.Date(nt.Year(), nt.Month(), nt.Day(), 9, 5, 0, 0, tokyo))
	drain(t, s3)

	// Every member: exactly one message if eligible, none otherwise.
	skip := map[int64]bool{}
	for _, m := range ids[:550] {
		skip[m] = true
	}
	for _, m := range waiting {
		skip[m] = true
	}
	mobiles := map[int64]string{}
	rows, err = pool.Query(ctx, `SELECT id FROM members WHERE union_id = $1`, b.UnionID)
	must(t, err)
	unionIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	must(t, err)
	for id, c := range registertest.Contacts(t, pool, unionIDs...) {
		mobiles[id] = c.Mobile
	}
	want := 0
	for _, m := range ids {
		n := fake.count(mobiles[m])
		if skip[m] && n != 0 {
			t.Fatalf("member %d (voter or opted out) got %d messages", m, n)
		}
		if !skip[m] {
			want++
			if n != 1 {
				t.Fatalf("eligible member %d got %d messages", m, n)
			}
		}
	}
	if fake.total() != want {
		t.Fatalf("provider got %d messages, want %d", fake.total(), want)
	}
	for _, m := range ids[550:650] {
		at := fake.sentAt[mobiles[m]]
		if lt := at.In(tokyo); lt.Hour() < 9 || lt.Hour() >= 20 {
			t.Fatalf("quiet-hours member sent at %v Tokyo time", lt)
		}
	}
	var states string
	must(t, pool.QueryRow(ctx, `SELECT string_agg(state || '=' || n, ',' ORDER BY state) FROM
		(SELECT state, count(*) n FROM gotv_messages GROUP BY state) x`).Scan(&states))
	t.Logf("final states: %s; provider messages: %d; elapsed %v", states, fake.total(), time.Since(start))
	if strings.Contains(states, "sending") || strings.Contains(states, "pending") || strings.Contains(states, "unknown") {
		t.Fatalf("rows left unfinished: %s", states)
	}

	// Logs never hold phone numbers, names or bodies.
	l := logs.String()
	for _, bad := range []string{"+4477", "Member ", "please vote", "/i/tok-"} {
		if strings.Contains(l, bad) {
			t.Fatalf("log contains %q", bad)
		}
	}
}

// TestUnconfirmedNotResent: without a reconciler a send whose outcome was
// not recorded is set aside as 'unknown', never resent; a later delivery
// report carrying the row's key proves it was sent.
func TestUnconfirmedNotResent(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-unknown", Members: 12, Open: true})
	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	s := newTestService(t, pool, svcOpts{sender: fake, clock: clk.Now})
	startCampaign(t, s, pool, b, "Vote: {link}")
	crashed := int64(0)
	s.afterSend = func(m int64) bool { crashed = m; return true }
	_, err := s.Tick(ctx)
	if !errors.Is(err, errCrash) {
		t.Fatalf("Tick = %v", err)
	}
	s.afterSend = nil
	clk.Set(clk.Now().Add(3 * time.Minute))
	drain(t, s)
	mob := mobileOf(t, pool, crashed)
	if n := fake.count(mob); n != 1 {
		t.Fatalf("crashed member got %d messages, want exactly 1", n)
	}
	var state, key string
	must(t, pool.QueryRow(ctx, `SELECT state, idem_key FROM gotv_messages WHERE member_id = $1`, crashed).Scan(&state, &key))
	if state != "unknown" {
		t.Fatalf("state %s, want unknown", state)
	}
	if fake.total() != 12 {
		t.Fatalf("provider got %d, want 12", fake.total())
	}
	// The provider's delivery report arrives with the key (and the send
	// time) in the URL.
	w := postWebhook(t, s, "/webhooks/twilio/status?k="+key+"&t="+strconv.FormatInt(clk.Now().Unix(), 10), map[string]string{"MessageSid": fake.byKey[key],
		"MessageStatus": "delivered", "To": mob})
	if w != 204 {
		t.Fatalf("status webhook: %d", w)
	}
	must(t, pool.QueryRow(ctx, `SELECT state FROM gotv_messages WHERE member_id = $1`, crashed).Scan(&state))
	if state != "sent" {
		t.Fatalf("after report: %s", state)
	}
}

// TestCapsAndSequence: a second step due at the same time is deferred by
// the daily cap and sent a day later, and the per-ballot cap stops a
// third; a step of a cancelled campaign is not sent.
func TestCapsAndSequence(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-caps", Members: 10, Open: true})
	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	s := newTestService(t, pool, svcOpts{sender: fake, clock: clk.Now, cfg: Config{MaxPerBallot: 2}})
	must(t, s.SetReminders(ctx, scrutineer, b.ID, true))
	org := organiser(b.UnionID)
	id, err := s.CreateCampaign(ctx, org, b.ID, CampaignInput{Name: "Sequence", Steps: []StepInput{
		{Template: "One {link}"}, {Template: "Two {link}"}, {Template: "Three {link}", DueAt: clk.Now().Add(time.Hour)}}})
	must(t, err)
	must(t, s.Schedule(ctx, org, id))
	drain(t, s)
	if fake.total() != 10 {
		t.Fatalf("day 1: %d messages, want 10", fake.total())
	}
	clk.Set(clk.Now().Add(2 * time.Hour))
	drain(t, s)
	if fake.total() != 10 {
		t.Fatalf("daily cap broken: %d", fake.total())
	}
	clk.Set(clk.Now().Add(24 * time.Hour))
	drain(t, s)
	if fake.total() != 20 {
		t.Fatalf("day 2: %d messages, want 20", fake.total())
	}
	var capped int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE reason = 'cap_ballot'`).Scan(&capped))
	if capped != 10 {
		t.Fatalf("per-ballot cap: %d skipped, want 10", capped)
	}
	for _, m := range b.MemberIDs {
		if n := fake.count(mobileOf(t, pool, m)); n != 2 {
			t.Fatalf("member got %d, want 2", n)
		}
	}
	// Cancelled campaigns send nothing more.
	id2, err := s.CreateCampaign(ctx, org, b.ID, CampaignInput{Name: "Later", Steps: []StepInput{{Template: "Later {link}",
		DueAt: clk.Now().Add(time.Hour)}}})
	must(t, err)
	must(t, s.Schedule(ctx, org, id2))
	must(t, s.Cancel(ctx, org, id2))
	clk.Set(clk.Now().Add(30 * time.Hour))
	drain(t, s)
	if fake.total() != 20 {
		t.Fatalf("cancelled campaign sent: %d", fake.total())
	}
	// Reminders switched off by default: a fresh ballot cannot schedule.
	b2 := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-off", Members: 10, Open: true})
	id3, err := s.CreateCampaign(ctx, organiser(b2.UnionID), b2.ID, CampaignInput{Name: "x", Steps: []StepInput{{Template: "{link}"}}})
	must(t, err)
	if err := s.Schedule(ctx, organiser(b2.UnionID), id3); !errors.Is(err, ErrRemindersOff) {
		t.Fatalf("Schedule with reminders off = %v", err)
	}
}

// TestCapPerCampaign: a member gets at most MaxPerCampaign texts of one
// reminder campaign, even with its steps due at once and the day and
// ballot caps higher; another campaign may still text them.
func TestCapPerCampaign(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-cap-campaign", Members: 10, Open: true})
	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	s := newTestService(t, pool, svcOpts{sender: fake, clock: clk.Now, cfg: Config{MaxPerDay: 5, MaxPerBallot: 5, MaxPerCampaign: 2}})
	must(t, s.SetReminders(ctx, scrutineer, b.ID, true))
	org := organiser(b.UnionID)
	start := func(name string, steps int) {
		in := CampaignInput{Name: name}
		for i := 0; i < steps; i++ {
			in.Steps = append(in.Steps, StepInput{Template: fmt.Sprintf("%s %d {link}", name, i)})
		}
		id, err := s.CreateCampaign(ctx, org, b.ID, in)
		must(t, err)
		must(t, s.Schedule(ctx, org, id))
	}
	start("Three", 3)
	drain(t, s)
	if fake.total() != 20 {
		t.Fatalf("%d texts, want 2 per member", fake.total())
	}
	var capped int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE reason = 'cap_campaign'`).Scan(&capped))
	if capped != 10 {
		t.Fatalf("per-campaign cap: %d skipped, want 10", capped)
	}
	start("Other", 1)
	drain(t, s)
	for _, m := range b.MemberIDs {
		if n := fake.count(mobileOf(t, pool, m)); n != 3 {
			t.Fatalf("member got %d, want 2 of one campaign and 1 of another", n)
		}
	}
}

// countingSender counts every call to the sender it wraps, failed or not.
type countingSender struct {
	inner sms.Sender
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingSender) Send(ctx context.Context, m sms.Message) (string, error) {
	c.mu.Lock()
	c.calls[m.To]++
	c.mu.Unlock()
	return c.inner.Send(ctx, m)
}

// TestUncertainSendNotResent: a send that may have reached the provider
// (sms.ErrUncertain: a timeout after the request went out) is never sent
// again — it waits for its lease and is set aside as 'unknown' — while a
// definite "provider unavailable" goes back to the queue and is sent later.
func TestUncertainSendNotResent(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-uncertain", Members: 12, Open: true})
	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	counted := &countingSender{inner: fake, calls: map[string]int{}}
	s := newTestService(t, pool, svcOpts{sender: counted, clock: clk.Now})
	uncertain, unavailable := mobileOf(t, pool, b.MemberIDs[0]), mobileOf(t, pool, b.MemberIDs[1])
	fake.mu.Lock()
	fake.fail[uncertain] = fmt.Errorf("twilio: %w", errors.Join(sms.ErrUncertain, sms.ErrUnavailable))
	fake.fail[unavailable] = fmt.Errorf("twilio: 503: %w", sms.ErrUnavailable)
	fake.mu.Unlock()
	startCampaign(t, s, pool, b, "Vote: {link}")
	drain(t, s)
	state := func(member int64) string {
		var st string
		must(t, pool.QueryRow(ctx, `SELECT state FROM gotv_messages WHERE member_id = $1`, member).Scan(&st))
		return st
	}
	if st := state(b.MemberIDs[0]); st != "sending" {
		t.Fatalf("uncertain send: state %s, want sending (left to its lease)", st)
	}
	if st := state(b.MemberIDs[1]); st != "pending" {
		t.Fatalf("unavailable send: state %s, want pending (retry)", st)
	}
	// The provider recovers; time passes beyond the retry delay and the lease.
	fake.mu.Lock()
	fake.fail = map[string]error{}
	fake.mu.Unlock()
	clk.Set(clk.Now().Add(3 * time.Minute))
	drain(t, s)
	if st := state(b.MemberIDs[0]); st != "unknown" {
		t.Fatalf("uncertain send after its lease: %s, want unknown", st)
	}
	if n := counted.calls[uncertain]; n != 1 {
		t.Fatalf("uncertain member: %d calls to the provider, want 1 (never resent)", n)
	}
	if st, n := state(b.MemberIDs[1]), counted.calls[unavailable]; st != "sent" || n != 2 {
		t.Fatalf("unavailable member: state %s after %d calls, want sent after 2", st, n)
	}
}
