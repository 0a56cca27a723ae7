// Command scrutineer is the independent scrutineer's tool: key ceremony,
// verification of a ballot's public export, threshold decryption, tally, and
// the statutory result and report.
//
// It imports only the public crypto/ packages and the standard library,
// never the service's internal/ packages: the tally must not depend on the
// code it checks (a test enforces this).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

// Version is set at build time.
var Version = "dev"

const usage = `scrutineer — the independent scrutineer's tool

Usage:
  scrutineer <command> [--help]

Commands:
  version   print version information

The key ceremony, verify, decrypt, tally and report commands are not in
this build yet (docs/architecture.md lists what exists).
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Fprintf(stdout, "scrutineer %s (protocol v1, %s)\n", Version, runtime.Version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "scrutineer: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
