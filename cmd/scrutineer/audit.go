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
	"strings"
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

// when is the entry's time as the report states it.
func (l auditLine) when() string {
	at, _ := time.Parse(time.RFC3339Nano, l.At)
	return at.UTC().Format("2006-01-02 15:04:05 UTC")
}

// malformed is the failed check of an entry whose detail is not as
// docs/audit-export.md specifies (err nil: a field is missing).
func (l auditLine) malformed(err error) error {
	if err == nil {
		err = fmt.Errorf("a field is missing")
	}
	return &checkError{fmt.Sprintf("entry %d (%s): its detail is not as docs/audit-export.md specifies: %v", l.Seq, l.Action, err)}
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
	rest, err := e.parse(fs, args, "verify-audit FILE\n\nCheck an audit log export (JSON Lines from the ballot's scrutineer page): every\nentry of the ballot hashes to its recorded hash, and every entry chains to the\nprevious one from the first. The first entry at fault is named. Then print\nwhat the log records of the opening checklist (the scrutineer's approval of the\nvoting paper, the s.229(4) wording confirmed) and of volunteer texting (the\nscrutineer's approval to use turnout data, the campaigns' sources), as\n`report --audit` states them.")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("give the export file: scrutineer verify-audit FILE")
	}
	x, err := readAudit(rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "audit log OK: %d entries chained, %d of this ballot checked in full, head %x\n", x.lines, len(x.full), x.head)
	notes, err := openingChecklist(x)
	if err != nil {
		return err
	}
	vt, err := volunteerTexting(x)
	if err != nil {
		return err
	}
	for _, n := range append(notes, vt...) {
		fmt.Fprintln(e.stdout, n)
	}
	return nil
}

// auditExport is a checked audit log export.
type auditExport struct {
	lines int64
	head  []byte
	full  []auditLine // the entries shown in full (the ballot's), in order
}

// readAudit reads an audit log export and checks its chain
// (docs/audit-export.md "Checking"); the first entry at fault is a
// checkError.
func readAudit(path string) (*auditExport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	x := &auditExport{head: make([]byte, 32)}
	for sc.Scan() {
		x.lines++
		var l auditLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, &checkError{fmt.Sprintf("line %d is not an audit entry: %v", x.lines, err)}
		}
		if l.Seq != x.lines {
			return nil, &checkError{fmt.Sprintf("line %d: entry %d is missing or out of order (found entry %d)", x.lines, x.lines, l.Seq)}
		}
		ph, err1 := hex.DecodeString(l.PrevHash)
		hh, err2 := hex.DecodeString(l.Hash)
		if err1 != nil || err2 != nil || len(ph) != 32 || len(hh) != 32 {
			return nil, &checkError{fmt.Sprintf("entry %d: its hashes are not 64 hex digits", l.Seq)}
		}
		if !bytes.Equal(ph, x.head) {
			return nil, &checkError{fmt.Sprintf("entry %d does not chain to entry %d (its prev_hash differs)", l.Seq, l.Seq-1)}
		}
		if !l.Redacted {
			if l.Detail == nil {
				return nil, &checkError{fmt.Sprintf("entry %d has no detail", l.Seq)}
			}
			if _, err := time.Parse(time.RFC3339Nano, l.At); err != nil {
				return nil, &checkError{fmt.Sprintf("entry %d: time %q is not RFC 3339", l.Seq, l.At)}
			}
			if !bytes.Equal(auditHash(x.head, &l), hh) {
				return nil, &checkError{fmt.Sprintf("entry %d (%s by %s) was changed after it was written: its hash does not match", l.Seq, l.Action, l.Actor)}
			}
			x.full = append(x.full, l)
		}
		x.head = hh
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if x.lines == 0 {
		return nil, &checkError{"the file has no entries"}
	}
	return x, nil
}

