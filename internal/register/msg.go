package register

import (
	"embed"

	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed i18n
var catalog embed.FS

// AddMessages adds the register's messages (keys register.*) to the
// site's catalogue.
func AddMessages(p page.Registry) error { return p.AddCatalog(catalog, "i18n") }

// english is m in English (Issue.Message, the CLI, logs and tests).
var english = page.EnglishOf(catalog, "i18n")
