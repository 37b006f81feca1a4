package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/repo"
)

// TestFaultsAndHelpInStep holds the faults the stack defines (lab.FaultExperimentOutputs)
// and what labctl says about them in step: the fault verb's help and completion and the
// README name every one; a fault of the list given without --via is told how to run it,
// never called unknown; a name that is no fault gets the whole list.
func TestFaultsAndHelpInStep(t *testing.T) {
	var names []string
	for n := range lab.FaultExperimentOutputs {
		names = append(names, n)
	}
	slices.Sort(names)
	fault, _, err := newRootCmd(noEnv).Find([]string{"fault"})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(fault.ValidArgs)); !slices.Equal(got, names) {
		t.Errorf("fault completes %v, the stack's faults are %v", got, names)
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(fault.Long, n) {
			t.Errorf("labctl fault --help does not name %s:\n%s", n, fault.Long)
		}
		if !strings.Contains(string(readme), "`"+n+"`") {
			t.Errorf("README does not name the fault %s", n)
		}
		if n == FaultStaleCredentials {
			continue
		}
		msg := faultWithoutFIS(n).Error()
		if strings.Contains(msg, "unknown") || !strings.Contains(msg, "labctl --target aws fault "+n+" --via fis") {
			t.Errorf("fault %s without --via: %q, want how to run it with --via fis", n, msg)
		}
	}
	msg := faultWithoutFIS("meteor").Error()
	if !strings.HasPrefix(msg, `unknown fault "meteor"`) {
		t.Errorf("unknown fault: %q", msg)
	}
	for _, n := range names {
		if !strings.Contains(msg, n) {
			t.Errorf("unknown fault's message does not list %s: %q", n, msg)
		}
	}
}
