package main

import (
	"bytes"
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
	"github.com/unionvote/eballot/crypto/threshold"
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

// issuedCounts are the authorisations issued per style as the service
// publishes them after the close (GET /issuance/v1/<election>/counts, in
// manifest style order).
type issuedCounts struct {
	ElectionID string `json:"election_id"`
	Styles     []struct {
		Style    string `json:"style"`
		Entitled int64  `json:"entitled"`
		Issued   int64  `json:"issued"`
		Replaced int64  `json:"replaced"`
		Postal   int64  `json:"postal"`
	} `json:"styles"`
}

// fetchIssued returns the issued counts of the board's election, nil (and
// a note) when the service does not publish them yet.
func (e *env) fetchIssued(ctx context.Context, b *board) (*issuedCounts, error) {
	body, err := get(ctx, b.origin+"/issuance/v1/"+b.election+"/counts", 1<<20)
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c issuedCounts
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("the service's issued counts do not decode: %w", err)
	}
	if c.ElectionID != b.election {
		return nil, fmt.Errorf("the service's issued counts are for %q, not %q", c.ElectionID, b.election)
	}
	return &c, nil
}

// checkPublished fetches the published result, its signature and the
// trustees' partial decryptions from the board, checks the signature (with
// key, or the key bound in the manifest), verifies the ledger, decrypts the
// tally with the partials and compares it with the signed result.
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
	pj, err := get(ctx, b.ledger("/partials"), report.MaxSize)
	if err != nil {
		return err
	}
	partials, err := parsePartials(pj)
	if err != nil {
		return failed("the published partial decryptions: %v", err)
	}
	res, issued, verr := e.verifyExport(src, issuedFlag, true)
	if res == nil || res.Manifest == nil {
		if verr != nil {
			return verr
		}
		return failed("the board's export has no usable manifest")
	}
	bound := res.Manifest.Texts[report.ManifestKeyText]
	vkey := key
	if b, err := os.ReadFile(key); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	switch {
	case vkey == "" && bound == "":
		return errors.New("the manifest binds no scrutineer key: give --key")
	case vkey == "":
		vkey = bound
		fmt.Fprintf(e.stdout, "Using the scrutineer key bound in the manifest: %s\n", vkey)
	case bound != "" && vkey != bound:
		return failed("the manifest binds the scrutineer key %s, not %s", bound, vkey)
	}
	rep, err := report.Open(js, sig, vkey)
	if err != nil {
		return failed("the published result: %v", strings.TrimPrefix(err.Error(), "report: "))
	}
	e.printReport(rep)
	problems := report.Check(rep, res, partials, issued)
	if verr != nil && len(problems) == 0 {
		problems = append(problems, verr.Error())
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stdout, "FAIL "+p)
		}
		return failed("%d problem(s): the published result is not the decryption of this ballot's ledger", len(problems))
	}
	fmt.Fprintf(e.stdout, "MATCHES: the published result is the decryption of the verified ledger (%d ballots, root %x) by the published partial decryptions of trustees %v.\n", res.Entries, res.Root, rep.Result.Trustees)
	return nil
}

// parsePartials decodes {"partials": [partial, …]}.
func parsePartials(b []byte) ([]*threshold.Partial, error) {
	var w struct {
		Partials []json.RawMessage `json:"partials"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return nil, err
	}
	var out []*threshold.Partial
	for i, raw := range w.Partials {
		var p threshold.Partial
		if err := p.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("partial %d: %w", i+1, err)
		}
		out = append(out, &p)
	}
	return out, nil
}
