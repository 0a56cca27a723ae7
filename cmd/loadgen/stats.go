package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"
	"time"
)

// The steps measured. paper is before the timed phase; vote is authorise
// start to receipt checked.
const (
	stepPaper     = "paper"
	stepAuthorise = "authorise"
	stepCast      = "cast"
	stepCheck     = "check"
	stepVote      = "vote"
	// stepStart is where open-loop votes that could not start are counted.
	stepStart = "start"
)

var stepOrder = []string{stepPaper, stepAuthorise, stepCast, stepCheck, stepVote}

type stats struct {
	mu     sync.Mutex
	lat    map[string][]time.Duration
	errs   map[string]int // "step: kind"
	failed int            // members whose vote failed at some step
	done   int            // complete votes
	byTgt  map[string]int // complete votes per target
	// retries counts requests sent again ("step: kind" of the failure
	// retried); repeated authorisations answered with the signature
	// already issued; existed casts answered with the existing receipt
	// (200); recovered receipts fetched by tracker after a duplicate.
	retries                      map[string]int
	repeated, existed, recovered int
	targets                      []*url.URL
	stderr                       io.Writer
}

func newStats(targets []*url.URL, stderr io.Writer) *stats {
	return &stats{lat: map[string][]time.Duration{}, errs: map[string]int{}, byTgt: map[string]int{}, retries: map[string]int{}, targets: targets, stderr: stderr}
}

// retried counts a request of step sent again after err.
func (s *stats) retried(step string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries[step+": "+errorKind(err)]++
}

// note updates the counters under the lock.
func (s *stats) note(f func(*stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *stats) record(step string, t *url.URL, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs[step+": "+errorKind(err)]++
		s.failed++
		return
	}
	s.lat[step] = append(s.lat[step], d)
	if step == stepVote {
		s.done++
		s.byTgt[t.String()]++
	}
}

// progressLoop prints a line every interval until the returned func is
// called.
func (s *stats) progressLoop(every time.Duration, start time.Time) func() {
	if every <= 0 {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tk := time.NewTicker(every)
		defer tk.Stop()
		last, lastT := 0, start
		for {
			select {
			case <-stop:
				return
			case now := <-tk.C:
				s.mu.Lock()
				done, failed := s.done, s.failed
				retries := 0
				for _, n := range s.retries {
					retries += n
				}
				votes := slices.Clone(s.lat[stepVote][max(0, len(s.lat[stepVote])-2000):])
				s.mu.Unlock()
				el := now.Sub(start)
				rate := float64(done-last) / now.Sub(lastT).Seconds()
				p := percentiles(votes)
				fmt.Fprintf(s.stderr, "loadgen: [%6.1fs] %d votes (%.0f/s now, %.0f/s overall), %d failed, %d retries, recent vote p50 %s p99 %s\n",
					el.Seconds(), done, rate, float64(done)/el.Seconds(), failed, retries, ms(p.P50), ms(p.P99))
				last, lastT = done, now
			}
		}
	}()
	return func() { close(stop); <-finished }
}

// Latency is one step's distribution, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func percentiles(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return toMS(s[max(0, min(i, len(s)-1))])
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Latency{Count: len(s), Mean: round2(toMS(sum) / float64(len(s))), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: toMS(s[len(s)-1])}
}

func toMS(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }
func round2(f float64) float64     { return math.Round(f*100) / 100 }
func ms(f float64) string          { return fmt.Sprintf("%.0fms", f) }

