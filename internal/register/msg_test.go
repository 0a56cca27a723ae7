package register_test

import (
	"regexp"
	"testing"

	"github.com/unionvote/eballot/internal/web/webtest"
)

// Every reason and error of the register (keys register.*) is in the
// English and the Welsh catalogues, with the same arguments.
func TestMessageKeysInBothLanguages(t *testing.T) {
	webtest.CheckMessageKeys(t, regexp.MustCompile(`"(register\.[a-z0-9_.]+)"`), 40, "i18n")
}
