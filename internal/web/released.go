package web

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ReleaseEvery is the schedule of the released metrics: the turnout
// release's (internal/gotv), so that no counter shows ballots or
// authorisations at a finer grain than organisers see turnout, and no
// finer than the hour the public ledger gives each entry.
const ReleaseEvery = time.Hour

// Released is a Prometheus gatherer that shows the metrics registered on
// it as they were at the last release, taken at each ReleaseEvery
// boundary by [Released.Run]. Before the first release it shows nothing.
type Released struct {
	*prometheus.Registry
	mu   sync.Mutex
	snap []*dto.MetricFamily
}

// NewReleased returns an empty released registry.
func NewReleased() *Released {
	return &Released{Registry: prometheus.NewRegistry()}
}

// Gather returns the last release.
func (r *Released) Gather() ([]*dto.MetricFamily, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap, nil
}

// Release takes a snapshot of the registry now.
func (r *Released) Release() error {
	snap, err := r.Registry.Gather()
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.snap = snap
	r.mu.Unlock()
	return nil
}

// Run releases at every ReleaseEvery boundary until ctx ends.
func (r *Released) Run(ctx context.Context) {
	for {
		now := time.Now()
		next := now.Truncate(ReleaseEvery).Add(ReleaseEvery)
		select {
		case <-ctx.Done():
			return
		case <-time.After(next.Sub(now)):
			_ = r.Release() // gathering our own collectors does not fail
		}
	}
}