// summary is the JSON summary (-out).
type summary struct {
	Election    string   `json:"election_id"`
	Targets     []string `json:"targets"`
	Concurrency int      `json:"concurrency"`
	// ArrivalRate is the open loop's rate (votes started a second; 0:
	// closed loop). The vote step's latency then counts from when each
	// vote was due.
	ArrivalRate     float64            `json:"arrival_rate,omitempty"`
	Requested       int                `json:"requested"`
	DurationLimit   string             `json:"duration_limit"`
	Prepared        int                `json:"prepared"`
	PrepareSeconds  float64            `json:"prepare_seconds"`
	Started         int                `json:"started"`
	Complete        int                `json:"complete_votes"`
	Failed          int                `json:"failed"`
	ElapsedSeconds  float64            `json:"elapsed_seconds"`
	VotesPerSecond  float64            `json:"votes_per_second"`
	Steps           map[string]Latency `json:"steps"`
	Errors          map[string]int     `json:"errors"`
	PerTarget       map[string]int     `json:"complete_per_target"`
	ReceiptsChecked int                `json:"receipts_verified"`
	// ConsistencyChecked receipts were checked against the latest
	// checkpoint with a consistency proof; ConsistencyFailed were not.
	ConsistencyChecked int `json:"consistency_checked"`
	ConsistencyFailed  int `json:"consistency_failed"`
	// Expected is the count of marks per question and option over the
	// votes with a verified receipt: what the tally must find if nobody
	// else voted.
	Expected map[string]map[string]int `json:"expected_counts"`
	// ServerCPUSeconds is the CPU time the targets' processes (ballotd)
	// used in the timed phase (process_cpu_seconds_total from the -metrics
	// listeners, summed; PostgreSQL not included) and ServerCPUMSPerVote that per
	// complete vote: a figure that holds on a shared machine, where
	// throughput does not. PostgresCPUSeconds is PostgreSQL's CPU time in
	// the same phase (-postgres-pid: the postmaster's process tree) and
	// ServerPostgresCPUMSPerVote ballotd's and PostgreSQL's together per
	// complete vote. LedgerBatch is the mean group-commit batch.
	ServerCPUSeconds           float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUMSPerVote         float64 `json:"server_cpu_ms_per_vote,omitempty"`
	PostgresCPUSeconds         float64 `json:"postgres_cpu_seconds,omitempty"`
	ServerPostgresCPUMSPerVote float64 `json:"server_postgres_cpu_ms_per_vote,omitempty"`
	LedgerBatch                float64 `json:"ledger_mean_batch,omitempty"`
	// RetryFor is -retry-for; Retries the requests sent again with the
	// saved state (RetriesByKind: "step: failure retried").
	// RepeatedAuthorisations were answered with the signature already
	// issued for the same blinded message, CastExisting with the existing
	// receipt of exactly the same entry (200), ReceiptsRecovered fetched by
	// tracker after a duplicate answer and verified against the entry.
	RetryFor               string         `json:"retry_for"`
	Retries                int            `json:"retries"`
	RetriesByKind          map[string]int `json:"retries_by_kind"`
	RepeatedAuthorisations int            `json:"repeated_authorisations"`
	CastExisting           int            `json:"cast_existing"`
	ReceiptsRecovered      int            `json:"receipts_recovered"`
}

// server fills the server figures from the metrics scraped before and
// after the timed phase.
func (sum *summary) server(before, after map[string]float64) {
	if before == nil || after == nil {
		return
	}
	cpu := after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
	sum.ServerCPUSeconds = round2(cpu)
	if sum.Complete > 0 {
		sum.ServerCPUMSPerVote = round2(cpu * 1000 / float64(sum.Complete))
	}
}

// postgres fills PostgreSQL's figures from its CPU seconds before and
// after the timed phase (negative: not measured). ballotd's are needed for
// the sum per vote.
func (sum *summary) postgres(before, after float64) {
	if before < 0 || after < 0 {
		return
	}
	sum.PostgresCPUSeconds = round2(after - before)
	if sum.Complete > 0 && sum.ServerCPUSeconds > 0 {
		sum.ServerPostgresCPUMSPerVote = round2((sum.ServerCPUSeconds + after - before) * 1000 / float64(sum.Complete))
	}
}

// batches fills the mean group-commit batch of the timed phase from the
// board's checkpoints before and after it (one per batch).
func (sum *summary) batches(before, after cpCount) {
	if !before.ok || !after.ok {
		return
	}
	if n := after.count - before.count; n > 0 {
		sum.LedgerBatch = round2(float64(after.size-before.size) / float64(n))
	}
}

