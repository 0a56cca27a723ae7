package result_test

import (
	"regexp"
	"testing"

	"github.com/unionvote/eballot/internal/web/webtest"
)

// Every reason the result is refused for (keys result.err.*) is in the
// English and the Welsh catalogues, with the same arguments.
func TestMessageKeysInBothLanguages(t *testing.T) {
	webtest.CheckMessageKeys(t, regexp.MustCompile(`"(result\.err\.[a-z0-9_]+)"`), 8, "i18n/result")
}
