package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"filippo.io/age"

	"github.com/unionvote/eballot/crypto/threshold"
)

// Plan is the ceremony plan file: who the trustees are, in order (trustee
// i is Trustees[i-1]), and the threshold.
type Plan struct {
	Version   int           `json:"version"`
	Ceremony  string        `json:"ceremony"`
	Threshold int           `json:"threshold"`
	Trustees  []PlanTrustee `json:"trustees"`
}

// PlanTrustee is one trustee of the plan.
type PlanTrustee struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Recipient string `json:"recipient"` // age X25519 public key
}

var idRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// ParsePlan decodes and checks a plan file strictly.
func ParsePlan(b []byte) (*Plan, error) {
	var p Plan
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if d.More() {
		return nil, errors.New("plan: trailing data")
	}
	if p.Version != 1 || !idRE.MatchString(p.Ceremony) {
		return nil, errors.New("plan: version must be 1 and ceremony an election id ([a-z0-9-]{1,64})")
	}
	n := len(p.Trustees)
	if n < 1 || n > threshold.MaxTrustees || p.Threshold < 1 || p.Threshold > n {
		return nil, fmt.Errorf("plan: need 1 ≤ threshold ≤ trustees ≤ %d", threshold.MaxTrustees)
	}
	seen := map[string]bool{}
	for i, t := range p.Trustees {
		if t.Index != i+1 {
			return nil, fmt.Errorf("plan: trustee %d has index %d", i+1, t.Index)
		}
		if _, err := age.ParseX25519Recipient(t.Recipient); err != nil {
			return nil, fmt.Errorf("plan: trustee %d: bad recipient: %w", t.Index, err)
		}
		if seen[t.Recipient] {
			return nil, fmt.Errorf("plan: trustee %d: recipient used twice", t.Index)
		}
		seen[t.Recipient] = true
	}
	return &p, nil
}

func loadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePlan(b)
}

func (e *env) trusteeInit(args []string) error {
	fs := flag.NewFlagSet("trustee init", flag.ContinueOnError)
	out := fs.String("out", "", "trustee key file to create (the public key goes to <out>.pub)")
	pf := fs.String("passphrase-file", "", "read the new passphrase from this file instead of the terminal")
	if _, err := e.parse(fs, args, "trustee init --out trustee.key [--passphrase-file f]"); err != nil {
		return err
	}
	if err := need("out", *out); err != nil {
		return err
	}
	pass, err := e.passphrase(*pf, "New passphrase for "+*out, true)
	if err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	sealed, err := e.sealPassphrase([]byte(id.String()+"\n"), pass)
	if err != nil {
		return err
	}
	if err := writeFile(*out, sealed, true); err != nil {
		return err
	}
	pub := id.Recipient().String()
	if err := writeFile(*out+".pub", []byte(pub+"\n"), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Trustee key written to %s (keep it and its passphrase safe).\nYour public key, to give to the organiser: %s (also in %s.pub)\n", *out, pub, *out)
	return nil
}

func (e *env) ceremonyPlan(args []string) error {
	fs := flag.NewFlagSet("ceremony plan", flag.ContinueOnError)
	id := fs.String("id", "", "the election id (the ceremony id)")
	k := fs.Int("threshold", 0, "how many trustees are needed to decrypt")
	out := fs.String("out", "ceremony.json", "plan file to write")
	pubs, err := e.parse(fs, args, "ceremony plan --id ID --threshold K [--out ceremony.json] trustee1.key.pub trustee2.key.pub …")
	if err != nil {
		return err
	}
	p := Plan{Version: 1, Ceremony: *id, Threshold: *k}
	for i, f := range pubs {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".pub"), ".key")
		p.Trustees = append(p.Trustees, PlanTrustee{Index: i + 1, Name: name, Recipient: strings.TrimSpace(string(b))})
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	if _, err := ParsePlan(b); err != nil {
		return err
	}
	if err := writeFile(*out, append(b, '\n'), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Plan written to %s: %d trustees, threshold %d. Give it to every trustee.\n", *out, len(p.Trustees), p.Threshold)
	return nil
}

type trusteeFlags struct {
	plan, key, pass, dir *string
	index                *int
}

func addTrusteeFlags(fs *flag.FlagSet) trusteeFlags {
	return trusteeFlags{
		plan:  fs.String("plan", "ceremony.json", "the ceremony plan file"),
		key:   fs.String("key", "", "your trustee key file"),
		pass:  fs.String("passphrase-file", "", "read the passphrase from this file instead of the terminal"),
		dir:   fs.String("dir", "ceremony", "the shared ceremony folder"),
		index: fs.Int("index", 0, "your trustee number in the plan (1, 2, …)"),
	}
}

// load opens the plan and the trustee's key and checks that the key is the
// plan's trustee number index.
func (e *env) loadTrustee(tf trusteeFlags) (*Plan, *age.X25519Identity, error) {
	if err := need("key", *tf.key); err != nil {
		return nil, nil, err
	}
	p, err := loadPlan(*tf.plan)
	if err != nil {
		return nil, nil, err
	}
	if *tf.index < 1 || *tf.index > len(p.Trustees) {
		return nil, nil, fmt.Errorf("--index must be between 1 and %d", len(p.Trustees))
	}
	id, err := e.trusteeIdentity(*tf.key, *tf.pass)
	if err != nil {
		return nil, nil, err
	}
	if id.Recipient().String() != p.Trustees[*tf.index-1].Recipient {
		return nil, nil, fmt.Errorf("your key is not trustee %d's in the plan (check --index)", *tf.index)
	}
	return p, id, nil
}

func dealingPath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("dealing-%d.json", i))
}
func sharePath(dir string, i, j int) string {
	return filepath.Join(dir, fmt.Sprintf("share-%d-to-%d.age", i, j))
}
func complaintPath(dir string, i, j int) string {
	return filepath.Join(dir, fmt.Sprintf("complaint-%d-by-%d.json", i, j))
}
func answerPath(dir string, i, j int) string {
	return filepath.Join(dir, fmt.Sprintf("answer-%d-to-%d.json", i, j))
}
func dealtPath(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("dealt-%d.age", i)) }

