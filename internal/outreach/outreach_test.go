package outreach_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/outreach"
	"github.com/unionvote/eballot/internal/web/page"
)

// runRE finds runs of digits and the separators people write numbers with.
var runRE = regexp.MustCompile(`\+?[0-9][0-9 ().\-]*[0-9]`)

// hasPhone reports whether s holds anything that looks like a phone
// number: a run of at least 9 digits (a UK mobile has 10 or 11).
func hasPhone(s string) bool {
	for _, m := range runRE.FindAllString(s, -1) {
		n := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		if n >= 9 {
			return true
		}
	}
	return false
}

// batch returns a volunteer's batch, checking it shows no number.
func batch(t *testing.T, w *world, v page.Staff) []outreach.Summary {
	t.Helper()
	_, list, err := w.out.Batch(context.Background(), v)
	must(t, err)
	for _, s := range list {
		if hasPhone(s.FirstName + " " + s.Workplace) {
			t.Fatalf("batch shows a number: %+v", s)
		}
	}
	return list
}

// memberOf is the member of a conversation (tests read any table).
func memberOf(t *testing.T, w *world, conv int64) int64 {
	t.Helper()
	var id int64
	must(t, w.pool.QueryRow(context.Background(), `SELECT member_id FROM outreach_conversations WHERE id = $1`, conv).Scan(&id))
	return id
}

func refused(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	if _, ok := page.ProblemOf(err); !ok {
		t.Fatalf("%v has no message for the person", err)
	}
}

