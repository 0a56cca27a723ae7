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

// BenchmarkBatchVerify10k decodes and batch-verifies 10,000 two-question
// yes/no ballots (the industrial-action fixture: 30 decodes a ballot).
func BenchmarkBatchVerify10k(b *testing.B) { benchBatchVerify(b, load(b).e, yesNo, decodeFull) }

// BenchmarkBatchVerifyOnly10k batch-verifies 10,000 already decoded
// two-question yes/no ballots.
func BenchmarkBatchVerifyOnly10k(b *testing.B) { benchBatchVerify(b, load(b).e, yesNo, 0) }

// BenchmarkBatchVerify10kOneQ decodes and batch-verifies 10,000 one-question
// yes/no ballots (min 0, max 1, as the scrutineer fixture: 16 decodes).
func BenchmarkBatchVerify10kOneQ(b *testing.B) {
	benchBatchVerify(b, oneQuestion(b), yesNo1, decodeFull)
}

// BenchmarkBatchVerify10kOneQHinted is BenchmarkBatchVerify10kOneQ with
// decompression hints (protocol §4.5): the 16 inverse square roots a
// ballot checked instead of computed.
func BenchmarkBatchVerify10kOneQHinted(b *testing.B) {
	benchBatchVerify(b, oneQuestion(b), yesNo1, decodeHinted)
}

// BenchmarkParse10kOneQ and BenchmarkParse10kOneQHinted decode 10,000
// one-question ballots without verifying them: the decoding share of
// BenchmarkBatchVerify10kOneQ, in full and with hints.
func BenchmarkParse10kOneQ(b *testing.B) {
	benchBatchVerify(b, oneQuestion(b), yesNo1, decodeFull|noVerify)
}

func BenchmarkParse10kOneQHinted(b *testing.B) {
	benchBatchVerify(b, oneQuestion(b), yesNo1, decodeHinted|noVerify)
}

const (
	decodeFull = 1 << iota
	decodeHinted
	noVerify
)

// BenchmarkBatchVerifyOnly10kOneQ batch-verifies 10,000 already decoded
// one-question yes/no ballots.
func BenchmarkBatchVerifyOnly10kOneQ(b *testing.B) {
	benchBatchVerify(b, oneQuestion(b), yesNo1, 0)
}

var yesNo1 = [][]int{{1, 0}}

// oneQuestion is the fixture election with only its second question
// ("asos": yes/no, min 0, max 1), the shape of a one-question yes/no ballot.
func oneQuestion(b *testing.B) *Election {
	m := *load(b).m
	m.Questions = m.Questions[1:2]
	e, err := NewElection(&m)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchBatchVerify batch-verifies 10,000 ballots of e with the given marks
// (64 distinct ballots, reused: encryption is slow), decoding them first if
// mode says so (in full or with hints), and reports ballots/s and CPU-µs a
// ballot.
func benchBatchVerify(b *testing.B, e *Election, choices [][]int, mode int) {
	const n = 10000
	proto := make([]*Ballot, 64)
	protoBin := make([][]byte, len(proto))
	protoHints := make([][]byte, len(proto))
	for i := range proto {
		bl, _, err := e.Encrypt(rand.Reader, i%2, choices)
		if err != nil {
			b.Fatal(err)
		}
		proto[i] = bl
		protoBin[i], _ = bl.MarshalBinary()
		if protoHints[i], err = e.Hints(protoBin[i]); err != nil {
			b.Fatal(err)
		}
	}
	bs := make([]*Ballot, n)
	bins := make([][]byte, n)
	hints := make([][]byte, n)
	for i := range bs {
		bs[i] = proto[i%len(proto)]
		bins[i] = protoBin[i%len(proto)]
		hints[i] = protoHints[i%len(proto)]
	}
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		switch {
		case mode&decodeFull != 0:
			var bad []error
			bs, bad = e.ParseAll(bins)
			if len(bad) != 0 {
				b.Fatal("parse", bad)
			}
		case mode&decodeHinted != 0:
			var bad []error
			bs, bad = e.ParseAllHinted(bins, hints)
			if len(bad) != 0 {
				b.Fatal("parse", bad)
			}
		}
		if mode&noVerify != 0 {
			continue
		}
		if bad := e.BatchVerify(bs); bad != nil {
			b.Fatal(bad)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "ballots/s")
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(n*b.N), "cpu-µs/ballot")
}

// BenchmarkCompareV1V3 compares, in one run, the one-question yes/no ballot
// of version 1 (two selections and a sum proof: 16 elements, 6 branches)
// with the compact ballot of version 3 (one ciphertext and one 3-branch
// proof: 8 elements), 10,000 ballots each: decode in full and
// batch-verify, decode with hints and batch-verify, and batch-verify
// already-decoded ballots. docs/benchmarks.md records the ratios.
func BenchmarkCompareV1V3(b *testing.B) {
	v1 := oneQuestion(b)
	m := compactOf(b, load(b).m)
	m.Questions = m.Questions[1:2]
	v3, err := NewElection(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		mode int
	}{{"decode+verify", decodeFull}, {"hinted+verify", decodeHinted}, {"verify-only", 0}} {
		for _, v := range []struct {
			name string
			e    *Election
		}{{"v1", v1}, {"v3", v3}} {
			b.Run(mode.name+"/"+v.name, func(b *testing.B) { benchBatchVerify(b, v.e, yesNo1, mode.mode) })
		}
	}
}
