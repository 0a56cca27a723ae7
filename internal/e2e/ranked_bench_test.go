package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBrowserRankedRecount re-runs a published ranked (STV) count
// with the verifier bundle (crypto/js/dist/eballot-verifier.min.js
// recountRanked, what /verify-ranked runs) in headless Chromium: every
// ballot's proofs, every mixer's shuffle, every decryption and the count.
// The folder is crypto/testdata/ranked_count_v1 (24 ballots) unless
// EBALLOT_BENCH_RANKED names another one `scrutineer ranked` wrote
// (contest.json, mix-<t>.list and .proof, decrypt-<j>.bin, result.json).
// The ballots and the mixers are checked in Web Workers
// (dist/eballot-verify-worker.min.js), one a core as the page does
// (EBALLOT_BENCH_WORKERS=N for N, 0 for none: all in the page);
// EBALLOT_BENCH_BUNDLE=file measures another build of the verifier bundle
// (an earlier one, for a before/after). The figure is the time of
// recountRanked in the page, and when each phase began (docs/benchmarks.md).
//
//	go test ./internal/e2e -run '^$' -bench BrowserRankedRecount -benchtime 1x
func BenchmarkBrowserRankedRecount(b *testing.B) {
	dir := filepath.Join("..", "..", "crypto", "testdata", "ranked_count_v1")
	if s := os.Getenv("EBALLOT_BENCH_RANKED"); s != "" {
		dir = s
	}
	workers := -1 // one a core (navigator.hardwareConcurrency)
	if s := os.Getenv("EBALLOT_BENCH_WORKERS"); s != "" {
		var err error
		if workers, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	bundlePath := filepath.Join("..", "..", "crypto", "js", "dist", "eballot-verifier.min.js")
	if s := os.Getenv("EBALLOT_BENCH_BUNDLE"); s != "" {
		bundlePath = s
	}
	bundle, err := os.ReadFile(bundlePath)
	if err != nil {
		b.Fatal(err)
	}
	worker, err := os.ReadFile(filepath.Join("..", "..", "crypto", "js", "dist", "eballot-verify-worker.min.js"))
	if err != nil {
		b.Fatal(err)
	}
	var contest struct {
		Ballots []string `json:"ballots"`
	}
	cj, err := os.ReadFile(filepath.Join(dir, "contest.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(cj, &contest); err != nil {
		b.Fatal(err)
	}
	n := len(contest.Ballots)
	var mixes, decryptions []string
	for t := 1; ; t++ {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("mix-%d.list", t))); err != nil {
			break
		}
		mixes = append(mixes, strconv.Itoa(t))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		if regexp.MustCompile(`^decrypt-\d+\.bin$`).MatchString(e.Name()) {
			decryptions = append(decryptions, e.Name())
		}
	}
	sort.Strings(decryptions)
	names, _ := json.Marshal(map[string][]string{"mixes": mixes, "decryptions": decryptions})

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>bench</title><script type="module">
const V = await import('/verifier.js');
const names = %s;
const bytes = async (f) => new Uint8Array(await (await fetch('/f/' + f)).arrayBuffer());
window.bench = async () => {
  const files = {
    contest: await (await fetch('/f/contest.json')).text(), result: await (await fetch('/f/result.json')).text(),
    mixes: await Promise.all(names.mixes.map(async (t) => ({ list: await bytes('mix-' + t + '.list'), proof: await bytes('mix-' + t + '.proof') }))),
    decryptions: await Promise.all(names.decryptions.map(bytes)),
  };
  const n = %d < 0 ? navigator.hardwareConcurrency : %d;
  const t = performance.now();
  const phases = {};
  const onProgress = ({ phase }) => { phases[phase] ??= Math.round(performance.now() - t); };
  const r = await V.recountRanked(files, n ? { workers: { url: '/worker.js', n }, onProgress } : { onProgress });
  return JSON.stringify({ ms: performance.now() - t, ok: r.ok, failures: r.failures.slice(0, 5), workers: n, inWorkers: r.parallel?.inWorkers ?? 0, phases });
};
window.ready = true;
</script>`, names, workers, workers)
	})
	mux.HandleFunc("/verifier.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(bundle)
	})
	mux.HandleFunc("/worker.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(worker)
	})
	mux.Handle("/f/", http.StripPrefix("/f/", http.FileServer(http.Dir(dir))))
	run := benchPage(b, mux, 60*time.Minute)
	b.ResetTimer()
	var total float64
	for range b.N {
		var res string
		run(&res)
		var out struct {
			MS        float64           `json:"ms"`
			OK        bool              `json:"ok"`
			Failures  []json.RawMessage `json:"failures"`
			Workers   int               `json:"workers"`
			InWorkers int               `json:"inWorkers"`
			Phases    map[string]int    `json:"phases"`
		}
		if err := json.Unmarshal([]byte(res), &out); err != nil {
			b.Fatal(err)
		}
		if !out.OK {
			b.Fatalf("the recount fails: %s", out.Failures)
		}
		total += out.MS
		b.Logf("%d ballots, %d mixes, %d workers (%d jobs in them): %.1f s in the page; phases began at (ms) %v", n, len(mixes), out.Workers, out.InWorkers, out.MS/1000, out.Phases)
	}
	b.ReportMetric(total/float64(b.N)/1000, "s/op-in-page")
	b.ReportMetric(total/float64(b.N)/float64(n), "ms/ballot")
}
