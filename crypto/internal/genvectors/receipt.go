package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/unionvote/eballot/crypto/receipt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// receipt_v1.json: ledger tree, checkpoints and receipts (crypto/receipt).

const electionID = "test-election-1"

func noteKeys(seed []byte, name string) (skey, vkey string) {
	priv := ed25519.NewKeyFromSeed(seed)
	vkey = get(note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey)))
	parts := strings.Split(vkey, "+")
	skey = "PRIVATE+KEY+" + name + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...))
	return
}

func hashesHex(hs []tlog.Hash) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, hx(h[:]))
	}
	return out
}

func genReceipt() any {
	origin := receipt.Origin(electionID)
	seed := sha256.Sum256([]byte("receipt_v1 ledger key seed"))
	skey, vkey := noteKeys(seed[:], "ledger.eballot.test")
	signer := get(note.NewSigner(skey))
	otherSeed := sha256.Sum256([]byte("receipt_v1 other key seed"))
	otherSkey, otherVkey := noteKeys(otherSeed[:], "ledger.eballot.test")
	otherSigner := get(note.NewSigner(otherSkey))

	rnd := seeded("receipt_v1")
	mh := sha256.Sum256([]byte("receipt_v1 manifest"))
	const size = 7
	var log receipt.MemoryLog
	var entries, leaves []string
	var trackers [][32]byte
	var entryBytes [][]byte
	for i := range size {
		// Synthetic ballot bytes: version 1 ‖ manifest_hash ‖ style 0 ‖ nq 1 ‖
		// 64 filler bytes (not a decodable ballot; receipts only hash it).
		ballot := append([]byte{1}, mh[:]...)
		ballot = append(ballot, 0, 0, 0, 1)
		filler := make([]byte, 64)
		get(io.ReadFull(rnd, filler))
		ballot = append(ballot, filler...)
		t := get(receipt.Tracker(ballot))
		auth := make([]byte, 288)
		get(io.ReadFull(rnd, auth))
		e := get(receipt.EntryBytes(t[:], auth, ballot))
		get(log.Append(e))
		entries = append(entries, hx(e))
		l := receipt.LeafHash(e)
		leaves = append(leaves, hx(l[:]))
		trackers = append(trackers, t)
		entryBytes = append(entryBytes, e)
		_ = i
	}
	type rootV struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
	}
	var roots []rootV
	cps := map[int64]receipt.Checkpoint{}
	for s := int64(0); s <= size; s++ {
		c := get(log.Checkpoint(origin, s))
		cps[s] = c
		roots = append(roots, rootV{s, hx(c.Root[:])})
	}
	type cpV struct {
		Size   int64  `json:"size"`
		Text   string `json:"text"`
		Signed string `json:"signed"`
	}
	signed := map[int64][]byte{}
	var checkpoints []cpV
	for _, s := range []int64{3, 5, 7} {
		signed[s] = get(receipt.SignCheckpoint(cps[s], signer))
		checkpoints = append(checkpoints, cpV{s, string(get(cps[s].Format())), string(signed[s])})
	}
	type inclV struct {
		Index int64    `json:"index"`
		Size  int64    `json:"size"`
		Proof []string `json:"proof"`
	}
	var incl []inclV
	for _, s := range []int64{5, 7} {
		for i := int64(0); i < s; i++ {
			incl = append(incl, inclV{i, s, hashesHex(get(log.ProveInclusion(s, i)))})
		}
	}
	type consV struct {
		Old   int64    `json:"old"`
		New   int64    `json:"new"`
		Proof []string `json:"proof"`
	}
	var cons []consV
	for _, pr := range [][2]int64{{1, 7}, {3, 5}, {3, 7}, {4, 7}, {5, 7}, {6, 7}, {2, 3}} {
		cons = append(cons, consV{pr[0], pr[1], hashesHex(get(log.ProveConsistency(pr[1], pr[0])))})
	}

	// A receipt for entry 2 at size 5, checked against the size-7 checkpoint.
	const ri, rs = 2, 5
	rc := receipt.NewReceipt(electionID, trackers[ri], ri, get(log.ProveInclusion(rs, ri)), signed[rs])
	rcJSON := raw(rc)
	consistency := get(log.ProveConsistency(7, rs))

	mod := func(f func(m map[string]any)) json.RawMessage {
		var m map[string]any
		must(json.Unmarshal(rcJSON, &m))
		f(m)
		return raw(m)
	}
	type invR struct {
		Name        string          `json:"name"`
		Stage       string          `json:"stage"` // "parse" or "verify"
		Receipt     json.RawMessage `json:"receipt"`
		Entry       string          `json:"entry"`
		Later       string          `json:"later_checkpoint,omitempty"`
		Consistency []string        `json:"consistency_proof,omitempty"`
	}
	entry := hx(entryBytes[ri])
	var invalid []invR
	add := func(name, stage string, r json.RawMessage, e string) {
		invalid = append(invalid, invR{Name: name, Stage: stage, Receipt: r, Entry: e})
	}
	for h := range rc.InclusionProof {
		add(fmt.Sprintf("inclusion proof hash %d flipped", h), "verify", mod(func(m map[string]any) {
			p := m["inclusion_proof"].([]any)
			b := get(hex.DecodeString(p[h].(string)))
			b[0] ^= 1
			p[h] = hx(b)
		}), entry)
	}
	add("inclusion proof hash dropped", "verify", mod(func(m map[string]any) {
		p := m["inclusion_proof"].([]any)
		m["inclusion_proof"] = p[:len(p)-1]
	}), entry)
	add("inclusion proof hash added", "verify", mod(func(m map[string]any) {
		m["inclusion_proof"] = append(m["inclusion_proof"].([]any), leaves[0])
	}), entry)
	add("index + 1", "verify", mod(func(m map[string]any) { m["index"] = ri + 1 }), entry)
	add("index = size", "verify", mod(func(m map[string]any) { m["index"] = rs }), entry)
	add("index negative", "parse", mod(func(m map[string]any) { m["index"] = -1 }), entry)
	text := string(get(cps[rs].Format()))
	sig := string(signed[rs][len(text):])
	add("checkpoint size changed in signed text", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = strings.Replace(text, "\n5\n", "\n6\n", 1) + sig
	}), entry)
	add("checkpoint root changed in signed text", "verify", mod(func(m map[string]any) {
		r := cps[4].Root
		_ = r
		m["checkpoint"] = fmt.Sprintf("%s\n5\n%s\n", origin, base64.StdEncoding.EncodeToString(r[:])) + sig
	}), entry)
	add("checkpoint of size 6 (validly signed)", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = string(get(receipt.SignCheckpoint(cps[6], signer)))
	}), entry)
	add("checkpoint signature flipped", "verify", mod(func(m map[string]any) {
		s := get(base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.Fields(sig)[2], "\n")))
		s[len(s)-1] ^= 1
		m["checkpoint"] = text + "\n— ledger.eballot.test " + base64.StdEncoding.EncodeToString(s) + "\n"
	}), entry)
	add("checkpoint signed by another key", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = string(get(receipt.SignCheckpoint(cps[rs], otherSigner)))
	}), entry)
	add("checkpoint origin of another election (validly signed)", "verify", mod(func(m map[string]any) {
		c := cps[rs]
		c.Origin = receipt.Origin("other-election")
		m["checkpoint"] = string(get(receipt.SignCheckpoint(c, signer)))
	}), entry)
	add("checkpoint with extra line (validly signed)", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = string(get(note.Sign(&note.Note{Text: text + "extension\n"}, signer)))
	}), entry)
	add("election id changed", "verify", mod(func(m map[string]any) { m["election_id"] = "other-election" }), entry)
	add("tracker of another entry (short code updated)", "verify", mod(func(m map[string]any) {
		m["tracker"] = hx(trackers[3][:])
		m["short_code"] = receipt.ShortCode(trackers[3])
	}), entry)
	add("short code changed", "parse", mod(func(m map[string]any) { m["short_code"] = receipt.ShortCode(trackers[3]) }), entry)
	add("tracker uppercase hex", "parse", mod(func(m map[string]any) { m["tracker"] = strings.ToUpper(m["tracker"].(string)) }), entry)
	add("unknown field", "parse", mod(func(m map[string]any) { m["extra"] = 1 }), entry)
	add("version 2", "parse", mod(func(m map[string]any) { m["version"] = 2 }), entry)
	flipped := bytes.Clone(entryBytes[ri])
	flipped[len(flipped)-1] ^= 1
	add("entry ballot byte flipped", "verify", rcJSON, hx(flipped))
	flipped = bytes.Clone(entryBytes[ri])
	flipped[40] ^= 1
	add("entry authorisation byte flipped", "verify", rcJSON, hx(flipped))
	add("entry of another ballot", "verify", rcJSON, entries[3])

	laterBad := func(name string, later []byte, p tlog.TreeProof) {
		invalid = append(invalid, invR{Name: name, Stage: "against", Receipt: rcJSON, Entry: entry, Later: string(later), Consistency: hashesHex(p)})
	}
	for h := range consistency {
		p := append(tlog.TreeProof(nil), consistency...)
		p[h][5] ^= 1
		laterBad(fmt.Sprintf("consistency hash %d flipped", h), signed[7], p)
	}
	laterBad("consistency proof truncated", signed[7], consistency[:len(consistency)-1])
	laterBad("later checkpoint smaller", signed[3], get(log.ProveConsistency(5, 3)))
	laterBad("later checkpoint from another key", get(receipt.SignCheckpoint(cps[7], otherSigner)), consistency)
	c7o := cps[7]
	c7o.Origin = receipt.Origin("other-election")
	laterBad("later checkpoint other origin", get(receipt.SignCheckpoint(c7o, signer)), consistency)
	c7r := cps[7]
	c7r.Root[0] ^= 1
	laterBad("later checkpoint with forked root", get(receipt.SignCheckpoint(c7r, signer)), consistency)

	badCP := []map[string]string{}
	addCP := func(name, s string) { badCP = append(badCP, map[string]string{"name": name, "signed": s}) }
	signText := func(t string) string { return string(get(note.Sign(&note.Note{Text: t}, signer))) }
	root5 := cps[5].Root
	r5 := base64.StdEncoding.EncodeToString(root5[:])
	addCP("extra line", signText(text+"x\n"))
	addCP("size with leading zero", signText(origin+"\n05\n"+r5+"\n"))
	addCP("size with plus sign", signText(origin+"\n+5\n"+r5+"\n"))
	addCP("size too large", signText(origin+"\n1099511627777\n"+r5+"\n"))
	addCP("root unpadded base64", signText(origin+"\n5\n"+strings.TrimRight(r5, "=")+"\n"))
	addCP("root url-safe / bad base64", signText(origin+"\n5\n"+strings.ReplaceAll(strings.ReplaceAll(r5, "+", "-"), "/", "_")+"!\n"))
	addCP("root 31 bytes", signText(origin+"\n5\n"+base64.StdEncoding.EncodeToString(root5[:31])+"\n"))
	addCP("empty origin", signText("\n5\n"+r5+"\n"))
	addCP("size 0 with non-empty root", signText(origin+"\n0\n"+r5+"\n"))
	addCP("signature by another key", string(get(receipt.SignCheckpoint(cps[5], otherSigner))))
	addCP("unsigned", text+"\n")
	// The close (protocol versions 2 and 4): "closed", or "closed <time>".
	closeText := text // the size-5 checkpoint as the close
	addCP("close time with an offset", signText(closeText+"closed 2026-12-05T10:00:00+01:00\n"))
	addCP("close time with a fraction", signText(closeText+"closed 2026-12-05T10:00:00.5Z\n"))
	addCP("close time of a day that does not exist", signText(closeText+"closed 2026-02-30T10:00:00Z\n"))
	addCP("close time after two spaces", signText(closeText+"closed  2026-12-05T10:00:00Z\n"))
	addCP("close time empty", signText(closeText+"closed \n"))
	addCP("close time lowercase", signText(closeText+"closed 2026-12-05t10:00:00z\n"))
	type closeV struct {
		Signed   string `json:"signed"`
		Size     int64  `json:"size"`
		ClosedAt string `json:"closed_at"`
	}
	var closes []closeV
	for _, at := range []string{"", "2026-12-05T10:00:00Z"} {
		c := cps[5]
		c.Closed, c.ClosedAt = true, at
		closes = append(closes, closeV{string(get(receipt.SignCheckpoint(c, signer))), c.Size, at})
	}

	return map[string]any{
		"description":        "eBallot protocol v1 §6: RFC 6962 ledger over entry_bytes = T ‖ authorisation ‖ ballot_bytes, C2SP checkpoints as sumdb notes, receipts. Entries are synthetic (ballot bytes are not decodable ballots). See crypto/testdata/README.md.",
		"election_id":        electionID,
		"origin":             origin,
		"ledger_key_seed":    hx(seed[:]),
		"signer_key":         skey,
		"verifier_key":       vkey,
		"other_verifier_key": otherVkey,
		"manifest_hash":      hx(mh[:]),
		"entries":            entries,
		"leaves":             leaves,
		"roots":              roots,
		"checkpoints":        checkpoints,
		"inclusion_proofs":   incl,
		"consistency_proofs": cons,
		"receipt": map[string]any{
			"receipt":           rcJSON,
			"entry":             entry,
			"later_checkpoint":  string(signed[7]),
			"consistency_proof": hashesHex(consistency),
		},
		"invalid_receipts":    invalid,
		"invalid_checkpoints": badCP,
		"closes":              closes,
	}
}
