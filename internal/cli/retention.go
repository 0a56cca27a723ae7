package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/db"
	"github.com/unionvote/eballot/internal/retention"
)

const retentionSummary = `Lists every ballot that is not a draft with its retention state: due (the
retention period after the announcement of its result has passed, and no
hold), held (a complaint is recorded: s.79, Certification Officer or court),
not_due, unpublished (no result published on the service: never deleted
automatically) or deleted. Nothing is changed unless --apply is given.

The period is EBALLOT_RETENTION_PERIOD (default and minimum 8760h, and never
less than one calendar year): TULRCA s.49(3)(d) and s.75(3)(d) keep returned
votes one year from the announcement of the result; industrial action
ballots are kept as long (statutory.md F39).

--apply deletes the personal data of every due ballot, one transaction per
ballot, printing each ballot's counts per table: the register, frozen
contacts, marked register, replacement requests, invitations, sign-in
records, reminder messages, register uploads, dev outbox messages, members
on no other ballot, and the sealed issuer private keys. The public ledger,
the published result, the counts per style and the audit log are kept; the
deletion is recorded in retention_deletions and in the audit log
("retention.deleted"). Running it again deletes nothing more.

  ballotd retention hold --ballot ID --staff ID --reason TEXT
      records a complaint: the ballot is kept until the hold is released.
  ballotd retention release --ballot ID --staff ID --reason TEXT [--hold N]
      releases the ballot's open holds (or hold N) once the Certification
      Officer or the court has authorised disposal.

--ballot takes the ballot's number or its election id; --staff is the
scrutineer's staff account number (ballotd staff add --role scrutineer).
Both are written to the audit log with the reason: give the complaint's
reference, not a member's name.`

func runRetention(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && (args[0] == "hold" || args[0] == "release") {
		return runRetentionHold(ctx, args[0], args[1:], env)
	}
	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	apply := fs.Bool("apply", false, "delete the personal data of every due ballot (without it: report only)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ballotd retention [--apply]\n       ballotd retention hold|release --ballot ID --staff ID --reason TEXT [--hold N]\n\n%s\n\nFlags:\n", retentionSummary)
		fs.PrintDefaults()
		envHelp(w)
	}
	if code, ok := parseFlags(fs, args, env, "retention"); !ok {
		return code
	}
	svc, done, code := openRetention(ctx, env)
	if svc == nil {
		return code
	}
	defer done()
	now := env.now()
	list, err := svc.Due(ctx, now)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd retention: %v\n", err)
		return 1
	}
	printRetention(env.Stdout, list, svc.Period())
	if !*apply {
		return 0
	}
	code = 0
	for _, b := range list {
		if b.State != retention.StateDue {
			continue
		}
		fmt.Fprintf(env.Stdout, "ballot %d (%s): deleting personal data… ", b.ID, b.ElectionID)
		d, err := svc.Apply(ctx, b.ID, now, "cli")
		if err != nil {
			fmt.Fprintln(env.Stdout, "failed")
			fmt.Fprintf(env.Stderr, "ballotd retention: ballot %d: %v\n", b.ID, err)
			code = 1
			continue
		}
		if d.Already {
			fmt.Fprintf(env.Stdout, "already deleted on %s\n", d.At.UTC().Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(env.Stdout, "deleted %d rows (%s), digest %x\n", d.Total(), countsText(d.Counts), d.Digest)
	}
	return code
}

func countsText(cs []retention.Count) string {
	var parts []string
	for _, c := range cs {
		if c.Rows > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.Table, c.Rows))
		}
	}
	if len(parts) == 0 {
		return "nothing left to delete"
	}
	return strings.Join(parts, ", ")
}

