// Command scrutineer is the independent scrutineer's tool: key ceremony,
// verification of a ballot's public export, threshold decryption, tally, and
// the statutory result and report (docs/scrutineer-guide.md).
//
// It imports only the public crypto/ packages, the standard library and public
// modules, never the service's internal/ packages: the tally must not depend
// on the code it checks (a test enforces this). The logic lives in
// crypto/verify, crypto/tally and crypto/threshold; this command parses flags,
// reads and writes files and renders.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/unionvote/eballot/crypto/manifest"

	_ "time/tzdata" // the date of the ballot is a UK date on any system
)

// Version is set at build time.
var Version = "dev"

const usage = `scrutineer — the independent scrutineer's tool

Usage:
  scrutineer <command> [flags]      (scrutineer <command> --help for flags)

Key ceremony (each trustee, offline, on their own computer):
  trustee init        make a trustee key file protected by a passphrase
  ceremony plan       list the trustees and the threshold (organiser or scrutineer)
  ceremony deal       round 1: publish a dealing, encrypt a share to each trustee
  ceremony verify     round 2: check the shares received; write complaints
  ceremony answer     a dealer answers a complaint by revealing the share
  ceremony finalise   round 3: the trustees' public key file and your secret share

Counting:
  verify              verify an export file or a board URL, name every failure
  decrypt             one trustee's partial decryption of the verified sums
  tally               check the partials, combine them, count; write the result

Ranked contests (STV; protocol §9; --export takes a union election's export):
  ranked mix          verify the ballots and the shuffles so far, add yours (each trustee in turn)
  ranked decrypt      one trustee's partial decryption of the mixed ballots
  ranked count        verify every ballot, shuffle and decryption, decode, count by STV
  ranked report       count again and sign the election's result and s.52 report (English and Welsh)
  (verify --ranked DIR re-checks every shuffle and decryption, re-runs each ranked count and checks its signed election report)

Result and report:
  keygen              make the scrutineer's signing key
  report              the s.231 result and s.231B report (JSON, Markdown, HTML), signed
  check-result        check a signed result and report
  verify-audit        check a ballot's audit log export (hash chain), name the first bad entry

Testing:
  fixture             write a valid export of N yes/no ballots, or with --rankings a union election (test keys only)
  ranked fixture      write a ranked contest of given rankings (test only)

  version             print version information
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run is the whole command, callable in-process by tests. It returns the
// exit code: 0 success, 1 a check failed (the output names each failure),
// 2 usage or input error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return (&env{stdin: stdin, stdout: stdout, stderr: stderr, scryptLogN: 18}).run(args)
}

// env is what a command needs from the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// scryptLogN is the work factor of new passphrase-protected files
	// (tests lower it).
	scryptLogN int
}

func (e *env) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "ceremony" || cmd == "trustee" || cmd == "ranked") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	var f func([]string) error
	switch cmd {
	case "version":
		fmt.Fprintf(e.stdout, "scrutineer %s (protocol v%d, %s)\n", Version, manifest.ProtocolVersion, runtime.Version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage)
		return 0
	case "trustee init":
		f = e.trusteeInit
	case "ceremony plan":
		f = e.ceremonyPlan
	case "ceremony deal":
		f = e.ceremonyDeal
	case "ceremony verify":
		f = e.ceremonyVerify
	case "ceremony answer":
		f = e.ceremonyAnswer
	case "ceremony finalise", "ceremony finalize":
		f = e.ceremonyFinalise
	case "verify":
		f = e.verify
	case "decrypt":
		f = e.decrypt
	case "tally":
		f = e.tally
	case "keygen":
		f = e.keygen
	case "report":
		f = e.report
	case "check-result":
		f = e.checkResult
	case "verify-audit":
		f = e.verifyAudit
	case "fixture":
		f = e.fixture
	case "ranked mix":
		f = e.rankedMix
	case "ranked decrypt":
		f = e.rankedDecrypt
	case "ranked count":
		f = e.rankedCount
	case "ranked report":
		f = e.rankedReport
	case "ranked fixture":
		f = e.rankedFixture
	default:
		fmt.Fprintf(e.stderr, "scrutineer: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err := f(rest); err != nil {
		if ce, ok := err.(*checkError); ok {
			fmt.Fprintf(e.stderr, "scrutineer %s: FAILED: %s\n", cmd, ce.msg)
			return 1
		}
		if err == errHelp {
			return 0
		}
		fmt.Fprintf(e.stderr, "scrutineer %s: %v\n", cmd, err)
		return 2
	}
	return 0
}

// checkError is a failed check (exit 1), as opposed to a usage or input
// error (exit 2).
type checkError struct{ msg string }

func (c *checkError) Error() string { return c.msg }

func failed(format string, a ...any) error { return &checkError{fmt.Sprintf(format, a...)} }
