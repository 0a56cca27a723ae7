package ledger

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/unionvote/eballot/internal/pgtest"
)

// benchCasts appends casts from submitters goroutines and returns each
// cast's latency (arrival to durable receipt).
func benchCasts(b *testing.B, l *Ledger, casts []*testCast, submitters int) []time.Duration {
	lat := make([]time.Duration, len(casts))
	var wg sync.WaitGroup
	for w := 0; w < submitters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(casts); i += submitters {
				start := time.Now()
				if _, _, err := l.Cast(context.Background(), testElection, casts[i].ballot, casts[i].auth); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	return lat
}

// BenchmarkAppend measures append throughput with every authorisation and
// proof checked, from 64 concurrent submitters (group commit). Ballots are
// made before the timer starts; use -benchtime=Nx (e.g. 3000x) to bound
// that work.
func BenchmarkAppend(b *testing.B) {
	l, f, _ := newOpenLedger(b)
	casts := f.castsN(b, b.N)
	b.ResetTimer()
	self0, pg0 := cpuTime(b)
	start := time.Now()
	benchCasts(b, l, casts, 64)
	el := time.Since(start)
	b.StopTimer()
	reportCPU(b, self0, pg0, b.N)
	b.ReportMetric(float64(b.N)/el.Seconds(), "ballots/s")
	reportBatches(b, l)
}

// BenchmarkSubmitters200 measures receipt latency with 200 concurrent
// submitters, each casting in a loop.
func BenchmarkSubmitters200(b *testing.B) {
	l, f, _ := newOpenLedger(b, func(o *Options) {
		if n, err := strconv.Atoi(os.Getenv("LEDGER_BENCH_MAXBATCH")); err == nil {
			o.MaxBatch = n
		}
	})
	casts := f.castsN(b, b.N+200)
	benchCasts(b, l, casts[b.N:], 200) // warm up: pool connections, caches
	casts = casts[:b.N]
	b.ResetTimer()
	self0, pg0 := cpuTime(b)
	start := time.Now()
	lat := benchCasts(b, l, casts, 200)
	el := time.Since(start)
	b.StopTimer()
	reportCPU(b, self0, pg0, b.N)
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(float64(b.N)/el.Seconds(), "ballots/s")
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	reportBatches(b, l)
}

// reportBatches reports the mean batch size and commit time.
func reportBatches(b *testing.B, l *Ledger) {
	var m dto.Metric
	if err := l.metrics.batchSize.Write(&m); err != nil {
		b.Fatal(err)
	}
	if n := m.GetHistogram().GetSampleCount(); n > 0 {
		b.ReportMetric(m.GetHistogram().GetSampleSum()/float64(n), "ballots/batch")
	}
	if err := l.metrics.commit.Write(&m); err != nil {
		b.Fatal(err)
	}
	if n := m.GetHistogram().GetSampleCount(); n > 0 {
		b.ReportMetric(1000*m.GetHistogram().GetSampleSum()/float64(n), "commit-ms")
	}
}

// BenchmarkVerify measures decoding and verifying casts (no database):
// the CPU cost of the checks per ballot.
func BenchmarkVerify(b *testing.B) {
	f := testFixture(b)
	sp, err := cryptoScheme(f.manifestJSON)
	if err != nil {
		b.Fatal(err)
	}
	casts := f.castsN(b, 256)
	b.ResetTimer()
	for i := 0; i < b.N; i += len(casts) {
		n := min(len(casts), b.N-i)
		ds := make([]*decoded, n)
		auths := make([][]byte, n)
		for k := 0; k < n; k++ {
			if ds[k], err = sp.checker.decode(casts[k].ballot); err != nil {
				b.Fatal(err)
			}
			auths[k] = casts[k].auth
		}
		for _, err := range sp.checker.verify(ds, auths) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// cpuTime returns the CPU time used so far by this process and by the test
// PostgreSQL cluster (postmaster and its children), so that benchmarks can
// report the CPU cost per ballot, which the noisy shared machine does not
// distort as much as wall time.
func cpuTime(b *testing.B) (self, pg time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	pidb, err := os.ReadFile(filepath.Join(pgtest.Shared(b).Dir, "data", "postmaster.pid"))
	if err != nil {
		return self, 0
	}
	pm := strings.SplitN(string(pidb), "\n", 2)[0]
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, d := range dirs {
		st, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:]) // state ppid … utime(12) stime(13)
		pid := filepath.Base(filepath.Dir(d))
		if len(f) < 14 || (f[1] != pm && pid != pm) {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + k
	}
	return self, time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}

// reportCPU reports CPU microseconds per ballot of this process and of
// PostgreSQL since the marks, and the throughput 2 dedicated cores would
// sustain at that cost.
func reportCPU(b *testing.B, self0, pg0 time.Duration, n int) {
	self1, pg1 := cpuTime(b)
	goUS := float64((self1 - self0).Microseconds()) / float64(n)
	pgUS := float64((pg1 - pg0).Microseconds()) / float64(n)
	b.ReportMetric(goUS, "go-cpu-µs/ballot")
	b.ReportMetric(pgUS, "pg-cpu-µs/ballot")
	if goUS+pgUS > 0 {
		b.ReportMetric(2e6/(goUS+pgUS), "ballots/s@2cores")
	}
}
