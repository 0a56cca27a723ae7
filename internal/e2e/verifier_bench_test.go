package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// BenchmarkBrowserVerifier verifies an export of 10,000 ballots
// (EBALLOT_BENCH_BALLOTS to change it) with the verifier bundle
// (crypto/js/dist/eballot-verifier.min.js, what /verify/{election} loads)
// in headless Chromium: every check of the file, the checkpoints and the
// entries (authorisations, trackers, the proofs by batch verification).
// The entries are checked in Web Workers (dist/eballot-verify-worker.min.js),
// one a core as the verifier page does (EBALLOT_BENCH_WORKERS=N for N, 0 for
// none: all in the page). The figure is the time of verifyElection in the
// page; target < 30 s for 10,000 ballots on 2 cores (docs/benchmarks.md).
//
//	go test ./internal/e2e -run '^$' -bench BrowserVerifier -benchtime 1x
func BenchmarkBrowserVerifier(b *testing.B) {
	n := 10000
	if s := os.Getenv("EBALLOT_BENCH_BALLOTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	f, err := fixture.New(fixture.Options{}, []int64{int64(n), int64(n)})
	if err != nil {
		b.Fatal(err)
	}
	var exp bytes.Buffer
	if err := f.WriteExport(context.Background(), &exp, n, fixture.WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	workers := -1 // one a core (navigator.hardwareConcurrency)
	if s := os.Getenv("EBALLOT_BENCH_WORKERS"); s != "" {
		if workers, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	bundle, err := os.ReadFile(filepath.Join("..", "..", "crypto", "js", "dist", "eballot-verifier.min.js"))
	if err != nil {
		b.Fatal(err)
	}
	worker, err := os.ReadFile(filepath.Join("..", "..", "crypto", "js", "dist", "eballot-verify-worker.min.js"))
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>bench</title><script type="module">
const V = await import('/verifier.js');
window.bench = async () => {
  const ex = new Uint8Array(await (await fetch('/export')).arrayBuffer());
  const n = %d < 0 ? navigator.hardwareConcurrency : %d;
  const t = performance.now();
  const out = await V.verifyElection({ export: ex, workers: n ? { url: '/worker.js', n } : undefined });
  return JSON.stringify({ ms: performance.now() - t, entries: out.entries, failed: out.failed, workers: n });
};
window.ready = true;
</script>`, workers, workers)
	})
	mux.HandleFunc("/verifier.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(bundle)
	})
	mux.HandleFunc("/worker.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(worker)
	})
	mux.HandleFunc("/export", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write(exp.Bytes())
	})
	run := benchPage(b, mux, 30*time.Minute)
	b.ResetTimer()
	var total float64
	for range b.N {
		var res string
		run(&res)
		var out struct {
			MS      float64  `json:"ms"`
			Entries int      `json:"entries"`
			Failed  []string `json:"failed"`
			Workers int      `json:"workers"`
		}
		if err := json.Unmarshal([]byte(res), &out); err != nil {
			b.Fatal(err)
		}
		if out.Entries != n || len(out.Failed) != 0 {
			b.Fatalf("verified %d of %d entries, failed %v", out.Entries, n, out.Failed)
		}
		total += out.MS
		b.Logf("%d ballots, %d workers: %.1f s in the page", n, out.Workers, out.MS/1000)
	}
	b.ReportMetric(total/float64(b.N)/1000, "s/op-in-page")
	b.ReportMetric(total/float64(b.N)/float64(n), "ms/ballot")
}

// benchPage serves mux, opens its page "/" in headless Chromium and waits
// for window.ready; run(&res) awaits window.bench() there. Stopped by
// b.Cleanup.
func benchPage(b *testing.B, mux *http.ServeMux, timeout time.Duration) (run func(res *string)) {
	b.Helper()
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	// Not b.TempDir: Chromium may still write its profile as it exits.
	profile, err := os.MkdirTemp("", "eballot-bench-chromium-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(b)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(profile))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	b.Cleanup(func() { cancel(); cancelB(); cancelA() })
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL), chromedp.Poll(`window.ready === true`, nil)); err != nil {
		b.Fatal(err)
	}
	return func(res *string) {
		if err := chromedp.Run(ctx, chromedp.Evaluate(`window.bench()`, res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
			b.Fatal(err)
		}
	}
}
