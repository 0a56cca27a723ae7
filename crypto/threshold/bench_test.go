package threshold

import "testing"

func BenchmarkPartialDecrypt(b *testing.B) {
	r := runCeremony(b, 3, 2, 0, 0, false)
	alphas := testAlphas(1)
	rnd := testRand("bench")
	for b.Loop() {
		if _, err := PartialDecrypt(rnd, r.pub, r.secrets[0], testMH[:], alphas); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPartial(b *testing.B) {
	r := runCeremony(b, 3, 2, 0, 0, false)
	alphas := testAlphas(1)
	p, _ := PartialDecrypt(testRand("bench"), r.pub, r.secrets[0], testMH[:], alphas)
	for b.Loop() {
		if err := VerifyPartial(r.pub, testMH[:], alphas, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeal(b *testing.B) {
	rnd := testRand("bench")
	for b.Loop() {
		if _, _, err := Deal(rnd, "bench", 7, 4, 1); err != nil {
			b.Fatal(err)
		}
	}
}
