package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/crypto/verify"
)

func testBatch(id string, style int, yes, no, spoilt int64) paper.Batch {
	t := paper.Totals{Papers: yes + no + spoilt, Questions: []paper.QuestionTotals{{Options: []int64{yes, no}, Spoilt: spoilt}}}
	return paper.Batch{BatchID: id, Channel: paper.ChannelPostal, Style: style,
		Keyings: []paper.Keying{{Keyer: "staff-1", Totals: t}, {Keyer: "staff-2", Totals: t}}}
}

// The paper section takes batches only between the close of voting and the
// close of the count; each is signed, chained and checked by crypto/paper's
// Counter; bad batches are refused naming the problem and change nothing.
func TestPaperSection(t *testing.T) {
	l, f, _ := newOpenLedger(t)
	ctx := context.Background()
	if _, _, err := l.AppendPaperBatch(ctx, testElection, testBatch("p1", 0, 3, 1, 0)); !errors.Is(err, ErrCountNotOpen) {
		t.Fatalf("batch before the close: %v", err)
	}
	if _, err := l.Close(ctx, testElection); err != nil {
		t.Fatal(err)
	}
	seq, existed, err := l.AppendPaperBatch(ctx, testElection, testBatch("p1", 0, 3, 1, 0))
	if err != nil || seq != 0 || existed {
		t.Fatalf("first batch: %d %v %v", seq, existed, err)
	}
	if seq, existed, err = l.AppendPaperBatch(ctx, testElection, testBatch("p1", 0, 3, 1, 0)); err != nil || seq != 0 || !existed {
		t.Fatalf("same batch again: %d %v %v", seq, existed, err)
	}
	bad := map[string]paper.Batch{
		"other totals, same id": testBatch("p1", 0, 2, 2, 0),
		"not a style":           testBatch("p2", 9, 1, 0, 0),
	}
	disagree := testBatch("p3", 1, 1, 1, 0)
	disagree.Keyings[1].Totals = paper.Totals{Papers: 2, Questions: []paper.QuestionTotals{{Options: []int64{2, 0}}}}
	bad["keyings disagree"] = disagree
	same := testBatch("p4", 1, 1, 1, 0)
	same.Keyings[1].Keyer = "staff-1"
	bad["one keyer"] = same
	sums := testBatch("p5", 1, 1, 1, 0)
	sums.Keyings[0].Totals.Papers, sums.Keyings[1].Totals.Papers = 3, 3
	bad["counts do not add up"] = sums
	for name, b := range bad {
		if _, _, err := l.AppendPaperBatch(ctx, testElection, b); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, _, err := l.AppendPaperBatch(ctx, testElection, testBatch("p6", 1, 0, 2, 1)); err != nil {
		t.Fatal(err)
	}
	returns := []paper.StyleReturns{{Style: "workplace-a", Postal: 4}, {Style: "workplace-b", Postal: 3}}
	m, err := manifest.Parse(f.manifestJSON)
	if err != nil {
		t.Fatal(err)
	}
	for i := range returns {
		returns[i].Style = m.Styles[i].ID
	}
	if err := l.ClosePaper(ctx, testElection, returns); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.AppendPaperBatch(ctx, testElection, testBatch("p7", 1, 1, 0, 0)); !errors.Is(err, ErrPaperClosed) {
		t.Fatalf("batch after the count's close: %v", err)
	}
	batches, cl, err := l.Paper(ctx, testElection)
	if err != nil || len(batches) != 2 || cl == nil {
		t.Fatalf("paper section: %d batches, close %v, %v", len(batches), cl, err)
	}
	c, err := paper.NewCounter(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if fs := c.Batch(b.Body, b.Signed); fs != nil {
			t.Fatal(fs)
		}
	}
	if fs := c.Close(cl.Body, cl.Signed); fs != nil {
		t.Fatal(fs)
	}
	if closed, fs := c.Finish(); !closed || fs != nil {
		t.Fatal(closed, fs)
	}
	if got := c.Sums(1, paper.ChannelPostal); got.Papers != 3 || got.Questions[0].Options[1] != 2 {
		t.Fatalf("sums %+v", got)
	}
	if _, err := l.pool.Exec(ctx, `UPDATE ledger_paper_batches SET batch_id = 'x'`); err == nil {
		t.Fatal("the paper section is not append-only")
	}

	// The export carries the paper section (version 3); the verifier
	// checks it, and names a tampered, dropped or re-ordered batch.
	var exp bytes.Buffer
	if err := l.Export(ctx, &exp, testElection, -1, nil); err != nil {
		t.Fatal(err)
	}
	v, err := verify.Verify(ctx, bytes.NewReader(exp.Bytes()), verify.Options{})
	if err != nil || !v.OK() || v.Paper == nil || v.Paper.Counted != 2 {
		t.Fatalf("verify: %v %+v", err, v.Failures)
	}
	if v.Header.Version != export.PaperVersion {
		t.Fatalf("export version %d", v.Header.Version)
	}
	lines := strings.SplitAfter(exp.String(), "\n")
	var batchLines []int
	for i, ln := range lines {
		if strings.HasPrefix(ln, `{"batch":"`) {
			batchLines = append(batchLines, i)
		}
	}
	if len(batchLines) != 2 {
		t.Fatalf("%d batch lines", len(batchLines))
	}
	tampered := func(edit func([]string) []string) *verify.Result {
		t.Helper()
		ls := edit(slices.Clone(lines))
		v, err := verify.Verify(ctx, strings.NewReader(strings.Join(ls, "")), verify.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if v.OK() {
			t.Fatal("a tampered paper section verified")
		}
		t.Log(v.Failures)
		return v
	}
	// Totals changed (one more Yes, one fewer No, still adding up).
	v = tampered(func(ls []string) []string {
		var bl struct{ Type, Batch, Note string }
		if err := json.Unmarshal([]byte(ls[batchLines[1]]), &bl); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(bl.Batch)
		raw = bytes.ReplaceAll(raw, []byte(`"options":[0,2]`), []byte(`"options":[1,1]`))
		bl.Batch = base64.StdEncoding.EncodeToString(raw)
		j, err := json.Marshal(struct {
			Batch string `json:"batch"`
			Note  string `json:"note"`
			Type  string `json:"type"`
		}{bl.Batch, bl.Note, "batch"})
		if err != nil {
			t.Fatal(err)
		}
		ls[batchLines[1]] = string(j) + "\n"
		return ls
	})
	if f := v.Failures[0]; f.Item != "batch" || f.Index != 1 || f.Check != paper.CheckBatchSignature {
		t.Fatalf("tampered totals: %+v", v.Failures)
	}
	if v.Paper.Counted != 1 {
		t.Fatalf("a tampered batch was counted")
	}
	// A batch dropped.
	v = tampered(func(ls []string) []string { return slices.Delete(ls, batchLines[0], batchLines[0]+1) })
	if !hasFailure(v, "batch", paper.CheckBatchSignature) || !hasFailure(v, "paper_close", paper.CheckCloseSignature) || hasFailure(v, "paper_close", paper.CheckCloseChain) {
		t.Fatalf("dropped batch: %+v", v.Failures)
	}
	// Two batches swapped.
	v = tampered(func(ls []string) []string {
		ls[batchLines[0]], ls[batchLines[1]] = ls[batchLines[1]], ls[batchLines[0]]
		return ls
	})
	if !hasFailure(v, "batch", paper.CheckBatchSignature) {
		t.Fatalf("swapped batches: %+v", v.Failures)
	}
}

func hasFailure(v *verify.Result, item, check string) bool {
	for _, f := range v.Failures {
		if f.Item == item && f.Check == check {
			return true
		}
	}
	return false
}
