package page

import (
	"fmt"
	"time"
)

// London is the time zone of every time a page shows (Europe/London; UTC
// if the system has no zone data).
var London = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}()

// WelshMonths are the month names in Welsh, January first.
var WelshMonths = [12]string{"Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"}

// When is a time as pages show it, in Europe/London: "2 Jun 2027 17:00"
// in English, "2 Mehefin 2027 17:00" in Welsh (the month spelt out: Welsh
// month abbreviations are not in common use).
func When(lang string, t time.Time) string {
	t = t.In(London)
	if lang == "cy" {
		return fmt.Sprintf("%d %s %d %s", t.Day(), WelshMonths[t.Month()-1], t.Year(), t.Format("15:04"))
	}
	return t.Format("2 Jan 2006 15:04")
}

// whenFunc is the template function when: {{when $.Lang .T}} in the
// page's language, or {{when .T}} in English. A nil *time.Time is empty.
func whenFunc(args ...any) (string, error) {
	lang := "en"
	switch len(args) {
	case 1:
	case 2:
		l, ok := args[0].(string)
		if !ok {
			return "", fmt.Errorf("when: language %v is not a string", args[0])
		}
		lang, args = l, args[1:]
	default:
		return "", fmt.Errorf("when: want [lang] time, got %d arguments", len(args))
	}
	switch t := args[0].(type) {
	case time.Time:
		return When(lang, t), nil
	case *time.Time:
		if t == nil {
			return "", nil
		}
		return When(lang, *t), nil
	default:
		return "", fmt.Errorf("when: %T is not a time", args[0])
	}
}
