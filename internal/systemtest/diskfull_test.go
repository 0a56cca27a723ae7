package systemtest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// diskFull makes PostgreSQL refuse writes to table with the error a full
// disk gives (SQLSTATE 53100, "could not extend file … No space left on
// device"), for rows matching cond.
func (s *system) diskFull(table, cond string) (undo func()) {
	s.exec(`CREATE OR REPLACE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION USING ERRCODE = '53100', MESSAGE = 'could not extend file "base/1/2": No space left on device'; END $$`)
	s.exec(`CREATE TRIGGER test_disk_full BEFORE INSERT OR UPDATE ON ` + table + ` FOR EACH ROW WHEN (` + cond + `) EXECUTE FUNCTION test_disk_full()`)
	return func() { s.exec(`DROP TRIGGER test_disk_full ON ` + table) }
}

// TestOutboxDiskFull fills the disk under the SMS outbox (the development
// sender stores messages in PostgreSQL) while a reminder is due and a
// member asks for a sign-in code: the reminder is not marked sent and goes
// back to the queue, the member gets a 503 "try again" (not a 500 and not
// "code sent"), the error is logged clearly; once there is room again the
// reminder goes out exactly once. Then the disk fills after the provider
// accepted a message, when its 'sent' state is recorded: the row is not
// marked sent, and it is not sent a second time.
func TestOutboxDiskFull(t *testing.T) {
	s := newSystem(t, 2)
	ctx := context.Background()
	if _, err := s.svc.Auth.IssueInvitations(ctx, s.ballot.ID); err != nil {
		t.Fatal(err)
	}
	mobile, err := s.mobile(s.ballot.MemberIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	link := linkRE.FindStringSubmatch(s.outboxTo(mobile))
	s.exec(`DELETE FROM gotv_contacts`)
	tz := "Europe/London"
	for _, z := range []string{"Europe/London", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Pacific/Honolulu", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Dubai"} {
		if loc, err := time.LoadLocation(z); err == nil {
			if h := time.Now().In(loc).Hour(); h >= 11 && h <= 17 {
				tz = z
				break
			}
		}
	}
	s.exec(`INSERT INTO gotv_contacts (member_id, time_zone) SELECT id, $1 FROM members`, tz)
	s.exec(`INSERT INTO gotv_ballot_settings (ballot_id, reminders_enabled, decided_by, decided_at) VALUES ($1, true, 'test', now())`, s.ballot.ID)
	cid := s.newCampaign()
	s.exec(`UPDATE gotv_campaigns SET status = 'scheduled' WHERE id = $1`, cid)
	s.exec(`INSERT INTO gotv_steps (campaign_id, seq, due_at, template) VALUES ($1, 1, now() - interval '1 minute', 'Please vote: {link}')`, cid)
	before := s.queryInt(`SELECT count(*) FROM sms_outbox`)

	undo := s.diskFull("sms_outbox", "true")
	for i := 0; i < 2; i++ {
		_, _ = s.svc.GOTV.Tick(ctx)
	}
	if n := s.queryInt(`SELECT count(*) FROM gotv_messages WHERE state = 'sent'`); n != 0 {
		t.Fatalf("%d reminders marked sent while nothing could be stored", n)
	}
	if n := s.queryInt(`SELECT count(*) FROM gotv_messages WHERE state = 'pending' AND reason = 'retry' AND send_started_at IS NULL`); n != 2 {
		t.Fatalf("%d reminders back in the queue, want 2", n)
	}
	if !strings.Contains(s.logs.String(), "No space left on device") || !strings.Contains(s.logs.String(), "gotv send failed, will retry") {
		t.Fatalf("the failure is not logged clearly:\n%s", s.logs.String())
	}
	// A member asking for a code meanwhile.
	c := s.client()
	c.get(s.base + "/i/" + link[1])
	r := c.postForm(s.base+"/i/"+link[1], url.Values{"csrf": {c.CSRF}})
	if r.code != http.StatusServiceUnavailable || r.h.Get("Retry-After") == "" || leaks.MatchString(r.body) {
		t.Fatalf("code request on a full disk: %d %v %.300s", r.code, r.h, r.body)
	}
	undo()

	// Room again: the reminders go out, once each.
	s.exec(`UPDATE gotv_messages SET not_before = now()`)
	for i := 0; i < 2; i++ {
		_, _ = s.svc.GOTV.Tick(ctx)
	}
	if n := s.queryInt(`SELECT count(*) FROM gotv_messages WHERE state = 'sent'`); n != 2 {
		t.Fatalf("%d reminders sent after the disk had room, want 2", n)
	}
	if n := s.queryInt(`SELECT count(*) FROM sms_outbox`) - before; n != 2 {
		t.Fatalf("%d messages stored, want 2 (one per member)", n)
	}

	// The disk fills between the send and its record. (Phase one's rows
	// are removed so the per-member daily cap lets these through.)
	s.exec(`DELETE FROM gotv_messages`)
	cid2 := s.newCampaign()
	s.exec(`UPDATE gotv_campaigns SET status = 'scheduled' WHERE id = $1`, cid2)
	s.exec(`INSERT INTO gotv_steps (campaign_id, seq, due_at, template) VALUES ($1, 1, now() - interval '1 minute', 'Last chance: {link}')`, cid2)
	s.exec(`UPDATE gotv_campaigns SET status = 'cancelled' WHERE id = $1`, cid)
	before = s.queryInt(`SELECT count(*) FROM sms_outbox`)
	undo = s.diskFull("gotv_messages", "NEW.state = 'sent'")
	for i := 0; i < 3; i++ {
		_, _ = s.svc.GOTV.Tick(ctx)
	}
	undo()
	for i := 0; i < 2; i++ {
		_, _ = s.svc.GOTV.Tick(ctx)
	}
	var sent, open int64
	_ = s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE g.state = 'sent'), count(*) FILTER (WHERE g.state IN ('sending', 'unknown') AND g.send_started_at IS NOT NULL)
		FROM gotv_messages g JOIN gotv_steps st ON st.id = g.step_id WHERE st.campaign_id = $1`, cid2).Scan(&sent, &open)
	stored := s.queryInt(`SELECT count(*) FROM sms_outbox`) - before
	if sent != 0 || open != stored || stored == 0 {
		t.Fatalf("after a failed record: %d marked sent, %d left sending/unknown, %d stored", sent, open, stored)
	}
	t.Logf("%d messages accepted but not recorded: left 'sending' for reconciliation, not resent", stored)
}
