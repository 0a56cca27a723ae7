package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/verify"
)

const drillcheckUsage = `Usage: loadgen drillcheck -receipts FILE -export FILE -counts FILE

After a run with -receipts (scripts/crash-drill.sh: ballotd and PostgreSQL
killed with kill -9 during the load) and the close of the ballot, checks
the receipts file against the ledger's export (GET
/ledger/v1/{election}/export) and the service's published counts (GET
/issuance/v1/{election}/counts, public once the ballot is closed):

  - every verified receipt's tracker is in the export at the receipt's
    index (a receipt not there is LOST);
  - the authorisations without a ballot are accounted for: authorisations
    issued (the counts) minus ballots in the export are the authorisations
    in the receipts file whose tracker is not in the export (loadgen gave
    up on the cast: the reason is its gave_up line), plus at most the votes
    that gave up at authorise after a failure that may have hidden an
    issued signature (the answer lost on the way back).

Prints the accounting table. Exit code 0 when no receipt is lost and every
authorisation without a ballot is accounted for, 1 when not, 2 on bad usage
or an unreadable file. The export's own checks are scrutineer verify's.

Flags:
`

// drillRecord is what the receipts file says of one tracker.
type drillRecord struct {
	member     int
	authorised bool
	receipt    *receiptLine
	gaveUp     *receiptLine
}

// drillAccount is the outcome of drillcheck.
type drillAccount struct {
	issued, replaced, entries int64
	authorised                int // trackers with an "authorised" line
	receipts                  int // trackers with a "receipt" line
	receiptsInPlace           int // of which in the export at their index
	lost                      []string
	noBallot                  int // authorised, tracker not in the export
	noBallotWhy               map[string]int
	landedNoReceipt           int   // authorised, in the export, no receipt line (answer lost, gave up)
	otherBallots              int64 // export entries whose tracker the file never saw authorised
	gaveUpAuthorise           int   // gave up at authorise after a retryable failure
	unexplained               int64 // authorisations without a ballot the file does not explain
	tornLine                  bool
}

func (a *drillAccount) ok() bool {
	return len(a.lost) == 0 && a.unexplained == 0
}

func runDrillcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen drillcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	receipts := fs.String("receipts", "", "the receipts file of the run(s) (loadgen -receipts)")
	exportFile := fs.String("export", "", "the ledger's export of the closed ballot")
	counts := fs.String("counts", "", "the service's published counts of the closed ballot (JSON)")
	if code, done := parseSubcommand(fs, args, drillcheckUsage, stdout, stderr); done {
		return code
	}
	if *receipts == "" || *exportFile == "" || *counts == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "loadgen drillcheck: give -receipts, -export and -counts (see --help)")
		return 2
	}
	a, err := drillcheck(*receipts, *exportFile, *counts)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen drillcheck: %v\n", err)
		return 2
	}
	a.print(stdout)
	if !a.ok() {
		return 1
	}
	return 0
}

// readReceipts reads a receipts file by tracker. A last line cut short
// (loadgen killed mid-write) is reported, not an error.
func readReceipts(name string) (map[string]*drillRecord, bool, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, false, err
	}
	recs := map[string]*drillRecord{}
	torn := false
	lines := bytes.Split(b, []byte("\n"))
	for i, ln := range lines {
		if len(ln) == 0 {
			continue
		}
		var l receiptLine
		dec := json.NewDecoder(bytes.NewReader(ln))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			if i == len(lines)-1 { // no newline after it: the write was cut short
				torn = true
				continue
			}
			return nil, false, fmt.Errorf("%s: line %d: %v", name, i+1, err)
		}
		if t, err := hex.DecodeString(l.Tracker); err != nil || len(t) != receipt.TrackerSize {
			return nil, false, fmt.Errorf("%s: line %d: tracker is not 64 hex digits", name, i+1)
		}
		r := recs[l.Tracker]
		if r == nil {
			r = &drillRecord{member: l.Member}
			recs[l.Tracker] = r
		}
		switch l.Kind {
		case "authorised":
			r.authorised = true
		case "receipt":
			if l.Index == nil {
				return nil, false, fmt.Errorf("%s: line %d: a receipt without an index", name, i+1)
			}
			r.receipt = &l
		case "gave_up":
			r.gaveUp = &l
		default:
			return nil, false, fmt.Errorf("%s: line %d: unknown kind %q", name, i+1, l.Kind)
		}
	}
	return recs, torn, nil
}

