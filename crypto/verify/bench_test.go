package verify_test

import (
	"context"
	"os"
	"testing"

	"github.com/unionvote/eballot/crypto/verify"
)

// BenchmarkVerify1k verifies a generated export of 1,000 yes/no ballots.
func BenchmarkVerify1k(b *testing.B) {
	f := load(b, 1000)
	b.SetBytes(int64(len(f.exp)))
	for b.Loop() {
		if res := run(b, f.exp); !res.OK() {
			b.Fatal(res.Failures)
		}
	}
	b.ReportMetric(float64(f.n)*float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
}

// BenchmarkVerifyFile verifies the export named by $EBALLOT_EXPORT (for
// example one written by `scrutineer fixture --ballots 1000000`).
func BenchmarkVerifyFile(b *testing.B) {
	path := os.Getenv("EBALLOT_EXPORT")
	if path == "" {
		b.Skip("set EBALLOT_EXPORT to an export file")
	}
	var n int64
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		res, err := verify.Verify(context.Background(), f, verify.Options{})
		f.Close()
		if err != nil || !res.OK() {
			b.Fatal(err, res.Failures)
		}
		n += res.Entries
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ballots/s")
}