// TestCampaignThreeVolunteers300Members drives a campaign of three
// volunteers over 300 members through claims, sends, replies, tags,
// STOP, voting, reminders and the shared caps, against real PostgreSQL and
// the real outbox, with Twilio faked at the wire.
func TestCampaignThreeVolunteers300Members(t *testing.T) {
	w := newWorld(t, 300, gotvConfig())
	ctx := context.Background()

	// A turnout campaign needs the scrutineer's approval.
	_, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Turnout", Source: outreach.SourceTurnout,
		Script: "Hi {first_name}, {volunteer} here."})
	refused(t, err, outreach.ErrNoApproval)
	refused(t, w.out.Approve(ctx, w.org, w.b.ID, "policy", true), outreach.ErrForbidden)
	must(t, w.out.Approve(ctx, w.scrut, w.b.ID, "Members not yet marked may be texted by trained volunteers.", true))
	ap, err := w.out.ApprovalFor(ctx, w.b.ID)
	must(t, err)
	if ap == nil || ap.ApprovedBy != w.scrut.Actor() || ap.WithdrawnAt != nil {
		t.Fatalf("approval %+v", ap)
	}
	var detail string
	must(t, w.pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = 'outreach.approval' AND ballot_id = $1`, w.b.ID).Scan(&detail))
	if !strings.Contains(detail, "Members not yet marked") {
		t.Fatalf("approval audit detail %s", detail)
	}
	for _, bad := range []outreach.CampaignInput{{Name: "x", Source: "all", Script: "hi"}, {Name: "x", Source: outreach.SourceSelfReported, Script: "hi {phone}"},
		{Name: "", Source: outreach.SourceSelfReported, Script: "hi"}} {
		_, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, bad)
		refused(t, err, outreach.ErrInvalid)
	}
	camp, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Branch texting", Source: outreach.SourceSelfReported,
		Script: "Hi {first_name}, it's {volunteer} from the union. Have you voted yet?"})
	must(t, err)
	turnout, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Turnout", Source: outreach.SourceTurnout,
		Script: "Hi {first_name}, {volunteer} here: the ballot closes soon."})
	must(t, err)

	north := w.volunteer(t, camp, "Vol North", "branch", "North", 1)
	south := w.volunteer(t, camp, "Vol South", "branch", "South", 2)
	wp := electiontest.IAConfig().Workplaces[0].Name
	work := w.volunteer(t, camp, "Vol Works", "workplace", wp, 3)
	late := w.volunteer(t, turnout, "Vol Turnout", "branch", "North", 4)

	// Code of conduct before the first batch.
	_, err = w.out.Claim(ctx, north, "")
	refused(t, err, outreach.ErrConduct)
	for _, v := range []page.Staff{north, south, work, late} {
		must(t, w.out.AcceptConduct(ctx, v))
	}
	// Claiming outside one's branch: refused, logged, nothing claimed.
	_, err = w.out.Claim(ctx, north, "South")
	refused(t, err, outreach.ErrOutsideScope)
	if !strings.Contains(w.log.String(), "reason=outside_scope") {
		t.Fatal("refused claim not logged")
	}
	if len(batch(t, w, north)) != 0 {
		t.Fatal("a refused claim claimed members")
	}

	// Claims: 25 each, in scope, never one member in two live claims.
	seen := map[int64]page.Staff{}
	for _, v := range []page.Staff{north, south, work} {
		n, err := w.out.Claim(ctx, v, "")
		must(t, err)
		if n != 25 {
			t.Fatalf("claimed %d", n)
		}
		for _, s := range batch(t, w, v) {
			m := memberOf(t, w, s.ID)
			if _, dup := seen[m]; dup {
				t.Fatalf("member %d in two claims", m)
			}
			seen[m] = v
			switch v {
			case north:
				if w.branchs[m] != "North" {
					t.Fatalf("north volunteer got a %s member", w.branchs[m])
				}
			case south:
				if w.branchs[m] != "South" {
					t.Fatalf("south volunteer got a %s member", w.branchs[m])
				}
			case work:
				if w.wps[m] != wp || s.Workplace != wp {
					t.Fatalf("workplace volunteer got a member of %q", w.wps[m])
				}
			}
			if !strings.HasPrefix(s.FirstName, "Name") || strings.Contains(s.FirstName, "Surname") {
				t.Fatalf("first name shown as %q", s.FirstName)
			}
		}
	}
	// A second claim tops up to the batch size only.
	if n, err := w.out.Claim(ctx, north, ""); err != nil || n != 0 {
		t.Fatalf("top-up claimed %d, %v", n, err)
	}

	// One press, one message: every claimed member is texted once.
	for _, v := range []page.Staff{north, south, work} {
		for _, s := range batch(t, w, v) {
			if err := w.out.Send(ctx, v, s.ID); err != nil {
				t.Fatalf("send: %v\n%+v", err, w.twilio.Requests())
			}
			refused(t, w.out.Send(ctx, v, s.ID), outreach.ErrAlreadySent)
		}
	}
	if n := len(w.twilio.Requests()); n != 75 {
		t.Fatalf("%d texts sent, want 75", n)
	}
	for m := range seen {
		if got := w.sentTo(w.mobiles[m]); got != 1 {
			t.Fatalf("member %d texted %d times", m, got)
		}
	}
	body := w.twilio.LastBodyTo(w.mobiles[firstMember(t, w, north)])
	if !strings.Contains(body, "Vol North from the union") || !strings.HasPrefix(body, "Hi Name") || strings.Contains(body, "Surname") {
		t.Fatalf("rendered %q", body)
	}

	// Another volunteer cannot reach these conversations.
	northConvs := batch(t, w, north)
	_, _, err = w.out.Conversation(ctx, south, northConvs[0].ID)
	refused(t, err, outreach.ErrNotFound)
	refused(t, w.out.Tag(ctx, late, northConvs[0].ID, "voted"), outreach.ErrNotFound)
	refused(t, w.out.Reply(ctx, south, northConvs[0].ID, "thanks"), outreach.ErrNotFound)

	// Replies land in the right conversation; numbers in them are masked.
	a, b := northConvs[0], northConvs[1]
	ma, mb := memberOf(t, w, a.ID), memberOf(t, w, b.ID)
	w.reply(t, w.mobiles[ma], "Yes, I voted this morning")
	w.reply(t, w.mobiles[mb], "Can you call me on 07700 900 123 please")
	w.reply(t, "+447700111222", "who is this?") // a number nobody texted: ignored
	_, ca, err := w.out.Conversation(ctx, north, a.ID)
	must(t, err)
	if len(ca.Messages) != 2 || ca.Messages[1].Out || ca.Messages[1].Body != "Yes, I voted this morning" {
		t.Fatalf("conversation a: %+v", ca.Messages)
	}
	_, cb, err := w.out.Conversation(ctx, north, b.ID)
	must(t, err)
	if len(cb.Messages) != 2 || hasPhone(cb.Messages[1].Body) || !strings.Contains(cb.Messages[1].Body, "[number removed]") {
		t.Fatalf("conversation b: %+v", cb.Messages)
	}

	// Tags: voted; postal pack and wrong number reach the organiser's queue.
	must(t, w.out.Reply(ctx, north, a.ID, "thanks")) // a canned reply is not capped
	if got := w.twilio.LastBodyTo(w.mobiles[ma]); !strings.Contains(got, "Thank you!") || !strings.Contains(got, "Diolch!") {
		t.Fatalf("canned reply %q", got)
	}
	must(t, w.out.Tag(ctx, north, a.ID, "voted"))
	refused(t, w.out.Reply(ctx, north, a.ID, "thanks"), outreach.ErrVoted) // no text after "voted"
	must(t, w.out.Tag(ctx, north, b.ID, "postal_pack"))
	southConvs := batch(t, w, south)
	must(t, w.out.Tag(ctx, south, southConvs[0].ID, "wrong_number"))
	must(t, w.out.Tag(ctx, south, southConvs[1].ID, "needs_help"))
	refused(t, w.out.Tag(ctx, south, southConvs[1].ID, "call_me"), outreach.ErrInvalid)
	q, err := w.out.Queue(ctx, w.org, camp)
	must(t, err)
	if len(q) != 2 || q[0].Tag != "postal_pack" || q[1].Tag != "wrong_number" || q[0].Volunteer != "Vol North" || !strings.HasPrefix(q[0].FirstName, "Name") {
		t.Fatalf("queue %+v", q)
	}
	_, err = w.out.Queue(ctx, north, camp)
	refused(t, err, outreach.ErrForbidden)
	must(t, w.out.ResolveQueue(ctx, w.org, camp, q[0].ID))
	refused(t, w.out.ResolveQueue(ctx, w.org, camp, q[0].ID), outreach.ErrNotFound)

	// STOP stops every text of the union: canned replies, volunteer texts
	// in any campaign, reminders.
	mc := memberOf(t, w, northConvs[2].ID)
	w.reply(t, w.mobiles[mc], "STOP")
	before := len(w.twilio.Requests())
	refused(t, w.out.Reply(ctx, north, northConvs[2].ID, "sorry"), gotv.ErrOptedOut)
	// "opt out" tag: the same for that number.
	md := memberOf(t, w, northConvs[3].ID)
	must(t, w.out.Tag(ctx, north, northConvs[3].ID, "opt_out"))
	refused(t, w.out.Reply(ctx, north, northConvs[3].ID, "thanks"), outreach.ErrVoted) // tagged: no more texts

	// Quiet hours: refused at 21:00, nothing sent.
	noon := w.clock.Now()
	w.clock.Set(time.Date(noon.Year(), noon.Month(), noon.Day(), 21, 0, 0, 0, noon.Location()))
	refused(t, w.out.Reply(ctx, north, northConvs[4].ID, "thanks"), gotv.ErrQuietHours)
	w.clock.Set(noon)

	// The turnout volunteer claims North members not in the marked
	// register. Those texted today are over the daily cap.
	_, err = w.out.Claim(ctx, late, "")
	must(t, err)
	lateConvs := batch(t, w, late)
	var capped, fresh []outreach.Summary
	for _, s := range lateConvs {
		m := memberOf(t, w, s.ID)
		if m == ma || m == mc || m == md {
			t.Fatalf("member %d (voted, STOP or opted out) claimed again", m)
		}
		if _, ok := seen[m]; ok {
			capped = append(capped, s)
		} else {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) < 2 {
		t.Fatalf("turnout batch: %d fresh, %d texted today", len(fresh), len(capped))
	}
	for _, s := range capped {
		refused(t, w.out.Send(ctx, late, s.ID), gotv.ErrCapDay)
	}
	if len(w.twilio.Requests()) != before {
		t.Fatal("a refused send reached the provider")
	}
	// Voted after the claim (a postal return marks the register): no text.
	mv := memberOf(t, w, fresh[0].ID)
	paper := paperOf(t, w, mv)
	must(t, w.iss.RecordPostal(ctx, "staff:test", w.b.ElectionID, paper))
	refused(t, w.out.Send(ctx, late, fresh[0].ID), gotv.ErrVoted)
	must(t, w.out.Send(ctx, late, fresh[1].ID))

	// A day later a reminder goes to everyone not voted and reachable;
	// the per-ballot cap (2) then counts reminders and volunteer texts.
	w.clock.Add(25 * time.Hour)
	must(t, w.gotv.SetReminders(ctx, w.scrut, w.b.ID, true))
	rc, err := w.gotv.CreateCampaign(ctx, w.org, w.b.ID, gotv.CampaignInput{Name: "Reminder", Steps: []gotv.StepInput{{Template: "Vote now {link}"}}})
	must(t, err)
	must(t, w.gotv.Schedule(ctx, w.org, rc))
	for i := 0; i < 100; i++ {
		n, err := w.gotv.Tick(ctx)
		must(t, err)
		if n == 0 {
			break
		}
	}
	if w.sentTo(w.mobiles[mc]) != 1 || w.sentTo(w.mobiles[md]) != 1 || w.sentTo(w.mobiles[mv]) != 0 {
		t.Fatal("a reminder went to a member who said STOP, opted out or voted")
	}
	// The claims lapsed meanwhile: claim again (the same members, in
	// register order), and every one texted by a volunteer and reminded is
	// at the ballot cap.
	_, err = w.out.Claim(ctx, late, "")
	must(t, err)
	atCap := 0
	for _, s := range batch(t, w, late) {
		if s.Sent {
			continue
		}
		m := memberOf(t, w, s.ID)
		if w.sentTo(w.mobiles[m]) == 2 {
			atCap++
			refused(t, w.out.Send(ctx, late, s.ID), gotv.ErrCapBallot)
		} else {
			refused(t, w.out.Send(ctx, late, s.ID), gotv.ErrCapDay) // reminded within 24 hours
		}
	}
	if atCap < len(capped) {
		t.Fatalf("%d members at the ballot cap, want %d", atCap, len(capped))
	}
	for _, m := range w.b.MemberIDs {
		if n := w.sentTo(w.mobiles[m]); n > 2+1 { // cap 2, plus one canned reply to member a
			t.Fatalf("member %d texted %d times", m, n)
		}
	}

	// Unsent claims lapse: sending on an expired claim is refused and the
	// members go back to the pool.
	n, err := w.out.Claim(ctx, south, "")
	must(t, err)
	if n != 25 {
		t.Fatalf("south re-claim %d", n)
	}
	var unsent int64
	for _, s := range batch(t, w, south) {
		if !s.Sent {
			unsent = s.ID
		}
	}
	w.clock.Add(3 * time.Hour)
	before = len(w.twilio.Requests())
	refused(t, w.out.Send(ctx, south, unsent), outreach.ErrExpired)
	refused(t, w.out.Tag(ctx, south, unsent, "voted"), outreach.ErrExpired)
	_, _, err = w.out.Conversation(ctx, south, unsent)
	refused(t, err, outreach.ErrExpired)
	if len(w.twilio.Requests()) != before {
		t.Fatal("an expired claim sent a text")
	}
	// ... and the lapsed member is back in the pool: another volunteer of
	// the branch claims them.
	south2 := w.volunteer(t, camp, "Vol South 2", "branch", "South", 5)
	must(t, w.out.AcceptConduct(ctx, south2))
	_, err = w.out.Claim(ctx, south2, "")
	must(t, err)
	back := false
	for _, s := range batch(t, w, south2) {
		back = back || memberOf(t, w, s.ID) == memberOf(t, w, unsent)
	}
	if !back {
		t.Fatal("an unsent claim did not return to the pool after its timeout")
	}
	// Each refusal is logged with its reason (ids and a code, no number).
	for _, reason := range []string{"outside_scope", "conduct", "already_sent", "not_found", "voted", "opted_out", "quiet_hours", "cap_day",
		"cap_ballot", "claim_expired"} {
		if !strings.Contains(w.log.String(), "reason="+reason) {
			t.Fatalf("no refusal logged with reason %s", reason)
		}
	}

	// Every volunteer access and refusal is in the audit log.
	var views, refusals, sends int
	must(t, w.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'outreach.view'), count(*) FILTER (WHERE action = 'outreach.refused'),
		count(*) FILTER (WHERE action = 'outreach.send') FROM audit_log WHERE actor LIKE 'volunteer:%'`).Scan(&views, &refusals, &sends))
	if views < 2 || refusals < 10 || sends < 76 {
		t.Fatalf("audit: %d views, %d refusals, %d sends", views, refusals, sends)
	}
	// The log never holds a number or a body.
	if logs := w.log.String(); hasPhone(logs) || strings.Contains(logs, "Have you voted") {
		t.Fatal("a number or a message body reached the log")
	}

	// The dashboard: by volunteer and workplace, small cells merged.
	d, err := w.out.Dashboard(ctx, w.org, camp, "Other")
	must(t, err)
	if d.Suppressed || d.Total.Texted != 75 || d.Total.Replied != 3 || d.Total.PostalPack != 1 || d.Total.WrongNumber != 1 || d.Total.OptOuts != 1 {
		t.Fatalf("dashboard total %+v", d.Total)
	}
	if len(d.ByVolunteer) != 3 || len(d.ByWorkplace) != 2 {
		t.Fatalf("dashboard rows %+v %+v", d.ByVolunteer, d.ByWorkplace)
	}
	// A turnout campaign's figures are under the turnout release (issue
	// 21): the release's workplace cells only, no volunteer breakdown, and
	// one member texted moves no figure, now or at the next snapshot.
	for _, later := range []time.Duration{0, time.Hour} {
		w.clock.Set(w.clock.Now().Add(later))
		dt, err := w.out.Dashboard(ctx, w.org, turnout, "Other")
		must(t, err)
		if dt.Suppressed || !dt.Released || dt.AsOf.IsZero() || len(dt.ByVolunteer) != 0 || len(dt.ByWorkplace) == 0 ||
			dt.Total.Texted != 0 || dt.Total.Members != 300 {
			t.Fatalf("turnout campaign dashboard: %+v", dt)
		}
	}
	_, err = w.out.Dashboard(ctx, page.Staff{ID: 9, UnionID: w.b.UnionID + 1, Role: "organiser"}, camp, "Other")
	refused(t, err, outreach.ErrNotFound)
}

