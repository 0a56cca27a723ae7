package main

// verify-audit checks an audit log export (docs/audit-export.md) on its
// own: it re-implements the chain hash from that specification and shares
// no code with the service (cmd/scrutineer imports nothing in internal/).

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

// auditLine is one line of the export.
type auditLine struct {
	Seq      int64   `json:"seq"`
	At       string  `json:"at"`
	Actor    string  `json:"actor"`
	Action   string  `json:"action"`
	BallotID *int64  `json:"ballot_id"`
	Detail   *string `json:"detail"`
	PrevHash string  `json:"prev_hash"`
	Hash     string  `json:"hash"`
	Redacted bool    `json:"redacted"`
}

// auditHash is SHA-256("eballot-audit-v1" ‖ prev ‖ u64 seq ‖ lp(at) ‖
// lp(actor) ‖ lp(action) ‖ i64 ballot id (0 if none) ‖ lp(detail)),
// integers big-endian, lp(s) = u32 length ‖ bytes.
func auditHash(prev []byte, l *auditLine) []byte {
	h := sha256.New()
	h.Write([]byte("eballot-audit-v1"))
	h.Write(prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(l.Seq))
	h.Write(n[:])
	lp := func(s string) {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	lp(l.At)
	lp(l.Actor)
	lp(l.Action)
	var ballot int64
	if l.BallotID != nil {
		ballot = *l.BallotID
	}
	binary.BigEndian.PutUint64(n[:], uint64(ballot))
	h.Write(n[:])
	lp(*l.Detail)
	return h.Sum(nil)
}

func (e *env) verifyAudit(args []string) error {
	fs := flag.NewFlagSet("verify-audit", flag.ContinueOnError)
	rest, err := e.parse(fs, args, "verify-audit FILE\n\nCheck an audit log export (JSON Lines from the ballot's scrutineer page): every\nentry of the ballot hashes to its recorded hash, and every entry chains to the\nprevious one from the first. The first entry at fault is named.")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("give the export file: scrutineer verify-audit FILE")
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	prev := make([]byte, 32)
	var lines, full int64
	for sc.Scan() {
		lines++
		var l auditLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return &checkError{fmt.Sprintf("line %d is not an audit entry: %v", lines, err)}
		}
		if l.Seq != lines {
			return &checkError{fmt.Sprintf("line %d: entry %d is missing or out of order (found entry %d)", lines, lines, l.Seq)}
		}
		ph, err1 := hex.DecodeString(l.PrevHash)
		hh, err2 := hex.DecodeString(l.Hash)
		if err1 != nil || err2 != nil || len(ph) != 32 || len(hh) != 32 {
			return &checkError{fmt.Sprintf("entry %d: its hashes are not 64 hex digits", l.Seq)}
		}
		if !bytes.Equal(ph, prev) {
			return &checkError{fmt.Sprintf("entry %d does not chain to entry %d (its prev_hash differs)", l.Seq, l.Seq-1)}
		}
		if !l.Redacted {
			if l.Detail == nil {
				return &checkError{fmt.Sprintf("entry %d has no detail", l.Seq)}
			}
			if _, err := time.Parse(time.RFC3339Nano, l.At); err != nil {
				return &checkError{fmt.Sprintf("entry %d: time %q is not RFC 3339", l.Seq, l.At)}
			}
			if !bytes.Equal(auditHash(prev, &l), hh) {
				return &checkError{fmt.Sprintf("entry %d (%s by %s) was changed after it was written: its hash does not match", l.Seq, l.Action, l.Actor)}
			}
			full++
		}
		prev = hh
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if lines == 0 {
		return &checkError{"the file has no entries"}
	}
	fmt.Fprintf(e.stdout, "audit log OK: %d entries chained, %d of this ballot checked in full, head %x\n", lines, full, prev)
	return nil
}
