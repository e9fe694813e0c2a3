// Command jj turns packet captures into per-flow feature tables.
//
// See `jj --help` and the README for usage. Exit codes: 0 success, 1 some
// input could not be read (every computable flow was still written) or the
// output failed, 2 a usage or option error (nothing was read).
package main

import (
	"fmt"
	"os"
)

func main() {
	collectLater()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// fatal prints one line per error to stderr.
func fatal(stderr interface{ Write([]byte) (int, error) }, err error) {
	fmt.Fprintf(stderr, "jj: %s\n", withFlag(err))
}
