// Command loadgen simulates members voting, end to end, against running
// ballotd processes over HTTP: it signs members in, loads each member's
// voting paper, encrypts and proves a ballot and blinds its tracker (all
// before the timed phase), then, timed, asks issuance for the blind
// authorisation, unblinds it, casts to the ledger without cookies and
// checks the receipt — what a member's phone does (internal/web/page/static/vote.js).
// It reports throughput, latency percentiles per step and errors by kind,
// and writes a JSON summary. See docs/benchmarks.md and `make bench-system`.
//
// Sign-in: the members' sessions come from `ballotd demo --sessions N
// --sessions-file FILE`, which makes them in the service's database as a
// finished SMS sign-in would (internal/auth owns the sessions; ballotd
// refuses unless texts go to the development outbox), and loadgen reads the
// cookie values from -sessions. loadgen itself talks HTTP only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const usage = `loadgen — simulate members voting against running ballotd processes

Usage:
  loadgen [flags]
  loadgen report [-blind-per-second R] SUMMARY.json...   (one table of several runs; --help)
  loadgen drillcheck -receipts FILE -export FILE -counts FILE   (after a crash drill; --help)
  loadgen idle -metrics URL [-postgres-pid PID] [-duration D]   (ballotd's and PostgreSQL's CPU with no load; --help)

For each simulated member loadgen, before the timed phase:
  1. takes a member session from -sessions (one cookie value per line,
     made by ` + "`ballotd demo --sessions N --sessions-file FILE`" + ` for members
     of the demo ballot who have not voted, as a finished SMS sign-in would);
  2. loads their voting paper (GET /vote/{election}) for the CSRF token
     and ballot style;
  3. encrypts a ballot with its proofs, computes the tracker and blinds it
     with the style's issuer key (crypto/ballot, crypto/blind).
Then, timed, with -concurrency members at once:
  4. authorise: POST /vote/{election}/authorise with the member's session;
  5. unblind the signature (checked against the issuer key);
  6. cast: POST /ledger/v1/{election}/cast with no cookie;
  7. check: verify the receipt (inclusion proof, signed checkpoint).
The timed phase ends after -n votes or -duration, whichever is first (votes
in flight finish).

Closed loop (the default): -concurrency members vote at once, each starting
its next vote when the last one finished, so a slow server slows the
arrivals. Open loop (-rate R): votes start at a fixed rate of R a second
whatever the answers, as members do; a vote's latency counts from the time
it was due (no coordinated omission), and -concurrency only caps the votes
in flight: a vote due when the cap is reached is not started and counts as
the error "start: client at -concurrency cap" (raise the cap). Finally a sample of receipts is checked against the
ledger's latest checkpoint with consistency proofs, from every target.

Retries, as the phone does: a request that failed on the network, timed
out or was answered 5xx (503 "unavailable") or 429 is sent again with the
saved state — the same blinded message to authorise (the service answers
with the signature it already issued, "repeated"), the same ballot and
authorisation to cast (the ledger answers with the existing receipt) —
after the answer's Retry-After or a backoff from 0.2 s doubling to 5 s,
until -retry-for has passed since the vote started; then the vote fails.
A cast answered duplicate_tracker (or duplicate_alpha) fetches the receipt
by tracker (GET /ledger/v1/{election}/receipts/{tracker}): the vote
completes when it verifies against exactly the entry sent. The summary
counts the retries by step and failure.

Receipts file (-receipts FILE): appended, one JSON line per event, synced
to disk every 64 lines or 0.2 s and at the end, so a crash of loadgen
loses at most the last batch:
  {"kind":"authorised","member":N,"tracker":HEX,"time":T,"repeated":B}
  {"kind":"receipt","member":N,"tracker":HEX,"index":I,"checkpoint_size":S,"time":T,"recovered":B}
  {"kind":"gave_up","member":N,"tracker":HEX,"step":STEP,"error":KIND,"time":T}
