package election

// Messages for people. The election package's reasons and errors shown on
// the staff pages are catalogue keys with arguments ([page.Msg]), so a page
// shows them in its language; the CLI, logs, error strings and tests use
// the same message's English text ([Msg.English]), read from the English
// catalogues (i18n/admin, i18n/records).

import (
	"embed"
	"errors"

	"github.com/unionvote/eballot/internal/web/page"
)

// English is m in English, from the package's catalogues (for the CLI,
// logs, error texts and tests).
var English = page.EnglishOf(catalogs, "i18n/admin", "i18n/records")

//go:embed i18n/admin i18n/records
var catalogs embed.FS

// Englishes is each message's English text.
func Englishes(ms []page.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = English(m)
	}
	return out
}

// MsgError is an error with a message for people. Its Error text is Base's
// then the English message ("election: invalid configuration: …"), or the
// English message alone without Base; errors.Is sees Base. It is answered
// with Base's status and code (422 "invalid" without Base).
type MsgError struct {
	Base error // ErrInvalid, or nil
	Msg  page.Msg
}

func (e *MsgError) Error() string {
	if e.Base == nil {
		return English(e.Msg)
	}
	return e.Base.Error() + ": " + English(e.Msg)
}

func (e *MsgError) Unwrap() error { return e.Base }

// Problem is the answer: Base's status and code with this message.
func (e *MsgError) Problem() page.Problem {
	p := ErrInvalid.Problem()
	if pe, ok := e.Base.(interface{ Problem() page.Problem }); ok {
		p = pe.Problem()
	}
	p.Msg = e.Msg
	return p
}

// invalid is an ErrInvalid with its message.
func invalid(key string, args ...any) error {
	return &MsgError{Base: ErrInvalid, Msg: page.M(key, args...)}
}

// ErrorMsg is the message for people of an error of this package (its
// [page.Problem]'s), false for any other error.
func ErrorMsg(err error) (page.Msg, bool) {
	var pe interface{ Problem() page.Problem }
	if errors.As(err, &pe) {
		return pe.Problem().Msg, true
	}
	return page.Msg{}, false
}

// errorText is err as a page in lang shows it: the message of its
// problem ([page.ProblemOf]).
func errorText(p page.Translator, lang string, err error) page.Text {
	pr, _ := page.ProblemOf(err)
	return page.TextOf(p, lang, pr.Msg)
}
