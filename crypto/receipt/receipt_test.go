package receipt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type receiptVectors struct {
	Description      string   `json:"description"`
	ElectionID       string   `json:"election_id"`
	Origin           string   `json:"origin"`
	LedgerKeySeed    string   `json:"ledger_key_seed"`
	SignerKey        string   `json:"signer_key"`
	VerifierKey      string   `json:"verifier_key"`
	OtherVerifierKey string   `json:"other_verifier_key"`
	ManifestHash     string   `json:"manifest_hash"`
	Entries          []string `json:"entries"`
	Leaves           []string `json:"leaves"`
	Roots            []struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
	} `json:"roots"`
	Checkpoints []struct {
		Size   int64  `json:"size"`
		Text   string `json:"text"`
		Signed string `json:"signed"`
	} `json:"checkpoints"`
	InclusionProofs []struct {
		Index int64    `json:"index"`
		Size  int64    `json:"size"`
		Proof []string `json:"proof"`
	} `json:"inclusion_proofs"`
	ConsistencyProofs []struct {
		Old   int64    `json:"old"`
		New   int64    `json:"new"`
		Proof []string `json:"proof"`
	} `json:"consistency_proofs"`
	Receipt struct {
		Receipt          json.RawMessage `json:"receipt"`
		Entry            string          `json:"entry"`
		LaterCheckpoint  string          `json:"later_checkpoint"`
		ConsistencyProof []string        `json:"consistency_proof"`
	} `json:"receipt"`
	InvalidReceipts []struct {
		Name        string          `json:"name"`
		Stage       string          `json:"stage"`
		Receipt     json.RawMessage `json:"receipt"`
		Entry       string          `json:"entry"`
		Later       string          `json:"later_checkpoint"`
		Consistency []string        `json:"consistency_proof"`
	} `json:"invalid_receipts"`
	InvalidCheckpoints []struct {
		Name   string `json:"name"`
		Signed string `json:"signed"`
	} `json:"invalid_checkpoints"`
	Closes []struct {
		Signed   string `json:"signed"`
		Size     int64  `json:"size"`
		ClosedAt string `json:"closed_at"`
	} `json:"closes"`
}

func loadVectors(t testing.TB) *receiptVectors {
	t.Helper()
	var v receiptVectors
	vectortest.Load(t, "receipt_v1.json", &v)
	return &v
}

func hash(t testing.TB, s string) tlog.Hash {
	var h tlog.Hash
	if copy(h[:], vectortest.Unhex(t, s)) != 32 {
		t.Fatal("bad hash")
	}
	return h
}

func hashes(t testing.TB, ss []string) []tlog.Hash {
	out := []tlog.Hash{}
	for _, s := range ss {
		out = append(out, hash(t, s))
	}
	return out
}