func (e *env) ceremonyDeal(args []string) error {
	fs := flag.NewFlagSet("ceremony deal", flag.ContinueOnError)
	tf := addTrusteeFlags(fs)
	if _, err := e.parse(fs, args, "ceremony deal --plan ceremony.json --index I --key trustee.key --dir ceremony"); err != nil {
		return err
	}
	p, id, err := e.loadTrustee(tf)
	if err != nil {
		return err
	}
	n, k, i := len(p.Trustees), p.Threshold, *tf.index
	d, shares, err := threshold.Deal(rand.Reader, p.Ceremony, n, k, i)
	if err != nil {
		return err
	}
	dj, _ := d.MarshalJSON()
	var all bytes.Buffer
	for j, s := range shares {
		r, _ := age.ParseX25519Recipient(p.Trustees[j].Recipient)
		b, _ := s.MarshalBinary()
		sealed, err := seal(b, r)
		if err != nil {
			return err
		}
		if err := writeFile(sharePath(*tf.dir, i, j+1), sealed, false); err != nil {
			return err
		}
		sj, _ := s.MarshalJSON()
		all.Write(append(sj, '\n'))
	}
	// A copy of every share, for the dealer alone, to answer complaints.
	sealed, err := seal(all.Bytes(), id.Recipient())
	if err != nil {
		return err
	}
	if err := writeFile(dealtPath(*tf.dir, i), sealed, false); err != nil {
		return err
	}
	if err := writeFile(dealingPath(*tf.dir, i), append(dj, '\n'), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Trustee %d dealt: %s (public) and %d encrypted shares share-%d-to-*.age in %s.\n", i, dealingPath(*tf.dir, i), n, i, *tf.dir)
	return nil
}

// readDealing loads and checks dealer i's dealing.
func readDealing(p *Plan, dir string, i int) (*threshold.Dealing, error) {
	b, err := os.ReadFile(dealingPath(dir, i))
	if err != nil {
		return nil, fmt.Errorf("no dealing from trustee %d: %w", i, err)
	}
	var d threshold.Dealing
	if err := d.UnmarshalJSON(bytes.TrimSpace(b)); err != nil {
		return nil, fmt.Errorf("dealing of trustee %d is malformed: %w", i, err)
	}
	if d.Dealer != i {
		return nil, fmt.Errorf("dealing-%d.json is trustee %d's", i, d.Dealer)
	}
	if err := d.Verify(p.Ceremony, len(p.Trustees), p.Threshold); err != nil {
		return nil, fmt.Errorf("dealing of trustee %d does not verify: %w", i, err)
	}
	return &d, nil
}

// readShare decrypts the share dealer i sent to j and checks its fields.
func readShare(p *Plan, dir string, id age.Identity, i, j int) (*threshold.Share, error) {
	b, err := open(sharePath(dir, i, j), id)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt the share from trustee %d: %w", i, err)
	}
	s, err := threshold.ParseShare(b)
	if err != nil {
		return nil, fmt.Errorf("share from trustee %d is malformed: %w", i, err)
	}
	if s.Ceremony != p.Ceremony || s.Dealer != i || s.Recipient != j {
		return nil, fmt.Errorf("share-%d-to-%d.age is for ceremony %q from %d to %d", i, j, s.Ceremony, s.Dealer, s.Recipient)
	}
	return s, nil
}

