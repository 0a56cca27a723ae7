package retention_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/ledger/ledgertest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/retention"
	"github.com/unionvote/eballot/internal/vote/votetest"
	"github.com/unionvote/eballot/internal/web/page"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// published runs a whole ballot: members vote (voters of them), one
// non-voter returns a postal paper, the ballot closes, two trustees
// decrypt, the scrutineer signs and publishes the result.
func published(t *testing.T, pool *pgxpool.Pool, led *ledger.Ledger, iss *issuance.Service, id string, prefix int, members, voters int) *electiontest.Ballot {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "scrutineers.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: id, Members: members, Ledger: ledger.HandOver{L: led}, Open: true, ScrutineerKey: vkey,
		Member: func(i int) (string, string, string) {
			return fmt.Sprintf("Member %d-%d", prefix, i), fmt.Sprintf("+4477009%02d%03d", prefix, i), fmt.Sprintf("m%d-%d@example.org", prefix, i)
		}})
	mj, _, err := led.Manifest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	voting := votetest.NewPaper(t, mj)
	for i := 0; i < voters; i++ {
		bb, auth := voting.Vote(t, i%2, [][]int{{1, 0}, {0, 1}}, func(blinded []byte) ([]byte, error) {
			au, err := iss.Authorise(ctx, id, b.MemberIDs[i], blinded)
			if err != nil {
				return nil, err
			}
			return au.BlindSignature, nil
		})
		if _, _, err := led.Cast(ctx, id, bb, auth); err != nil {
			t.Fatal(err)
		}
	}
	// A postal return for the last member (who did not vote online), a
	// replacement request and a "this wasn't me" report.
	var paper int
	if err := pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[members-1]).Scan(&paper); err != nil {
		t.Fatal(err)
	}
	must(t, iss.RecordPostal(ctx, "scrutineer:test", id, paper))
	if _, err := iss.RequestReplacement(ctx, "organiser:test", id, b.MemberIDs[0], "lost phone"); err != nil {
		t.Fatal(err)
	}
	must(t, iss.ReportNotMe(ctx, id, b.MemberIDs[1], "not me"))
	must(t, b.Admin.Close(ctx, "scrutineer:test", b.ID, "test: closed early to count"))

	issued := []int64{int64((voters + 1) / 2), int64(voters / 2)}
	var exp bytes.Buffer
	must(t, led.Export(ctx, &exp, id, -1, nil))
	v, err := verify.Verify(ctx, &exp, verify.Options{Issued: issued})
	if err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v.Failures)
	}
	alphas := v.Sums.Alphas()
	mh := voting.Election.ManifestHash()
	var ps []*threshold.Partial
	var partials [][]byte
	for _, j := range []int{0, 2} {
		p, err := threshold.PartialDecrypt(rand.Reader, b.Trustees, b.Shares[j], mh[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		pj, _ := p.MarshalJSON()
		partials = append(partials, pj)
	}
	counts, bad, err := tally.Decrypt(b.Trustees, v.Sums, ps)
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	counts.ClosedAt = v.ClosedAt // the actual close, from the signed close
	res, err := tally.Compute(voting.Manifest, counts)
	if err != nil {
		t.Fatal(err)
	}
	rf := &report.ResultFile{Version: report.Version, Result: res, Verification: report.Summary(v)}
	rf.Verification.Issued = issued
	js, sig, err := report.Sign(report.New(rf, signer.Name(), report.Options{Date: "2026-12-16"}), signer)
	if err != nil {
		t.Fatal(err)
	}
	results := result.New(pool, election.NewStore(pool), ledger.HandOver{L: led}, issuedFunc(iss))
	must(t, results.Publish(ctx, "scrutineer:test", b.ID, result.Upload{Report: js, Signature: sig, Partials: partials}))
	return b
}

func issuedFunc(iss *issuance.Service) result.IssuedFunc {
	return func(ctx context.Context, e string) (map[string]int64, error) {
		cs, err := iss.CountsFor(ctx, e)
		out := map[string]int64{}
		for _, x := range cs {
			out[x.Style] = int64(x.Online + x.Replaced)
		}
		return out, err
	}
}

// seed adds, for every member of b, a row to each table that holds
// personal data or links a member to the ballot, as the service's modules
// would have written them while the ballot ran.
func seed(t *testing.T, pool *pgxpool.Pool, b *electiontest.Ballot, prefix int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO register_uploads (ballot_id, sha256, content, uploaded_by) VALUES ($1, sha256(('r' || $2)::bytea), 'number,name', 'organiser:1')`, b.ID, fmt.Sprint(b.ID))
	exec(`INSERT INTO gotv_ballot_settings (ballot_id, reminders_enabled, decided_by, decided_at) VALUES ($1, true, 'scrutineer:1', now())`, b.ID)
	var step int64
	if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO gotv_campaigns (ballot_id, name, created_by, created_at) VALUES ($1, 'Push', 'organiser:1', now()) RETURNING id)
		INSERT INTO gotv_steps (campaign_id, seq, template, due_at) SELECT id, 1, 'Vote!', now() FROM c RETURNING id`, b.ID).Scan(&step); err != nil {
		t.Fatal(err)
	}
	for i, m := range b.MemberIDs {
		subj := fmt.Sprintf("m%d", m)
		exec(`INSERT INTO auth_invitations (token_hash, ballot_id, member_id, created_at, expires_at) VALUES (sha256(gen_random_uuid()::text::bytea), $1, $2, $3, $3)`, b.ID, m, now)
		exec(`INSERT INTO auth_pack_codes (ballot_id, member_id, lookup, created_at) VALUES ($1, $2, sha256(gen_random_uuid()::text::bytea), $3)`, b.ID, m, now)
		exec(`INSERT INTO auth_sessions (id_hash, kind, member_id, ballot_id, created_at, last_seen_at, idle_seconds, expires_at)
			VALUES (sha256(gen_random_uuid()::text::bytea), 'member', $2, $1, $3, $3, 600, $3)`, b.ID, m, now)
		exec(`INSERT INTO auth_events (at, event, outcome, member_id, ballot_id) VALUES (date_trunc('hour', $3::timestamptz), 'otp_verify', 'ok', $2, $1)`, b.ID, m, now)
		exec(`INSERT INTO auth_otp_codes (subject, purpose, salt, mac, created_at, expires_at) VALUES ($1, 'signin', substring(sha256('s'::bytea) for 16), sha256('m'::bytea), $2, $2)`, subj, now)
		exec(`INSERT INTO auth_webauthn_users (subject, handle) VALUES ($1::text, sha256(convert_to($1::text, 'UTF8')))`, subj)
		exec(`INSERT INTO auth_webauthn_credentials (id, subject, credential, created_at) VALUES (sha256(convert_to('c' || $1::text, 'UTF8')), $1::text, '{}', $2)`, subj, now)
		exec(`INSERT INTO auth_webauthn_ceremonies (binding, purpose, subject, data, expires_at) VALUES (sha256(convert_to('b' || $1::text, 'UTF8')), 'member_login', $1::text, '{}', $2)`, subj, now)
		exec(`INSERT INTO auth_rate_limits (key, window_start, count) VALUES ('otp_verify:subject:' || $1, $2, 1)`, subj, now)
		exec(`INSERT INTO gotv_contacts (member_id) VALUES ($1)`, m)
		exec(`INSERT INTO gotv_contact_issues (member_id, error_code, flagged_at) VALUES ($1, 30003, now())`, m)
		exec(`INSERT INTO gotv_messages (step_id, ballot_id, member_id, idem_key, not_before) VALUES ($1, $2, $3, md5($4), now())`, step, b.ID, m, fmt.Sprintf("%d:%d", b.ID, m))
		exec(`INSERT INTO sms_outbox (to_number, body) VALUES ($1, 'Your code')`, fmt.Sprintf("+4477009%02d%03d", prefix, i))
		exec(`INSERT INTO mail_outbox (message_id, to_addr, subject, body, raw) VALUES ('x', $1, 'Vote', 'link', 'raw')`, fmt.Sprintf("m%d-%d@example.org", prefix, i))
		exec(`INSERT INTO result_notices (ballot_id, kind, channel, member_id, created_at) VALUES ($1, 'member', 'email', $2, now())`, b.ID, m)
		exec(`INSERT INTO result_report_requests (ballot_id, requester, member_id, requested_at, recorded_by, recorded_at)
			VALUES ($1, 'member', $2, now(), 'organiser:1', now())`, b.ID, m)
	}
	// An employer's s.231A notice in the outbox: a row with no member.
	exec(`WITH n AS (INSERT INTO result_notices (ballot_id, kind, channel, employer_key, created_at) VALUES ($1, 'employer', 'email', 'acme', now()) RETURNING id)
		INSERT INTO gotv_messages (source, result_notice_id, ballot_id, channel, idem_key, not_before) SELECT 'result', id, $1, 'email', md5('e' || $1::text), now() FROM n`, b.ID)
	// The approved replacement of member 0's (online) authorisation.
	exec(`INSERT INTO replaced_authorisations (ballot_id, member_id, blinded_hash, hour, request_id)
		SELECT ballot_id, member_id, sha256('old'::bytea), date_trunc('hour', now()), id FROM replacement_requests WHERE ballot_id = $1`, b.ID)
}

