package paper

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/manifest"
)

type world struct {
	m      *manifest.Manifest
	signer note.Signer
}

func newWorld(t testing.TB) *world {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "ledger.paper.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{ElectionID: "paper-test", LogKey: vkey,
		Questions: []manifest.Question{{ID: "strike", Max: 1, Options: []manifest.Option{{ID: "yes"}, {ID: "no"}}},
			{ID: "asos", Max: 1, Options: []manifest.Option{{ID: "yes"}, {ID: "no"}}}},
		Styles: []manifest.Style{{ID: "depot-a", Entitled: 100}, {ID: "depot-b", Entitled: 100}}}
	return &world{m: m, signer: signer}
}

func totals(papers int64, yes, no, blank, spoilt int64) Totals {
	q := QuestionTotals{Options: []int64{yes, no}, Blank: blank, Spoilt: spoilt}
	return Totals{Papers: papers, Questions: []QuestionTotals{q, q}}
}

func (w *world) batch(seq int64, prev string, style int, channel string, t Totals) *Batch {
	b := &Batch{BatchID: "b" + strings.Repeat("x", int(seq)) + channel, Channel: channel, ElectionID: w.m.ElectionID,
		Keyings: []Keying{{Keyer: "staff-1", Totals: t}, {Keyer: "staff-2", Totals: t}}, Prev: prev, Seq: seq, Style: style}
	if channel == ChannelWorkplace {
		b.Box = "box-1"
	}
	return b
}

func (w *world) sign(t testing.TB, b *Batch) (raw, signed []byte) {
	t.Helper()
	raw, signed, err := SignBatch(w.signer, b)
	if err != nil {
		t.Fatal(err)
	}
	return raw, signed
}

func (w *world) close(t testing.TB, n int64, head string, postal, workplace int64) (raw, signed []byte) {
	t.Helper()
	c := &Close{Batches: n, ElectionID: w.m.ElectionID, Head: head,
		Styles: []StyleReturns{{Style: "depot-a", Postal: postal, Workplace: workplace, VotedOnline: 1, Late: 2}, {Style: "depot-b"}}}
	raw, signed, err := SignClose(w.signer, c)
	if err != nil {
		t.Fatal(err)
	}
	return raw, signed
}

func TestCounterSumsValidBatches(t *testing.T) {
	w := newWorld(t)
	c, err := NewCounter(w.m)
	if err != nil {
		t.Fatal(err)
	}
	r0, s0 := w.sign(t, w.batch(0, ZeroHash, 0, ChannelPostal, totals(10, 6, 3, 1, 0)))
	if fs := c.Batch(r0, s0); fs != nil {
		t.Fatal(fs)
	}
	r1, s1 := w.sign(t, w.batch(1, Hash(r0), 0, ChannelWorkplace, totals(5, 1, 2, 0, 2)))
	if fs := c.Batch(r1, s1); fs != nil {
		t.Fatal(fs)
	}
	rc, sc := w.close(t, 2, Hash(r1), 10, 5)
	if fs := c.Close(rc, sc); fs != nil {
		t.Fatal(fs)
	}
	closed, fs := c.Finish()
	if !closed || fs != nil {
		t.Fatal(closed, fs)
	}
	if p := c.Sums(0, ChannelPostal); p.Papers != 10 || p.Questions[1].Options[0] != 6 {
		t.Fatalf("postal sums %+v", p)
	}
	if p := c.Sums(0, ChannelWorkplace); p.Papers != 5 || p.Questions[0].Spoilt != 2 {
		t.Fatalf("workplace sums %+v", p)
	}
	if c.Counted != 2 {
		t.Fatal(c.Counted)
	}
}

