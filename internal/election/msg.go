package election

// Messages for people. The election package's reasons and errors shown on
// the staff pages are catalogue keys with arguments ([page.Msg]), so a page
// shows them in its language; the CLI, logs, error strings and tests use
// the same message's English text ([Msg.English]), read from the English
// catalogues (i18n/admin, i18n/records, i18n/result).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sync"

	"github.com/unionvote/eballot/internal/web/page"
)

// English is m in English, from the package's catalogues (for the CLI,
// logs, error texts and tests).
func English(m page.Msg) string { return m.In(englishText, "en") }

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

// english is the English catalogue of the package's messages.
var english = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, c := range []struct {
		fsys fs.FS
		dir  string
	}{{adminCatalog, "i18n/admin"}, {recordsCatalog, "i18n/records"}, {resultCatalog, "i18n/result"}} {
		b, err := fs.ReadFile(c.fsys, path.Join(c.dir, "en.json"))
		if err != nil {
			panic(err)
		}
		var part map[string]string
		if err := json.Unmarshal(b, &part); err != nil {
			panic(fmt.Sprintf("election: %s/en.json: %v", c.dir, err))
		}
		for k, v := range part {
			m[k] = v
		}
	}
	return m
})

func englishText(_, key string) string {
	if s, ok := english()[key]; ok {
		return s
	}
	return key
}