// ballotOf is the ballot id of the export's full entries (an export shows
// one ballot in full); a checkError if they are not all of one ballot.
func (x *auditExport) ballotOf() (int64, error) {
	var id int64
	for _, l := range x.full {
		if l.BallotID == nil || (id != 0 && *l.BallotID != id) {
			return 0, &checkError{fmt.Sprintf("entry %d is not of the ballot of the other full entries: the file is not one ballot's export", l.Seq)}
		}
		id = *l.BallotID
	}
	return id, nil
}

// opens reports whether the export records the opening (or scheduled
// opening) of the ballot with this manifest hash: the export is then this
// ballot's, whose result the report is on.
func (x *auditExport) opens(manifestHash string) (bool, error) {
	for _, l := range x.full {
		if l.Action != "ballot.open" && l.Action != "ballot.schedule" {
			continue
		}
		var d struct {
			ManifestHash string `json:"manifest_hash"`
		}
		if err := json.Unmarshal([]byte(*l.Detail), &d); err != nil {
			return false, &checkError{fmt.Sprintf("entry %d (%s): detail is not JSON: %v", l.Seq, l.Action, err)}
		}
		if d.ManifestHash != "" && strings.EqualFold(d.ManifestHash, manifestHash) {
			return true, nil
		}
	}
	return false, nil
}

// volunteerTexting states what the export records of volunteer texting
// (docs/volunteers.md, docs/audit-export.md "Volunteer texting"): every
// approval or withdrawal by the scrutineer that the union may use turnout
// data (members not yet in the marked register) — when, by which account,
// the policy wording approved — and the campaigns by source; or that no
// approval was given, so volunteers texted only members who had not told
// the union they voted. Statutory.md §5 D26: member-level turnout is the
// scrutineer's to release; s.231B(1)(b)-(c).
func volunteerTexting(x *auditExport) ([]string, error) {
	if _, err := x.ballotOf(); err != nil {
		return nil, err
	}
	const p = "Volunteer texting: "
	var out []string
	var approvals, selfReported, turnout []string
	for _, l := range x.full {
		when, bad := l.when(), l.malformed
		switch l.Action {
		case "outreach.approval":
			var d struct {
				Approved   *bool   `json:"approved"`
				PolicyText *string `json:"policy_text"`
			}
			if err := strictJSON(*l.Detail, &d); err != nil || d.Approved == nil || d.PolicyText == nil {
				return nil, bad(err)
			}
			if *d.Approved {
				approvals = append(approvals, fmt.Sprintf("%son %s the scrutineer's account %s approved that the union may use turnout data "+
					"(members not yet in the marked register) for volunteer texting, under the union's published policy: \"%s\" (audit entry %d).",
					p, when, l.Actor, strings.Join(strings.Fields(*d.PolicyText), " "), l.Seq))
			} else {
				approvals = append(approvals, fmt.Sprintf("%son %s the scrutineer's account %s withdrew the approval to use turnout data: "+
					"from then on no volunteer could claim members by the marked register (audit entry %d).", p, when, l.Actor, l.Seq))
			}
		case "outreach.campaign":
			var d struct {
				Campaign *int64  `json:"campaign"`
				Source   *string `json:"source"`
			}
			if err := strictJSON(*l.Detail, &d); err != nil || d.Campaign == nil || d.Source == nil {
				return nil, bad(err)
			}
			switch *d.Source {
			case "self_reported":
				selfReported = append(selfReported, fmt.Sprint(*d.Campaign))
			case "turnout":
				turnout = append(turnout, fmt.Sprint(*d.Campaign))
			default:
				return nil, bad(fmt.Errorf("unknown source %q", *d.Source))
			}
		}
	}
	if len(approvals) == 0 {
		if len(turnout) > 0 {
			// The service refuses this; the log says it happened.
			return nil, &checkError{fmt.Sprintf("the audit log records campaign(s) %s using turnout data without an approval by the scrutineer", strings.Join(turnout, ", "))}
		}
		what := "no volunteer texting campaign was run"
		if len(selfReported) > 0 {
			what = "volunteers texted only members who had not told the union they voted (campaign " + strings.Join(selfReported, ", ") + ")"
		}
		out = append(out, p+"no approval to use turnout data was given: "+what+".")
	} else {
		out = append(out, approvals...)
		if len(turnout) > 0 {
			out = append(out, p+"campaign "+strings.Join(turnout, ", ")+" texted members not yet in the marked register, under the approval.")
		}
		if len(selfReported) > 0 {
			out = append(out, p+"campaign "+strings.Join(selfReported, ", ")+" texted only members who had not told the union they voted (no turnout data).")
		}
		if len(turnout)+len(selfReported) == 0 {
			out = append(out, p+"no volunteer texting campaign was run.")
		}
	}
	return append(out, fmt.Sprintf("%sfrom the ballot's audit log export, checked: %d entries chained, head %x.", p, x.lines, x.head)), nil
}

