package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
)

// Once a ballot is open, a register import to a draft ballot of the same
// union changes the members' contacts, but the open ballot's invitations
// and sign-in codes still go to the contacts frozen at its opening.
func TestContactsFrozenAtOpen(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	u, _ := url.Parse("http://localhost:8080")
	cfg := &config.Config{PublicURL: u, SecretKey: electiontest.SecretKey, SMSProvider: "dev"}
	svc, err := Build(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	open := electiontest.New(t, pool, electiontest.Options{ElectionID: "frozen-open", Members: 2, Open: true})
	const frozen, later = "+447700900000", "+447911123456"

	// The organiser prepares the next ballot of the union with a register
	// that gives member M000001 a new mobile and email.
	now := time.Now()
	draft, err := open.Admin.CreateBallot(ctx, "organiser:1", open.UnionID, "frozen-next", election.BallotSetup{
		Title: "Next", Kind: "industrial_action", OpensAt: now.AddDate(0, 1, 0), ClosesAt: now.AddDate(0, 2, 0), Config: electiontest.IAConfig()})
	if err != nil {
		t.Fatal(err)
	}
	ib, err := election.NewStore(pool).ImportBallot(ctx, nil, draft, false)
	if err != nil {
		t.Fatal(err)
	}
	file, rep := register.Parse(strings.NewReader("member_number,name,mobile,email,workplace\n"+
		"M000001,Member 1,07911 123456,new@example.org,North Depot\n"), ib.Workplaces, ib.Policy)
	if !rep.OK() {
		t.Fatalf("register: %v", rep.Issues)
	}
	diff, err := svc.Register.Preview(ctx, ib, file)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff.OpenBallots) != 1 {
		t.Fatalf("preview lists %d contact changes in open ballots, want 1", len(diff.OpenBallots))
	}
	if _, err := svc.Register.Commit(ctx, svc.Ballots, "organiser:1", draft, file); err != nil {
		t.Fatal(err)
	}
	cur, err := svc.Register.CurrentContacts(ctx, []int64{open.MemberIDs[0]})
	if err != nil {
		t.Fatal(err)
	}
	current := cur[open.MemberIDs[0]].Mobile
	if current != later {
		t.Fatalf("import did not change the member's mobile: %s", current)
	}

	// Credentials of the open ballot go to the frozen number only.
	if _, err := svc.Auth.IssueInvitations(ctx, open.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Auth.SendMemberCodeFor(ctx, open.ID, open.MemberIDs[0]); err != nil {
		t.Fatal(err)
	}
	count := func(to string) (n int) {
		pool.QueryRow(ctx, `SELECT count(*) FROM sms_outbox WHERE to_number = $1`, to).Scan(&n)
		return n
	}
	if count(later) != 0 || count(frozen) != 2 {
		t.Fatalf("texts: %d to the later number, %d to the frozen one (want 0 and 2: invitation and code)", count(later), count(frozen))
	}
	c := register.NewStore(pool, electiontest.SecretKey)
	got, err := c.Contact(ctx, open.ID, open.MemberIDs[0])
	if err != nil || got.Mobile != frozen || got.Email != "" {
		t.Fatalf("frozen contact %+v, %v", got, err)
	}
	// The draft has no snapshot yet: its members' current contacts.
	if got, _ := c.Contact(ctx, draft, open.MemberIDs[0]); got.Mobile != later || got.Email != "new@example.org" {
		t.Fatalf("draft contact %+v", got)
	}

	// Sealed at rest, and bound to the member: a row copied onto another
	// member does not open.
	var sealedA []byte
	pool.QueryRow(ctx, `SELECT sealed FROM ballot_contacts WHERE ballot_id = $1 AND member_id = $2`, open.ID, open.MemberIDs[0]).Scan(&sealedA)
	if len(sealedA) == 0 || bytes.Contains(sealedA, []byte("7700900000")) {
		t.Fatal("contact not sealed at rest")
	}
	if _, err := pool.Exec(ctx, `UPDATE ballot_contacts SET sealed = $3 WHERE ballot_id = $1 AND member_id = $2`,
		open.ID, open.MemberIDs[1], sealedA); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Contacts(ctx, open.ID, nil); err == nil {
		t.Fatal("a contact copied to another member opened")
	}
}
