package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

func (e *env) fixture(args []string) error {
	fs := flag.NewFlagSet("fixture", flag.ContinueOnError)
	n := fs.Int("ballots", 1000, "number of yes/no ballots")
	out := fs.String("out", "", "export file to write")
	trustees := fs.String("trustees", "", "use this trustees' public key file (from a ceremony) instead of test trustees")
	secrets := fs.String("secrets", "", "with test trustees: folder for trustees.json, trustee-<j>.key and share-<j>.age (TEST ONLY)")
	pf := fs.String("passphrase-file", "", "with --secrets: passphrase of the test trustee key files")
	every := fs.Int("checkpoint-every", 1000, "publish a checkpoint every so many ballots")
	fast := fs.Bool("fast", false, "for benchmark-sized exports: nonces in arithmetic progression and issuer keys of 16 primes, about 10 times cheaper to make and as costly to verify; anyone can work out the votes from the file")
	skey := fs.String("scrutineer-key", "", "bind this scrutineer public key (a .pub file from keygen) in the manifest (texts.scrutineer_key)")
	rankings := fs.String("rankings", "", "make a union election (manifest version 2) with a choose question and a ranked (STV) question \"executive\": JSON file of one ranking a ballot, candidates 0-based in order of preference; --ballots is then the number of rankings")
	candidates := fs.Int("candidates", 0, "with --rankings: number of candidates")
	seats := fs.Int("seats", 1, "with --rankings: places to fill")
	rule := fs.String("rule", "ers97", "with --rankings: the count rule, ers97 or meek")
	ip := fs.String("independent-person", "", "with --rankings: the s.51A independent person named in the manifest")
	ipTrustee := fs.Int("independent-trustee", 0, "with --independent-person: the trustee whose key share they hold, which the union's rules require for the count (manifest independent_person.trustee)")
	compact := fs.Bool("compact", false, "a compact yes/no question (protocol 7: manifest version 2, ballots of version 3 with one ciphertext and one proof); not with --rankings")
	if _, err := e.parse(fs, args, "fixture --ballots N --out export.jsonl [--compact] [--trustees trustees.json | --secrets dir] [--rankings rankings.json --candidates N --seats S [--rule R]]"); err != nil {
		return err
	}
	if err := need("out", *out); err != nil {
		return err
	}
	opt := fixture.Options{Fast: *fast, Compact: *compact}
	if *rankings != "" {
		b, err := os.ReadFile(*rankings)
		if err != nil {
			return err
		}
		var rs [][]int
		if err := json.Unmarshal(b, &rs); err != nil {
			return fmt.Errorf("rankings: %w", err)
		}
		if len(rs) == 0 {
			return errors.New("rankings: none")
		}
		opt.Ranked = &fixture.Ranked{Candidates: *candidates, Seats: *seats, Rule: *rule, Rankings: rs, IndependentPerson: *ip, IndependentTrustee: *ipTrustee}
		*n = len(rs)
	}
	if *skey != "" {
		b, err := os.ReadFile(*skey)
		if err != nil {
			return err
		}
		opt.ScrutineerKey = strings.TrimSpace(string(b))
	}
	if *trustees != "" {
		b, err := os.ReadFile(*trustees)
		if err != nil {
			return err
		}
		var pk threshold.PublicKey
		if err := pk.UnmarshalJSON(b); err != nil {
			return fmt.Errorf("trustees file: %w", err)
		}
		opt.Public = &pk
	}
	// Workplace 1 reaches 50% turnout, workplace 2 does not.
	half := int64(*n/2 + 1)
	el, err := fixture.New(opt, []int64{half * 3 / 2, half * 3})
	if err != nil {
		return err
	}
	if *secrets != "" && opt.Public == nil {
		// The passphrase first: a run that cannot get one writes nothing.
		pass, err := e.passphrase(*pf, "Passphrase for the test trustee keys", true)
		if err != nil {
			return err
		}
		pj, _ := el.PublicJSON()
		if err := writeFile(filepath.Join(*secrets, "trustees.json"), append(pj, '\n'), false); err != nil {
			return err
		}
		for j, sh := range el.Shares {
			id, err := age.GenerateX25519Identity()
			if err != nil {
				return err
			}
			key, err := e.sealPassphrase([]byte(id.String()+"\n"), pass)
			if err != nil {
				return err
			}
			sb, _ := sh.MarshalBinary()
			share, err := seal(sb, id.Recipient())
			if err != nil {
				return err
			}
			if err := writeFile(filepath.Join(*secrets, fmt.Sprintf("trustee-%d.key", j+1)), key, true); err != nil {
				return err
			}
			if err := writeFile(filepath.Join(*secrets, fmt.Sprintf("share-%d.age", j+1)), share, true); err != nil {
				return err
			}
		}
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	start := time.Now()
	prog := e.progress("generated")
	if err := el.WriteExport(context.Background(), bw, *n, fixture.WriteOptions{CheckpointEvery: *every, Progress: func(d int) { prog(int64(d), int64(*n)) }}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if opt.Ranked != nil {
		fmt.Fprintf(e.stdout, "Wrote %s: union election of %d ballots with a ranked question (TEST KEYS: never use for an election).\n", *out, *n)
		return nil
	}
	want := el.Expected(*n)
	fmt.Fprintf(e.stdout, "Wrote %s: %d ballots in %s (TEST KEYS: never use for an election).\n", *out, *n, time.Since(start).Round(time.Millisecond))
	for s, w := range want {
		fmt.Fprintf(e.stdout, "  workplace-%d: yes %d, no %d, blank %d\n", s+1, w[0], w[1], w[2])
	}
	return nil
}
