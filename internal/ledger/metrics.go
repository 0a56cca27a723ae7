package ledger

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	appended  prometheus.Counter
	batchSize prometheus.Histogram
	batches   *prometheus.CounterVec
	commit    prometheus.Histogram
	latency   prometheus.Histogram
	rejected  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eballot_ledger_appended_ballots_total", Help: "Ballots appended to the ledger.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "eballot_ledger_batch_size", Help: "Ballots appended per transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
		}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eballot_ledger_batches_total",
			Help: "Batches of casts closed, by why: full (EBALLOT_BATCH_MAX casts), busy (EBALLOT_BATCH_MIN casts and EBALLOT_BATCH_MIN_WAIT old) or wait (EBALLOT_BATCH_WAIT after the first cast).",
		}, []string{"close"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "eballot_ledger_commit_seconds", Help: "Duration of one append transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "eballot_ledger_append_seconds", Help: "Latency of an accepted cast, from arrival to receipt.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eballot_ledger_rejections_total", Help: "Casts refused, by error code.",
		}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.appended, m.batchSize, m.batches, m.commit, m.latency, m.rejected)
	}
	return m
}
