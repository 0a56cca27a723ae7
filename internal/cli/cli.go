// Package cli is the command line of ballotd: subcommands serve, migrate,
// demo, staff, retention and version.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/db"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=…".
var Version = "dev"

const usage = `ballotd — the statutory e-ballot service

Usage:
  ballotd <command> [--help]

Commands:
  serve     run the HTTP service (applies migrations first)
  migrate   apply database migrations and print the schema version
  demo      load a demo ballot with demo members (idempotent); --close, --sessions for load tests
  staff     add an organiser or scrutineer account (prints a passkey enrolment link), or disable one
  retention list ballots due for deletion of personal data, delete them (--apply), hold or release them
  version   print version information

Configuration comes from environment variables; see 'ballotd serve --help'.
`

// Env is what the commands read from the process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Now is the clock of the retention command (nil: time.Now); tests
	// set it to a time after the retention period.
	Now func() time.Time
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Run runs ballotd with args (without the program name) and returns the exit
// code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, env)
	case "migrate":
		return runMigrate(ctx, rest, env)
	case "demo":
		return runDemo(ctx, rest, env)
	case "staff":
		return runStaff(ctx, rest, env)
	case "retention":
		return runRetention(ctx, rest, env)
	case "version":
		return runVersion(rest, env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "ballotd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

func envHelp(w io.Writer) {
	fmt.Fprintln(w, "\nEnvironment:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range config.Vars {
		def := v.Default
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(tw, "  %s\tdefault %s\t%s\n", v.Name, def, v.Help)
	}
	tw.Flush()
}

// parse parses a subcommand's flags; ok is false when the command should
// stop with code.
func parse(name, summary string, args []string, env Env, withEnv bool) (code int, ok bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ballotd %s\n\n%s\n", name, summary)
		if withEnv {
			envHelp(w)
		}
	}
	return parseFlags(fs, args, env, name)
}

// parseFlags parses args with fs (whose output is env.Stderr): --help
// prints the usage on stdout (code 0), a bad flag or a stray argument is
// code 2; ok is false when the command should stop with code.
func parseFlags(fs *flag.FlagSet, args []string, env Env, name string) (code int, ok bool) {
	// Parse would print the usage itself on --help (to stderr) before we
	// print it to stdout: the usage is printed here, once.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.Stdout)
			usage()
			return 0, false
		}
		usage() // after Parse's one-line complaint, on stderr
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "ballotd %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func loadConfig(name string, env Env) (*config.Config, int) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd %s: %v\n", name, err)
		return nil, 1
	}
	return cfg, 0
}

func runServe(ctx context.Context, args []string, env Env) int {
	if code, ok := parse("serve", "Runs the HTTP service on EBALLOT_ADDR until SIGINT or SIGTERM, after applying\nany pending database migrations. Endpoints: / (ballots), /healthz, /readyz;\nPrometheus /metrics on its own listener, EBALLOT_METRICS_ADDR.", args, env, true); !ok {
		return code
	}
	cfg, code := loadConfig("serve", env)
	if cfg == nil {
		return code
	}
	log := app.NewLogger(cfg, env.Stderr)
	if err := app.Serve(ctx, cfg, log, nil); err != nil {
		fmt.Fprintf(env.Stderr, "ballotd serve: %v\n", err)
		return 1
	}
	return 0
}

func runMigrate(ctx context.Context, args []string, env Env) int {
	if code, ok := parse("migrate", "Applies every pending migration from the embedded migrations/ directory to\nDATABASE_URL and prints the schema version.", args, env, true); !ok {
		return code
	}
	cfg, code := loadConfig("migrate", env)
	if cfg == nil {
		return code
	}
	log := app.NewLogger(cfg, env.Stderr)
	pool, err := app.OpenDB(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd migrate: %v\n", err)
		return 1
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool); err != nil {
		fmt.Fprintf(env.Stderr, "ballotd migrate: %v\n", err)
		return 1
	}
	cur, latest, err := db.Version(ctx, pool)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "schema at version %d of %d\n", cur, latest)
	return 0
}

