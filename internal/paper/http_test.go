package paper_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/paper"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// Every text of the count pages is in the English and the Welsh catalogue.
func TestMessageKeysInBothLanguages(t *testing.T) {
	webtest.CheckMessageKeys(t, regexp.MustCompile(`"(paper\.(?:err\.|api\.|done_)[a-z0-9_]+)"`), 8, "i18n")
}

func countServer(t *testing.T, w *world) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := election.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	if err := paper.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	ballot := func(rw http.ResponseWriter, r *http.Request, role string) (page.Staff, paper.StaffBallot, bool) {
		s, b, ok := election.StaffBallot(rw, r, webtest.Staff, w.b.Store, pages, role)
		if !ok {
			return s, paper.StaffBallot{}, false
		}
		return s, paper.StaffBallot{Ballot: paper.Ballot{ID: b.ID, ElectionID: b.ElectionID}, Title: b.Title}, true
	}
	r := chi.NewRouter()
	paper.NewPages(w.svc, ballot, pages, log).Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// keyForm is the count page's form for a batch of the test ballot (two
// yes/no questions with the same counts).
func keyForm(batch, style, channel, box string, papers, yes, no, blank, spoilt int) url.Values {
	v := url.Values{"batch": {batch}, "style": {style}, "channel": {channel}, "box": {box}, "papers": {strconv.Itoa(papers)}}
	for q := range 2 {
		v.Set(fmt.Sprintf("q%d_0", q), strconv.Itoa(yes))
		v.Set(fmt.Sprintf("q%d_1", q), strconv.Itoa(no))
		v.Set(fmt.Sprintf("q%d_blank", q), strconv.Itoa(blank))
		v.Set(fmt.Sprintf("q%d_spoilt", q), strconv.Itoa(spoilt))
	}
	return v
}

// Two scrutineers key a batch on the count page: the first keying waits,
// a disagreeing second one is refused with its statutory reason (English
// and Welsh) and changes nothing, the agreeing one accepts the batch; the
// count closes; organisers cannot open the page.
func TestCountPages(t *testing.T) {
	w := newWorld(t, "count-pages", 6)
	ctx := context.Background()
	for _, i := range []int{0, 2, 4} {
		if err := w.iss.RecordPostal(ctx, "scrutineer:1", "count-pages", w.paperOf(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	srv := countServer(t, w)
	path := fmt.Sprintf("/scrutineer/ballots/%d/paper", w.b.ID)
	s1 := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	s2 := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	s2.ID = 2
	org := webtest.NewClient(t, srv.URL, "organiser", w.b.UnionID)
	if status, _ := org.Get(path); status != http.StatusForbidden {
		t.Fatalf("organiser on the count page: %d", status)
	}
	if status, body := s1.Get(path); status != 200 || !strings.Contains(body, `id="paper-not-yet"`) || strings.Contains(body, `id="paper-key"`) {
		t.Fatalf("count page before the close: %d", status)
	}
	if status, body := s1.Post(path, keyForm("N-1", "0", "postal", "", 3, 2, 1, 0, 0)); status != http.StatusConflict || !strings.Contains(body, "s.230(4)(a)") {
		t.Fatalf("keying before the close: %d %s", status, errorOf(body))
	}
	if err := w.b.Admin.Close(ctx, "scrutineer:test", w.b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	if status, body := s1.Get(path); status != 200 || !strings.Contains(body, `id="paper-key"`) {
		t.Fatalf("count page: %d", status)
	}
	if status, body := s1.Post(path, keyForm("N-1", "0", "postal", "", 3, 2, 1, 0, 0)); status != 200 || !strings.Contains(body, `id="paper-done"`) || !strings.Contains(body, `id="paper-waiting"`) {
		t.Fatalf("first keying: %d %s", status, errorOf(body))
	}
	for _, tc := range []struct{ lang, want string }{{"en", "s.230(4)(b)"}, {"cy", "a.230(4)(b)"}} {
		status, body := s2.Post(path+"?lang="+tc.lang, keyForm("N-1", "0", "postal", "", 3, 1, 2, 0, 0))
		if status != http.StatusConflict || !strings.Contains(errorOf(body), tc.want) {
			t.Fatalf("%s: disagreeing keying: %d %s", tc.lang, status, errorOf(body))
		}
	}
	if status, body := s2.Post(path, keyForm("N-1", "0", "postal", "", 3, 2, 1, 1, 0)); status != http.StatusUnprocessableEntity {
		t.Fatalf("counts that do not add up: %d %s", status, errorOf(body))
	}
	if status, body := s2.Post(path, keyForm("N-1", "0", "postal", "", -3, 2, 1, 0, 0)); status != http.StatusUnprocessableEntity {
		t.Fatalf("a negative count: %d %s", status, errorOf(body))
	}
	if status, body := s2.Post(path, keyForm("N-1", "0", "postal", "", 3, 2, 1, 0, 0)); status != 200 || !strings.Contains(body, `id="paper-accepted"`) {
		t.Fatalf("agreeing keying: %d %s", status, errorOf(body))
	}
	if status, body := s1.Post(path, keyForm("N-2", "0", "postal", "", 1, 1, 0, 0, 0)); status != 200 {
		t.Fatalf("a second batch: %d %s", status, errorOf(body))
	}
	if status, body := s2.Post(path, keyForm("N-2", "0", "postal", "", 1, 1, 0, 0, 0)); status != http.StatusConflict || !strings.Contains(errorOf(body), "logged as returned") {
		t.Fatalf("a batch over the returns: %d %s", status, errorOf(body))
	}
	if status, body := s1.Post(path+"/close", url.Values{}); status != http.StatusConflict || !strings.Contains(errorOf(body), "second keying") {
		t.Fatalf("close with a batch waiting: %d %s", status, errorOf(body))
	}
	if status, body := s1.Post(path, keyForm("N-2", "1", "postal", "", 0, 0, 0, 0, 0)); status != 200 {
		t.Fatalf("re-keying by its first keyer: %d %s", status, errorOf(body))
	}
	if status, body := s2.Post(path, keyForm("N-2", "1", "postal", "", 0, 0, 0, 0, 0)); status != 200 {
		t.Fatalf("an empty batch: %d %s", status, errorOf(body))
	}
	if status, body := s1.Post(path+"/close", url.Values{}); status != 200 || !strings.Contains(body, `id="paper-closed"`) {
		t.Fatalf("close: %d %s", status, errorOf(body))
	}
	batches, cl, err := w.led.Paper(ctx, "count-pages")
	if err != nil || len(batches) != 2 || cl == nil {
		t.Fatalf("ledger: %d batches, close %v, %v", len(batches), cl, err)
	}
	if !strings.Contains(string(batches[0].Body), `"keyer":"staff-1"`) || !strings.Contains(string(batches[0].Body), `"keyer":"staff-2"`) {
		t.Fatalf("keyers in the ledger: %s", batches[0].Body)
	}
}

var errRE = regexp.MustCompile(`(?s)id="paper-error">(.*?)</p>`)

func errorOf(body string) string {
	if m := errRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}
