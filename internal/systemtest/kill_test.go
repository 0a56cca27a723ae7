package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// signIn takes a member from the texted invitation link to the voting page
// over HTTP (link → "text me a code" → code from the development outbox →
// voting page, whose CSRF token the phone keeps). A dropped connection
// before the code is accepted starts again from the link, as a member
// would; a 503 is retried.
func (s *system) signIn(c *client, mobile string, deadline time.Time, seen func(string, resp)) error {
	invite, err := s.queryRow(`SELECT body FROM sms_outbox WHERE to_number = $1 ORDER BY id LIMIT 1`, mobile)
	if err != nil {
		return fmt.Errorf("no invitation texted: %w", err)
	}
	m := linkRE.FindStringSubmatch(invite)
	if m == nil {
		return fmt.Errorf("no link in the invitation")
	}
	link := "/i/" + m[1]
	csrfOf := func(r resp) string { return webtest.CSRF(r.body) }
	for stage := 0; stage < 3; {
		if time.Now().After(deadline) {
			return fmt.Errorf("not signed in before the deadline (stage %d)", stage)
		}
		type step struct {
			what, method, path string
			want               int
		}
		steps := map[int][]step{
			0: {{"invitation", "GET", link, 200}, {"send code", "POST", link, http.StatusSeeOther}},
			1: {{"code page", "GET", "/auth/code", 200}, {"verify code", "POST", "/auth/code", http.StatusSeeOther}},
			2: {{"voting page", "GET", "/vote/" + s.ballot.ElectionID, 200}},
		}[stage]
		csrf, ok := "", true
		for _, st := range steps {
			body, ctype := "", ""
			if st.method == "POST" {
				v := url.Values{"csrf": {csrf}}
				if st.what == "verify code" {
					code, err := s.queryRow(`SELECT body FROM sms_outbox WHERE to_number = $1 ORDER BY id DESC LIMIT 1`, mobile)
					if err != nil {
						return err
					}
					v.Set("code", codeRE.FindString(code))
				}
				body, ctype = v.Encode(), "application/x-www-form-urlencoded"
			}
			r, err := c.try(st.method, st.path, ctype, body, nil)
			if err != nil {
				seen(st.what, resp{body: err.Error()})
				time.Sleep(50 * time.Millisecond)
				if stage == 1 { // the code may be used up: ask for a new one
					stage = 0
				}
				ok = false
				break
			}
			seen(st.what, r)
			if r.code == http.StatusServiceUnavailable {
				time.Sleep(100 * time.Millisecond)
				ok = false
				break
			}
			if r.code != st.want {
				return fmt.Errorf("%s: %d %.300s", st.what, r.code, r.body)
			}
			csrf = csrfOf(r)
			if stage == 2 {
				c.CSRF = csrf
			}
		}
		if ok {
			stage++
		}
	}
	if c.CSRF == "" {
		return fmt.Errorf("voting page without a CSRF token")
	}
	return nil
}