func (s *stats) summarise(c *config, e *election, prep, elapsed time.Duration, started int, outs []*outcome, checked int, cfails map[string]int) *summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := &summary{
		Election: e.id, Concurrency: c.concurrency, ArrivalRate: c.rate, Requested: c.n, DurationLimit: c.duration.String(),
		PrepareSeconds: round2(prep.Seconds()), Started: started, Complete: s.done, Failed: s.failed,
		ElapsedSeconds: round2(elapsed.Seconds()), Steps: map[string]Latency{}, Errors: map[string]int{}, PerTarget: map[string]int{},
		ReceiptsChecked: len(outs), ConsistencyChecked: checked, Expected: map[string]map[string]int{},
		RetryFor: c.retryFor.String(), RetriesByKind: map[string]int{}, RepeatedAuthorisations: s.repeated,
		CastExisting: s.existed, ReceiptsRecovered: s.recovered,
	}
	for k, v := range s.retries {
		sum.RetriesByKind[k] = v
		sum.Retries += v
	}
	for _, t := range c.targets {
		sum.Targets = append(sum.Targets, t.String())
		sum.PerTarget[t.String()] = s.byTgt[t.String()]
	}
	sum.Prepared = len(s.lat[stepPaper])
	if elapsed > 0 {
		sum.VotesPerSecond = round2(float64(s.done) / elapsed.Seconds())
	}
	for _, st := range stepOrder {
		sum.Steps[st] = percentiles(s.lat[st])
	}
	for k, v := range s.errs {
		sum.Errors[k] = v
	}
	for k, v := range cfails {
		sum.Errors[k] += v
		sum.ConsistencyFailed += v
	}
	for _, q := range e.m.Questions {
		sum.Expected[q.ID] = map[string]int{}
		for _, o := range q.Options {
			sum.Expected[q.ID][o.ID] = 0
		}
	}
	for _, o := range outs {
		for qi, row := range o.v.choices {
			q := e.m.Questions[qi]
			for oi, mark := range row {
				sum.Expected[q.ID][q.Options[oi].ID] += mark
			}
		}
	}
	return sum
}

func (sum *summary) printTable(w io.Writer) {
	load := fmt.Sprintf("at concurrency %d", sum.Concurrency)
	if sum.ArrivalRate > 0 {
		load = fmt.Sprintf("open loop at %g/s (at most %d in flight)", sum.ArrivalRate, sum.Concurrency)
	}
	fmt.Fprintf(w, "\n%s: %d complete votes in %.2fs = %.1f votes/s %s over %d target(s); %d failed\n",
		sum.Election, sum.Complete, sum.ElapsedSeconds, sum.VotesPerSecond, load, len(sum.Targets), sum.Failed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tcount\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, st := range stepOrder {
		l := sum.Steps[st]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", st, l.Count, l.P50, l.P90, l.P99, l.Max)
	}
	tw.Flush()
	if len(sum.Errors) > 0 {
		fmt.Fprintln(w, "errors:")
		keys := make([]string, 0, len(sum.Errors))
		for k := range sum.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n", sum.Errors[k], k)
		}
	}
	if sum.Retries > 0 {
		fmt.Fprintf(w, "retries (same step, saved state; -retry-for %s): %d\n", sum.RetryFor, sum.Retries)
		keys := make([]string, 0, len(sum.RetriesByKind))
		for k := range sum.RetriesByKind {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n", sum.RetriesByKind[k], k)
		}
		fmt.Fprintf(w, "authorisations answered again with the same signature: %d; casts answered with the existing receipt: %d; receipts fetched by tracker after a duplicate: %d\n",
			sum.RepeatedAuthorisations, sum.CastExisting, sum.ReceiptsRecovered)
	}
	if sum.ServerCPUMSPerVote > 0 {
		fmt.Fprintf(w, "server CPU: %.2f ms per vote (%.1f s in the timed phase, PostgreSQL not included); mean ledger batch %.1f\n",
			sum.ServerCPUMSPerVote, sum.ServerCPUSeconds, sum.LedgerBatch)
	}
	if sum.ServerPostgresCPUMSPerVote > 0 {
		fmt.Fprintf(w, "server and PostgreSQL CPU: %.2f ms per vote (PostgreSQL %.1f s in the timed phase)\n",
			sum.ServerPostgresCPUMSPerVote, sum.PostgresCPUSeconds)
	}
	fmt.Fprintf(w, "receipts verified: %d; consistent with the latest checkpoint: %d of %d sampled\n",
		sum.ReceiptsChecked, sum.ConsistencyChecked, sum.ConsistencyChecked+sum.ConsistencyFailed)
	if len(sum.Targets) > 1 {
		for _, t := range sum.Targets {
			fmt.Fprintf(w, "  %s: %d votes\n", t, sum.PerTarget[t])
		}
	}
}

func (sum *summary) write(name string) error {
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(name, append(b, '\n'))
}
