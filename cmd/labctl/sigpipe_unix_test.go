//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// A reader that goes away (`labctl local up | tee log`, then Ctrl-C ends tee too) must not
// kill labctl with SIGPIPE: it still has the lab to stop. Here the reader is gone before
// labctl writes its help text; the process must end by itself, not by the signal.
func TestBrokenPipeDoesNotKillLabctl(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := exec.Command(os.Args[0], "--help")
	cmd.Env = append(os.Environ(), asLabctl+"=1")
	cmd.Stdout = w
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("labctl was killed by %v when its output's reader was gone", ws.Signal())
		}
	}
}
