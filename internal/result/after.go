package result

// After the close (docs/ballots.md "After the close"; statutory.md §5
// points 29, 31–33):
//
//   - s.231: once the result is published, every person entitled to vote
//     is told it "as soon as reasonably practicable": by email and by text
//     where the contacts frozen at opening hold them, and on a printable
//     list for those who have neither (or asked for post), to post. The
//     notice gives, per workplace ballot and question, the numbers
//     entitled, voting, answering Yes and No, and spoilt, and the
//     threshold tests the signed result says apply under its regime
//     (s.231(f), (g)).
//   - s.231A: the same to every employer of members on the register, by
//     email to the address the organisers record for it; the outbox
//     records when each was sent.
//   - s.231B: the scrutineer's report is due by the end of four weeks
//     beginning with the date of the ballot ([election.ReportDue]); each
//     scrutineer is texted a reminder a week and a day before, once,
//     until the report is published; copies asked for by members and
//     employers within six months are logged with when they were supplied.
//
// Every notice is a row of result_notices sent through gotv's outbox
// (source 'result'), so it is sent exactly once, even across a restart
// mid-send; [After] plans the rows and renders each at send time
// ([After.ResultNotice]).

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Outbox is what [After] needs of gotv's outbox.
type Outbox interface {
	EnqueueResults(ctx context.Context, rows []gotv.ResultRow) (int, error)
	ResultStates(ctx context.Context, ids []int64) (map[int64]gotv.ResultState, error)
}

// ScrutineersFunc returns the active scrutineer accounts and their
// mobiles ("" none) (internal/auth).
type ScrutineersFunc func(ctx context.Context) (map[int64]string, error)

// AfterOptions are the dependencies of [NewAfter].
type AfterOptions struct {
	Pool        *pgxpool.Pool
	Ballots     *election.Store
	Register    *register.Store // opens the frozen contacts (with the secret key)
	Outbox      Outbox
	Scrutineers ScrutineersFunc
	// T is the catalogue lookup (page.Pages.T) with the "after.*" keys of
	// [RegisterAfterPages].
	T         func(lang, key string) string
	PublicURL string
	Now       func() time.Time
	Log       *slog.Logger
}

// After keeps the duties after the close.
type After struct {
	o     AfterOptions
	store afterStore
	mu    sync.Mutex
	reps  map[int64]publishedResult // by ballot: a published result never changes
}

type publishedResult struct {
	rep *report.Report
	rec *election.ResultRecord
}

// NewAfter returns the service.
func NewAfter(o AfterOptions) *After {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &After{o: o, store: afterStore{pool: o.Pool}, reps: map[int64]publishedResult{}}
}

// Reminders before the s.231B deadline.
var reminders = []struct {
	Which  string
	Before time.Duration
}{{"week", 7 * 24 * time.Hour}, {"day", 24 * time.Hour}}

// lookBack bounds the ballots a pass looks at: the six months of
// s.231B(2) and a margin.
const lookBack = 7 * 31 * 24 * time.Hour