func drillcheck(receiptsFile, exportFile, countsFile string) (*drillAccount, error) {
	recs, torn, err := readReceipts(receiptsFile)
	if err != nil {
		return nil, err
	}
	cb, err := os.ReadFile(countsFile)
	if err != nil {
		return nil, err
	}
	pc, err := verify.ParsePublishedCounts(bytes.TrimSpace(cb))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", countsFile, err)
	}
	a := &drillAccount{noBallotWhy: map[string]int{}, tornLine: torn}
	for _, s := range pc.Styles {
		a.issued += s.Issued
		a.replaced += s.Replaced
	}
	f, err := os.Open(exportFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	xr, err := export.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", exportFile, err)
	}
	if xr.Header().ElectionID != pc.ElectionID {
		return nil, fmt.Errorf("the export is of %q, the counts of %q", xr.Header().ElectionID, pc.ElectionID)
	}
	at := map[string]int64{} // tracker → index in the export
	for {
		it, err := xr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", exportFile, err)
		}
		if it.Kind != export.KindEntry {
			continue
		}
		if len(it.Entry.Bytes) < receipt.TrackerSize {
			return nil, fmt.Errorf("%s: entry %d is shorter than a tracker", exportFile, it.Entry.Index)
		}
		at[hex.EncodeToString(it.Entry.Bytes[:receipt.TrackerSize])] = it.Entry.Index
		a.entries++
	}
	fromFile := int64(0) // export entries whose authorisation is in the file
	trackers := make([]string, 0, len(recs))
	for t := range recs {
		trackers = append(trackers, t)
	}
	sort.Strings(trackers)
	for _, t := range trackers {
		r := recs[t]
		idx, inExport := at[t]
		if r.receipt != nil {
			a.receipts++
			if inExport && idx == *r.receipt.Index {
				a.receiptsInPlace++
			} else if inExport {
				a.lost = append(a.lost, fmt.Sprintf("member %d tracker %s: receipt index %d, export index %d", r.member, t, *r.receipt.Index, idx))
			} else {
				a.lost = append(a.lost, fmt.Sprintf("member %d tracker %s: receipt index %d, not in the export", r.member, t, *r.receipt.Index))
			}
		}
		if r.gaveUp != nil && r.gaveUp.Step == stepAuthorise && !r.authorised && retryableKind(r.gaveUp.Error) {
			a.gaveUpAuthorise++
		}
		if !r.authorised {
			continue
		}
		a.authorised++
		switch {
		case inExport:
			fromFile++
			if r.receipt == nil {
				a.landedNoReceipt++
			}
		default:
			a.noBallot++
			why := "no gave_up line (loadgen stopped or was killed)"
			if r.gaveUp != nil {
				why = "gave up at " + r.gaveUp.Step + ": " + r.gaveUp.Error
			}
			a.noBallotWhy[why]++
		}
	}
	a.otherBallots = a.entries - fromFile
	// issued − entries = authorisations without a ballot; of them the file
	// explains noBallot; the rest were issued without loadgen seeing the
	// answer (issued − authorised − otherBallots), at most one per vote
	// that gave up at authorise after a failure that may hide an answer.
	hidden := a.issued - int64(a.authorised) - a.otherBallots
	switch {
	case hidden < 0:
		a.unexplained = -hidden // the file has authorisations the service never issued
	case hidden > int64(a.gaveUpAuthorise):
		a.unexplained = hidden - int64(a.gaveUpAuthorise)
	}
	return a, nil
}

// retryableKind says whether a gave_up error kind was a failure that may
// hide an answer the service gave (network, timeout, 5xx).
func retryableKind(kind string) bool {
	switch kind {
	case "timeout", "connection refused", "connection reset", "network error":
		return true
	}
	var status int
	if _, err := fmt.Sscanf(kind, "HTTP %d", &status); err == nil {
		return status >= 500 || status == 429
	}
	return false
}

func (a *drillAccount) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(n any, what string) { fmt.Fprintf(tw, "%v\t  %s\n", n, what) }
	fmt.Fprintln(w, "crash drill accounting (loadgen drillcheck)")
	row(a.issued, "authorisations issued (published counts)")
	if a.replaced > 0 {
		row(a.replaced, "  of which replacements")
	}
	row(a.entries, "ballots in the export")
	row(a.issued-a.entries, "authorisations without a ballot (issued − ballots)")
	row(a.noBallot, "  in the receipts file, authorised, cast never completed")
	keys := make([]string, 0, len(a.noBallotWhy))
	for k := range a.noBallotWhy {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row(a.noBallotWhy[k], "    "+k)
	}
	row(a.issued-int64(a.authorised)-a.otherBallots, "  issued, answer never seen by loadgen")
	row(a.gaveUpAuthorise, "    votes that gave up at authorise after a network/5xx failure (the bound)")
	row(a.unexplained, "  UNEXPLAINED")
	row(a.authorised, "authorisations in the receipts file")
	row(a.receipts, "verified receipts in the receipts file")
	row(a.receiptsInPlace, "  in the export at their index")
	row(len(a.lost), "  LOST")
	row(a.landedNoReceipt, "ballots in the export whose receipt loadgen never saw (gave up after the cast landed)")
	row(a.otherBallots, "ballots in the export not authorised in the receipts file")
	tw.Flush()
	if a.tornLine {
		fmt.Fprintln(w, "the receipts file's last line was cut short (loadgen stopped mid-write): ignored")
	}
	for _, l := range a.lost {
		fmt.Fprintln(w, "LOST:", l)
	}
	if a.ok() {
		fmt.Fprintln(w, "drillcheck: OK — no receipt lost, every authorisation without a ballot accounted for")
	} else {
		fmt.Fprintln(w, "drillcheck: FAILED")
	}
}
