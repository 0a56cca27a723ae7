package election_test

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// Every message key of the package's Go source (reasons admin.why, errors
// admin.err and records.err) is in the English and the Welsh catalogues,
// with the same arguments.
func TestMessageKeysInBothLanguages(t *testing.T) {
	webtest.CheckMessageKeys(t, regexp.MustCompile(`"((?:admin\.(?:why|err)|records\.err)\.[a-z0-9_]+)"`), 40, "i18n/admin", "i18n/records")
}

// A message keeps its English text for errors, the CLI and logs.
func TestMessageEnglish(t *testing.T) {
	err := (&election.Config{}).Validate()
	m, ok := election.ErrorMsg(err)
	if !ok || m.Key != "admin.err.cfg_questions" || err.Error() != "a ballot has 1 to 32 questions, not 0" || election.English(m) != err.Error() {
		t.Fatalf("Validate: %v %+v", err, m)
	}
	if m, ok := election.ErrorMsg(election.ErrNotDraft); !ok || election.English(m) != "the ballot is no longer a draft, so it cannot be changed" {
		t.Fatalf("not draft: %v", m)
	}
	ore := &election.OpenRefusedError{Reasons: []page.Msg{{Key: "admin.why.scrutineer"}, {Key: "admin.why.s226c", Args: []any{51}}}}
	const want = "election: the ballot cannot open: appoint the independent scrutineer (s.226B); " +
		"the s.226C exemption applies only to industrial action ballots with at most 50 entitled to vote (51 here)"
	if ore.Error() != want {
		t.Fatalf("refusal: %s", ore.Error())
	}
	if _, ok := election.ErrorMsg(errors.New("other")); ok {
		t.Fatal("a foreign error has a message")
	}
}

// The organiser's and scrutineer's pages show the election package's
// messages in Welsh on Welsh pages (not marked as English), and in English
// on English pages.
func TestAdminMessagesInWelsh(t *testing.T) {
	pool := pgtest.NewDB(t)
	x := electiontest.New(t, pool, electiontest.Options{ElectionID: "cy-ballot", Members: 4})
	srv := adminServer(t, x)
	org := newClient(t, srv, "organiser", x.UnionID)
	scr := newClient(t, srv, "scrutineer", 0)
	id := strconv.FormatInt(x.ID, 10)

	// The draft's readiness list.
	status, body := org.Get("/organiser/ballots/" + id + "?lang=cy")
	if status != 200 || !strings.Contains(body, "<li>penodwch y craffwr annibynnol (a.226B)</li>") {
		t.Fatalf("Welsh readiness: %d %s", status, body)
	}
	if strings.Contains(body, "appoint the independent scrutineer") || markedEnglish(body) {
		t.Fatalf("English on the Welsh ballot page: %s", body)
	}
	status, body = org.Get("/organiser/ballots/" + id + "?lang=en")
	if status != 200 || !strings.Contains(body, "<li>appoint the independent scrutineer (s.226B)</li>") {
		t.Fatalf("English readiness: %d %s", status, body)
	}

	// Set-up form errors: the form's own, the configuration's.
	form := url.Values{"election_id": {"cy-new"}, "title": {"Pay"}, "kind": {"industrial_action"},
		"workplaces": {"North Depot | Acme"}, "opens_at": {"2026-12-01T09:00"}, "closes_at": {"2026-11-01T09:00"}, "strike": {"on"}}
	status, body = org.Post("/organiser/ballots?lang=cy", form)
	if status != 422 || !strings.Contains(body, "rhaid i&#39;r bleidlais gau ar ôl iddi agor") || markedEnglish(body) {
		t.Fatalf("Welsh form error: %d %s", status, body)
	}
	form.Set("closes_at", "2026-12-15T17:00")
	form.Del("workplaces")
	if status, body = org.Post("/organiser/ballots?lang=cy", form); status != 422 || !strings.Contains(body, "rhestrwch o leiaf un gweithle") {
		t.Fatalf("Welsh configuration error: %d %s", status, body)
	}
	if status, body = org.Post("/organiser/ballots?lang=en", form); status != 422 || !strings.Contains(body, "list at least one workplace") || markedEnglish(body) {
		t.Fatalf("English configuration error: %d %s", status, body)
	}

	// The scrutineer's refusals: confirmation, and every reason it cannot open.
	if status, body = scr.Post("/scrutineer/ballots/"+id+"/open?lang=cy", url.Values{"confirm": {"wrong"}}); status != 422 ||
		!strings.Contains(body, "teipiwch ddynodydd yr etholiad &#34;cy-ballot&#34; i gadarnhau agor") {
		t.Fatalf("Welsh confirmation error: %d %s", status, body)
	}
	status, body = scr.Post("/scrutineer/ballots/"+id+"/open?lang=cy", url.Values{"confirm": {"cy-ballot"}})
	if status != 422 || !strings.Contains(body, "ni all y bleidlais agor: ") || !strings.Contains(body, "penodwch y craffwr annibynnol (a.226B); ") ||
		markedEnglish(body) {
		t.Fatalf("Welsh open refusal: %d %s", status, body)
	}
}

// markedEnglish says whether a message on the page is marked as English.
func markedEnglish(body string) bool {
	return strings.Contains(body, `<li lang="en"`) || strings.Contains(body, `<p lang="en"`)
}

// Each error is answered with the status its declaration documents, the
// only place it is declared.
func TestErrorStatuses(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{election.ErrNotFound, 404},
		{election.ErrNotDraft, 409},
		{election.ErrWrongStatus, 409},
		{election.ErrInvalid, 422},
		{election.ErrElectionIDUsed, 409},
		{register.ErrInvalid, 422},
		{register.ErrStale, 409},
		{&election.OpenRefusedError{}, 422},
		{fmt.Errorf("import: %w", register.ErrInvalid), 422},
	} {
		if p, ok := page.Refused(tc.err); !ok || p.Status != tc.status {
			t.Errorf("%v: %d, want %d", tc.err, p.Status, tc.status)
		}
	}
}