func runDemo(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	dir := fs.String("trustee-dir", ".data/demo-trustees", "where to write the demo trustees' secret shares and public key file")
	members := fs.Int("members", 24, "register size when the ballot is created: the 24 named members, then numbered members without a mobile (load tests; 100000 takes seconds)")
	closeIt := fs.Bool("close", false, "close the demo ballot instead (issuance and the ledger stop; the ledger signs its final checkpoint), as a load test does before it exports and verifies")
	sessions := fs.Int("sessions", 0, "instead, give N members of the demo ballot who have not voted a member session each, as a finished SMS sign-in would, and write their cookie values to --sessions-file (load tests: cmd/loadgen -sessions; refused unless EBALLOT_SMS_PROVIDER=dev)")
	sessionsFile := fs.String("sessions-file", "", "where --sessions writes the cookie values, one per line (created with mode 0600)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ballotd demo [--trustee-dir DIR] [--members N] | ballotd demo --close | ballotd demo --sessions N --sessions-file FILE\n\n%s\n\nFlags:\n", "Loads a demo union, 24 members and an industrial action ballot into DATABASE_URL\n(applying migrations first), runs a real 2-of-3 key ceremony in-process, records\nthe scrutineer's safeguards and opens the ballot. Running it again changes\nnothing. Demo mobile numbers are in Ofcom's drama range, so no real phone is\never texted. The trustees' secret shares go to --trustee-dir (demo only: real\ntrustees keep theirs on their own machines). --members N adds numbered members\nwith no mobile for load tests (cmd/loadgen, make bench-system).")
		fs.PrintDefaults()
		envHelp(w)
	}
	if code, ok := parseFlags(fs, args, env, "demo"); !ok {
		return code
	}
	cfg, code := loadConfig("demo", env)
	if cfg == nil {
		return code
	}
	log := app.NewLogger(cfg, env.Stderr)
	if *sessions > 0 {
		if *sessionsFile == "" {
			fmt.Fprintln(env.Stderr, "ballotd demo: --sessions needs --sessions-file")
			return 2
		}
		cookies, err := app.DemoSessions(ctx, cfg, log, *sessions)
		if err == nil {
			err = os.WriteFile(*sessionsFile, []byte(strings.Join(cookies, "\n")+"\n"), 0o600)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "ballotd demo: %v\n", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "%d member sessions of the demo ballot written to %s\n", len(cookies), *sessionsFile)
		return 0
	}
	if *closeIt {
		res, err := app.CloseDemo(ctx, cfg, log)
		if err != nil {
			fmt.Fprintf(env.Stderr, "ballotd demo: %v\n", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "demo ballot %s closed (%d members on the register)\n", res.ElectionID, res.Members)
		return 0
	}
	res, err := app.LoadDemoMembers(ctx, cfg, log, *dir, *members)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd demo: %v\n", err)
		return 1
	}
	verb := "loaded and opened"
	if !res.Created {
		verb = "already loaded"
	}
	fmt.Fprintf(env.Stdout, "demo ballot %s %s with %d members\n", res.ElectionID, verb, res.Members)
	if res.Created {
		fmt.Fprintf(env.Stdout, "demo trustees' shares and public key file written to %s\n", res.SharesDir)
	}
	return 0
}

func runStaff(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && args[0] == "disable" {
		return runStaffDisable(ctx, args[1:], env)
	}
	fs := flag.NewFlagSet("staff", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	role := fs.String("role", "", "organiser or scrutineer (required)")
	union := fs.String("union", "", "the union's slug (organisers only), e.g. demo-union")
	name := fs.String("name", "", "the person's name, shown to other staff (required)")
	mobile := fs.String("mobile", "", "mobile number in E.164 for account recovery codes (optional)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ballotd staff add --role organiser|scrutineer [--union SLUG] --name NAME [--mobile +44…]\n\n%s\n\nFlags:\n",
			"Adds a staff account and prints a one-time link (valid 24 hours) with which\nthe person registers their passkey. Staff sign in with passkeys only. Give the\nlink to the person directly, never by a channel others can read.")
		fs.PrintDefaults()
	}
	if len(args) == 0 || (args[0] != "add" && !strings.HasPrefix(args[0], "-")) {
		fs.Usage()
		return 2
	}
	if args[0] == "add" {
		args = args[1:]
	}
	if code, ok := parseFlags(fs, args, env, "staff add"); !ok {
		return code
	}
	if *role == "" || strings.TrimSpace(*name) == "" {
		fmt.Fprintln(env.Stderr, "ballotd staff add: --role and --name are required")
		return 2
	}
	cfg, code := loadConfig("staff", env)
	if cfg == nil {
		return code
	}
	link, err := app.CreateStaff(ctx, cfg, app.NewLogger(cfg, env.Stderr), *role, *union, *name, *mobile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd staff add: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "%s account for %s created. Passkey enrolment link (valid 24 hours):\n%s\n", *role, *name, link)
	return 0
}

func runStaffDisable(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("staff disable", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	id := fs.Int64("id", 0, "the staff account's number (required; shown as organiser:N, scrutineer:N … in the audit log)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ballotd staff disable --id N\n\n%s\n\nFlags:\n",
			"Disables a staff account for good: it can no longer sign in, register a\npasskey or recover one, and its sessions end at once. Presiding officers'\naccounts are disabled by the service itself once their boxes and ballots\nhave closed.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, env, "staff disable"); !ok {
		return code
	}
	if *id <= 0 {
		fmt.Fprintln(env.Stderr, "ballotd staff disable: --id is required (a staff account number)")
		return 2
	}
	cfg, code := loadConfig("staff", env)
	if cfg == nil {
		return code
	}
	now, err := app.DisableStaff(ctx, cfg, app.NewLogger(cfg, env.Stderr), *id)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd staff disable: %v\n", err)
		return 1
	}
	if now {
		fmt.Fprintf(env.Stdout, "staff account %d disabled; its sessions have ended\n", *id)
	} else {
		fmt.Fprintf(env.Stdout, "staff account %d was already disabled\n", *id)
	}
	return 0
}

func runVersion(args []string, env Env) int {
	if code, ok := parse("version", "Prints the build version, the protocol version and the Go version.", args, env, false); !ok {
		return code
	}
	fmt.Fprintf(env.Stdout, "ballotd %s (protocol v%d, %s %s/%s)\n", Version, manifest.ProtocolVersion,
		strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH)
	return 0
}
