package ledger

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/manifest"
)

// cryptoScheme is the production scheme: crypto/manifest (strict decode,
// canonical JSON, hash), crypto/ballot (binary decode, proofs, batch
// verification) and crypto/blind (authorisations).
func cryptoScheme(data []byte) (*spec, error) {
	if len(data) > manifest.MaxSize {
		return nil, reject(ErrTooLarge, "manifest too large")
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return nil, reject(ErrMalformed, err.Error())
	}
	canonical, err := m.Canonical()
	if err != nil {
		return nil, reject(ErrMalformed, err.Error())
	}
	hash, err := m.Hash()
	if err != nil {
		return nil, reject(ErrMalformed, err.Error())
	}
	el, err := ballot.NewElection(m)
	if err != nil {
		return nil, reject(ErrMalformed, err.Error())
	}
	opens, err1 := time.Parse(manifest.TimeFormat, m.OpensAt)
	closes, err2 := time.Parse(manifest.TimeFormat, m.ClosesAt)
	if err1 != nil || err2 != nil {
		return nil, reject(ErrMalformed, "opens_at or closes_at")
	}
	keys := make([]*blind.Verifier, len(m.Styles))
	for i := range m.Styles {
		der, err := m.IssuerKey(i)
		if err != nil {
			return nil, reject(ErrMalformed, err.Error())
		}
		pub, err := blind.ParsePublicKey(der)
		if err == nil {
			keys[i], err = blind.NewVerifier(pub)
		}
		if err != nil {
			return nil, reject(ErrMalformed, fmt.Sprintf("style %d issuer key: %v", i, err))
		}
	}
	return &spec{
		canonical: canonical, hash: hash, id: m.ElectionID, logKey: m.LogKey,
		opensAt: opens, closesAt: closes, styles: len(m.Styles),
		checker: &cryptoChecker{el: el, keys: keys},
	}, nil
}

type cryptoChecker struct {
	el   *ballot.Election
	keys []*blind.Verifier // issuer key per style
}

func (c *cryptoChecker) decode(b []byte) (*decoded, error) {
	if len(b) > ballot.MaxSize {
		return nil, reject(ErrTooLarge, "ballot over 64 KiB")
	}
	bl, err := c.el.Parse(b)
	if err != nil {
		return nil, reject(ErrMalformed, err.Error())
	}
	if int(bl.Style) >= len(c.keys) {
		return nil, reject(ErrMalformed, "style out of range")
	}
	// Parse accepts only the canonical encoding, so b is ballot_bytes.
	d := &decoded{tracker: ballot.TrackerOf(c.el.ManifestHash(), b), style: int(bl.Style), ballot: bl}
	for _, q := range bl.Questions {
		for _, ct := range q.Ciphertexts() {
			d.alphas = append(d.alphas, [32]byte(ct.AlphaBytes()))
		}
	}
	return d, nil
}

// verify checks the authorisations on every core, then the proofs of the
// ballots whose authorisation holds with the batch verifier (which uses
// every core itself); a failing batch names its bad ballots.
func (c *cryptoChecker) verify(ds []*decoded, auths [][]byte) []error {
	errs := make([]error, len(ds))
	workers := min(runtime.GOMAXPROCS(0), len(ds))
	var wg sync.WaitGroup
	var next int
	var mu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(ds) {
					return
				}
				if err := c.keys[ds[i].style].VerifyAuthorisation(ds[i].tracker[:], auths[i]); err != nil {
					errs[i] = reject(ErrBadSignature, "the authorisation does not verify on this ballot's tracker")
				}
			}
		}()
	}
	wg.Wait()
	var bs []*ballot.Ballot
	var at []int
	for i, d := range ds {
		if errs[i] != nil {
			continue
		}
		b, ok := d.ballot.(*ballot.Ballot)
		if !ok {
			errs[i] = reject(ErrMalformed, "not decoded")
			continue
		}
		bs, at = append(bs, b), append(at, i)
	}
	if len(bs) == 0 {
		return errs
	}
	for _, k := range c.el.BatchVerify(bs) {
		err := c.el.Verify(bs[k])
		switch {
		case err == nil:
			err = reject(ErrBadProof, "a proof does not verify")
		case errors.Is(err, ballot.ErrBadProof):
			err = reject(ErrBadProof, err.Error())
		default:
			err = reject(ErrMalformed, err.Error())
		}
		errs[at[k]] = err
	}
	return errs
}