// strictJSON decodes one JSON object into v, refusing unknown fields.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// openingChecklist states what the export records of the scrutineer's
// approvals before the ballot opened (docs/audit-export.md "Opening
// checklist"): each confirmation of the s.229(4) wording (when, which
// account, the regime), each approval of the voting paper (when, which
// account, the paper's hash), and the hash of the paper approved when the
// ballot opened. An opening whose paper hash is not the last one approved
// before it is a failed check (the service refuses to open so).
func openingChecklist(x *auditExport) ([]string, error) {
	const p = "Opening checklist: "
	var out []string
	last := ""
	for _, l := range x.full {
		when, bad := l.when(), l.malformed
		switch l.Action {
		case "ballot.s229_4_confirm":
			var d struct {
				Regime   *string `json:"regime"`
				Text     *string `json:"text"`
				TextCy   *string `json:"text_cy"`
				Verified *bool   `json:"verified"`
				Hash     *string `json:"wording_hash"`
			}
			if err := strictJSON(*l.Detail, &d); err != nil || d.Regime == nil || d.Text == nil {
				return nil, bad(err)
			}
			out = append(out, fmt.Sprintf("%son %s the scrutineer's account %s confirmed that the s.229(4) statement of legal regime %s is the wording in force: \"%s\" (audit entry %d).",
				p, when, l.Actor, *d.Regime, *d.Text, l.Seq))
		case "ballot.paper_approve":
			var d struct {
				Hash   *string `json:"paper_hash"`
				Regime *string `json:"regime"`
			}
			if err := strictJSON(*l.Detail, &d); err != nil || d.Hash == nil {
				return nil, bad(err)
			}
			last = *d.Hash
			out = append(out, fmt.Sprintf("%son %s the scrutineer's account %s approved the voting paper, hash %s (audit entry %d).", p, when, l.Actor, *d.Hash, l.Seq))
		case "ballot.open", "ballot.schedule":
			var d struct {
				Hash string `json:"paper_hash"`
				By   string `json:"paper_approved_by"`
			}
			if err := json.Unmarshal([]byte(*l.Detail), &d); err != nil {
				return nil, bad(err)
			}
			switch {
			case d.Hash == "" && last == "":
				// Opened before the service asked for the approval (or the
				// scheduler's opening of a scheduled ballot).
				continue
			case d.Hash != last:
				return nil, &checkError{fmt.Sprintf("entry %d (%s): the ballot opened with paper hash %q, not the last one the scrutineer approved (%q)", l.Seq, l.Action, d.Hash, last)}
			}
			out = append(out, fmt.Sprintf("%sthe ballot opened (%s, %s) with the voting paper approved by %s, hash %s (audit entry %d).", p, l.Action, when, d.By, d.Hash, l.Seq))
		}
	}
	if last == "" {
		out = append(out, p+"the audit log records no approval of the voting paper by the scrutineer.")
	}
	return out, nil
}