// Run does a pass every interval until ctx is done.
func (a *After) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.Tick(ctx); err != nil && ctx.Err() == nil {
			a.o.Log.WarnContext(ctx, "after the close: pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick does one pass: it plans the member notices of newly published
// ballots and the employer notices of employers with an address, the
// reminders that are due, and puts every notice not yet queued in the
// outbox. Each step is idempotent: a pass cut short is completed by the
// next.
func (a *After) Tick(ctx context.Context) error {
	now := a.o.Now()
	bs, err := a.o.Ballots.ClosedSince(ctx, now.Add(-lookBack))
	if err != nil {
		return err
	}
	var scr map[int64]string
	for _, b := range bs {
		if !election.AfterCloseDuties(b.Kind) {
			continue
		}
		if b.Status == "published" {
			if err := a.planMembers(ctx, b, now); err != nil {
				return err
			}
			if err := a.planEmployers(ctx, b, now); err != nil {
				return err
			}
			continue
		}
		if b.SmallExemption {
			continue // s.226C: no scrutineer's report
		}
		due := election.ReportDue(b.ClosedAt)
		for i, r := range reminders {
			if now.Before(due.Add(-r.Before)) || !now.Before(due) {
				continue
			}
			// Only the latest reminder due: a service down for the week
			// before sends the day's, not both.
			if i+1 < len(reminders) && !now.Before(due.Add(-reminders[i+1].Before)) {
				continue
			}
			if scr == nil && a.o.Scrutineers != nil {
				if scr, err = a.o.Scrutineers(ctx); err != nil {
					return fmt.Errorf("scrutineers: %w", err)
				}
			}
			var ids []int64
			for id, m := range scr {
				if m != "" {
					ids = append(ids, id)
				}
			}
			if err := a.store.addReminders(ctx, b.ID, r.Which, ids, now); err != nil {
				return err
			}
		}
	}
	return a.queue(ctx, now)
}

// queue puts the notices not yet queued in the outbox.
func (a *After) queue(ctx context.Context, now time.Time) error {
	for {
		rows, err := a.store.unqueued(ctx, 1000)
		if err != nil || len(rows) == 0 {
			return err
		}
		if _, err := a.o.Outbox.EnqueueResults(ctx, rows); err != nil {
			return err
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		if err := a.store.markQueued(ctx, ids, now); err != nil {
			return err
		}
	}
}

// Plan is how a ballot's s.231 notices to members were planned.
type Plan struct {
	At                              time.Time
	Members, ByEmail, BySMS, ByPost int
}

// planMembers creates the s.231 notices of a published ballot once: one
// per member and channel of the contacts frozen at opening.
func (a *After) planMembers(ctx context.Context, b election.ClosedBallot, now time.Time) error {
	if p, err := a.store.plan(ctx, b.ID); err != nil || p != nil {
		return err
	}
	contacts, err := a.o.Register.Contacts(ctx, b.ID, nil)
	if err != nil {
		return err
	}
	post, err := a.o.Register.PackRecipients(ctx, b.ID, false)
	if err != nil {
		return err
	}
	p := Plan{At: now, Members: len(contacts), ByPost: len(post)}
	var email, text []int64
	for id, c := range contacts {
		if c.Email != "" {
			email = append(email, id)
		}
		if c.Mobile != "" {
			text = append(text, id)
		}
	}
	p.ByEmail, p.BySMS = len(email), len(text)
	if err := a.store.savePlan(ctx, b.ID, p, email, text); err != nil {
		return fmt.Errorf("plan notices of ballot %d: %w", b.ID, err)
	}
	a.o.Log.InfoContext(ctx, "s.231 notices planned", "ballot", b.ID, "email", p.ByEmail, "sms", p.BySMS, "post", p.ByPost)
	return nil
}

// planEmployers creates the s.231A notice of every employer of the
// register that has an address and no notice yet.
func (a *After) planEmployers(ctx context.Context, b election.ClosedBallot, now time.Time) error {
	contacts, err := a.store.employerContacts(ctx, b.UnionID)
	if err != nil || len(contacts) == 0 {
		return err
	}
	emps, err := a.employers(ctx, b.ID)
	if err != nil {
		return err
	}
	for _, e := range emps {
		if _, ok := contacts[e.Key]; ok {
			if err := a.store.addEmployerNotice(ctx, b.ID, e.Key, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// registerEmployer is an employer of a ballot's register.
type registerEmployer struct {
	Key, Name string
	Members   int
}

// employers lists the employers of the ballot's register (the ones with
// a name), by key.
func (a *After) employers(ctx context.Context, ballotID int64) ([]registerEmployer, error) {
	groups, err := a.o.Register.EntitledGroups(ctx, nil, ballotID)
	if err != nil {
		return nil, err
	}
	var out []registerEmployer
	at := map[string]int{}
	for _, g := range groups {
		k := election.EmployerKey(g.Employer)
		if k == "" {
			continue
		}
		if i, ok := at[k]; ok {
			out[i].Members += g.Members
			continue
		}
		at[k] = len(out)
		out = append(out, registerEmployer{Key: k, Name: strings.Join(strings.Fields(g.Employer), " "), Members: g.Members})
	}
	return out, nil
}

// published is the ballot's published report (cached: it never changes).
func (a *After) published(ctx context.Context, ballotID int64) (*report.Report, *election.ResultRecord, error) {
	a.mu.Lock()
	p, ok := a.reps[ballotID]
	a.mu.Unlock()
	if ok {
		return p.rep, p.rec, nil
	}
	rec, err := a.o.Ballots.ResultRecord(ctx, ballotID, "")
	if err != nil {
		return nil, nil, err
	}
	if rec.Status != "published" || rec.Result == nil {
		return nil, rec, fmt.Errorf("ballot %d: no published result", ballotID)
	}
	rep, err := report.Parse(rec.Result)
	if err != nil {
		return nil, rec, fmt.Errorf("ballot %d: published report: %w", ballotID, err)
	}
	a.mu.Lock()
	a.reps[ballotID] = publishedResult{rep, rec}
	a.mu.Unlock()
	return rep, rec, nil
}

// ResultNotice renders notice id as it is sent now (gotv.ResultNotices):
// the address from the contacts frozen at opening, the employer's
// contact or the scrutineer's mobile; no side effect.
func (a *After) ResultNotice(ctx context.Context, id int64) (gotv.Notice, error) {
	n, err := a.store.notice(ctx, id)
	if err != nil {
		return gotv.Notice{}, err
	}
	switch n.Kind {
	case "reminder":
		return a.reminderNotice(ctx, n)
	case "employer":
		return a.employerNotice(ctx, n)
	}
	rep, rec, err := a.published(ctx, n.BallotID)
	if err != nil {
		return gotv.Notice{}, err
	}
	c, err := a.o.Register.Contact(ctx, n.BallotID, n.MemberID)
	if err != nil {
		return gotv.Notice{}, err
	}
	lang, other := "en", "cy"
	if c.Lang == "cy" {
		lang, other = "cy", "en"
	}
	link := a.o.PublicURL + "/results/" + rec.ElectionID
	if n.Channel == "sms" {
		return gotv.Notice{Channel: "sms", To: c.Mobile, Body: a.memberText(lang, rep, link)}, nil
	}
	body := func(l string) string {
		return a.tf(l, "after.member.intro", rep.Result.Title, a.dateOfBallot(l, rep)) + "\n\n" +
			a.particulars(l, rep) + "\n" + a.tf(l, "after.member.more", link) + "\n\n" + a.o.T(l, "after.member.why")
	}
	return gotv.Notice{Channel: "email", To: c.Email, Language: lang + ", " + other,
		Subject: a.tf(lang, "after.member.subject", rep.Result.Title) + " / " + a.tf(other, "after.member.subject", rep.Result.Title),
		Body:    body(lang) + "\n\n* * *\n\n" + body(other)}, nil
}

// employerNotice is the s.231A notice, in English and Welsh.
func (a *After) employerNotice(ctx context.Context, n notice) (gotv.Notice, error) {
	rep, rec, err := a.published(ctx, n.BallotID)
	if err != nil {
		return gotv.Notice{}, err
	}
	h, err := a.o.Ballots.Heading(ctx, n.BallotID)
	if err != nil {
		return gotv.Notice{}, err
	}
	to, err := a.store.employerContact(ctx, h.UnionID, n.EmployerKey)
	if err != nil {
		return gotv.Notice{}, err
	}
	name := n.EmployerKey
	if emps, err := a.employers(ctx, n.BallotID); err == nil {
		for _, e := range emps {
			if e.Key == n.EmployerKey {
				name = e.Name
			}
		}
	}
	return gotv.Notice{Channel: "email", To: to, Language: "en, cy",
		Subject: a.tf("en", "after.employer.subject", rep.Result.Title) + " / " + a.tf("cy", "after.employer.subject", rep.Result.Title),
		Body:    a.employerText("en", name, h.Union, rep, rec) + "\n\n* * *\n\n" + a.employerText("cy", name, h.Union, rep, rec)}, nil
}

// employerText is the s.231A notice to the employer called name in
// language l: the same words by email and on paper.
func (a *After) employerText(l, name, union string, rep *report.Report, rec *election.ResultRecord) string {
	link := a.o.PublicURL + "/results/" + rec.ElectionID
	return a.tf(l, "after.employer.intro", name, union, rep.Result.Title, a.dateOfBallot(l, rep)) + "\n\n" +
		a.particulars(l, rep) + "\n" + a.tf(l, "after.member.more", link)
}

// reminderNotice is a text to a scrutineer that the report is due.
func (a *After) reminderNotice(ctx context.Context, n notice) (gotv.Notice, error) {
	bs, err := a.o.Ballots.ClosedBallotsOf(ctx, []int64{n.BallotID})
	if err != nil {
		return gotv.Notice{}, err
	}
	b, ok := bs[n.BallotID]
	if !ok {
		return gotv.Notice{}, fmt.Errorf("reminder %d: ballot not closed", n.ID)
	}
	var to string
	if a.o.Scrutineers != nil {
		m, err := a.o.Scrutineers(ctx)
		if err != nil {
			return gotv.Notice{}, err
		}
		to = m[n.StaffID]
	}
	if b.Status == "published" {
		to = "" // published since: nothing to remind (skipped)
	}
	due := NoticeTime{election.ReportDue(b.ClosedAt).Add(-time.Second)}
	return gotv.Notice{Channel: "sms", To: to, Body: a.tf("en", "after.remind.sms", b.Title, due.DateTime("en"),
		fmt.Sprintf("%s/scrutineer/ballots/%d/result", a.o.PublicURL, b.ID))}, nil
}

func (a *After) tf(lang, key string, args ...any) string {
	return fmt.Sprintf(a.o.T(lang, key), args...)
}

func (a *After) dateOfBallot(lang string, rep *report.Report) string {
	if t, err := time.ParseInLocation("2006-01-02", rep.Result.DateOfBallot, page.London); err == nil {
		return NoticeTime{t}.Date(lang)
	}
	return rep.Result.DateOfBallot
}

// particulars are the s.231 particulars of the signed result, per
// workplace ballot and question: (a) entitled, (b) votes cast, (c) Yes,
// (d) No, (e) spoilt, and, where the result's regime applies them, (f)
// the turnout test and (g) the 40% test.
func (a *After) particulars(lang string, rep *report.Report) string {
	var b strings.Builder
	yn := func(v bool) string {
		if v {
			return a.o.T(lang, "after.n.yes_word")
		}
		return a.o.T(lang, "after.n.no_word")
	}
	for _, s := range viewOf(rep) {
		name := s.Name
		if s.Aggregate {
			name = a.o.T(lang, "after.n.all")
		}
		fmt.Fprintf(&b, "%s\n", name)
		fmt.Fprintf(&b, "%s\n%s\n", a.tf(lang, "after.n.entitled", s.Entitled), a.tf(lang, "after.n.cast", s.VotesCast, s.Turnout))
		if s.TurnoutShown {
			fmt.Fprintf(&b, "%s\n", a.tf(lang, "after.n.turnout_met", yn(s.TurnoutMet)))
		}
		for _, q := range s.Questions {
			fmt.Fprintf(&b, "%s\n", a.tf(lang, "after.n.question", q.Text))
			if q.YesNo {
				fmt.Fprintf(&b, "  %s\n  %s\n", a.tf(lang, "after.n.yes", q.Yes), a.tf(lang, "after.n.no", q.No))
			} else {
				for _, o := range q.Options {
					fmt.Fprintf(&b, "  %s: %d\n", o.Label, o.Count)
				}
			}
			fmt.Fprintf(&b, "  %s\n", a.tf(lang, "after.n.spoilt", q.Spoilt))
			if q.SupportShown {
				fmt.Fprintf(&b, "  %s\n", a.tf(lang, "after.n.support_met", yn(q.SupportMet)))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// memberText is the s.231 text message: the whole ballot's figures, and
// the link to every workplace ballot's.
func (a *After) memberText(lang string, rep *report.Report, link string) string {
	agg := rep.Result.Aggregate
	var qs []string
	for i, q := range agg.Questions {
		if q.YesNo {
			qs = append(qs, a.tf(lang, "after.sms.question", i+1, q.Yes, q.No, fmt.Sprint(max(q.Spoilt, 0))))
		}
	}
	return a.tf(lang, "after.sms", rep.Result.Title, agg.VotesCast, agg.Entitled, strings.Join(qs, " "), link)
}