// TestSelfReportedPoolAndDashboardCells: a self-reported campaign never
// consults the marked register — a member who has voted by post is
// claimed and texted like any other, so nothing a volunteer sees reveals
// turnout — and the organiser's dashboard merges a volunteer with fewer
// members than the union's minimum cell into "Other".
func TestSelfReportedPoolAndDashboardCells(t *testing.T) {
	w := newWorld(t, 60, gotvConfig())
	ctx := context.Background()
	camp, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Texting", Source: outreach.SourceSelfReported,
		Script: "Hi {first_name}, have you voted?"})
	must(t, err)
	// The first North member votes by post before any claim.
	voter := w.b.MemberIDs[0]
	must(t, w.iss.RecordPostal(ctx, "staff:test", w.b.ElectionID, paperOf(t, w, voter)))
	vols := []page.Staff{w.volunteer(t, camp, "Vol A", "branch", "North", 1), w.volunteer(t, camp, "Vol B", "branch", "South", 2),
		w.volunteer(t, camp, "Vol C", "branch", "East", 3)}
	for i, v := range vols {
		must(t, w.out.AcceptConduct(ctx, v))
		n, err := w.out.Claim(ctx, v, "")
		must(t, err)
		if n != 20 { // a third of 60 each, the voter included
			t.Fatalf("volunteer %d claimed %d", i, n)
		}
		for j, s := range batch(t, w, v) {
			if i == 2 && j == 3 { // Vol C texts only 3 members
				break
			}
			must(t, w.out.Send(ctx, v, s.ID))
		}
	}
	if w.sentTo(w.mobiles[voter]) != 1 {
		t.Fatal("a self-reported campaign left out or refused a member who voted: the volunteer learns turnout")
	}
	d, err := w.out.Dashboard(ctx, w.org, camp, "Other")
	must(t, err)
	if d.Suppressed || d.Total.Texted != 43 || d.MinCell != 10 {
		t.Fatalf("dashboard %+v", d)
	}
	sum, others := 0, 0
	for _, r := range d.ByVolunteer {
		sum += r.Members
		if r.Other {
			others++
		}
		if strings.Contains(r.Label, "Vol C") || r.Members < d.MinCell {
			t.Fatalf("a cell under the minimum is shown: %+v", r)
		}
	}
	if sum != 43 || others != 1 {
		t.Fatalf("by volunteer: %+v", d.ByVolunteer)
	}
	for _, r := range d.ByWorkplace {
		if r.Members < d.MinCell {
			t.Fatalf("a workplace cell under the minimum is shown: %+v", r)
		}
	}
}

func firstMember(t *testing.T, w *world, v page.Staff) int64 {
	t.Helper()
	return memberOf(t, w, batch(t, w, v)[0].ID)
}

func paperOf(t *testing.T, w *world, member int64) int {
	t.Helper()
	var p int
	must(t, w.pool.QueryRow(context.Background(), `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`,
		w.b.ID, member).Scan(&p))
	return p
}

// gotvConfig: at most one text a day and two per ballot per member.
func gotvConfig() gotv.Config { return gotv.Config{MaxPerDay: 1, MaxPerBallot: 2} }
