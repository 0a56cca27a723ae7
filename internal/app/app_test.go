package app

import (
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"testing"

	webpage "github.com/unionvote/eballot/internal/web/page"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestEveryMessageInBothLanguages checks the whole site as served: every
// message key of every module exists, non-empty, in English and in Welsh.
func TestEveryMessageInBothLanguages(t *testing.T) {
	pool := pgtest.NewDB(t)
	u, _ := url.Parse("http://localhost:8080")
	cfg := &config.Config{PublicURL: u, SecretKey: make([]byte, 32), SMSProvider: "dev"}
	svc, err := Build(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	cat := svc.Pages.Catalog()
	var missing []string
	keys := map[string]bool{}
	for _, l := range webpage.Languages {
		for k := range cat[l] {
			keys[k] = true
		}
	}
	for k := range keys {
		for _, l := range webpage.Languages {
			if strings.TrimSpace(cat[l][k]) == "" {
				missing = append(missing, l+":"+k)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("%d messages missing: %v", len(missing), missing)
	}
	if len(keys) < 300 {
		t.Fatalf("only %d message keys: a module's catalogue is not registered", len(keys))
	}
	t.Logf("%d message keys, each in %v", len(keys), webpage.Languages)
}
