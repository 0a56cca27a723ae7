package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

const reportUsage = `Usage: loadgen report [-blind-per-second R] [-cores N] SUMMARY.json...

Prints one table of several loadgen runs (their -out summaries): complete
votes per second, vote latency percentiles, errors, retries, the servers'
(ballotd's) CPU per vote, the servers' and PostgreSQL's together (runs with
-postgres-pid; else —), and — with -blind-per-second, the measured blind-signing rate of the
machine on -cores cores — each run's throughput as a share of that limit
and the throughput the server's CPU per vote would allow on -cores idle
cores. The row label is the file name without .json.

Flags:
`

// runReport is `loadgen report`.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Float64("blind-per-second", 0, "blind signatures per second the machine does on -cores cores (go test -bench BlindSign ./crypto/blind)")
	cores := fs.Float64("cores", 2, "cores of the machine, for the CPU-bound capacity column")
	if code, done := parseSubcommand(fs, args, reportUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 || *limit < 0 || *cores <= 0 {
		fmt.Fprintln(stderr, "loadgen report: give one or more summary files (loadgen -out), a non-negative -blind-per-second and positive -cores")
		return 2
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	hdr := "run\treplicas\tconcurrency\tvotes\tvotes/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tauthorise p99\tcast p99\terrors\tretries\tballotd CPU ms/vote\tballotd+PG CPU ms/vote\tCPU-bound votes/s"
	if *limit > 0 {
		hdr += "\t% of blind-sign limit"
	}
	fmt.Fprintln(tw, hdr+"\t")
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "loadgen report: %v\n", err)
			return 2
		}
		var s summary
		if err := json.Unmarshal(b, &s); err != nil {
			fmt.Fprintf(stderr, "loadgen report: %s is not a loadgen summary: %v\n", name, err)
			return 2
		}
		errs := 0
		for _, n := range s.Errors {
			errs += n
		}
		v := s.Steps[stepVote]
		capacity := "—"
		if s.ServerCPUMSPerVote > 0 {
			capacity = fmt.Sprintf("%.0f", *cores*1000/s.ServerCPUMSPerVote)
		}
		withPG := "—"
		if s.ServerPostgresCPUMSPerVote > 0 {
			withPG = fmt.Sprintf("%.2f", s.ServerPostgresCPUMSPerVote)
		}
		row := fmt.Sprintf("%s\t%d\t%d\t%d\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%d\t%.2f\t%s\t%s",
			strings.TrimSuffix(filepath.Base(name), ".json"), len(s.Targets), s.Concurrency, s.Complete, s.VotesPerSecond,
			v.P50, v.P90, v.P99, v.Max, s.Steps[stepAuthorise].P99, s.Steps[stepCast].P99, errs, s.Retries, s.ServerCPUMSPerVote, withPG, capacity)
		if *limit > 0 {
			row += fmt.Sprintf("\t%.0f%%", 100*s.VotesPerSecond / *limit)
		}
		fmt.Fprintln(tw, row+"\t")
	}
	tw.Flush()
	return 0
}

// parseSubcommand parses the flags of a loadgen subcommand: --help prints
// usage and the flags to stdout (exit 0), a bad flag says where help is
// (exit 2); done is false when the subcommand should run.
func parseSubcommand(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (code int, done bool) {
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0, true
		}
		fmt.Fprintf(stderr, "%s: see %s --help\n", fs.Name(), fs.Name())
		return 2, true
	}
	return 0, false
}
