package devoutbox_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/devoutbox"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/web/page"
)

// The page shows the stored texts, and the stored emails beside them when
// the development mail outbox is wired, in English and Welsh.
func TestPage(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	texts := sms.NewOutbox(pool, log)
	if _, err := texts.Send(ctx, sms.Message{To: "+447700900123", Body: "424242 is your code"}); err != nil {
		t.Fatal(err)
	}
	get := func(emails *mail.Outbox, path string) (int, string) {
		pages, err := page.New(log)
		if err != nil {
			t.Fatal(err)
		}
		p, err := devoutbox.New(texts, emails, pages)
		if err != nil {
			t.Fatal(err)
		}
		r := chi.NewRouter()
		p.Routes(r)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Code, w.Body.String()
	}
	if code, b := get(nil, "/dev/outbox"); code != 200 || !strings.Contains(b, "424242 is your code") || strings.Contains(b, `id="email"`) {
		t.Fatalf("outbox page without a mail outbox %d: %s", code, b)
	}
	emails, err := mail.NewOutbox(pool, log, "ballots@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emails.Send(ctx, mail.Message{To: "ann@example.net", Subject: "Your link / Eich dolen", Text: "https://x/i/abc"}); err != nil {
		t.Fatal(err)
	}
	if code, b := get(emails, "/dev/outbox?lang=cy"); code != 200 || !strings.Contains(b, "424242 is your code") ||
		!strings.Contains(b, "Your link / Eich dolen") || !strings.Contains(b, "ann@example.net") || !strings.Contains(b, "E-byst") {
		t.Fatalf("outbox page with emails %d: %s", code, b)
	}
}