func printRetention(w io.Writer, list []retention.Ballot, period time.Duration) {
	n := map[string]int{}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BALLOT\tELECTION\tUNION\tKIND\tSTATUS\tPUBLISHED\tDUE\tSTATE\tREASON")
	day := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02")
	}
	for _, b := range list {
		n[b.State]++
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.ElectionID, b.Union, b.Kind, b.Status,
			day(b.PublishedAt), day(b.DueAt), b.State, b.Reason)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d due, %d held, %d not due, %d unpublished, %d deleted (retention period %s)\n",
		n[retention.StateDue], n[retention.StateHeld], n[retention.StateNotDue], n[retention.StateUnpublished], n[retention.StateDeleted], period)
}

func runRetentionHold(ctx context.Context, verb string, args []string, env Env) int {
	fs := flag.NewFlagSet("retention "+verb, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	ballot := fs.String("ballot", "", "the ballot's number or election id (required)")
	staff := fs.Int64("staff", 0, "the scrutineer's staff account number (required)")
	reason := fs.String("reason", "", "hold: the complaint's reference; release: who authorised disposal (required)")
	var hold *int64
	if verb == "release" {
		hold = fs.Int64("hold", 0, "release only this hold (default: every open hold of the ballot)")
	}
	fs.Usage = func() {
		w := fs.Output()
		if verb == "hold" {
			fmt.Fprintf(w, "Usage: ballotd retention hold --ballot ID --staff ID --reason TEXT\n\n%s\n\nFlags:\n",
				"Records a complaint about the ballot (TULRCA s.79, or to the Certification\nOfficer or a court): its personal data is kept until the hold is released.\nAudited (retention.hold).")
		} else {
			fmt.Fprintf(w, "Usage: ballotd retention release --ballot ID --staff ID --reason TEXT [--hold N]\n\n%s\n\nFlags:\n",
				"Releases the ballot's open holds (or hold N) once the Certification Officer\nor the court has authorised disposal (s.75(3)(d)). Audited (retention.release).")
		}
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, env, "retention "+verb); !ok {
		return code
	}
	if *ballot == "" || *staff == 0 || strings.TrimSpace(*reason) == "" {
		fmt.Fprintf(env.Stderr, "ballotd retention %s: --ballot, --staff and --reason are required\n", verb)
		return 2
	}
	svc, done, code := openRetention(ctx, env)
	if svc == nil {
		return code
	}
	defer done()
	id, err := svc.BallotID(ctx, *ballot)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd retention %s: %v\n", verb, err)
		return 1
	}
	if verb == "hold" {
		h, err := svc.RecordHold(ctx, id, *staff, *reason, env.now())
		if err != nil {
			fmt.Fprintf(env.Stderr, "ballotd retention hold: %v\n", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "hold %d recorded on ballot %d: its personal data is kept until the hold is released\n", h, id)
		return 0
	}
	ids, err := svc.ReleaseHolds(ctx, id, *hold, *staff, *reason, env.now())
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd retention release: %v\n", err)
		return 1
	}
	st, err := svc.State(ctx, id, env.now())
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd retention release: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "released hold(s) %v on ballot %d; the ballot is now %s: %s\n", ids, id, st.State, st.Reason)
	return 0
}

// openRetention loads the configuration, connects, applies migrations and
// returns the retention service.
func openRetention(ctx context.Context, env Env) (*retention.Service, func(), int) {
	cfg, code := loadConfig("retention", env)
	if cfg == nil {
		return nil, nil, code
	}
	log := app.NewLogger(cfg, env.Stderr)
	pool, err := app.OpenDB(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ballotd retention: %v\n", err)
		return nil, nil, 1
	}
	if err := db.Migrate(ctx, pool); err != nil {
		pool.Close()
		fmt.Fprintf(env.Stderr, "ballotd retention: %v\n", err)
		return nil, nil, 1
	}
	svc, err := app.Build(cfg, log, pool, prometheus.NewRegistry())
	if err != nil {
		pool.Close()
		fmt.Fprintf(env.Stderr, "ballotd retention: %v\n", err)
		return nil, nil, 1
	}
	return svc.Retention, func() { svc.Close(); pool.Close() }, 0
}
