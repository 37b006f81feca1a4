// Command labctl drives the health-check lab. `labctl local up` runs the whole lab on this
// machine (three web servers in zones a, b and c behind a load balancer with ALB's health
// logic, and stand-ins for the AWS services it uses); the other verbs observe a lab and do
// what the lab's console steps and deploys do, through the AWS SDK, on a deployed stack
// (--target aws) or on the local lab's AWS endpoint.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/tour"
)

func main() {
	os.Exit(runWithSignals(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// runWithSignals is run with the process's signal handling. A closed terminal (SIGHUP) stops
// the lab like Ctrl-C does: labctl stops its children itself, since they run in groups of
// their own and do not get the terminal's signals. A reader that went away (`labctl local up |
// tee log`, then Ctrl-C also ends tee) must not kill labctl half-way through stopping the lab:
// with SIGPIPE ignored, writes to it just fail.
func runWithSignals(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return run(ctx, args, stdout, stderr, getenv)
}

// run executes one labctl command line and returns the process exit code. Errors are one
// line on stderr: "labctl: <what went wrong>".
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCmd(getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "labctl: %v\n", err)
		var stopped *labops.Interrupted
		var tourStopped *tour.StoppedError
		if errors.As(err, &stopped) || errors.As(err, &tourStopped) && tourStopped.Interrupted {
			return 130 // as a shell reports a command ended by Ctrl-C
		}
		return 1
	}
	return 0
}