// TestKillBallotdMidVote kills a real ballotd process with SIGKILL while
// 30 members sign in and vote over HTTP, and starts it again on the same
// address. Every interrupted member resumes as the voting page does (its
// saved state: the same blinded message, then the same ballot and
// authorisation), and the resumed answers match what the database held
// when the process died: an authorisation already recorded comes back the
// same (repeated), a ballot already in the ledger comes back with its
// existing receipt (200, same index), anything else is done afresh. Three
// members lose the answer to their authorisation and three the answer to
// their cast while the server dies (served, never received), so both kinds
// of resume happen on every run. Then: every receipt verifies against the
// final checkpoint, no member has two ballots, the ledger, the marked
// register and the members who finished agree, and the exported board
// verifies with crypto/verify.
func TestKillBallotdMidVote(t *testing.T) {
	const n, lostAuth, lostCast = 30, 3, 3
	start := time.Now()
	s, proc := newBallotdSystem(t, n)
	ctx := context.Background()
	e := s.ballot.ElectionID
	// The ballotd process sends the invitations of the open ballot itself
	// (its invitation sweep, at start and every minute).
	for until := time.Now().Add(20 * time.Second); ; {
		var texted int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM auth_invitations WHERE ballot_id = $1 AND sms_sent_at IS NOT NULL`,
			s.ballot.ID).Scan(&texted); err != nil {
			t.Fatal(err)
		}
		if texted == n {
			break
		}
		if time.Now().After(until) {
			t.Fatalf("ballotd texted %d of %d invitations", texted, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mobiles := make([]string, n)
	for i, id := range s.ballot.MemberIDs {
		var err error
		if mobiles[i], err = s.mobile(id); err != nil {
			t.Fatal(err)
		}
	}

	// The process's life: 0 first run, 1 dead, 2 restarted.
	var epoch atomic.Int32
	killed := make(chan struct{})
	var parked atomic.Int32 // lost answers waiting for the kill
	type record struct {
		mu                          sync.Mutex
		drops                       []string // requests cut by the kill
		authAt, castAt              int32    // epoch of the answer
		repeated                    bool
		castCode                    int
		errors                      []string
		authorisedB4, castB4        bool // state in the database while the process was dead
		idxB4                       int64
		gotAuth200, gotCast200or201 bool
	}
	recs := make([]*record, n)
	phones := make([]*phone, n)
	members := make([]*client, n)
	for i := range members {
		recs[i] = &record{}
		phones[i] = s.newPhone(i, i%2)
		pn := newPhoneNet(i)
		var once sync.Once
		if i < lostAuth+lostCast {
			path := "/vote/" + e + "/authorise"
			if i >= lostAuth {
				path = "/ledger/v1/" + e + "/cast"
			}
			pn.lose = func(req *http.Request) (func(), bool) {
				lose := false
				if req.URL.Path == path {
					once.Do(func() { lose = true })
				}
				return func() { parked.Add(1); <-killed }, lose
			}
		}
		c := s.client()
		c.HTTP.Transport = pn
		members[i] = c
	}
	seenBy := func(i int) func(string, resp) {
		return func(what string, r resp) {
			rc := recs[i]
			rc.mu.Lock()
			defer rc.mu.Unlock()
			switch {
			case r.code == 0:
				rc.drops = append(rc.drops, what)
			case r.code >= 500 && r.code != http.StatusServiceUnavailable, r.code >= 400 && leaks.MatchString(r.body):
				rc.errors = append(rc.errors, fmt.Sprintf("%s: %d %.300s", what, r.code, r.body))
			case what == "authorise" && r.code == 200:
				var a struct {
					Repeated bool `json:"repeated"`
				}
				_ = json.Unmarshal([]byte(r.body), &a)
				rc.repeated, rc.authAt, rc.gotAuth200 = a.Repeated, epoch.Load(), true
			case what == "cast" && (r.code == 200 || r.code == 201):
				rc.castCode, rc.castAt, rc.gotCast200or201 = r.code, epoch.Load(), true
			}
		}
	}

	rcs := make([]*receipt.Receipt, n)
	var receipts atomic.Int32
	burst := make(chan struct{})
	var wg sync.WaitGroup
	deadline := time.Now().Add(25 * time.Second)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The members whose answers get lost go first; once those
			// answers are lost, the others arrive over a third of a second,
			// a burst the kill falls into.
			if i >= lostAuth+lostCast {
				<-burst
				time.Sleep(time.Duration(i) * 10 * time.Millisecond)
			}
			seen := seenBy(i)
			if err := s.signIn(members[i], mobiles[i], deadline, seen); err != nil {
				t.Errorf("member %d: sign-in: %v", i, err)
				return
			}
			rc, err := vote(s, members[i], phones[i], deadline, seen)
			if err != nil {
				t.Errorf("member %d: %v", i, err)
				return
			}
			rcs[i] = rc
			receipts.Add(1)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// Kill mid-burst: the lost answers are waiting, a quarter of the
	// members have their receipts, the rest are on their way.
	for parked.Load() < lostAuth+lostCast {
		select {
		case <-done:
			t.Fatalf("members finished or failed before their answers were lost")
		case <-time.After(time.Millisecond):
		}
	}
	close(burst)
	for receipts.Load() < n/4 {
		select {
		case <-done:
			t.Fatalf("everyone finished before the kill (%d receipts, %d parked)", receipts.Load(), parked.Load())
		case <-time.After(time.Millisecond):
		}
	}
	atKill := receipts.Load()
	proc.kill()
	epoch.Store(1)
	// What the database holds while no process runs.
	for i := range recs {
		var marked, cast bool
		var idx int64
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM marked_register WHERE ballot_id = $1 AND member_id = $2),
			coalesce((SELECT idx FROM ledger_entries WHERE election_id = $3 AND tracker = $4), -1)`,
			s.ballot.ID, s.ballot.MemberIDs[i], e, phones[i].tracker[:]).Scan(&marked, &idx); err != nil {
			t.Fatal(err)
		}
		cast = idx >= 0
		recs[i].mu.Lock()
		recs[i].authorisedB4, recs[i].castB4, recs[i].idxB4 = marked, cast, idx
		recs[i].mu.Unlock()
	}
	close(killed)                      // the lost answers fail now
	time.Sleep(300 * time.Millisecond) // members see the server gone
	// Every answer from now on comes from the restarted process (the old
	// one is dead). Set before start: a member's retry can be answered as
	// soon as the new process listens, before start has seen it ready.
	epoch.Store(2)
	proc.start()
	<-done
	if t.Failed() {
		return
	}

	// The resumed answers are what the database said.
	var dropped, resumedRepeated, resumedExisting int
	cut := map[string]int{}
	for i, rc := range recs {
		for _, msg := range rc.errors {
			t.Errorf("member %d: %s", i, msg)
		}
		if len(rc.drops) > 0 {
			dropped++
			cut[rc.drops[0]]++
		}
		if !rc.gotAuth200 || !rc.gotCast200or201 || rcs[i] == nil {
			t.Errorf("member %d did not finish: %+v", i, rc)
			continue
		}
		if rc.authAt == 2 {
			if rc.repeated != rc.authorisedB4 {
				t.Errorf("member %d: authorisation resumed with repeated=%v, but the marked register held it: %v", i, rc.repeated, rc.authorisedB4)
			}
			if rc.repeated {
				resumedRepeated++
			}
		} else if rc.repeated {
			t.Errorf("member %d: a first authorisation answered repeated", i)
		}
		if rc.castAt == 2 {
			if (rc.castCode == http.StatusOK) != rc.castB4 {
				t.Errorf("member %d: cast resumed with %d, but the ledger held the ballot: %v", i, rc.castCode, rc.castB4)
			}
			if rc.castB4 {
				resumedExisting++
				if rcs[i].Index != rc.idxB4 {
					t.Errorf("member %d: resumed receipt for index %d, the ballot is at %d", i, rcs[i].Index, rc.idxB4)
				}
			}
		} else if rc.castCode != http.StatusCreated {
			t.Errorf("member %d: first cast answered %d", i, rc.castCode)
		}
	}
	if resumedRepeated < lostAuth || resumedExisting < lostCast || dropped <= lostAuth+lostCast {
		t.Errorf("resumes: %d repeated authorisations (want ≥ %d), %d existing receipts (want ≥ %d), %d members cut off (want > %d)",
			resumedRepeated, lostAuth, resumedExisting, lostCast, dropped, lostAuth+lostCast)
	}
	t.Logf("%d receipts before the kill; %d members cut off (at %v) and resumed: %d with their recorded authorisation, %d with their existing receipt",
		atKill, dropped, cut, resumedRepeated, resumedExisting)
	if t.Failed() {
		return
	}

	// One ballot per member; the ledger, the marked register and the
	// members who finished agree.
	trackers := make([][]byte, n)
	for i, p := range phones {
		trackers[i] = p.tracker[:]
	}
	entries := s.queryInt(`SELECT count(*) FROM ledger_entries WHERE election_id = $1`, e)
	mine := s.queryInt(`SELECT count(*) FROM ledger_entries WHERE election_id = $1 AND tracker = ANY($2)`, e, trackers)
	marked := s.queryInt(`SELECT count(*) FROM marked_register WHERE ballot_id = $1 AND channel = 'online'`, s.ballot.ID)
	if entries != n || mine != n || marked != n {
		t.Fatalf("ledger %d entries (%d of the members' ballots), marked register %d, members who finished %d", entries, mine, marked, n)
	}

	// Close (the final checkpoint); every receipt verifies against it.
	if err := s.ballot.Admin.Close(ctx, "scrutineer:test", s.ballot.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	checkReceipts(t, s.svc.Ledger, e, phones, rcs)

	// The public board's export, from the restarted process, verifies
	// with crypto/verify against the published counts.
	anon := s.client()
	var counts struct {
		Styles []struct {
			Issued int64 `json:"issued"`
		} `json:"styles"`
	}
	r := anon.get("/issuance/v1/" + e + "/counts")
	if r.code != 200 || json.Unmarshal([]byte(r.body), &counts) != nil {
		t.Fatalf("counts: %d %s", r.code, r.body)
	}
	var issued []int64
	for _, st := range counts.Styles {
		issued = append(issued, st.Issued)
	}
	r = anon.get("/ledger/v1/" + e + "/export")
	if r.code != 200 {
		t.Fatalf("export: %d %.300s", r.code, r.body)
	}
	res, err := verify.Verify(ctx, strings.NewReader(r.body), verify.Options{Issued: issued})
	if err != nil {
		t.Fatal(err)
	}
	var valid int64
	for _, v := range res.Valid {
		valid += v
	}
	if !res.OK() || res.Entries != n || valid != n {
		t.Fatalf("export: %d entries, %d valid, failures %v", res.Entries, valid, res.Failures)
	}
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
}
