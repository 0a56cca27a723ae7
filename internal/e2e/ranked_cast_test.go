package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/ledger"
)

// TestRankedCastInBrowser: a member of a union election (a ranked STV
// contest and a choose-one contest, electiontest.UnionElection, opened on
// the real ledger of a running site) signs in by SMS code, ranks three
// candidates with the ranking widget's buttons by keyboard, chooses a
// president, reviews, confirms and gets a receipt; the ledger then holds
// one version-2 ballot (docs/protocol.md §4.2) and the board's export
// verifies with crypto/verify (what `scrutineer verify` runs).
func TestRankedCastInBrowser(t *testing.T) {
	t.Parallel()
	// The fixture's issuer keys are sealed under its secret key: the site runs with it.
	s := startSiteWith(t, map[string]string{"EBALLOT_SECRET_KEY": hex.EncodeToString(electiontest.SecretKey)}, nil)
	svc, err := app.Build(s.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), s.pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	const id = "exec"
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: id, Members: 2, Ready: true, Ledger: ledger.HandOver{L: svc.Ledger},
		Member: func(i int) (string, string, string) {
			return fmt.Sprintf("Voter %d", i+1), fmt.Sprintf("+447700988%03d", i), ""
		}})
	electiontest.UnionElection(t, b)

	m := newBrowser(t, "ranked-member")
	link, err := s.auth.InvitationURL(context.Background(), b.ID, b.MemberIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	m.run(chromedp.Navigate(link), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery),
		chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#code`, chromedp.ByID))
	code := s.latestCode(t, "+447700988000")
	m.run(chromedp.SendKeys(`#code`, code, chromedp.ByID), chromedp.Submit(`#code`, chromedp.ByID))
	m.waitPath("/auth/passkey")

	m.run(chromedp.Navigate(s.base+"/vote/"+id), chromedp.WaitVisible(`.ranking-ui`, chromedp.ByQuery))
	press := func(sel string) { m.run(chromedp.Focus(sel, chromedp.ByQuery), chromedp.KeyEvent("\r")) }
	btn := func(action string, c int) string {
		return fmt.Sprintf(`button[data-action="%s"][data-id="%d"]`, action, c)
	}
	// Ranking: Cerys Evans (2), Ann Jones (0), Dewi Lloyd (3), then Dewi moved up to second.
	press(btn("add", 2))
	press(btn("add", 0))
	press(btn("add", 3))
	press(btn("up", 3))
	var selects []string
	m.run(chromedp.Evaluate(`[...document.querySelectorAll('fieldset[data-ranking] select')].map((s) => s.value)`, &selects))
	if strings.Join(selects, ",") != "3,,1,2" {
		t.Fatalf("the widget's selects are %q, want Ann 3, Cerys 1, Dewi 2", selects)
	}
	m.run(chromedp.Click(`#q1o1`, chromedp.ByID), // President: Frank Hughes
		chromedp.Click(`#paper button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#review`, chromedp.ByID))
	var reviewed string
	m.run(chromedp.Text(`#review-list`, &reviewed, chromedp.ByID))
	if !strings.Contains(reviewed, "1. Cerys Evans, 2. Dewi Lloyd, 3. Ann Jones") || !strings.Contains(reviewed, "Frank Hughes") {
		t.Fatalf("review shows %q", reviewed)
	}
	m.axe("ranked review")
	m.shot("ranked-review")
	// Benaloh audit of the version-2 ballot (docs/protocol.md §4.4): the
	// phone encrypts, reveals the openings and checks them; the test
	// ballot is thrown away and the member goes back to the paper.
	m.run(chromedp.Click(`#review details summary`, chromedp.ByQuery), chromedp.Click(`#audit`, chromedp.ByID),
		chromedp.WaitVisible(`#audit-result`, chromedp.ByID))
	var auditOK bool
	m.run(chromedp.Evaluate(`!document.getElementById('audit-ok').hidden && document.getElementById('audit-bad').hidden`, &auditOK))
	if !auditOK {
		t.Fatal("the phone's audit of the ranked ballot failed")
	}
	m.axe("ranked audit result")
	m.shot("ranked-audit")
	m.run(chromedp.Click(`#audit-back`, chromedp.ByID), chromedp.WaitVisible(`#paper`, chromedp.ByID),
		chromedp.Click(`#paper button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#review`, chromedp.ByID))
	m.run(chromedp.Click(`#confirm`, chromedp.ByID), chromedp.WaitVisible(`#receipt:not([hidden]), #failed:not([hidden])`, chromedp.ByQuery))
	var failure string
	m.run(chromedp.Evaluate(`document.getElementById('failed').hidden ? '' : 'failed: ' + document.getElementById('vote').dataset.failure`, &failure))
	if failure != "" {
		t.Fatalf("the cast %s", failure)
	}
	m.receiptCode()
	m.axe("ranked receipt")
	// The public audit page checks the saved test record of the ranked
	// ballot (the ranked bundle: its proofs and openings) and shows the ranking.
	var held string
	m.run(chromedp.Navigate(s.base+"/check/"+id+"/audit"), chromedp.WaitVisible(`#audit-ok`, chromedp.ByID),
		chromedp.Text(`#audit-choices`, &held, chromedp.ByID))
	if !strings.Contains(held, "1. Cerys Evans, 2. Dewi Lloyd, 3. Ann Jones") || !strings.Contains(held, "Frank Hughes") {
		t.Fatalf("the audit page shows %q, want the ranking and Frank Hughes", held)
	}
	m.axe("ranked audit verifier")

	var entry []byte
	if err := s.pool.QueryRow(context.Background(), `SELECT entry FROM ledger_entries WHERE election_id = $1`, id).Scan(&entry); err != nil {
		t.Fatalf("no ballot in the ledger: %v", err)
	}
	// entry = tracker ‖ authorisation ‖ ballot (crypto/receipt.EntryBytes)
	if v := entry[receipt.TrackerSize+receipt.AuthorisationSize]; v != 2 {
		t.Fatalf("the ledger's ballot has version %d, want 2", v)
	}
	s.scrutineerVerifiesElection(t, id, 1)
}
