package page

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"strings"
	"sync"
	"time"
)

// Msg is a message for people: the catalogue key of its text (a fmt
// format) and the arguments. An argument that is itself a Msg, a []Msg
// (joined by "; ") or a [Day] is shown in the same language. A Msg without
// a key is an English text with no translation, its only argument (a
// detail from another package or program).
type Msg struct {
	Key  string
	Args []any
}

// M is the message of catalogue key with args.
func M(key string, args ...any) Msg { return Msg{Key: key, Args: args} }

// English is a text with no translation.
func English(s string) Msg { return Msg{Args: []any{s}} }

// In is the message in lang, with t the catalogue lookup ([Pages.T]).
func (m Msg) In(t func(lang, key string) string, lang string) string {
	if m.Key == "" {
		return fmt.Sprint(m.Args...)
	}
	if len(m.Args) == 0 {
		return t(lang, m.Key)
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

// Day is a calendar day as a message shows it: "2 Jan 2006" in English,
// the month spelt out in Welsh ("2 Ionawr 2006").
type Day time.Time

// In is the day in lang.
func (d Day) In(lang string) string {
	t := time.Time(d)
	if lang == "cy" {
		return fmt.Sprintf("%d %s %d", t.Day(), WelshMonths[t.Month()-1], t.Year())
	}
	return t.Format("2 Jan 2006")
}

// Text is a message as a page shows it. Lang is "en" when the text stayed
// in English on a page in another language (the element's lang attribute,
// WCAG 3.1.2), else empty.
type Text struct {
	Text, Lang string
}

// Translator looks texts up in the catalogues ([Pages.T]).
type Translator interface {
	T(lang, key string) string
}

// TextOf is m as a page in lang shows it.
func TextOf(t Translator, lang string, m Msg) Text {
	if m.Key == "" {
		return Untranslated(lang, m.In(t.T, lang))
	}
	return Text{Text: m.In(t.T, lang)}
}

// Texts is each message as a page in lang shows it.
func Texts(t Translator, lang string, ms []Msg) []Text {
	out := make([]Text, len(ms))
	for i, m := range ms {
		out[i] = TextOf(t, lang, m)
	}
	return out
}

// Untranslated is an English text on a page in lang.
func Untranslated(lang, s string) Text {
	if lang == "en" {
		return Text{Text: s}
	}
	return Text{Text: s, Lang: "en"}
}

// EnglishOf returns the English text of a message from the English
// catalogues (en.json) in dirs of fsys, read once: a module's error texts,
// logs and CLI output. A key missing from them stays as it is. It panics
// on a catalogue that does not read: catalogues are embedded, and a test
// reads them all.
func EnglishOf(fsys fs.FS, dirs ...string) func(Msg) string {
	cat := sync.OnceValue(func() map[string]string {
		m := map[string]string{}
		for _, dir := range dirs {
			b, err := fs.ReadFile(fsys, path.Join(dir, "en.json"))
			if err != nil {
				panic(err)
			}
			var part map[string]string
			if err := json.Unmarshal(b, &part); err != nil {
				panic(fmt.Sprintf("page: %s/en.json: %v", dir, err))
			}
			maps.Copy(m, part)
		}
		return m
	})
	t := func(_, key string) string {
		if s, ok := cat()[key]; ok {
			return s
		}
		return key
	}
	return func(m Msg) string { return m.In(t, "en") }
}
