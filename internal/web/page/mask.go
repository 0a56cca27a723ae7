package page

import (
	"strings"
	"unicode/utf8"
)

// MaskMobile shows the country code's first characters and the last
// three digits: +447700900123 → +44•••••••123.
func MaskMobile(m string) string {
	n := utf8.RuneCountInString(m)
	if n <= 6 {
		return strings.Repeat("•", n)
	}
	return m[:3] + strings.Repeat("•", n-6) + m[len(m)-3:]
}

// MaskEmail shows the first character of the local part and the whole
// domain: ann.jones@example.org → a•••@example.org. The member recognises
// their address; someone looking over a shoulder learns little.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "•••"
	}
	first := ""
	if r, n := utf8.DecodeRuneInString(addr); at > 0 && n > 0 && r != utf8.RuneError {
		first = string(r)
	}
	return first + "•••@" + addr[at+1:]
}
