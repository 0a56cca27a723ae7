package election

// Messages for people. The election package's reasons and errors shown on
// the staff pages are catalogue keys with arguments ([Msg]), so a page
// shows them in its language; the CLI, logs, error strings and tests use
// the same message's English text ([Msg.English]), read from the English
// catalogues (i18n/admin, i18n/records, i18n/result).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// Msg is a message for people: the catalogue key of its text, a fmt
// format, and the arguments. An argument that is itself a Msg, a []Msg
// (joined by "; ") or a [Day] is shown in the same language. A Msg without
// a key is an English text with no translation, its only argument (a
// detail from another package).
type Msg struct {
	Key  string
	Args []any
}

func msgf(key string, args ...any) Msg { return Msg{Key: key, Args: args} }

// englishOnly is a text with no translation.
func englishOnly(s string) Msg { return Msg{Args: []any{s}} }

// In is the message in lang, with t the catalogue lookup (a Renderer's T).
func (m Msg) In(t func(lang, key string) string, lang string) string {
	if m.Key == "" {
		return fmt.Sprint(m.Args...)
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		switch a := a.(type) {
		case Msg:
			args[i] = a.In(t, lang)
		case []Msg:
			parts := make([]string, len(a))
			for j, s := range a {
				parts[j] = s.In(t, lang)
			}
			args[i] = strings.Join(parts, "; ")
		case Day:
			args[i] = a.In(lang)
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(t(lang, m.Key), args...)
}

// English is the message in English (for the CLI, logs and errors).
func (m Msg) English() string { return m.In(englishText, "en") }

// String is the English text.
func (m Msg) String() string { return m.English() }

// Englishes is each message's English text.
func Englishes(ms []Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.English()
	}
	return out
}

// Day is a calendar day as a message shows it: "2 Jan 2006" in English,
// the month spelt out in Welsh ("2 Ionawr 2006").
type Day time.Time

// In is the day in lang.
func (d Day) In(lang string) string {
	t := time.Time(d)
	if lang == "cy" {
		return fmt.Sprintf("%d %s %d", t.Day(), noticeMonthsCY[t.Month()-1], t.Year())
	}
	return t.Format("2 Jan 2006")
}

// MsgError is an error with a message for people. Its Error text is Base's
// then the English message ("election: invalid configuration: …"), or the
// English message alone without Base; errors.Is sees Base.
type MsgError struct {
	Base error // ErrInvalid, or nil
	Msg  Msg
}

func (e *MsgError) Error() string {
	if e.Base == nil {
		return e.Msg.English()
	}
	return e.Base.Error() + ": " + e.Msg.English()
}

func (e *MsgError) Unwrap() error { return e.Base }

// invalid is an ErrInvalid with its message.
func invalid(key string, args ...any) error {
	return &MsgError{Base: ErrInvalid, Msg: msgf(key, args...)}
}

// ErrorMsg is the message for people of an error of this package: a
// [MsgError]'s, an [OpenRefusedError]'s or a [ResultRefusedError]'s
// reasons, or a lifecycle error's; false for any other error.
func ErrorMsg(err error) (Msg, bool) {
	var me *MsgError
	var ore *OpenRefusedError
	var rre *ResultRefusedError
	switch {
	case errors.As(err, &me):
		return me.Msg, true
	case errors.As(err, &ore):
		return msgf("admin.err.cannot_open", ore.Reasons), true
	case errors.As(err, &rre):
		return msgf("result.err.refused", rre.Reasons), true
	case errors.Is(err, ErrNotDraft):
		return msgf("admin.err.not_draft"), true
	case errors.Is(err, ErrWrongStatus):
		return msgf("admin.err.wrong_status"), true
	}
	return Msg{}, false
}

// pageText is a message as a page shows it. Lang is "en" when the text
// stayed in English on a page in another language (the element's lang
// attribute, WCAG 3.1.2), else empty.
type pageText struct {
	Text, Lang string
}

// texts shows messages in the page's language.
func texts(p Renderer, lang string, ms []Msg) []pageText {
	out := make([]pageText, len(ms))
	for i, m := range ms {
		out[i] = text(p, lang, m)
	}
	return out
}

// text shows a message in the page's language.
func text(p Renderer, lang string, m Msg) pageText {
	if m.Key == "" {
		return untranslated(lang, m.In(p.T, lang))
	}
	return pageText{Text: m.In(p.T, lang)}
}

// errorText is err as a page in lang shows it: translated when it carries
// a message ([ErrorMsg]), else its English text without the package's
// prefixes, marked as English.
func errorText(p Renderer, lang string, err error) pageText {
	if m, ok := ErrorMsg(err); ok {
		return text(p, lang, m)
	}
	s := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "election: "), "invalid configuration: ")
	return untranslated(lang, s)
}

// untranslated is an English text on a page in lang.
func untranslated(lang, s string) pageText {
	if lang == "en" {
		return pageText{Text: s}
	}
	return pageText{Text: s, Lang: "en"}
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