// personal counts, per table, the rows that hold personal data of b's
// members or link one of them to b.
func personal(t *testing.T, pool *pgxpool.Pool, b *electiontest.Ballot) map[string]int64 {
	t.Helper()
	subjects := make([]string, len(b.MemberIDs))
	for i, m := range b.MemberIDs {
		subjects[i] = fmt.Sprintf("m%d", m)
	}
	out := map[string]int64{}
	for table, sql := range map[string]string{
		"register_uploads":             `SELECT count(*) FROM register_uploads WHERE ballot_id = $1`,
		"replaced_authorisations":      `SELECT count(*) FROM replaced_authorisations WHERE ballot_id = $1`,
		"replacement_requests":         `SELECT count(*) FROM replacement_requests WHERE ballot_id = $1`,
		"impersonation_reports":        `SELECT count(*) FROM impersonation_reports WHERE ballot_id = $1`,
		"marked_register":              `SELECT count(*) FROM marked_register WHERE ballot_id = $1`,
		"gotv_messages":                `SELECT count(*) FROM gotv_messages WHERE ballot_id = $1`,
		"result_notices":               `SELECT count(*) FROM result_notices WHERE ballot_id = $1`,
		"result_report_requests":       `SELECT count(*) FROM result_report_requests WHERE ballot_id = $1`,
		"auth_invitations":             `SELECT count(*) FROM auth_invitations WHERE ballot_id = $1`,
		"auth_pack_codes":              `SELECT count(*) FROM auth_pack_codes WHERE ballot_id = $1`,
		"auth_sessions":                `SELECT count(*) FROM auth_sessions WHERE ballot_id = $1 OR member_id = ANY($2)`,
		"auth_events":                  `SELECT count(*) FROM auth_events WHERE ballot_id = $1 OR member_id = ANY($2)`,
		"ballot_contacts":              `SELECT count(*) FROM ballot_contacts WHERE ballot_id = $1`,
		"register_entries":             `SELECT count(*) FROM register_entries WHERE ballot_id = $1`,
		"auth_otp_codes":               `SELECT count(*) FROM auth_otp_codes WHERE subject = ANY($3)`,
		"auth_webauthn_ceremonies":     `SELECT count(*) FROM auth_webauthn_ceremonies WHERE subject = ANY($3)`,
		"auth_webauthn_credentials":    `SELECT count(*) FROM auth_webauthn_credentials WHERE subject = ANY($3)`,
		"auth_webauthn_users":          `SELECT count(*) FROM auth_webauthn_users WHERE subject = ANY($3)`,
		"auth_rate_limits":             `SELECT count(*) FROM auth_rate_limits WHERE substring(key FROM ':subject:(m[0-9]+)$') = ANY($3)`,
		"gotv_contacts":                `SELECT count(*) FROM gotv_contacts WHERE member_id = ANY($2)`,
		"gotv_contact_issues":          `SELECT count(*) FROM gotv_contact_issues WHERE member_id = ANY($2)`,
		"sms_outbox":                   `SELECT count(*) FROM sms_outbox WHERE to_number = ANY($5) OR to_number LIKE '+4477009' || lpad($4::text, 2, '0') || '___'`,
		"mail_outbox":                  `SELECT count(*) FROM mail_outbox WHERE to_addr LIKE 'm' || $4::text || '-%'`,
		"members":                      `SELECT count(*) FROM members WHERE id = ANY($2)`,
		"ballot_styles.issuer_private": `SELECT count(*) FROM ballot_styles WHERE ballot_id = $1 AND length(issuer_private) > 0`,
	} {
		var n int64
		// Every query sees all five parameters, typed, used or not.
		q := `SELECT n FROM (` + sql + `) q(n), (SELECT $1::bigint, $2::bigint[], $3::text[], $4::text, $5::text[]) p`
		args := []any{b.ID, b.MemberIDs, subjects, fmt.Sprint(prefixOf(b)), mobilesOf(t, pool, b)}
		if err := pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

var prefixes = map[int64]int{}

func prefixOf(b *electiontest.Ballot) int { return prefixes[b.ID] }

// mobiles are the ballot's members' mobiles, read (sealed at rest) while
// the members are there and kept for the counts after their erasure.
var mobiles = map[int64][]string{}

func mobilesOf(t *testing.T, pool *pgxpool.Pool, b *electiontest.Ballot) []string {
	t.Helper()
	if m, ok := mobiles[b.ID]; ok {
		return m
	}
	m := []string{}
	for _, c := range registertest.Contacts(t, pool, b.MemberIDs...) {
		if c.Mobile != "" {
			m = append(m, c.Mobile)
		}
	}
	mobiles[b.ID] = m
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func auditCount(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	n, err := audit.Verify(context.Background(), pool)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	return n
}

// TestRetention runs two unions' ballots to a published result and checks
// the whole retention lifecycle on the first: not due within the year,
// held while a complaint is recorded, due after, deleted table by table in
// one go while the other union's ballot is untouched, the ledger and the
// audit log still verify, the public counts are kept, and a second Apply
// does nothing.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	led := ledgertest.New(t, pool, electiontest.SecretKey)
	iss := issuance.New(pool, electiontest.SecretKey)
	iss.UseKeptCounts(retention.KeptCounts{Pool: pool})
	a := published(t, pool, led, iss, "retain-a", 1, 8, 5)
	prefixes[a.ID] = 1
	b := published(t, pool, led, iss, "retain-b", 2, 6, 3)
	prefixes[b.ID] = 2
	seed(t, pool, a, 1)
	seed(t, pool, b, 2)
	// Member 0 of a is also on a draft ballot of the same union: their
	// member row and passkey stay, their links to a go.
	var draft int64
	if err := pool.QueryRow(ctx, `INSERT INTO ballots (union_id, election_id, title, kind) VALUES ($1, 'retain-a-draft', 'Next', 'union_election') RETURNING id`, a.UnionID).Scan(&draft); err != nil {
		t.Fatal(err)
	}
	must(t, exec(pool, `INSERT INTO register_entries (ballot_id, member_id, style) VALUES ($1, $2, 'all')`, draft, a.MemberIDs[0]))
	// An open ballot of a third union, never published.
	c := electiontest.New(t, pool, electiontest.Options{ElectionID: "retain-c", Members: 2, Open: true,
		Member: func(i int) (string, string, string) { return "C", fmt.Sprintf("+44770093%04d", i), "" }})

	svc, err := retention.New(pool, retention.MinPeriod, others(t, pool, led))
	must(t, err)
	if _, err := retention.New(pool, retention.MinPeriod-time.Hour, others(t, pool, led)); err == nil {
		t.Fatal("a period under a year was accepted")
	}
	for table, n := range personal(t, pool, a) {
		if n == 0 {
			t.Errorf("fixture: ballot a has no %s rows", table)
		}
	}
	beforeB := personal(t, pool, b)
	countsA, err := iss.CountsFor(ctx, "retain-a")
	must(t, err)

	stateOf := func(now time.Time) map[int64]retention.Ballot {
		list, err := svc.Due(ctx, now)
		must(t, err)
		out := map[int64]retention.Ballot{}
		for _, x := range list {
			out[x.ID] = x
		}
		if _, ok := out[draft]; ok {
			t.Errorf("a draft is listed")
		}
		return out
	}
	now := time.Now()
	st := stateOf(now)
	pa := *st[a.ID].PublishedAt
	if st[a.ID].State != retention.StateNotDue || st[b.ID].State != retention.StateNotDue || st[c.ID].State != retention.StateUnpublished {
		t.Fatalf("states now: %+v", st)
	}
	if !strings.Contains(st[c.ID].Reason, "never deleted automatically") {
		t.Errorf("unpublished reason: %q", st[c.ID].Reason)
	}
	if due := *st[a.ID].DueAt; due.Before(pa.AddDate(1, 0, 0)) || due.Before(pa.Add(8760*time.Hour)) {
		t.Errorf("due %v is less than a year after %v", due, pa)
	}
	if _, err := svc.Apply(ctx, a.ID, now, "test"); !errors.Is(err, retention.ErrNotDue) || !strings.Contains(err.Error(), "kept until") {
		t.Fatalf("apply before the year: %v", err)
	}
	if _, err := svc.Apply(ctx, c.ID, now.AddDate(5, 0, 0), "test"); !errors.Is(err, retention.ErrUnpublished) {
		t.Fatalf("apply to an unpublished ballot: %v", err)
	}
	due := *st[a.ID].DueAt
	if s := stateOf(due.Add(-time.Minute))[a.ID]; s.State != retention.StateNotDue {
		t.Fatalf("a minute before due: %s", s.State)
	}
	later := due.Add(time.Minute)
	if s := stateOf(later); s[a.ID].State != retention.StateDue || s[b.ID].State != retention.StateDue {
		t.Fatalf("after due: %+v", s)
	}

	// A complaint holds the ballot; only a scrutineer records or releases it.
	var scr, org int64
	must(t, pool.QueryRow(ctx, `INSERT INTO staff (role, name) VALUES ('scrutineer', 'Sam') RETURNING id`).Scan(&scr))
	must(t, pool.QueryRow(ctx, `INSERT INTO staff (role, union_id, name) VALUES ('organiser', $1, 'Olu') RETURNING id`, a.UnionID).Scan(&org))
	if _, err := svc.RecordHold(ctx, a.ID, org, "CO complaint 2027/1", now); !errors.Is(err, retention.ErrNotAllowed) {
		t.Fatalf("organiser hold: %v", err)
	}
	if _, err := svc.RecordHold(ctx, a.ID, scr, " ", now); !errors.Is(err, retention.ErrInvalid) {
		t.Fatalf("empty reason: %v", err)
	}
	hold, err := svc.RecordHold(ctx, a.ID, scr, "CO complaint 2027/1", now)
	must(t, err)
	if s := stateOf(later)[a.ID]; s.State != retention.StateHeld || !strings.Contains(s.Reason, "CO complaint 2027/1") {
		t.Fatalf("held: %+v", s)
	}
	if _, err := svc.Apply(ctx, a.ID, later.AddDate(3, 0, 0), "test"); !errors.Is(err, retention.ErrHeld) {
		t.Fatalf("apply on hold: %v", err)
	}
	if _, err := svc.ReleaseHolds(ctx, a.ID, hold+1, scr, "CO authorised disposal", now); !errors.Is(err, retention.ErrNoHold) {
		t.Fatalf("release of another hold: %v", err)
	}
	ids, err := svc.ReleaseHolds(ctx, a.ID, 0, scr, "CO authorised disposal", now)
	if err != nil || len(ids) != 1 || ids[0] != hold {
		t.Fatalf("release: %v %v", ids, err)
	}
	if s := stateOf(later)[a.ID]; s.State != retention.StateDue {
		t.Fatalf("after release: %s", s.State)
	}

	n0 := auditCount(t, pool)
	d, err := svc.Apply(ctx, a.ID, later, "test:retention")
	must(t, err)
	if d.Already || d.Total() == 0 || len(d.Digest) != 32 {
		t.Fatalf("deletion: %+v", d)
	}
	got := map[string]int64{}
	for _, c := range d.Counts {
		got[c.Table] = c.Rows
	}
	// Every member of a went (8) except member 0 (on the draft).
	if got["members"] != 7 || got["register_entries"] != 8 || got["ballot_contacts"] != 8 || got["marked_register"] != 6 ||
		got["ballot_styles.issuer_private"] != 2 || got["replaced_authorisations"] != 1 || got["auth_webauthn_users"] != 7 {
		t.Errorf("counts: %v", got)
	}
	after := personal(t, pool, a)
	for table, n := range after {
		want := int64(0)
		switch table {
		case "members", "auth_webauthn_users", "auth_webauthn_credentials", "auth_otp_codes", "auth_webauthn_ceremonies",
			"auth_rate_limits", "gotv_contacts", "gotv_contact_issues", "sms_outbox", "mail_outbox":
			want = 1 // member 0's member-level records stay while they are on the draft
		}
		if n != want {
			t.Errorf("after deletion, ballot a still has %d %s rows (want %d)", n, table, want)
		}
	}
	var draftRows int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, draft).Scan(&draftRows))
	if draftRows != 1 {
		t.Errorf("the draft's register lost its row")
	}
	if afterB := personal(t, pool, b); fmt.Sprint(afterB) != fmt.Sprint(beforeB) {
		t.Errorf("ballot b changed:\nbefore %v\nafter  %v", beforeB, afterB)
	}
	if n := personal(t, pool, c)["register_entries"]; n != 2 {
		t.Errorf("ballot c's register: %d", n)
	}
	checkEveryMemberTableDecided(t, pool, a.ID)

	// Kept: the ledger verifies, the public counts are those published,
	// the audit log verifies and ends with the deletion.
	for _, e := range []string{"retain-a", "retain-b"} {
		rep, err := led.Audit(ctx, e, true)
		must(t, err)
		if err := rep.Err(); err != nil {
			t.Errorf("ledger %s: %v", e, err)
		}
	}
	countsAfter, err := iss.CountsFor(ctx, "retain-a")
	must(t, err)
	if fmt.Sprint(countsAfter) != fmt.Sprint(countsA) {
		t.Errorf("public counts changed: %v, were %v", countsAfter, countsA)
	}
	issued := []int64{int64(countsAfter[0].Online + countsAfter[0].Replaced), int64(countsAfter[1].Online + countsAfter[1].Replaced)}
	var exp bytes.Buffer
	must(t, led.Export(ctx, &exp, "retain-a", -1, nil))
	if v, err := verify.Verify(ctx, &exp, verify.Options{Issued: issued}); err != nil || !v.OK() {
		t.Errorf("ledger export after deletion: %v %+v", err, v)
	}
	if _, _, err := result.New(pool, election.NewStore(pool), ledger.HandOver{L: led}, issuedFunc(iss)).Published(ctx, "retain-a"); err != nil {
		t.Errorf("published result after deletion: %v", err)
	}
	if n := auditCount(t, pool); n != n0+1 {
		t.Errorf("audit entries: %d, want %d", n, n0+1)
	}
	var action, detail string
	must(t, pool.QueryRow(ctx, `SELECT action, detail FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&action, &detail))
	var det struct {
		Counts map[string]int64 `json:"counts"`
		Digest string           `json:"digest"`
	}
	_ = json.Unmarshal([]byte(detail), &det)
	if action != "retention.deleted" || det.Counts["register_entries"] != 8 || det.Digest != fmt.Sprintf("%x", d.Digest) {
		t.Errorf("audit entry: %s %s", action, detail)
	}
	var recCounts []byte
	must(t, pool.QueryRow(ctx, `SELECT counts FROM retention_deletions WHERE ballot_id = $1`, a.ID).Scan(&recCounts))
	if !strings.Contains(string(recCounts), `"members": 7`) {
		t.Errorf("retention_deletions counts: %s", recCounts)
	}
	if err := exec(pool, `DELETE FROM retention_deletions`); err == nil {
		t.Error("retention_deletions accepted a DELETE")
	}

	// Idempotent: nothing more is deleted or audited.
	d2, err := svc.Apply(ctx, a.ID, later.AddDate(1, 0, 0), "test:retention")
	if err != nil || !d2.Already || !bytes.Equal(d2.Digest, d.Digest) || fmt.Sprint(d2.Counts) != fmt.Sprint(d.Counts) {
		t.Fatalf("second apply: %+v %v", d2, err)
	}
	if n := auditCount(t, pool); n != n0+1 {
		t.Errorf("second apply audited: %d entries", n)
	}
	if s := stateOf(later)[a.ID]; s.State != retention.StateDeleted {
		t.Errorf("state after deletion: %s", s.State)
	}
	if _, err := svc.RecordHold(ctx, a.ID, scr, "late complaint", later); !errors.Is(err, retention.ErrDeleted) {
		t.Errorf("hold after deletion: %v", err)
	}
}

func exec(pool *pgxpool.Pool, sql string, args ...any) error {
	_, err := pool.Exec(context.Background(), sql, args...)
	return err
}

// keptBallotTables are the tables that refer to ballots and keep their
// rows after deletion (docs/ballots.md "Retention and deletion").
var keptBallotTables = map[string]bool{
	"ballot_styles": true, "employer_notices": true, "gotv_ballot_settings": true, "gotv_campaigns": true,
	"outreach_approvals": true, "outreach_campaigns": true,
	"retention_holds": true, "retention_counts": true, "retention_deletions": true,
	"result_notice_plans": true, "result_employer_deliveries": true, "result_election_reports": true,
}

// checkEveryMemberTableDecided walks the foreign keys of the schema: every
// table referring to members holds no row of a deleted member, and every
// table referring to ballots is either kept by decision or holds no row of
// the deleted ballot. A new table fails here until it is decided.
func checkEveryMemberTableDecided(t *testing.T, pool *pgxpool.Pool, ballotID int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, a.attname
		FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.contype = 'f' AND c.confrelid IN ('members'::regclass, 'ballots'::regclass) ORDER BY 1, 3`)
	must(t, err)
	type fk struct{ table, target, col string }
	var fks []fk
	for rows.Next() {
		var f fk
		must(t, rows.Scan(&f.table, &f.target, &f.col))
		fks = append(fks, f)
	}
	must(t, rows.Err())
	if len(fks) < 10 {
		t.Fatalf("foreign keys: %v", fks)
	}
	for _, f := range fks {
		var n int64
		switch f.target {
		case "ballots":
			if keptBallotTables[f.table] {
				continue
			}
			must(t, pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s = $1`, f.table, f.col), ballotID).Scan(&n))
		case "members":
			// Rows of members no longer on any register but still present
			// would be left-overs of a deletion.
			must(t, pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s x WHERE x.%s IN (
				SELECT m.id FROM members m WHERE NOT EXISTS (SELECT 1 FROM register_entries r WHERE r.member_id = m.id))`, f.table, f.col)).Scan(&n))
		}
		if n != 0 {
			t.Errorf("%s.%s (→ %s) still holds %d rows of the deleted ballot or its members: decide what retention does with it", f.table, f.col, f.target, n)
		}
	}
}

// others are the real stores retention asks: election's, the ledger's
// board (led may be nil) and auth's staff accounts.
func others(t *testing.T, pool *pgxpool.Pool, led *ledger.Ledger) retention.Others {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	pages, err := page.New(log)
	must(t, err)
	pub, _ := url.Parse("https://vote.example")
	a, err := auth.New(auth.Options{Pool: pool, Log: log, Pages: pages, PublicURL: pub, SecretKey: electiontest.SecretKey})
	must(t, err)
	o := retention.Others{Ballots: election.NewStore(pool), Staff: a, Addresses: register.NewStore(pool, electiontest.SecretKey)}
	if led != nil {
		o.ResultPublished = led.ResultsPublishedAt
	}
	return o
}
