// Package devoutbox is the development outbox page, /dev/outbox: the text
// messages and emails that development's senders (internal/sms's and
// internal/mail's Outbox) stored instead of sending, newest first, which is
// how `make run` users read their codes and links. It MUST only be wired in
// development (EBALLOT_SMS_PROVIDER=dev or EBALLOT_MAIL_PROVIDER=dev;
// config refuses dev providers with an https public URL).
package devoutbox

import (
	"embed"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/*.html i18n/*.json
var pageFS embed.FS

// Page serves /dev/outbox.
type Page struct {
	texts  *sms.Outbox
	emails *mail.Outbox
	pages  *page.Pages
}

// data is the data of dev_outbox.
type data struct {
	SMS        []sms.OutboxMessage
	Emails     []mail.Stored
	ShowEmails bool
}

// New returns the page over the development outboxes; either may be nil
// (texts go to Twilio, or mail to an SMTP server, or is off). It adds its
// template and catalogue to pages.
func New(texts *sms.Outbox, emails *mail.Outbox, pages *page.Pages) (*Page, error) {
	if err := pages.AddTemplates(pageFS, "templates/dev_outbox.html"); err != nil {
		return nil, err
	}
	if err := pages.AddCatalog(pageFS, "i18n"); err != nil {
		return nil, err
	}
	return &Page{texts: texts, emails: emails, pages: pages}, nil
}

// Routes serves GET /dev/outbox (a web.Module).
func (p *Page) Routes(r chi.Router) { r.Get("/dev/outbox", p.show) }

func (p *Page) show(w http.ResponseWriter, r *http.Request) {
	d := data{ShowEmails: p.emails != nil}
	var err error
	if p.texts != nil {
		if d.SMS, err = p.texts.Recent(r.Context(), 50); err != nil {
			p.pages.Fail(w, r, err)
			return
		}
	}
	if p.emails != nil {
		if d.Emails, err = p.emails.Recent(r.Context(), 50); err != nil {
			p.pages.Fail(w, r, err)
			return
		}
	}
	p.pages.Render(w, r, http.StatusOK, "dev_outbox", d)
}