// Every way a batch can be wrong is named, and the batch is not counted.
func TestCounterNamesBadBatches(t *testing.T) {
	w := newWorld(t)
	good := func() *Batch { return w.batch(0, ZeroHash, 0, ChannelPostal, totals(4, 2, 1, 1, 0)) }
	cases := []struct {
		name  string
		check string
		mk    func() (raw, signed []byte)
	}{
		{"keyings disagree", CheckBatchKeyings, func() ([]byte, []byte) {
			b := good()
			b.Keyings[1].Totals = totals(4, 1, 2, 1, 0)
			return w.sign(t, b)
		}},
		{"one keyer twice", CheckBatchKeyers, func() ([]byte, []byte) {
			b := good()
			b.Keyings[1].Keyer = b.Keyings[0].Keyer
			return w.sign(t, b)
		}},
		{"not a workplace ballot", CheckBatchStyle, func() ([]byte, []byte) {
			b := good()
			b.Style = 7
			return w.sign(t, b)
		}},
		{"counts do not add up", CheckBatchTotals, func() ([]byte, []byte) {
			return w.sign(t, w.batch(0, ZeroHash, 0, ChannelPostal, totals(5, 2, 1, 1, 0)))
		}},
		{"wrong shape", CheckBatchTotals, func() ([]byte, []byte) {
			b := good()
			for i := range b.Keyings {
				b.Keyings[i].Totals.Questions = b.Keyings[i].Totals.Questions[:1]
			}
			return w.sign(t, b)
		}},
		{"chain", CheckBatchChain, func() ([]byte, []byte) {
			b := good()
			b.Prev = strings.Repeat("a", 64)
			return w.sign(t, b)
		}},
		{"other election", CheckBatchElection, func() ([]byte, []byte) {
			b := good()
			b.ElectionID = "other"
			raw, _ := w.sign(t, b)
			signed, err := note.Sign(&note.Note{Text: BatchNoteText(w.m.ElectionID, 0, raw)}, w.signer)
			if err != nil {
				t.Fatal(err)
			}
			return raw, signed
		}},
		{"tampered totals", CheckBatchSignature, func() ([]byte, []byte) {
			raw, signed := w.sign(t, good())
			return bytes.Replace(raw, []byte(`"papers":4`), []byte(`"papers":5`), 2), signed
		}},
		{"signed by another key", CheckBatchSignature, func() ([]byte, []byte) {
			other := newWorld(t)
			return other.sign(t, good())
		}},
		{"a second signature (a witness)", CheckBatchSignature, func() ([]byte, []byte) {
			raw, signed := w.sign(t, good())
			other := newWorld(t)
			_, theirs := other.sign(t, good())
			sig := theirs[bytes.LastIndex(theirs, []byte("\n\n"))+2:]
			return raw, append(append([]byte{}, signed...), sig...)
		}},
		{"signature not canonical base64 (x/mod/note would open it)", CheckBatchSignature, func() ([]byte, []byte) {
			raw, signed := w.sign(t, good())
			// The key hash and an Ed25519 signature are 68 bytes: base64
			// ends in one "="; the character before it carries 2 unused
			// bits, flip one of them.
			i := bytes.LastIndex(signed, []byte("=\n")) - 1
			if i < 0 {
				t.Fatalf("signature does not end in one '=': %q", signed)
			}
			out := append([]byte{}, signed...)
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			out[i] = alphabet[strings.IndexByte(alphabet, out[i])^1]
			return raw, out
		}},
		{"not canonical", CheckBatchEncoding, func() ([]byte, []byte) {
			raw, signed := w.sign(t, good())
			return append([]byte(" "), raw...), signed
		}},
		{"unknown member", CheckBatchEncoding, func() ([]byte, []byte) {
			raw, signed := w.sign(t, good())
			return bytes.Replace(raw, []byte(`{"batch_id"`), []byte(`{"a":1,"batch_id"`), 1), signed
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCounter(w.m)
			if err != nil {
				t.Fatal(err)
			}
			raw, signed := tc.mk()
			fs := c.Batch(raw, signed)
			if len(fs) == 0 || fs[0].Check != tc.check {
				t.Fatalf("failures %v, want %s", fs, tc.check)
			}
			if c.Counted != 0 || c.Sums(0, ChannelPostal).Papers != 0 {
				t.Fatal("a bad batch was counted")
			}
		})
	}
}

func TestCounterCloseChecks(t *testing.T) {
	w := newWorld(t)
	run := func(postalReturned int64, head string, n int64) []Failure {
		c, err := NewCounter(w.m)
		if err != nil {
			t.Fatal(err)
		}
		r0, s0 := w.sign(t, w.batch(0, ZeroHash, 0, ChannelPostal, totals(10, 6, 3, 1, 0)))
		if fs := c.Batch(r0, s0); fs != nil {
			t.Fatal(fs)
		}
		if head == "" {
			head = Hash(r0)
		}
		rc, sc := w.close(t, n, head, postalReturned, 0)
		fs := c.Close(rc, sc)
		_, more := c.Finish()
		return append(fs, more...)
	}
	if fs := run(10, "", 1); fs != nil {
		t.Fatal(fs)
	}
	if fs := run(9, "", 1); len(fs) != 1 || fs[0].Check != CheckReturned || fs[0].Style != 0 {
		t.Fatalf("more counted than returned: %v", fs)
	}
	if fs := run(10, ZeroHash, 1); len(fs) != 1 || fs[0].Check != CheckCloseChain {
		t.Fatalf("a dropped batch: %v", fs)
	}
	if fs := run(10, "", 0); len(fs) != 1 || fs[0].Check != CheckCloseSignature {
		t.Fatalf("close signed for another batch count: %v", fs)
	}
}

func TestParseRejects(t *testing.T) {
	w := newWorld(t)
	raw, _ := w.sign(t, w.batch(0, ZeroHash, 0, ChannelPostal, totals(1, 1, 0, 0, 0)))
	if _, err := ParseBatch(raw); err != nil {
		t.Fatal(err)
	}
	one := w.batch(0, ZeroHash, 0, ChannelPostal, totals(1, 1, 0, 0, 0))
	one.Keyings = one.Keyings[:1]
	oneRaw, err := canonical(one)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"one keying":     string(oneRaw),
		"postal box":     strings.Replace(string(raw), `"box":""`, `"box":"x"`, 1),
		"channel":        strings.Replace(string(raw), `"postal"`, `"email"`, 1),
		"negative":       strings.Replace(string(raw), `"blank":0`, `"blank":-1`, 1),
		"prev not hex":   strings.Replace(string(raw), ZeroHash, strings.Repeat("g", 64), 1),
		"keyer with '/'": strings.Replace(string(raw), `staff-1`, `staff/1`, 1),
	} {
		if _, err := ParseBatch([]byte(bad)); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}

func FuzzParseBatch(f *testing.F) {
	w := newWorld(f)
	raw, _ := w.sign(f, w.batch(0, ZeroHash, 1, ChannelWorkplace, totals(3, 1, 1, 1, 0)))
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseBatch(b)
		if err != nil {
			return
		}
		again, err := x.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes that do not re-encode identically: %q", b)
		}
	})
}

func FuzzParseClose(f *testing.F) {
	w := newWorld(f)
	raw, _ := w.close(f, 0, ZeroHash, 1, 2)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseClose(b)
		if err != nil {
			return
		}
		again, err := x.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes that do not re-encode identically: %q", b)
		}
	})
}
