package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/pgtest"
)

// TestRetentionCommand drives `ballotd retention` as an operator would on
// the demo ballot once its result is published: report, hold, release,
// --apply, and --apply again.
func TestRetentionCommand(t *testing.T) {
	pool, url := pgtest.NewDBURL(t)
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": url}
	if r := run(ctx, vars, "demo", "--trustee-dir", t.TempDir()); r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	if r := run(ctx, vars, "demo", "--close"); r.code != 0 {
		t.Fatalf("demo --close: %+v", r)
	}
	// Not yet published: reported, never deleted.
	r := run(ctx, vars, "retention", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, "unpublished") || !strings.Contains(r.stdout, "0 due, 0 held, 0 not due, 1 unpublished") || strings.Contains(r.stdout, "deleting") {
		t.Fatalf("unpublished: %+v", r)
	}
	// The result is published (the signed-report path is tested in
	// internal/retention and internal/election).
	published := time.Now().Add(-time.Hour)
	if _, err := pool.Exec(ctx, `UPDATE ballots SET status = 'published', published_at = $1 WHERE election_id = 'demo-strike-2026'`, published); err != nil {
		t.Fatal(err)
	}
	if r := run(ctx, vars, "retention"); r.code != 0 || !strings.Contains(r.stdout, "not_due") || !strings.Contains(r.stdout, "1 not due") {
		t.Fatalf("report now: %+v", r)
	}
	if r := run(ctx, vars, "staff", "add", "--role", "scrutineer", "--name", "Sam Scrutineer"); r.code != 0 {
		t.Fatalf("staff: %+v", r)
	}
	var scr int64
	if err := pool.QueryRow(ctx, `SELECT id FROM staff WHERE role = 'scrutineer'`).Scan(&scr); err != nil {
		t.Fatal(err)
	}
	later := published.AddDate(1, 0, 2)
	// The clock a year and two days after the publication.
	at := func(vars map[string]string, args ...string) result {
		var out, errb bytes.Buffer
		vars["EBALLOT_SECRET_KEY"] = testKey
		code := Run(ctx, args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }, Now: func() time.Time { return later }})
		return result{code, out.String(), errb.String()}
	}
	if r := at(vars, "retention", "hold", "--ballot", "demo-strike-2026", "--reason", "CO ref 1"); r.code != 2 || !strings.Contains(r.stderr, "--staff") {
		t.Fatalf("hold without --staff: %+v", r)
	}
	if r := at(vars, "retention", "hold", "--ballot", "demo-strike-2026", "--staff", fmt.Sprint(scr), "--reason", "CO ref 1"); r.code != 0 || !strings.Contains(r.stdout, "recorded") {
		t.Fatalf("hold: %+v", r)
	}
	if r := at(vars, "retention", "--apply"); r.code != 0 || !strings.Contains(r.stdout, "held") || !strings.Contains(r.stdout, "CO ref 1") || strings.Contains(r.stdout, "deleting") {
		t.Fatalf("apply while held: %+v", r)
	}
	if r := at(vars, "retention", "release", "--ballot", "demo-strike-2026", "--staff", fmt.Sprint(scr), "--reason", "CO authorised disposal"); r.code != 0 || !strings.Contains(r.stdout, "now due") {
		t.Fatalf("release: %+v", r)
	}
	r = at(vars, "retention", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, "1 due") || !strings.Contains(r.stdout, "register_entries 24") || !strings.Contains(r.stdout, "members 24") {
		t.Fatalf("apply: %+v", r)
	}
	t.Logf("apply:\n%s", r.stdout)
	var left int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM register_entries) + (SELECT count(*) FROM members) + (SELECT count(*) FROM ballot_contacts)
		+ (SELECT count(*) FROM auth_invitations) + (SELECT count(*) FROM sms_outbox)`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("rows left after --apply: %d %v", left, err)
	}
	r = at(vars, "retention", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, "0 due") || !strings.Contains(r.stdout, "1 deleted") || strings.Contains(r.stdout, "deleting") {
		t.Fatalf("apply again: %+v", r)
	}
	if r := at(vars, "retention", "hold", "--ballot", "demo-strike-2026", "--staff", fmt.Sprint(scr), "--reason", "late"); r.code != 1 || !strings.Contains(r.stderr, "already deleted") {
		t.Fatalf("hold after deletion: %+v", r)
	}
	if r := run(ctx, map[string]string{"DATABASE_URL": url, "EBALLOT_RETENTION_PERIOD": "720h"}, "retention"); r.code != 1 || !strings.Contains(r.stderr, "config: EBALLOT_RETENTION_PERIOD:") {
		t.Fatalf("short period: %+v", r)
	}
}
