package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// flipHex changes one lowercase hex digit of s at i to another.
func flipHex(s string, i int) string {
	c := byte('0')
	if s[i] == '0' {
		c = '1'
	}
	return s[:i] + string(c) + s[i+1:]
}

// nonCanonical returns a base64 string of the same bytes with a padding
// bit set (Go's lenient decoder accepts it; the protocol does not).
func nonCanonical(s string) string {
	i := strings.IndexByte(s, '=')
	if i < 1 {
		log.Fatalf("no padding in %q", s)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return s[:i-1] + string(alphabet[strings.IndexByte(alphabet, s[i-1])|1]) + s[i:]
}

// negHint returns the encoding of −h mod p (the other square root) for a
// canonical little-endian field element h.
func negHint(h []byte) []byte {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	be := slices.Clone(h)
	slices.Reverse(be)
	x := new(big.Int).Sub(p, new(big.Int).SetBytes(be))
	out := x.FillBytes(make([]byte, 32))
	slices.Reverse(out)
	return out
}

// sigLine returns the (one) signature line of a signed note.
func sigLine(n string) string {
	i := strings.LastIndex(n, "\n\n")
	return n[i+2:]
}

func cases(b *builder, h, col *election) {
	ls := split(h.exp)
	header := 0
	man := 1
	e3 := find(ls, isEntry(3))
	cp3 := find(ls, isCP(3))
	cp8 := find(ls, isCP(8))
	closeAt := find(ls, isType("close"))
	endAt := find(ls, isType("end"))
	// Export cases are checked without the result (it would fail too: a
	// changed ledger is not the one the scrutineer counted); result cases
	// change only the result.
	L := func(name string, ls []string, expect ...string) {
		b.lines(name, "honest", ls, noResult, expect...)
	}
	with := func(i int, text string) []string {
		out := slices.Clone(ls)
		out[i] = text
		return out
	}
	set := func(i int, f func(m map[string]any)) []string { return with(i, edit(ls, i, f)) }
	resealed := func(x []string) []string { return h.reseal(x) }

	// ---- The honest elections.
	b.inputs("honest: every input given", "honest", nil).Limits = ptr([]string{})
	b.inputs("honest: the export alone", "honest", map[string]any{"report": nil, "signature": nil, "partials": nil, "counts": nil, "key": nil}).Limits =
		ptr([]string{"limit.manifest_hash", "limit.final", "limit.issued", "limit.result"})
	b.inputs("honest: the result opened with the key bound in the manifest", "honest", map[string]any{"key": nil}).Limits = ptr([]string{"limit.manifest_hash"})
	b.inputs("honest: the expected manifest hash and final checkpoint given", "honest",
		withNoResult(map[string]any{"expected": Expected{ElectionID: "corpus-ballot", ManifestHash: hex.EncodeToString(h.res.Header.ManifestHash[:]), FinalSize: ptr(h.res.Close.Size), FinalRoot: hex.EncodeToString(h.res.Close.Root[:])}})).Limits =
		ptr([]string{"limit.result"})
	b.inputs("honest: issued counts as a list", "honest", map[string]any{"counts": nil, "issued": []int64{5, 5}})
	b.inputs("colluding voters: sums whose α is the identity are counted in the clear", "colluding", nil).Limits = ptr([]string{})
	b.inputs("legacy version 1 export with its result", "legacy_v1", nil).Limits = ptr([]string{})
	b.inputs("version 2 export (no decompression hints) with its result", "legacy_v2", nil).Limits = ptr([]string{})
	b.inputs("legacy version 1 export alone: its close was not signed", "legacy_v1", map[string]any{"report": nil, "signature": nil, "partials": nil}).Limits =
		ptr([]string{"limit.manifest_hash", "limit.unsigned_close", "limit.result"})
	b.inputs("more ballots than entitled", "crowded", nil, "counts.entitled")
	cosigned := func() string {
		n := obj(ls[cp3])["note"].(string)
		sk, _ := must2(note.GenerateKey(randReader(), "witness.example"))
		signer := must(note.NewSigner(sk))
		text := n[:strings.LastIndex(n, "\n\n")+1]
		w := must(note.Sign(&note.Note{Text: text}, signer))
		return n + sigLine(string(w))
	}()
	L("a checkpoint also signed by a witness", set(cp3, func(m map[string]any) { m["note"] = cosigned }))

	// ---- The file (docs/export-format.md).
	b.lines("a byte-order mark", "honest", with(header, "\ufeff"+ls[header]), noResult, "file.encoding")
	notUTF8 := strings.Join(ls, "")
	notUTF8 = replaced(notUTF8, "eballot/corpus-ballot", "eballot/corpus-ballot\xff")
	b.inputs("a line that is not UTF-8", "honest", withNoResult(map[string]any{"export": nil, "export_b64": base64.StdEncoding.EncodeToString([]byte(notUTF8))}), "file.encoding")
	b.inputs("no newline at the end", "honest", withNoResult(map[string]any{"export": strings.TrimSuffix(h.exp, "\n")}), "file.encoding")
	crlf := slices.Clone(ls)
	for i := range crlf {
		crlf[i] = strings.TrimSuffix(crlf[i], "\n") + "\r\n"
	}
	L("CRLF line ends", crlf, "file.line")
	L("a blank line", slices.Insert(slices.Clone(ls), e3, "\n"), "file.line")
	L("the end line missing", ls[:endAt], "file.end")
	L("data after the end line", append(slices.Clone(ls), "\n"), "file.end")
	L("a space in a line", with(e3, replaced(ls[e3], `","index":`, `", "index":`)), "file.line")
	L("members out of order", with(header, replaced(ls[header], `"closed":true,"election_id":"corpus-ballot",`, `"election_id":"corpus-ballot","closed":true,`)), "file.line")
	L("a member name in another case", with(e3, replaced(ls[e3], `"index":`, `"Index":`)), "file.line")
	L("a duplicated member", with(e3, replaced(ls[e3], `"index":3,`, `"index":3,"index":3,`)), "file.line")
	L("an unknown member", with(endAt, replaced(ls[endAt], `"type":"end"}`, `"type":"end","zz":1}`)), "file.line")
	L("a missing member", set(cp3, func(m map[string]any) { delete(m, "root") }), "file.line")
	L("an escape where a literal is canonical", with(cp3, replaced(ls[cp3], "eballot/", `eballot\/`)), "file.line")
	L("a number with a fraction", with(e3, replaced(ls[e3], `"index":3,`, `"index":3.0,`)), "file.line")
	L("a number with an exponent", with(e3, replaced(ls[e3], `"index":3,`, `"index":3e0,`)), "file.line")
	L("an index of -0", with(find(ls, isEntry(0)), replaced(ls[find(ls, isEntry(0))], `"index":0,`, `"index":-0,`)), "file.line")
	L("a string where a number goes", with(e3, replaced(ls[e3], `"index":3,`, `"index":"3",`)), "file.line")
	L("an unknown line type", with(e3, replaced(ls[e3], `"type":"entry"`, `"type":"ballot"`)), "file.line")
	L("a line that is not an object", slices.Insert(slices.Clone(ls), e3, "[]\n"), "file.line")
	L("a gap in the entries", slices.Delete(slices.Clone(ls), e3, e3+1), "file.order")
	L("entries swapped", func() []string { x := slices.Clone(ls); x[e3], x[e3+1] = x[e3+1], x[e3]; return x }(), "file.order")
	L("a checkpoint before its entry", func() []string { x := slices.Clone(ls); x[cp3], x[cp3-1] = x[cp3-1], x[cp3]; return x }(), "file.order")
	L("a checkpoint repeated", slices.Insert(slices.Clone(ls), cp3, ls[cp3]), "file.order")
	L("a second header", slices.Insert(slices.Clone(ls), e3, ls[header]), "file.order")
	L("a second manifest line", slices.Insert(slices.Clone(ls), e3, ls[man]), "file.order")
	L("the close missing", slices.Delete(slices.Clone(ls), closeAt, closeAt+1), "file.order")
	L("the close twice", slices.Insert(slices.Clone(ls), closeAt, ls[closeAt]), "file.order")
	L("a checkpoint after the close", slices.Insert(slices.Clone(ls), closeAt+1, ls[cp8]), "file.order")
	L("the close before the last entry", func() []string {
		x := slices.Clone(ls)
		c := x[closeAt]
		x = slices.Delete(x, closeAt, closeAt+1)
		return slices.Insert(x, e3, c)
	}(), "file.order")

	// ---- The header: every member.
	L("header type", set(header, func(m map[string]any) { m["type"] = "headers" }), "file.order")
	L("header format", set(header, func(m map[string]any) { m["format"] = "eballot-exports" }), "header.version")
	L("header version 6", set(header, func(m map[string]any) { m["version"] = 6 }), "header.version")
	L("header version 2 on version 4 lines (entries with hints)", set(header, func(m map[string]any) { m["version"] = 2 }), "file.line")
	L("header version \"2\"", set(header, func(m map[string]any) { m["version"] = "2" }), "header.version")
	L("header version 1 on version 4 lines", set(header, func(m map[string]any) { m["version"] = 1 }), "file.line")
	L("header election_id of another ballot", set(header, func(m map[string]any) { m["election_id"] = "other-ballot" }), "header.manifest", "checkpoint.origin")
	L("header election_id empty", set(header, func(m map[string]any) { m["election_id"] = "" }), "header.field")
	L("header manifest_hash of another manifest", set(header, func(m map[string]any) { m["manifest_hash"] = flipHex(m["manifest_hash"].(string), 5) }), "manifest.hash")
	L("header manifest_hash in uppercase", set(header, func(m map[string]any) { m["manifest_hash"] = strings.ToUpper(m["manifest_hash"].(string)) }), "header.field")
	otherKey := func() string { _, vk := must2(note.GenerateKey(randReader(), "ledger.fixture.example")); return vk }()
	L("header log_key of another key", set(header, func(m map[string]any) { m["log_key"] = otherKey }), "header.manifest")
	L("header tree_size one more", set(header, func(m map[string]any) { m["tree_size"] = 9 }), "file.order")
	L("header tree_size one less", set(header, func(m map[string]any) { m["tree_size"] = 7 }), "file.order")
	L("header tree_size negative", set(header, func(m map[string]any) { m["tree_size"] = -1 }), "header.field")
	L("header closed false (a close line in an open export)", set(header, func(m map[string]any) { m["closed"] = false }), "file.order")
	b.inputs("an export of another election than expected", "honest", withNoResult(map[string]any{"expected": Expected{ElectionID: "other-ballot"}}), "manifest.expected")
	b.inputs("another manifest hash than expected", "honest", withNoResult(map[string]any{"expected": Expected{ManifestHash: strings.Repeat("ab", 32)}}), "manifest.expected")

	// ---- The manifest line.
	L("manifest type", set(man, func(m map[string]any) { m["type"] = "manifests" }), "file.order")
	L("manifest base64 not canonical", set(man, func(m map[string]any) { m["manifest"] = nonCanonical(m["manifest"].(string)) }), "manifest.encoding")
	L("manifest empty", set(man, func(m map[string]any) { m["manifest"] = "" }), "manifest.encoding")
	// A changed manifest with the header's hash updated: its checks.
	manifestCase := func(name string, change func(js string) string, expect ...string) {
		old := string(must(base64.StdEncoding.DecodeString(obj(ls[man])["manifest"].(string))))
		nw := change(old)
		x := slices.Clone(ls)
		x[man] = edit(ls, man, func(m map[string]any) { m["manifest"] = base64.StdEncoding.EncodeToString([]byte(nw)) })
		x[header] = edit(ls, header, func(m map[string]any) { m["manifest_hash"] = sha256hex(nw) })
		L(name, x, expect...)
	}
	manifestCase("manifest title changed (the ballots are for the old one)", func(s string) string { return replaced(s, `"title":"`, `"title":"New `) }, "entry.ballot")
	manifestCase("manifest not in canonical form", func(s string) string { return replaced(s, `{"closes_at"`, `{ "closes_at"`) }, "manifest.valid")
	manifestCase("manifest with an unknown field", func(s string) string { return replaced(s, `{"closes_at"`, `{"aaa":1,"closes_at"`) }, "manifest.valid")
	manifestCase("manifest with a trustee key twice", func(s string) string {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		_ = d.Decode(&m)
		t := m["trustees"].(map[string]any)
		pk := t["public_keys"].([]any)
		pk[1] = pk[0]
		return strings.TrimSuffix(canon(m), "\n")
	}, "manifest.valid")
	manifestCase("manifest with trustee keys not of one sharing", func(s string) string {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		_ = d.Decode(&m)
		t := m["trustees"].(map[string]any)
		pk := t["public_keys"].([]any)
		pk[0], pk[1] = pk[1], pk[0]
		return strings.TrimSuffix(canon(m), "\n")
	}, "manifest.trustees")
	manifestCase("manifest with a Welsh translation missing a question (§3.1)", func(s string) string {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		_ = d.Decode(&m)
		m["translations"] = map[string]any{"cy": map[string]any{"title": "Pleidlais", "texts": map[string]any{}, "questions": []any{}}}
		return strings.TrimSuffix(canon(m), "\n")
	}, "manifest.valid")
	manifestCase("manifest log_key with an uppercase hash", func(s string) string {
		lk := h.el.Manifest.LogKey
		parts := strings.SplitN(lk, "+", 3)
		return replaced(s, lk, parts[0]+"+"+strings.ToUpper(parts[1])+"+"+parts[2])
	}, "manifest.valid")

	// ---- Checkpoints: every member, and the signed note.
	cpNote := obj(ls[cp3])["note"].(string)
	sig := sigLine(cpNote)
	fields := strings.Fields(strings.TrimPrefix(sig, "— "))
	L("checkpoint type", set(cp3, func(m map[string]any) { m["type"] = "checkpoints" }), "file.line")
	L("checkpoint size", set(cp3, func(m map[string]any) { m["size"] = 4 }), "file.order")
	L("checkpoint root (the line's copy)", set(cp3, func(m map[string]any) { m["root"] = flipHex(m["root"].(string), 3) }), "checkpoint.line")
	L("checkpoint root in uppercase", set(cp3, func(m map[string]any) { m["root"] = strings.ToUpper(m["root"].(string)) }), "checkpoint.encoding")
	L("checkpoint note empty", set(cp3, func(m map[string]any) { m["note"] = "" }), "checkpoint.encoding")
	L("checkpoint signature changed", set(cp3, func(m map[string]any) {
		raw := must(base64.StdEncoding.DecodeString(fields[1]))
		raw[10] ^= 1
		m["note"] = replaced(cpNote, fields[1], base64.StdEncoding.EncodeToString(raw))
	}), "checkpoint.signature")
	L("checkpoint signature in non-canonical base64", set(cp3, func(m map[string]any) { m["note"] = replaced(cpNote, fields[1], nonCanonical(fields[1])) }), "checkpoint.signature")
	L("checkpoint: a bad signature by the ledger key after a good one", set(cp3, func(m map[string]any) {
		raw := must(base64.StdEncoding.DecodeString(fields[1]))
		raw[10] ^= 1
		m["note"] = cpNote + "— " + fields[0] + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
	}), "checkpoint.signature")
	L("checkpoint: the ledger key's signature twice", set(cp3, func(m map[string]any) { m["note"] = cpNote + sig }), "checkpoint.signature")
	L("checkpoint signed by another key", set(cp3, func(m map[string]any) {
		sk, _ := must2(note.GenerateKey(randReader(), "ledger.fixture.example"))
		s := must(note.NewSigner(sk))
		m["note"] = string(must(note.Sign(&note.Note{Text: cpNote[:strings.LastIndex(cpNote, "\n\n")+1]}, s)))
	}), "checkpoint.signature")
	L("checkpoint note text with an extension line (re-signed)", set(cp3, func(m map[string]any) {
		text := cpNote[:strings.LastIndex(cpNote, "\n\n")+1] + "extra\n"
		m["note"] = signLedger(h, text)
	}), "checkpoint.text")
	L("a checkpoint that says closed (re-signed)", set(cp3, func(m map[string]any) {
		m["note"] = signLedger(h, cpNote[:strings.LastIndex(cpNote, "\n\n")+1]+"closed\n")
	}), "checkpoint.text")
	L("checkpoint of another origin (re-signed)", set(cp3, func(m map[string]any) {
		m["note"] = signLedger(h, replaced(cpNote[:strings.LastIndex(cpNote, "\n\n")+1], "eballot/corpus-ballot", "eballot/other-ballot"))
	}), "checkpoint.origin")
	L("checkpoint whose note says another size (re-signed)", set(cp3, func(m map[string]any) {
		m["note"] = signLedger(h, replaced(cpNote[:strings.LastIndex(cpNote, "\n\n")+1], "\n3\n", "\n4\n"))
	}), "checkpoint.line")
	L("checkpoint signing another root (re-signed, line too)", set(cp3, func(m map[string]any) {
		root := must(hex.DecodeString(m["root"].(string)))
		root[0] ^= 1
		c := receipt.Checkpoint{Origin: receipt.Origin("corpus-ballot"), Size: 3, Root: [32]byte(root)}
		m["root"], m["note"] = hex.EncodeToString(root), string(must(h.el.SignCheckpoint(c)))
	}), "checkpoint.root")
	L("the last checkpoint missing", func() []string {
		x := slices.Delete(slices.Clone(ls), cp8, cp8+1)
		e := find(x, isType("end"))
		x[e] = edit(x, e, func(m map[string]any) { m["checkpoints"] = must(m["checkpoints"].(json.Number).Int64()) - 1 })
		return x
	}(), "checkpoint.final")

	// ---- The close.
	closeNote := obj(ls[closeAt])["note"].(string)
	closeText := closeNote[:strings.LastIndex(closeNote, "\n\n")+1]
	L("close type", set(closeAt, func(m map[string]any) { m["type"] = "closes" }), "file.line")
	L("close size", set(closeAt, func(m map[string]any) { m["size"] = 7 }), "file.order")
	L("close root (the line's copy)", set(closeAt, func(m map[string]any) { m["root"] = flipHex(m["root"].(string), 0) }), "checkpoint.line")
	L("close note empty", set(closeAt, func(m map[string]any) { m["note"] = "" }), "checkpoint.encoding")
	L("close signature changed", set(closeAt, func(m map[string]any) {
		f := strings.Fields(strings.TrimPrefix(sigLine(closeNote), "— "))
		raw := must(base64.StdEncoding.DecodeString(f[1]))
		raw[20] ^= 1
		m["note"] = replaced(closeNote, f[1], base64.StdEncoding.EncodeToString(raw))
	}), "checkpoint.signature")
	closedLine := "closed " + earlyClose + "\n"
	if !strings.HasSuffix(closeText, closedLine) {
		log.Fatalf("the honest close does not end with %q: %q", closedLine, closeText)
	}
	unclosed := strings.TrimSuffix(closeText, closedLine)
	L("a close that does not say closed (re-signed)", set(closeAt, func(m map[string]any) { m["note"] = signLedger(h, unclosed) }), "checkpoint.text")
	// The close time (protocol version 4): changed in the signed text, it
	// breaks the signature; re-signed outside the ballot's window, it is
	// refused; re-signed without a time (an operator holding the ledger key
	// moving the date of the ballot back to the notified close), the
	// signed result no longer matches.
	L("close time changed in the signed text", set(closeAt, func(m map[string]any) {
		m["note"] = strings.Replace(closeNote, earlyClose, "2026-12-14T12:00:00Z", 1)
	}), "checkpoint.signature")
	L("close time after closes_at (re-signed)", set(closeAt, func(m map[string]any) {
		m["note"] = signLedger(h, unclosed+"closed 2026-12-16T09:00:00Z\n")
	}), "checkpoint.text")
	L("close time before opens_at (re-signed)", set(closeAt, func(m map[string]any) {
		m["note"] = signLedger(h, unclosed+"closed 2026-11-30T09:00:00Z\n")
	}), "checkpoint.text")
	L("close time not canonical (re-signed)", set(closeAt, func(m map[string]any) {
		m["note"] = signLedger(h, unclosed+"closed 2026-12-10T12:00:00.000Z\n")
	}), "checkpoint.text")
	b.lines("close without its time (re-signed), with the report", "honest", set(closeAt, func(m map[string]any) {
		m["note"] = signLedger(h, unclosed+"closed\n")
	}), nil, "result.final", "result.particulars")
	L("a close of another root (re-signed, line too)", set(closeAt, func(m map[string]any) {
		root := must(hex.DecodeString(m["root"].(string)))
		root[0] ^= 1
		c := receipt.Checkpoint{Origin: receipt.Origin("corpus-ballot"), Size: 8, Root: [32]byte(root), Closed: true, ClosedAt: earlyClose}
		m["root"], m["note"] = hex.EncodeToString(root), string(must(h.el.SignCheckpoint(c)))
	}), "checkpoint.root")

	// ---- Truncation: a shorter ledger, its close signed with the ledger key.
	final := Expected{FinalSize: ptr(h.res.Close.Size), FinalRoot: hex.EncodeToString(h.res.Close.Root[:])}
	cut := string(must(h.el.Export(h.entries[:5], fixture.WriteOptions{CheckpointEvery: every})))
	open := string(must(h.el.Export(h.entries[:5], fixture.WriteOptions{CheckpointEvery: every, Open: true})))
	b.inputs("truncated and signed as closed, given only the file", "honest", withNoResult(map[string]any{"export": cut, "counts": nil})).Limits =
		ptr([]string{"limit.manifest_hash", "limit.final", "limit.issued", "limit.result"})
	b.inputs("truncated and signed as closed, given the expected final checkpoint", "honest", withNoResult(map[string]any{"export": cut, "expected": final}), "final.expected")
	b.inputs("truncated: an open snapshot, given only the file", "honest", withNoResult(map[string]any{"export": open, "counts": nil})).Limits =
		ptr([]string{"limit.manifest_hash", "limit.open", "limit.issued", "limit.result"})
	b.inputs("truncated: an open snapshot, given the expected final checkpoint", "honest", withNoResult(map[string]any{"export": open, "expected": final}), "final.expected")
	b.inputs("truncated and signed as closed, with the scrutineer's report", "honest", map[string]any{"export": cut, "counts": nil},
		"partial.proof", "partials.threshold", "result.final", "result.ledger")
	b.inputs("another final checkpoint than expected", "honest", withNoResult(map[string]any{"expected": Expected{FinalSize: ptr(int64(8)), FinalRoot: strings.Repeat("00", 32)}}), "final.expected")

	// ---- Entries: every member, and every part of the entry bytes.
	L("entry type", set(e3, func(m map[string]any) { m["type"] = "end" }), "file.line")
	L("entry index", set(e3, func(m map[string]any) { m["index"] = 4 }), "file.order")
	L("entry style out of range", set(e3, func(m map[string]any) { m["style"] = 1024 }), "entry.encoding")
	L("entry style of the other workplace", set(e3, func(m map[string]any) { m["style"] = 0 }), "entry.style", "end.style_counts")
	L("entry style of the other workplace, end resealed", resealed(set(e3, func(m map[string]any) { m["style"] = 0 })), "entry.style")
	L("entry base64 not canonical", set(e3, func(m map[string]any) { m["entry"] = nonCanonical(m["entry"].(string)) }), "entry.encoding")
	L("entry base64 with an escaped newline", with(e3, replaced(ls[e3], `{"entry":"`, `{"entry":"\n`)), "entry.encoding")
	// Decompression hints (export version 4, protocol §4.5): outside the
	// leaf hash, so no reseal is needed; a wrong one fails its entry.
	hints := func(f func(h []byte) []byte) []string {
		return set(e3, func(m map[string]any) {
			h := must(base64.StdEncoding.DecodeString(m["hints"].(string)))
			m["hints"] = base64.StdEncoding.EncodeToString(f(h))
		})
	}
	L("entry hints: one bit of a hint changed", hints(func(h []byte) []byte { h[32+5] ^= 4; return h }), "entry.hint")
	L("entry hints: the negative square root", hints(func(h []byte) []byte { neg := negHint(h[64:96]); copy(h[64:96], neg); return h }), "entry.hint")
	L("entry hints: a hint with its top bit set (not canonical)", hints(func(h []byte) []byte { h[31] |= 0x80; return h }), "entry.hint")
	L("entry hints: one hint missing", hints(func(h []byte) []byte { return h[:len(h)-32] }), "entry.hint")
	L("entry hints: one hint too many", hints(func(h []byte) []byte { return append(h, h[:32]...) }), "entry.hint")
	L("entry hints: none", hints(func([]byte) []byte { return nil }), "entry.hint")
	L("entry hints: two hints swapped", hints(func(h []byte) []byte {
		t := slices.Clone(h[:32])
		copy(h[:32], h[32:64])
		copy(h[32:64], t)
		return h
	}), "entry.hint")
	L("entry hints base64 not canonical", set(e3, func(m map[string]any) { m["hints"] = nonCanonical(m["hints"].(string)) }), "entry.encoding")
	L("entry hints member missing", set(e3, func(m map[string]any) { delete(m, "hints") }), "file.line")
	L("entry empty", resealed(setEntry(ls, 3, func([]byte) []byte { return nil })), "entry.ballot")
	L("entry without a ballot", resealed(setEntry(ls, 3, func(b []byte) []byte { return b[:320] })), "entry.ballot")
	L("entry tracker changed", resealed(setEntry(ls, 3, func(b []byte) []byte { b[3] ^= 1; return b })), "entry.tracker", "entry.authorisation")
	L("entry authorisation prefix changed", resealed(setEntry(ls, 3, func(b []byte) []byte { b[40] ^= 1; return b })), "entry.authorisation")
	L("entry authorisation signature changed", resealed(setEntry(ls, 3, func(b []byte) []byte { b[200] ^= 1; return b })), "entry.authorisation")
	L("entry ballot version", resealed(setEntry(ls, 3, func(b []byte) []byte { b[320] = 2; return b })), "entry.ballot")
	L("entry ballot for another manifest", resealed(setEntry(ls, 3, func(b []byte) []byte { b[321] ^= 1; return b })), "entry.ballot")
	L("entry ballot style out of range", resealed(setEntry(ls, 3, func(b []byte) []byte { b[353], b[354] = 0, 9; return b })), "entry.ballot")
	L("entry ballot with a trailing byte", resealed(setEntry(ls, 3, func(b []byte) []byte { return append(b, 0) })), "entry.ballot")
	L("entry ballot with an identity α", resealed(setEntry(ls, 3, func(b []byte) []byte { clear(b[320+39 : 320+39+32]); return b })), "entry.ballot")
	L("entry ballot: a proof byte changed", resealed(setEntry(ls, 3, func(b []byte) []byte { b[320+39+64+64+40] ^= 1; return b })), "entry.tracker", "entry.proof")
	L("entry ballot: the two selections swapped (tracker recomputed, re-authorised)", resealed(setEntry(ls, 3, func(b []byte) []byte {
		bb := b[320:]
		s0 := slices.Clone(bb[39 : 39+320])
		copy(bb[39:39+320], bb[39+320:39+640])
		copy(bb[39+320:39+640], s0)
		e := must(h.el.Authorise(1, bb))
		return e
	})), "entry.proof")
	L("an entry repeated", resealed(slices.Insert(slices.Clone(ls), cp8, edit(ls, e3, func(m map[string]any) { m["index"] = 7 }))), "file.order")
	L("a copied entry (same tracker and α's)", resealed(func() []string {
		// After the last checkpoint, with a checkpoint of its own.
		copied := edit(ls, e3, func(m map[string]any) { m["index"] = 8 })
		cp := canon(map[string]any{"type": "checkpoint", "size": 9, "root": "", "note": ""})
		return slices.Insert(slices.Clone(ls), cp8+1, copied, cp)
	}()), "entry.duplicate_tracker", "entry.duplicate_alpha")
	L("a ballot reusing another's α (same nonce)", resealed(func() []string {
		r := big.NewInt(424242)
		a := must(h.el.EntryWith(&nonces{blocks: map[int]*big.Int{0: r}}, 0, [][]int{{1, 0}}))
		c := must(h.el.EntryWith(&nonces{blocks: map[int]*big.Int{0: r}}, 0, [][]int{{1, 0}}))
		x := slices.Clone(ls)
		x = setEntry(x, 0, func([]byte) []byte { return a })
		return setEntry(x, 2, func([]byte) []byte { return c })
	}()), "entry.duplicate_alpha")

	// ---- The end line: every member.
	L("end type", set(endAt, func(m map[string]any) { m["type"] = "ends" }), "file.order")
	L("end entries", set(endAt, func(m map[string]any) { m["entries"] = 9 }), "end.totals")
	L("end checkpoints", set(endAt, func(m map[string]any) { m["checkpoints"] = 5 }), "end.totals")
	L("end style_counts changed", set(endAt, func(m map[string]any) { m["style_counts"] = []int{5, 3} }), "end.style_counts")
	L("end style_counts of three workplaces", set(endAt, func(m map[string]any) { m["style_counts"] = []int{4, 4, 0} }), "end.style_counts")
	L("end style_counts null", set(endAt, func(m map[string]any) { m["style_counts"] = nil }), "end.style_counts")
	L("end style_counts negative", set(endAt, func(m map[string]any) { m["style_counts"] = []int{-4, 4} }), "end.encoding")
	L("end root changed", set(endAt, func(m map[string]any) { m["root"] = flipHex(m["root"].(string), 7) }), "end.root")
	L("end root in uppercase", set(endAt, func(m map[string]any) { m["root"] = strings.ToUpper(m["root"].(string)) }), "end.encoding")

	// ---- Counts: the authorisations issued and the published counts.
	C := func(name string, in map[string]any, expect ...string) *Case {
		return b.inputs(name, "honest", withNoResult(in), expect...)
	}
	C("fewer authorisations issued than ballots", map[string]any{"counts": nil, "issued": []int64{3, 4}}, "counts.issued")
	C("more authorisations issued than entitled", map[string]any{"counts": nil, "issued": []int64{11, 5}}, "counts.issued_entitled")
	C("issued counts for another number of workplaces", map[string]any{"counts": nil, "issued": []int64{5}}, "counts.published").Limits =
		ptr([]string{"limit.manifest_hash", "limit.final", "limit.issued", "limit.result"})
	countsCase := func(name string, f func(m map[string]any), expect ...string) {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(h.counts))
		d.UseNumber()
		_ = d.Decode(&m)
		f(m)
		C(name, map[string]any{"counts": string(must(json.Marshal(m)))}, expect...)
	}
	st := func(m map[string]any, i int) map[string]any { return m["styles"].([]any)[i].(map[string]any) }
	countsCase("published counts of another election", func(m map[string]any) { m["election_id"] = "other-ballot" }, "counts.published")
	countsCase("published counts: workplaces in another order", func(m map[string]any) { s := m["styles"].([]any); s[0], s[1] = s[1], s[0] }, "counts.published")
	countsCase("published counts: another style id", func(m map[string]any) { st(m, 0)["style"] = "workplace-9" }, "counts.published")
	countsCase("published counts: another entitled", func(m map[string]any) { st(m, 1)["entitled"] = 11 }, "counts.published")
	countsCase("published counts: fewer issued than ballots", func(m map[string]any) { st(m, 0)["issued"] = 3 }, "counts.issued")
	countsCase("published counts: more replaced than issued", func(m map[string]any) { st(m, 0)["replaced"] = 6 }, "counts.published")
	countsCase("published counts: negative postal", func(m map[string]any) { st(m, 0)["postal"] = -1 }, "counts.published")
	countsCase("published counts: an unknown member", func(m map[string]any) { m["total"] = 10 }, "counts.published")
	countsCase("published counts: a missing member", func(m map[string]any) { delete(st(m, 0), "postal") }, "counts.published")
	C("published counts: a member in another case", map[string]any{"counts": replaced(h.counts, `"issued"`, `"Issued"`)}, "counts.published")
	C("published counts: not JSON", map[string]any{"counts": "issued: 5"}, "counts.published")

	// ---- The trustees' partial decryptions: the document and every member.
	P := func(name string, doc string, expect ...string) {
		b.inputs(name, "honest", map[string]any{"partials": doc}, expect...)
	}
	pj := func(i int) map[string]any {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(string(must(h.partials[i].MarshalJSON()))))
		d.UseNumber()
		_ = d.Decode(&m)
		return m
	}
	doc := func(ps ...any) string { return string(must(json.Marshal(map[string]any{"partials": ps}))) }
	P("partials: not an object", "[]", "partial.decode", "partials.threshold")
	P("partials: an unknown member of the document", replaced(h.partialsDoc(h.partials), `{"partials"`, `{"more":1,"partials"`), "partial.decode", "partials.threshold")
	P("partial: version", doc(pj(0), func() any { m := pj(1); m["version"] = 2; return m }(), pj(2)), "partial.decode")
	P("partial: manifest_hash in uppercase", doc(pj(0), func() any { m := pj(1); m["manifest_hash"] = strings.ToUpper(m["manifest_hash"].(string)); return m }(), pj(2)), "partial.decode")
	P("partial: manifest_hash of another manifest", doc(pj(0), func() any { m := pj(1); m["manifest_hash"] = flipHex(m["manifest_hash"].(string), 0); return m }(), pj(2)), "partial.manifest")
	P("partial: trustee of no one", doc(pj(0), pj(1), pj(2), func() any { m := pj(2); m["trustee"] = 4; return m }()), "partial.trustee")
	P("partial: trustee out of range", doc(pj(0), func() any { m := pj(1); m["trustee"] = 33; return m }(), pj(2)), "partial.decode")
	P("partial: a trustee twice", doc(pj(0), pj(0), pj(1), pj(2)), "partial.trustee")
	P("partial: trustee 2's, claimed as trustee 3's", doc(pj(0), func() any { m := pj(1); m["trustee"] = 3; return m }(), pj(2)), "partial.proof")
	P("partial: decryptions missing one", doc(pj(0), func() any { m := pj(1); d := m["decryptions"].([]any); m["decryptions"] = d[1:]; return m }(), pj(2)), "partial.count")
	P("partial: decryptions empty", doc(pj(0), func() any { m := pj(1); m["decryptions"] = []any{}; return m }(), pj(2)), "partial.decode")
	P("partial: a decryption d changed", doc(pj(0), func() any {
		m := pj(1)
		d := m["decryptions"].([]any)
		d[0], d[1] = map[string]any{"d": d[1].(map[string]any)["d"], "proof": d[0].(map[string]any)["proof"]}, map[string]any{"d": d[0].(map[string]any)["d"], "proof": d[1].(map[string]any)["proof"]}
		return m
	}(), pj(2)), "partial.proof")
	P("partial: a decryption proof swapped", doc(pj(0), func() any {
		m := pj(1)
		d := m["decryptions"].([]any)
		d0, d1 := d[0].(map[string]any), d[1].(map[string]any)
		d0["proof"], d1["proof"] = d1["proof"], d0["proof"]
		return m
	}(), pj(2)), "partial.proof")
	P("partial: a decryption member unknown", doc(pj(0), func() any { m := pj(1); m["decryptions"].([]any)[0].(map[string]any)["x"] = 1; return m }(), pj(2)), "partial.decode")
	P("partial: a member missing", doc(pj(0), func() any { m := pj(1); delete(m, "trustee"); return m }(), pj(2)), "partial.decode")
	P("partial: one of the combined trustees missing", doc(pj(1), pj(2)), "result.trustees")
	P("partials: only one", doc(pj(0)), "partials.threshold")

	// ---- The signed result: signature, key and form.
	R := func(name string, in map[string]any, expect ...string) { b.inputs(name, "honest", in, expect...) }
	S := func(name string, f func(r map[string]any), expect ...string) {
		js, sg := h.signed(f)
		R(name, map[string]any{"report": js, "signature": sg}, expect...)
	}
	R("result changed after signing", map[string]any{"report": replaced(h.report, `"date": "2026-12-16"`, `"date": "2026-12-17"`)}, "result.signature")
	f := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(h.signature, "\n"), "— "))
	R("result signature in non-canonical base64", map[string]any{"signature": replaced(h.signature, f[1], nonCanonical(f[1]))}, "result.signature")
	R("result signature repeated", map[string]any{"signature": h.signature + strings.TrimPrefix(h.signature, "\n")}, "result.signature")
	R("result without a newline at its end", map[string]any{"report": strings.TrimSuffix(h.report, "\n")}, "result.signature")
	R("result signed by another key than the manifest binds", map[string]any{"key": otherScrutineer()}, "result.key")
	R("result key malformed", map[string]any{"key": replaced(h.vkey, "+", "+X")}, "result.key")
	R("result with a byte-order mark", map[string]any{"report": "\ufeff" + h.report}, "result.signature")
	js, sg := h.signText([]byte("[]\n"))
	R("result: the signed text is not a report", map[string]any{"report": js, "signature": sg}, "result.decode")
	js, sg = h.signText([]byte(replaced(h.report, "\"version\": 3\n", "\"Version\": 3,\n  \"version\": 3\n")))
	R("result: a member in another case", map[string]any{"report": js, "signature": sg}, "result.decode")
	js, sg = h.signText([]byte(replaced(h.report, "\"version\": 3\n", "\"version\": 3,\n  \"version\": 3\n")))
	R("result: a duplicated member", map[string]any{"report": js, "signature": sg}, "result.decode")
	S("result: an unknown member", func(r map[string]any) { r["extra"] = true }, "result.decode")
	S("result: version 4", func(r map[string]any) { r["version"] = 4 }, "result.decode")
	S("result: version 3 without its final checkpoint", func(r map[string]any) { delete(r["verification"].(map[string]any), "final_checkpoint") }, "result.decode")
	S("result: date", func(r map[string]any) { r["date"] = "16/12/2026" }, "result.decode")
	S("result: no result", func(r map[string]any) { r["result"] = nil }, "result.decode")
	S("result: two statements", func(r map[string]any) { r["statements"] = r["statements"].([]any)[:2] }, "result.decode")
	S("result: a style without its turnout threshold member", func(r map[string]any) {
		delete(r["result"].(map[string]any)["styles"].([]any)[0].(map[string]any), "turnout_threshold_met")
	}, "result.decode")
	S("result: mandate_months 0 written out", func(r map[string]any) { r["result"].(map[string]any)["regime"].(map[string]any)["mandate_months"] = 0 }, "result.decode")

	// ---- The signed result: every member, signed by the scrutineer.
	res := func(r map[string]any) map[string]any { return r["result"].(map[string]any) }
	sty := func(r map[string]any, i int) map[string]any {
		if i < 0 {
			return res(r)["aggregate"].(map[string]any)
		}
		return res(r)["styles"].([]any)[i].(map[string]any)
	}
	q0 := func(r map[string]any, i int) map[string]any {
		return sty(r, i)["questions"].([]any)[0].(map[string]any)
	}
	ver := func(r map[string]any) map[string]any { return r["verification"].(map[string]any) }
	inc := func(v any) any { return must(v.(json.Number).Int64()) + 1 }
	S("report document", func(r map[string]any) { r["document"] = "Result" }, "result.statements")
	S("report election_id", func(r map[string]any) { r["election_id"] = "other-ballot" }, "result.election")
	S("report title (free text of the report)", func(r map[string]any) { r["title"] = "Another title" })
	S("report manifest_hash", func(r map[string]any) { r["manifest_hash"] = strings.Repeat("ab", 32) }, "result.manifest")
	S("report scrutineer (the scrutineer's name, free)", func(r map[string]any) { r["scrutineer"] = "Someone" })
	S("report signed_by", func(r map[string]any) { r["signed_by"] = "someone.else" }, "result.signer")
	S("report date (free)", func(r map[string]any) { r["date"] = "2027-01-04" })
	S("report statement text", func(r map[string]any) { r["statements"].([]any)[0].(map[string]any)["text"] = "All fine." }, "result.statements")
	S("report statement clause", func(r map[string]any) { r["statements"].([]any)[1].(map[string]any)["clause"] = "s.231B(1)(c)" }, "result.statements")
	S("report statement satisfied without particulars", func(r map[string]any) { r["statements"].([]any)[1].(map[string]any)["satisfied"] = false }, "result.statements")
	S("report statement particulars yet satisfied", func(r map[string]any) { r["statements"].([]any)[2].(map[string]any)["particulars"] = []string{"x"} }, "result.statements")
	S("report statement not satisfied, with particulars (the scrutineer's judgement)", func(r map[string]any) {
		s := r["statements"].([]any)[1].(map[string]any)
		s["satisfied"], s["particulars"] = false, []string{"the postal arrangements fell short"}
	})
	S("report notes (free)", func(r map[string]any) { r["notes"] = []string{"a note"} })
	S("report rejected_partials naming a combined trustee", func(r map[string]any) { r["rejected_partials"] = []any{map[string]any{"trustee": 1, "reason": "x"}} }, "result.trustees")
	S("report rejected_partials naming another trustee", func(r map[string]any) { r["rejected_partials"] = []any{map[string]any{"trustee": 2, "reason": "x"}} })
	S("verification entries", func(r map[string]any) { ver(r)["entries"] = inc(ver(r)["entries"]) }, "result.ledger")
	S("verification checkpoints", func(r map[string]any) { ver(r)["checkpoints"] = inc(ver(r)["checkpoints"]) }, "result.ledger")
	S("verification root", func(r map[string]any) { ver(r)["root"] = flipHex(ver(r)["root"].(string), 2) }, "result.ledger")
	S("verification style_counts", func(r map[string]any) { ver(r)["style_counts"] = []int{5, 3} }, "result.ledger")
	S("verification authorisations_issued", func(r map[string]any) { ver(r)["authorisations_issued"] = []int{5, 6} }, "result.issued")
	S("verification authorisations_issued not given", func(r map[string]any) { ver(r)["authorisations_issued"] = nil })
	S("verification failures", func(r map[string]any) {
		ver(r)["failures"] = []any{map[string]any{"check": "entry.proof", "item": "entry", "index": 1, "reason": "x"}}
	}, "result.ledger", "result.statements")
	S("verification more_failures", func(r map[string]any) { ver(r)["more_failures"] = 1 }, "result.ledger", "result.statements")
	S("verification final_checkpoint of another tree", func(r map[string]any) { ver(r)["final_checkpoint"] = obj(ls[cp8])["note"] }, "result.final")
	S("verification final_checkpoint empty", func(r map[string]any) { ver(r)["final_checkpoint"] = "" }, "result.final")
	S("result election_id", func(r map[string]any) { res(r)["election_id"] = "other-ballot" }, "result.election")
	S("result title", func(r map[string]any) { res(r)["title"] = "Another" }, "result.particulars")
	S("result kind", func(r map[string]any) { res(r)["kind"] = "other" }, "result.particulars")
	S("result manifest_hash", func(r map[string]any) { res(r)["manifest_hash"] = strings.Repeat("cd", 32) }, "result.manifest")
	S("result scrutineer named on the voting paper", func(r map[string]any) { res(r)["scrutineer"] = "Someone Else" }, "result.particulars")
	S("result date_of_ballot", func(r map[string]any) { res(r)["date_of_ballot"] = "2026-12-14" }, "result.particulars")
	// The actual close (protocol version 4): the result carries the time
	// the ledger's signed close states; the date of the ballot (s.246) and
	// the s.234 mandate follow it.
	S("result closed_at (the notified close instead of the actual one)", func(r map[string]any) { res(r)["closed_at"] = "2026-12-15T17:00:00Z" }, "result.particulars")
	S("result closed_at left out", func(r map[string]any) { delete(res(r), "closed_at") }, "result.particulars")
	S("result mandate_expires from the notified close", func(r map[string]any) { res(r)["mandate_expires"] = "2027-12-14" }, "result.particulars")
	S("result closed_at in a version 2 report", func(r map[string]any) { r["version"] = 2 }, "result.decode")
	S("result regime name", func(r map[string]any) { res(r)["regime"].(map[string]any)["name"] = "x" }, "result.particulars")
	S("result regime turnout_threshold", func(r map[string]any) { res(r)["regime"].(map[string]any)["turnout_threshold"] = false }, "result.particulars")
	S("result regime support_threshold", func(r map[string]any) { res(r)["regime"].(map[string]any)["support_threshold"] = true }, "result.particulars")
	S("result regime mandate_months", func(r map[string]any) { res(r)["regime"].(map[string]any)["mandate_months"] = 6 }, "result.particulars")
	S("result regime notes", func(r map[string]any) { res(r)["regime"].(map[string]any)["notes"] = []string{} }, "result.particulars")
	S("result mandate_expires", func(r map[string]any) { res(r)["mandate_expires"] = "2027-06-14" }, "result.particulars")
	S("result trustees: two valid, other than those of the tally", func(r map[string]any) { res(r)["trustees"] = []int{2, 3} })
	S("result trustees: one", func(r map[string]any) { res(r)["trustees"] = []int{1} }, "result.trustees")
	S("result trustees: one twice", func(r map[string]any) { res(r)["trustees"] = []int{1, 1} }, "result.trustees")
	S("result trustees: of no partial", func(r map[string]any) { res(r)["trustees"] = []int{1, 4} }, "result.trustees")
	S("result styles: one left out", func(r map[string]any) { res(r)["styles"] = res(r)["styles"].([]any)[:1] }, "result.particulars")
	S("result style id", func(r map[string]any) { sty(r, 0)["id"] = "workplace-9" }, "result.particulars")
	S("result style name", func(r map[string]any) { sty(r, 0)["name"] = "Head office" }, "result.particulars")
	S("result style entitled", func(r map[string]any) { sty(r, 1)["entitled"] = 11 }, "result.particulars")
	S("result style votes_cast", func(r map[string]any) { sty(r, 1)["votes_cast"] = inc(sty(r, 1)["votes_cast"]) }, "result.counts")
	S("result style turnout", func(r map[string]any) { sty(r, 1)["turnout"] = "50.00%" }, "result.derived")
	S("result style turnout_threshold_met", func(r map[string]any) { sty(r, 1)["turnout_threshold_met"] = true }, "result.derived")
	S("result style turnout_threshold_met null", func(r map[string]any) { sty(r, 0)["turnout_threshold_met"] = nil }, "result.derived")
	S("result question id", func(r map[string]any) { q0(r, 0)["id"] = "other" }, "result.particulars")
	S("result question text", func(r map[string]any) { q0(r, 0)["text"] = "Strike?" }, "result.particulars")
	S("result question yes_no", func(r map[string]any) { q0(r, 0)["yes_no"] = false }, "result.derived")
	S("result question yes", func(r map[string]any) { q0(r, 0)["yes"] = inc(q0(r, 0)["yes"]) }, "result.counts")
	S("result question no", func(r map[string]any) { q0(r, 1)["no"] = inc(q0(r, 1)["no"]) }, "result.counts")
	S("result question spoilt", func(r map[string]any) { q0(r, 0)["spoilt"] = inc(q0(r, 0)["spoilt"]) }, "result.derived")
	S("result question majority_yes", func(r map[string]any) { q0(r, 0)["majority_yes"] = !q0(r, 0)["majority_yes"].(bool) }, "result.derived")
	S("result question support_threshold_met", func(r map[string]any) { q0(r, 0)["support_threshold_met"] = true }, "result.derived")
	S("result question supported", func(r map[string]any) { q0(r, 1)["supported"] = !q0(r, 1)["supported"].(bool) }, "result.derived")
	S("result option id", func(r map[string]any) { q0(r, 0)["options"].([]any)[0].(map[string]any)["id"] = "aye" }, "result.particulars")
	S("result option label", func(r map[string]any) { q0(r, 0)["options"].([]any)[0].(map[string]any)["label"] = "Aye" }, "result.particulars")
	S("result option count", func(r map[string]any) {
		o := q0(r, 0)["options"].([]any)[1].(map[string]any)
		o["count"] = inc(o["count"])
	}, "result.counts")
	S("result options: one left out", func(r map[string]any) { q0(r, 0)["options"] = q0(r, 0)["options"].([]any)[:1] }, "result.particulars")
	S("result aggregate id", func(r map[string]any) { sty(r, -1)["id"] = "total" }, "result.particulars")
	S("result aggregate name", func(r map[string]any) { sty(r, -1)["name"] = "Everyone" }, "result.particulars")
	S("result aggregate votes_cast", func(r map[string]any) { sty(r, -1)["votes_cast"] = inc(sty(r, -1)["votes_cast"]) }, "result.counts")
	S("result aggregate entitled", func(r map[string]any) { sty(r, -1)["entitled"] = inc(sty(r, -1)["entitled"]) }, "result.particulars")
	S("result aggregate turnout", func(r map[string]any) { sty(r, -1)["turnout"] = "99.00%" }, "result.derived")
	S("result aggregate yes", func(r map[string]any) { q0(r, -1)["yes"] = inc(q0(r, -1)["yes"]) }, "result.counts")
	S("result aggregate turnout threshold contradicting the counts", func(r map[string]any) {
		a := sty(r, -1)
		a["turnout_threshold_met"] = !a["turnout_threshold_met"].(bool)
	}, "result.derived")
	S("result aggregate majority contradicting the counts", func(r map[string]any) {
		q := q0(r, -1)
		q["majority_yes"] = !q["majority_yes"].(bool)
	}, "result.derived")
	b.inputs("the colluding voters' count changed", "colluding", func() map[string]any {
		js, sg := col.signed(func(r map[string]any) {
			o := r["result"].(map[string]any)["styles"].([]any)[0].(map[string]any)["questions"].([]any)[0].(map[string]any)["options"].([]any)[0].(map[string]any)
			o["count"] = 0
		})
		return map[string]any{"report": js, "signature": sg}
	}(), "result.counts")
}

func otherScrutineer() string {
	_, vk := must2(note.GenerateKey(randReader(), "scrutineer.corpus.example"))
	return vk
}

func signLedger(e *election, text string) string {
	// The ledger key signs any text (the operator holds it).
	return string(must(e.el.SignNote(text)))
}

func randReader() io.Reader { return rand.Reader }

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// replaced is s with old replaced once by new; old must be there.
func replaced(s, old, new string) string {
	if !strings.Contains(s, old) {
		log.Fatalf("no %q to replace", old)
	}
	return strings.Replace(s, old, new, 1)
}
