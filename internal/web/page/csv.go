package page

import "strings"

// CSVCell defuses spreadsheet formulas in a CSV cell of free text: a
// value starting with = + - @ (or a tab or carriage return) gets a leading
// apostrophe, so a spreadsheet shows it rather than running it.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