func (e *env) ceremonyVerify(args []string) error {
	fs := flag.NewFlagSet("ceremony verify", flag.ContinueOnError)
	tf := addTrusteeFlags(fs)
	if _, err := e.parse(fs, args, "ceremony verify --plan ceremony.json --index J --key trustee.key --dir ceremony"); err != nil {
		return err
	}
	p, id, err := e.loadTrustee(tf)
	if err != nil {
		return err
	}
	j := *tf.index
	var problems []string
	for i := 1; i <= len(p.Trustees); i++ {
		d, err := readDealing(p, *tf.dir, i)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		s, err := readShare(p, *tf.dir, id, i, j)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := threshold.VerifyShare(d, s); err != nil {
			cj, _ := threshold.NewComplaint(s).MarshalJSON()
			if werr := writeFile(complaintPath(*tf.dir, i, j), append(cj, '\n'), false); werr != nil {
				return werr
			}
			problems = append(problems, fmt.Sprintf("the share from trustee %d does not match its commitments: complaint written to %s", i, complaintPath(*tf.dir, i, j)))
			continue
		}
		fmt.Fprintf(e.stdout, "ok: trustee %d's dealing and the share it sent you\n", i)
	}
	if len(problems) > 0 {
		for _, m := range problems {
			fmt.Fprintln(e.stdout, "PROBLEM: "+m)
		}
		return failed("%d problem(s) in the ceremony (listed above)", len(problems))
	}
	fmt.Fprintf(e.stdout, "All %d dealings and shares check out for trustee %d.\n", len(p.Trustees), j)
	return nil
}

func (e *env) ceremonyAnswer(args []string) error {
	fs := flag.NewFlagSet("ceremony answer", flag.ContinueOnError)
	tf := addTrusteeFlags(fs)
	if _, err := e.parse(fs, args, "ceremony answer --plan ceremony.json --index I --key trustee.key --dir ceremony"); err != nil {
		return err
	}
	p, id, err := e.loadTrustee(tf)
	if err != nil {
		return err
	}
	i := *tf.index
	b, err := open(dealtPath(*tf.dir, i), id)
	if err != nil {
		return fmt.Errorf("open your dealt shares: %w", err)
	}
	var mine []*threshold.Share
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var s threshold.Share
		if err := s.UnmarshalJSON(l); err != nil {
			return fmt.Errorf("read your dealt shares: %w", err)
		}
		mine = append(mine, &s)
	}
	answered := 0
	for j := 1; j <= len(p.Trustees); j++ {
		if _, err := os.Stat(complaintPath(*tf.dir, i, j)); err != nil || j > len(mine) {
			continue
		}
		sj, _ := mine[j-1].MarshalJSON()
		if err := writeFile(answerPath(*tf.dir, i, j), append(sj, '\n'), false); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Answered trustee %d's complaint: %s (this reveals the share you sent)\n", j, answerPath(*tf.dir, i, j))
		answered++
	}
	if answered == 0 {
		fmt.Fprintln(e.stdout, "No complaint against you.")
	}
	return nil
}

