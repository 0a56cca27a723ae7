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

// Every reason a step after the close is refused for (after.err.*), and
// every text of the notices (after.member.*, after.employer.*, after.n.*,
// after.sms*, after.remind.*), is in both catalogues with the same
// arguments.
func TestAfterMessageKeysInBothLanguages(t *testing.T) {
	webtest.CheckMessageKeys(t, regexp.MustCompile(`"(after\.(?:err|member|employer|n|remind)\.[a-z0-9_]+|after\.sms(?:\.question)?)"`), 12, "i18n/after")
}
