package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/verify"
)

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// board is a ballot on the service's public board: the origin and the
// election id of a URL https://host/ledger/v1/<election>[/…].
type board struct {
	origin, election string
}

func parseBoard(src string) (*board, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("board URL: %w", err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	// Find "ledger/v1/<election>" anywhere in the path (the board may be
	// served under a prefix).
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "ledger" && parts[i+1] == "v1" {
			prefix := strings.Join(parts[:i], "/")
			origin := u.Scheme + "://" + u.Host
			if prefix != "" {
				origin += "/" + prefix
			}
			return &board{origin: origin, election: parts[i+2]}, nil
		}
	}
	return nil, fmt.Errorf("board URL %s: expected …/ledger/v1/<election>", src)
}

func (b *board) ledger(path string) string { return b.origin + "/ledger/v1/" + b.election + path }

// get fetches a URL into memory (at most limit bytes). A 404 is reported
// as errNotFound.
func get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("fetch %s: the answer is over %d bytes", u, limit)
	}
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &eb)
		err := fmt.Errorf("fetch %s: HTTP %s %s", u, resp.Status, eb.Message)
		if resp.StatusCode == http.StatusNotFound {
			return nil, &notFoundError{err}
		}
		if resp.StatusCode == http.StatusForbidden && eb.Error == "not_closed" {
			return nil, &notFoundError{err}
		}
		return nil, err
	}
	return b, nil
}

type notFoundError struct{ error }

// fetchIssued returns the board's published counts document (GET
// /issuance/v1/<election>/counts, in manifest style order; crypto/verify
// decodes and checks it, check counts.published); nil when the service
// does not publish them yet.
func (e *env) fetchIssued(ctx context.Context, b *board) ([]byte, error) {
	body, err := get(ctx, b.origin+"/issuance/v1/"+b.election+"/counts", verify.MaxPublishedCounts)
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	return body, err
}

// checkPublished fetches the published result, its signature and the
// trustees' partial decryptions from the board and runs every check of
// docs/protocol.md §8.2 on them and the board's export
// (report.VerifyElection): the ledger, the signature (with key, or the key
// bound in the manifest), the partial decryptions, and the signed result
// against the decryption of the ledger.
func (e *env) checkPublished(src, key, issuedFlag string) error {
	ctx := context.Background()
	b, err := parseBoard(src)
	if err != nil {
		return err
	}
	js, err := get(ctx, b.ledger("/result"), report.MaxSize)
	var nf *notFoundError
	if errors.As(err, &nf) {
		return failed("no result is published for %s on this board", b.election)
	}
	if err != nil {
		return err
	}
	sig, err := get(ctx, b.ledger("/result/signature"), 64<<10)
	if err != nil {
		return err
	}
	pj, err := get(ctx, b.ledger("/partials"), report.MaxPartials)
	if err != nil {
		return err
	}
	opt := verify.Options{Progress: e.progress("verified"), Expected: verify.Expected{ElectionID: b.election}}
	if opt.Issued, err = parseIssued(issuedFlag); err != nil {
		return err
	}
	if opt.Issued == nil {
		if opt.Published, err = e.fetchIssued(ctx, b); err != nil {
			return err
		}
	}
	vkey := key
	if b, err := os.ReadFile(key); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	rc, err := openExport(ctx, src)
	if err != nil {
		return err
	}
	defer rc.Close()
	o, err := report.VerifyElection(ctx, report.Input{Export: rc, Options: opt, Report: js, Signature: sig, Partials: pj, Key: vkey})
	if err != nil {
		return err
	}
	if vkey == "" && o.Ledger.Manifest != nil && o.Ledger.Manifest.Texts[report.ManifestKeyText] != "" {
		fmt.Fprintf(e.stdout, "Using the scrutineer key bound in the manifest: %s\n", o.Ledger.Manifest.Texts[report.ManifestKeyText])
	}
	if o.Report != nil {
		e.printReport(o.Report)
	}
	for _, l := range o.Limits {
		fmt.Fprintf(e.stdout, "NOT CHECKED [%s]: %s\n", l.Name, l.Reason)
	}
	if !o.OK() {
		for _, f := range o.Failures {
			fmt.Fprintln(e.stdout, "FAIL "+f.String())
		}
		return failed("%d problem(s): the published result is not the decryption of this ballot's ledger", len(o.Failures))
	}
	fmt.Fprintf(e.stdout, "MATCHES: the published result is the decryption of the verified ledger (%d ballots, root %x) by the published partial decryptions of trustees %v.\n", o.Ledger.Entries, o.Ledger.Root, o.Report.Result.Trustees)
	return nil
}