func (e *env) ceremonyFinalise(args []string) error {
	fs := flag.NewFlagSet("ceremony finalise", flag.ContinueOnError)
	tf := addTrusteeFlags(fs)
	pubOut := fs.String("public-out", "", "trustees' public key file (default <dir>/trustees.json)")
	shareOut := fs.String("share-out", "", "your secret share file (default share-<index>.age)")
	if _, err := e.parse(fs, args, "ceremony finalise --plan ceremony.json --index J --key trustee.key --dir ceremony"); err != nil {
		return err
	}
	p, id, err := e.loadTrustee(tf)
	if err != nil {
		return err
	}
	n, k, j := len(p.Trustees), p.Threshold, *tf.index
	if *pubOut == "" {
		*pubOut = filepath.Join(*tf.dir, "trustees.json")
	}
	if *shareOut == "" {
		*shareOut = fmt.Sprintf("share-%d.age", j)
	}
	dealings := map[int]*threshold.Dealing{}
	for i := 1; i <= n; i++ {
		d, err := readDealing(p, *tf.dir, i)
		if err != nil {
			fmt.Fprintf(e.stdout, "excluded: %v\n", err)
			continue
		}
		dealings[i] = d
	}
	// Complaints, adjudicated from public data.
	answers := map[[2]int]*threshold.Share{}
	cs, _ := filepath.Glob(filepath.Join(*tf.dir, "complaint-*-by-*.json"))
	sort.Strings(cs)
	for _, f := range cs {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var c threshold.Complaint
		if err := c.UnmarshalJSON(bytes.TrimSpace(b)); err != nil {
			fmt.Fprintf(e.stdout, "ignored malformed complaint %s: %v\n", f, err)
			continue
		}
		d := dealings[c.Dealer]
		if d == nil {
			continue
		}
		var answer *threshold.Share
		if ab, err := os.ReadFile(answerPath(*tf.dir, c.Dealer, c.Recipient)); err == nil {
			var a threshold.Share
			if a.UnmarshalJSON(bytes.TrimSpace(ab)) == nil {
				answer = &a
			}
		}
		dq, err := threshold.Adjudicate(d, &c, answer)
		switch {
		case err != nil:
			fmt.Fprintf(e.stdout, "ignored complaint %s: %v\n", f, err)
		case dq:
			fmt.Fprintf(e.stdout, "excluded: trustee %d (complaint by trustee %d upheld, no valid answer)\n", c.Dealer, c.Recipient)
			delete(dealings, c.Dealer)
		case answer != nil:
			answers[[2]int{c.Dealer, c.Recipient}] = answer
			fmt.Fprintf(e.stdout, "complaint by trustee %d against trustee %d answered with a valid share\n", c.Recipient, c.Dealer)
		default:
			fmt.Fprintf(e.stdout, "complaint by trustee %d against trustee %d is unjustified (the share matches)\n", c.Recipient, c.Dealer)
		}
	}
	var qual []*threshold.Dealing
	var shares []*threshold.Share
	var names []string
	for i := 1; i <= n; i++ {
		d := dealings[i]
		if d == nil {
			continue
		}
		s := answers[[2]int{i, j}]
		if s == nil {
			if s, err = readShare(p, *tf.dir, id, i, j); err != nil {
				return failed("%v", err)
			}
			if err := threshold.VerifyShare(d, s); err != nil {
				return failed("the share from trustee %d is wrong and no complaint was adjudicated: run `scrutineer ceremony verify` first", i)
			}
		}
		qual = append(qual, d)
		shares = append(shares, s)
		names = append(names, fmt.Sprint(i))
	}
	if len(qual) < k {
		return failed("only %d qualified dealers, %d needed: the ceremony must be run again", len(qual), k)
	}
	pub, sk, err := threshold.Finalise(p.Ceremony, n, k, qual, j, shares)
	if err != nil {
		return failed("finalise: %v", err)
	}
	pj, _ := pub.MarshalJSON()
	pj = append(pj, '\n')
	if old, err := os.ReadFile(*pubOut); err == nil {
		if !bytes.Equal(old, pj) {
			return failed("%s exists and differs from the key you computed: the trustees disagree (compare the dealings and complaints)", *pubOut)
		}
		fmt.Fprintf(e.stdout, "%s matches the key you computed.\n", *pubOut)
	} else if err := writeFile(*pubOut, pj, false); err != nil {
		return err
	}
	sb, _ := sk.MarshalBinary()
	sealed, err := seal(sb, id.Recipient())
	if err != nil {
		return err
	}
	if err := writeFile(*shareOut, sealed, true); err != nil {
		return err
	}
	kb, _ := pub.Key.MarshalBinary()
	fmt.Fprintf(e.stdout, "Ceremony complete for trustee %d. Qualified dealers: %s.\nElection key: %x\nPublic key file: %s (the organiser uploads it)\nYour secret share: %s (encrypted to your trustee key; keep it offline)\n",
		j, strings.Join(names, ", "), kb, *pubOut, *shareOut)
	return nil
}