func compact(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	if Origin(v.ElectionID) != v.Origin {
		t.Fatal("origin")
	}
	var leaves []tlog.Hash
	var ml MemoryLog
	for i, e := range v.Entries {
		eb := vectortest.Unhex(t, e)
		l := LeafHash(eb)
		if l != hash(t, v.Leaves[i]) {
			t.Fatalf("leaf %d", i)
		}
		tr, err := Tracker(eb[TrackerSize+AuthorisationSize:])
		if err != nil || !bytes.Equal(tr[:], eb[:TrackerSize]) {
			t.Fatalf("tracker %d", i)
		}
		re, err := EntryBytes(eb[:32], eb[32:320], eb[320:])
		if err != nil || !bytes.Equal(re, eb) {
			t.Fatal("EntryBytes")
		}
		leaves = append(leaves, l)
		ml.Append(eb)
	}
	for _, r := range v.Roots {
		if RootFromLeaves(leaves[:r.Size]) != hash(t, r.Root) {
			t.Errorf("RootFromLeaves(%d)", r.Size)
		}
		c, err := ml.Checkpoint(v.Origin, r.Size)
		if err != nil || c.Root != hash(t, r.Root) {
			t.Errorf("MemoryLog root %d", r.Size)
		}
	}
	cps := map[int64]Checkpoint{}
	for _, c := range v.Checkpoints {
		cp, err := OpenCheckpoint([]byte(c.Signed), v.VerifierKey)
		if err != nil {
			t.Fatal(err)
		}
		if f, _ := cp.Format(); string(f) != c.Text || cp.Size != c.Size || cp.Root != hash(t, v.Roots[c.Size].Root) {
			t.Fatalf("checkpoint %d", c.Size)
		}
		if _, err := OpenCheckpoint([]byte(c.Signed), v.OtherVerifierKey); err == nil {
			t.Fatal("other key opens checkpoint")
		}
		s, _ := note.NewSigner(v.SignerKey)
		if re, _ := SignCheckpoint(cp, s); string(re) != c.Signed {
			t.Fatal("Ed25519 signing not deterministic?")
		}
		cps[c.Size] = cp
	}
	root := func(n int64) Checkpoint {
		return Checkpoint{Origin: v.Origin, Size: n, Root: hash(t, v.Roots[n].Root)}
	}
	for _, p := range v.InclusionProofs {
		pr := hashes(t, p.Proof)
		if err := VerifyInclusion(root(p.Size), p.Index, leaves[p.Index], pr); err != nil {
			t.Fatal(err)
		}
		if got, _ := ml.ProveInclusion(p.Size, p.Index); len(got) != len(pr) {
			t.Fatal("ProveInclusion")
		}
		if VerifyInclusion(root(p.Size), p.Index, leaves[(p.Index+1)%p.Size], pr) == nil && p.Size > 1 {
			t.Fatal("other leaf included")
		}
	}
	for _, p := range v.ConsistencyProofs {
		pr := hashes(t, p.Proof)
		if err := VerifyConsistency(root(p.Old), root(p.New), pr); err != nil {
			t.Fatalf("consistency %d→%d: %v", p.Old, p.New, err)
		}
		bad := root(p.Old)
		bad.Root[3] ^= 1
		if VerifyConsistency(bad, root(p.New), pr) == nil {
			t.Fatal("forked old root accepted")
		}
	}

	// The valid receipt.
	rv := v.Receipt
	r, err := ParseReceipt(rv.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := json.Marshal(r); !bytes.Equal(j, compact(t, rv.Receipt)) {
		t.Fatal("receipt JSON round trip")
	}
	entry := vectortest.Unhex(t, rv.Entry)
	c, err := VerifyReceipt(r, v.VerifierKey, entry)
	if err != nil {
		t.Fatal(err)
	}
	if c != cps[c.Size] {
		t.Fatal("receipt checkpoint")
	}
	if _, err := VerifyReceiptLeaf(r, v.VerifierKey, LeafHash(entry)); err != nil {
		t.Fatal(err)
	}
	lc, err := VerifyReceiptAgainst(r, v.VerifierKey, entry, []byte(rv.LaterCheckpoint), hashes(t, rv.ConsistencyProof))
	if err != nil || lc.Size != 7 {
		t.Fatal(err)
	}
	if _, err := VerifyReceipt(r, v.OtherVerifierKey, entry); err == nil {
		t.Fatal("receipt verifies under another key")
	}

	for _, c := range v.InvalidReceipts {
		r, err := ParseReceipt(c.Receipt)
		if c.Stage == "parse" {
			if err == nil {
				t.Errorf("%s: parses", c.Name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: does not parse: %v", c.Name, err)
			continue
		}
		e := vectortest.Unhex(t, c.Entry)
		switch c.Stage {
		case "verify":
			if _, err := VerifyReceipt(r, v.VerifierKey, e); err == nil {
				t.Errorf("%s: verifies", c.Name)
			}
		case "against":
			if _, err := VerifyReceipt(r, v.VerifierKey, e); err != nil {
				t.Errorf("%s: base receipt fails: %v", c.Name, err)
			}
			if _, err := VerifyReceiptAgainst(r, v.VerifierKey, e, []byte(c.Later), hashes(t, c.Consistency)); err == nil {
				t.Errorf("%s: verifies", c.Name)
			}
		default:
			t.Fatalf("unknown stage %q", c.Stage)
		}
	}
	for _, c := range v.InvalidCheckpoints {
		if _, err := OpenCheckpoint([]byte(c.Signed), v.VerifierKey); err == nil {
			t.Errorf("%s: opens", c.Name)
		}
	}
}

// TestCloseVectors: a close says "closed" (protocol version 2) or "closed
// <time>" (version 4, the time voting stopped); both open and give the
// time, and formatting the parsed close gives the signed text again.
func TestCloseVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Closes) != 2 {
		t.Fatalf("%d closes in the vectors, want 2", len(v.Closes))
	}
	for _, c := range v.Closes {
		cp, err := OpenCheckpoint([]byte(c.Signed), v.VerifierKey)
		if err != nil {
			t.Fatalf("close %q: %v", c.ClosedAt, err)
		}
		if !cp.Closed || cp.Size != c.Size || cp.ClosedAt != c.ClosedAt {
			t.Errorf("close %q parsed as %+v", c.ClosedAt, cp)
		}
		text, err := cp.Format()
		if err != nil || !strings.HasPrefix(c.Signed, string(text)+"\n") {
			t.Errorf("close %q formats as %q (%v)", c.ClosedAt, text, err)
		}
	}
	if _, err := (Checkpoint{Origin: "eballot/x", Root: emptyRoot, ClosedAt: "2026-12-05T10:00:00Z"}).Format(); err == nil {
		t.Error("a checkpoint that is not the close formats with a close time")
	}
}

func TestShortCode(t *testing.T) {
	var tr [32]byte
	if got := ShortCode(tr); got != "0000-0000-0000-0000" {
		t.Fatal(got)
	}
	for i := range tr {
		tr[i] = 0xff
	}
	if got := ShortCode(tr); got != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" {
		t.Fatal(got)
	}
	tr = [32]byte{0x08, 0x42} // 00001 00001 00001 0...
	if got := ShortCode(tr); got != "1110-0000-0000-0000" {
		t.Fatal(got)
	}
}

