// Command otscope builds an inventory of an industrial plant network from its
// own traffic and shows it in a terminal UI. Run `otscope help` for commands.
//
// main.go is wiring only: the commands live in otscope/ui/cli; this file
// runs one and turns its error into the exit status.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"otscope/ui/cli"
)

// version is set with -ldflags "-X main.version=v1.2.3"; otherwise it comes
// from the build info.
var version = ""

// Exit statuses.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitViolations = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	err := cli.Execute(args, cli.IO{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}, version)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, cli.ErrViolations):
		fmt.Fprintf(stderr, "otscope: %v\n", err)
		return exitViolations
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintf(stderr, "otscope: %v\n", strings.TrimPrefix(err.Error(), cli.ErrUsage.Error()+": "))
		fmt.Fprintln(stderr, "run 'otscope help' for usage")
		return exitUsage
	default:
		fmt.Fprintf(stderr, "otscope: %v\n", err)
		return exitError
	}
}