member is the session's line in -sessions (from 0); index the entry's
place in the ledger and checkpoint_size the signed checkpoint the receipt
was verified under. An "authorised" line without a "receipt" line is an
authorisation whose cast loadgen never saw complete. The file links
members to trackers: demo ballots only. scripts/crash-drill.sh uses it
with ` + "`loadgen drillcheck`" + `.

Members are spread over the -target URLs round-robin (one member stays on
one target), so several replicas share the load.

Output: progress lines on stderr every -progress, a table on stdout, and
the JSON summary to -out. Exit code 0 when every attempted vote completed
and every receipt verified, 1 when some failed, 2 on bad usage or setup.

Flags:
`

type config struct {
	targets     []*url.URL
	metrics     []*url.URL // the targets' metrics listeners (EBALLOT_METRICS_ADDR)
	postgresPID int        // the PostgreSQL postmaster on this machine (0: PostgreSQL's CPU not measured)
	election    string
	n           int
	duration    time.Duration
	concurrency int
	rate        float64 // open loop: votes started a second (0: closed loop)
	prepare     int
	sessions    string
	out         string
	progress    time.Duration
	timeout     time.Duration
	sample      int
	quiet       bool
	retryFor    time.Duration
	receipts    string
	// profileURL is a ballotd profiler (EBALLOT_DEBUG_ADDR) sampled for
	// profileFor at the start of the timed phase into profileOut.
	profileURL string
	profileOut string
	profileFor time.Duration
}

type targetList []*url.URL

func (t *targetList) String() string {
	var s []string
	for _, u := range *t {
		s = append(s, u.String())
	}
	return strings.Join(s, ",")
}

func (t *targetList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("%q is not a base URL like http://127.0.0.1:8080", part)
		}
		u.Path = ""
		*t = append(*t, u)
	}
	return nil
}

func parseFlags(args []string, stdout, stderr io.Writer, getenv func(string) string) (*config, int, bool) {
	c := &config{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var targets targetList
	fs.Var(&targets, "target", "base URL of a ballotd replica; repeat (or comma-separate) to spread members over replicas (default http://127.0.0.1:8080)")
	var metrics targetList
	fs.Var(&metrics, "metrics", "base URL of a replica's metrics listener (its EBALLOT_METRICS_ADDR, e.g. http://127.0.0.1:9464); repeat for each replica to report the servers' CPU time per vote")
	fs.IntVar(&c.postgresPID, "postgres-pid", 0, "pid of the PostgreSQL postmaster, on this machine (the first line of its postmaster.pid): the summary then also has PostgreSQL's CPU time in the timed phase and the servers' and PostgreSQL's CPU per vote together (Linux /proc)")
	fs.StringVar(&c.election, "election", "demo-strike-2026", "election id of the open ballot (ballotd demo loads demo-strike-2026)")
	fs.IntVar(&c.n, "n", 1000, "number of members to prepare and votes to cast at most")
	fs.DurationVar(&c.duration, "duration", time.Minute, "the timed phase stops starting votes after this long")
	fs.IntVar(&c.concurrency, "concurrency", 50, "members voting at the same time in the timed phase")
	fs.Float64Var(&c.rate, "rate", 0, "open loop: start this many votes a second whatever the answers (latency from when each was due); -concurrency then caps the votes in flight (0: closed loop)")
	fs.IntVar(&c.prepare, "prepare-workers", runtime.NumCPU(), "goroutines that encrypt and blind ballots before the timed phase")
	fs.StringVar(&c.sessions, "sessions", "", "file of member session cookie values, one per line, at least -n (ballotd demo --sessions N --sessions-file FILE)")
	fs.StringVar(&c.out, "out", "", "write the JSON summary to this file")
	fs.DurationVar(&c.progress, "progress", 2*time.Second, "interval of the progress lines on stderr (0: none)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "time limit of one HTTP request")
	fs.IntVar(&c.sample, "consistency-sample", 50, "receipts checked at the end against the latest checkpoint with a consistency proof (0: none)")
	fs.BoolVar(&c.quiet, "q", false, "no table on stdout (the JSON summary and errors only)")
	fs.DurationVar(&c.retryFor, "retry-for", 2*time.Minute, "how long a vote keeps retrying a step that failed on the network, timed out or was answered 5xx/429 (same saved state, as the phone; 0: no retries)")
	fs.StringVar(&c.receipts, "receipts", "", "append one JSON line per authorisation obtained, per verified receipt and per vote given up to this file, synced in batches (see --help)")
	fs.StringVar(&c.profileURL, "cpuprofile-from", "", "base URL of a ballotd profiler (its EBALLOT_DEBUG_ADDR, e.g. http://127.0.0.1:6060) to take a CPU profile from during the timed phase")
	fs.StringVar(&c.profileOut, "cpuprofile", "", "with -cpuprofile-from: write the profile to this file")
	fs.DurationVar(&c.profileFor, "cpuprofile-seconds", 5*time.Second, "with -cpuprofile-from: how long to sample, from the start of the timed phase")
	fs.Usage = func() {} // -h prints the full usage on stdout below; a bad flag only its error
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usage)
			fs.PrintDefaults()
			return nil, 0, false
		}
		fmt.Fprintln(stderr, "loadgen: see loadgen --help")
		return nil, 2, false
	}
	fail := func(format string, a ...any) (*config, int, bool) {
		fmt.Fprintf(stderr, "loadgen: "+format+"\n", a...)
		return nil, 2, false
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (see loadgen --help)", fs.Arg(0))
	}
	if (c.profileURL == "") != (c.profileOut == "") {
		return fail("-cpuprofile-from and -cpuprofile go together")
	}
	if c.profileURL != "" {
		if u, err := url.Parse(c.profileURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("-cpuprofile-from %q is not an http URL", c.profileURL)
		}
		if c.profileFor < time.Second {
			return fail("-cpuprofile-seconds must be at least 1s")
		}
	}
	if len(targets) == 0 {
		u, _ := url.Parse("http://127.0.0.1:8080")
		targets = append(targets, u)
	}
	c.targets = targets
	c.metrics = metrics
	switch {
	case c.n < 1 || c.n > 10_000_000:
		return fail("-n must be from 1 to 10000000, not %d", c.n)
	case c.duration <= 0:
		return fail("-duration must be positive")
	case c.concurrency < 1 || c.concurrency > 100_000:
		return fail("-concurrency must be from 1 to 100000, not %d", c.concurrency)
	case c.rate < 0 || c.rate > 100_000:
		return fail("-rate must be from 0 to 100000 votes a second, not %g", c.rate)
	case c.prepare < 1:
		return fail("-prepare-workers must be at least 1")
	case c.timeout <= 0:
		return fail("-timeout must be positive")
	case c.sample < 0:
		return fail("-consistency-sample must not be negative")
	case c.sessions == "":
		return fail("-sessions is required: make them with ballotd demo --sessions N --sessions-file FILE")
	case c.progress < 0:
		return fail("-progress must not be negative")
	case c.retryFor < 0:
		return fail("-retry-for must not be negative")
	case c.postgresPID < 0:
		return fail("-postgres-pid must not be negative")
	}
	return c, 0, true
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "idle" {
		return runIdle(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "drillcheck" {
		return runDrillcheck(args[1:], stdout, stderr)
	}
	c, code, ok := parseFlags(args, stdout, stderr, getenv)
	if !ok {
		return code
	}
	sum, err := loadTest(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}
	if !c.quiet {
		sum.printTable(stdout)
	}
	if c.out != "" {
		if err := sum.write(c.out); err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", err)
			return 2
		}
	}
	if sum.Failed > 0 || sum.ConsistencyFailed > 0 {
		return 1
	}
	return 0
}