func TestTreeBuilderMatchesTlog(t *testing.T) {
	var ml MemoryLog
	var b TreeBuilder
	if b.Root() != emptyRoot {
		t.Fatal("empty root")
	}
	for i := range 300 {
		e := []byte{byte(i), byte(i >> 8)}
		ml.Append(e)
		b.Append(e)
		c, _ := ml.Checkpoint("x", ml.Size())
		if b.Root() != c.Root || b.Size() != c.Size {
			t.Fatalf("size %d: builder root differs", i+1)
		}
	}
	// Every inclusion and consistency proof of a 300-leaf log verifies.
	for n := int64(1); n <= 300; n += 37 {
		cn, _ := ml.Checkpoint("x", n)
		for i := int64(0); i < n; i += 5 {
			p, _ := ml.ProveInclusion(n, i)
			if err := VerifyInclusion(cn, i, RootFromLeaves(nil), p); err == nil {
				t.Fatal("wrong leaf")
			}
		}
		for m := int64(0); m <= n; m += 11 {
			cm, _ := ml.Checkpoint("x", m)
			p, err := ml.ProveConsistency(n, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(cm, cn, p); err != nil {
				t.Fatalf("%d→%d: %v", m, n, err)
			}
		}
	}
}

func TestParseCheckpointStrict(t *testing.T) {
	good := "eballot/x\n5\n" + strings.Repeat("A", 43) + "=\n"
	if _, err := ParseCheckpoint([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"eballot/x\n5\n" + strings.Repeat("A", 43) + "=",
		"eballot/x\n5\n" + strings.Repeat("A", 43) + "=\n\n",
		"eballot/x\n-5\n" + strings.Repeat("A", 43) + "=\n",
		"eballot/x\n5 \n" + strings.Repeat("A", 43) + "=\n",
		"eballot x\n5\n" + strings.Repeat("A", 43) + "=\n",
		"eballot/x\n5\n" + strings.Repeat("A", 42) + "B=\n", // non-canonical padding bits
		"eballot/x\n99999999999999999\n" + strings.Repeat("A", 43) + "=\n",
	} {
		if _, err := ParseCheckpoint([]byte(s)); err == nil {
			t.Errorf("accepted %q", s)
		}
	}
}

// TestTrackerOfEveryBallotVersion: the tracker of a compact (version 3,
// protocol 7) ballot of crypto/testdata/ballot_v3.json is the one its
// vector gives; a version 0 or 4 is refused.
func TestTrackerOfEveryBallotVersion(t *testing.T) {
	raw, err := os.ReadFile("../testdata/ballot_v3.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Valid []struct{ Binary, Tracker string }
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Valid) == 0 {
		t.Fatal(err)
	}
	b, _ := hex.DecodeString(v.Valid[0].Binary)
	if b[0] != 3 {
		t.Fatalf("version %d", b[0])
	}
	tr, err := Tracker(b)
	if err != nil || hex.EncodeToString(tr[:]) != v.Valid[0].Tracker {
		t.Fatalf("tracker %x: %v", tr, err)
	}
	for _, ver := range []byte{0, 4} {
		b[0] = ver
		if _, err := Tracker(b); err == nil {
			t.Fatalf("version %d accepted", ver)
		}
	}
}
