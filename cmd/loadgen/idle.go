package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

const idleUsage = `Usage: loadgen idle -metrics URL [-postgres-pid PID] [-duration D]

Measures what the service costs with no load: the CPU time a ballotd
replica (process_cpu_seconds_total from its metrics listener) and
PostgreSQL (the postmaster's process tree, /proc) use over -duration, and
prints each as CPU-milliseconds a second (1000 is one whole core). Send
no votes meanwhile. scripts/bench-system.sh runs it with IDLE_SECONDS.

Flags:
`

// runIdle is `loadgen idle`.
func runIdle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var metrics targetList
	fs.Var(&metrics, "metrics", "base URL of the replica's metrics listener (its EBALLOT_METRICS_ADDR); repeat for several replicas (summed)")
	pid := fs.Int("postgres-pid", 0, "pid of the PostgreSQL postmaster on this machine (0: PostgreSQL not measured)")
	d := fs.Duration("duration", time.Minute, "how long to measure")
	if code, done := parseSubcommand(fs, args, idleUsage, stdout, stderr); done {
		return code
	}
	if len(metrics) == 0 || *pid < 0 || *d < time.Second || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "loadgen idle: give -metrics, a -duration of at least 1s and no arguments (see --help)")
		return 2
	}
	c := &config{metrics: metrics, postgresPID: *pid}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "loadgen idle: "+format+"\n", a...) }
	hc := &http.Client{Timeout: 10 * time.Second}
	before, pg0 := scrapeAll(ctx, hc, metrics), postgresCPU(c, logf)
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return 2
	case <-time.After(*d):
	}
	after, pg1 := scrapeAll(ctx, hc, metrics), postgresCPU(c, logf)
	secs := time.Since(t0).Seconds()
	if before == nil || after == nil {
		fmt.Fprintln(stderr, "loadgen idle: a metrics listener did not answer")
		return 2
	}
	cpu := after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
	fmt.Fprintf(stdout, "idle for %.0f s: ballotd %.1f CPU-ms/s", secs, cpu*1000/secs)
	if pg0 >= 0 && pg1 >= 0 {
		fmt.Fprintf(stdout, ", PostgreSQL %.1f CPU-ms/s", (pg1-pg0)*1000/secs)
	}
	fmt.Fprintln(stdout)
	return 0
}
