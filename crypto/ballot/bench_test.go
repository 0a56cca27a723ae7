package ballot

import (
	"crypto/rand"
	"testing"
)

var yesNo = [][]int{{1, 0}, {0, 1}}

// BenchmarkEncrypt encrypts and proves one two-question yes/no ballot.
func BenchmarkEncrypt(b *testing.B) {
	f := load(b)
	for b.Loop() {
		if _, _, err := f.e.Encrypt(rand.Reader, 0, yesNo); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies one two-question yes/no ballot (decode + proofs).
func BenchmarkVerify(b *testing.B) {
	f := load(b)
	bl, _, _ := f.e.Encrypt(rand.Reader, 0, yesNo)
	bin, _ := bl.MarshalBinary()
	for b.Loop() {
		x, err := f.e.Parse(bin)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.e.Verify(x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchVerify10k decodes and batch-verifies 10,000 yes/no ballots.
func BenchmarkBatchVerify10k(b *testing.B) {
	f := load(b)
	const n = 10000
	bins := make([][]byte, n)
	proto := make([][]byte, 64)
	for i := range proto {
		bl, _, err := f.e.Encrypt(rand.Reader, i%2, yesNo)
		if err != nil {
			b.Fatal(err)
		}
		proto[i], _ = bl.MarshalBinary()
	}
	for i := range bins {
		bins[i] = proto[i%len(proto)] // encryption is slow; reuse 64 distinct ballots
	}
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		bs, bad := f.e.ParseAll(bins)
		if len(bad) != 0 {
			b.Fatal("parse", bad)
		}
		if bad := f.e.BatchVerify(bs); bad != nil {
			b.Fatal(bad)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "ballots/s")
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(n*b.N), "cpu-µs/ballot")
}

// BenchmarkBatchVerifyOnly10k batch-verifies 10,000 already decoded ballots.
func BenchmarkBatchVerifyOnly10k(b *testing.B) {
	f := load(b)
	const n = 10000
	proto := make([]*Ballot, 64)
	for i := range proto {
		proto[i], _, _ = f.e.Encrypt(rand.Reader, i%2, yesNo)
	}
	bs := make([]*Ballot, n)
	for i := range bs {
		bs[i] = proto[i%len(proto)]
	}
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if bad := f.e.BatchVerify(bs); bad != nil {
			b.Fatal(bad)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "ballots/s")
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(n*b.N), "cpu-µs/ballot")
}
