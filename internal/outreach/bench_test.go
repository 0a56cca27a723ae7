package outreach_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/unionvote/eballot/internal/outreach"
)

// BenchmarkClaim measures a volunteer's claim of a batch of 25 from a
// register of n members: the claim reads the ballot's whole register to
// pick its pool (docs/volunteers.md "Known limitations"; figures in
// docs/benchmarks.md). Each iteration claims a fresh batch (the previous
// one is released outside the timer).
//
//	go test ./internal/outreach/ -run '^$' -bench BenchmarkClaim -benchtime 20x
func BenchmarkClaim(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprintf("register=%d", n), func(b *testing.B) {
			ctx := context.Background()
			w := newWorld(b, n, gotvConfig()) // a third in branch North, contacts frozen at opening
			camp, err := w.out.CreateCampaign(ctx, w.org, w.b.ID, outreach.CampaignInput{Name: "Bench", Source: outreach.SourceSelfReported,
				Script: "Hi {first_name}, have you voted?"})
			if err != nil {
				b.Fatal(err)
			}
			v := w.volunteer(b, camp, "Vol Bench", "branch", "North", 1)
			if err := w.out.AcceptConduct(ctx, v); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := w.out.Claim(ctx, v, "")
				if err != nil || got != 25 {
					b.Fatalf("claim %d: %d, %v", i, got, err)
				}
				b.StopTimer()
				if _, err := w.pool.Exec(ctx, `UPDATE outreach_conversations SET expires_at = claimed_at WHERE first_sent_at IS NULL`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
