package result

import (
	"embed"

	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed i18n/result
var resultCatalog embed.FS

// english is m in English (error texts, logs).
var english = page.EnglishOf(resultCatalog, "i18n/result")

// englishes is each message's English text.
func englishes(ms []page.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = english(m)
	}
	return out
}
