package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"healthchecklab/internal/labclient"
)

// TestLocalUpRefusesLockedState: while another `local up` holds the state file's lock (it
// may still be starting and have written no state yet), a second one fails at once with one
// line, before it builds or starts anything.
func TestLocalUpRefusesLockedState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "local.json")
	unlock, err := labclient.LockState(state)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var out, errOut bytes.Buffer
	// An empty --repo would make a lab that got past the lock fail later, and differently.
	code := run(context.Background(), []string{"local", "up", "--port", "0", "--state", state, "--repo", t.TempDir()},
		&out, &errOut, noEnv)
	msg := errOut.String()
	if code == 0 || !strings.HasPrefix(msg, "labctl: a local lab is already running") || !strings.Contains(msg, state) ||
		strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q: want one line saying a lab is already running with %s", code, msg, state)
	}
	if out.Len() != 0 {
		t.Errorf("the refused lab printed progress: %q", out.String())
	}
}
