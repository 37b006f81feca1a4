package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/repo"
)

// TestLocalLabTenCheckpoints starts the local lab with --fast and walks the ten checkpoints
// of the lab (docs: ../shared/LAB.md) with `labctl tour --yes`, on the local target and, for
// the last four, with --target aws through the lab's AWS endpoint; then the verbs' other
// paths on both targets, and `local down`.
func TestLocalLabTenCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local lab; skipped with -short")
	}
	needNode(t)
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	via = ""
	t.Cleanup(func() { via = "" })
	bin := buildWebServer(t, root, t.TempDir()) // LABCTL_WEBSERVER_BIN, a prebuilt server, saves the build

	if _, err := labctl(t, filepath.Join(t.TempDir(), "local.json"), "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Fatalf("status before up: %v, want no lab running", err)
	}

	// mark logs how long each checkpoint took (go test -v shows it; docs/benchmarks.md quotes it).
	last := time.Now()
	mark := func(checkpoint string) {
		t.Logf("%-28s %5.1fs", checkpoint, time.Since(last).Seconds())
		last = time.Now()
	}

	l := startLab(t, labOptions{webBin: bin})
	state := l.state
	mark("lab up")

	// The ten checkpoints are the tour's: `labctl tour --yes` walks the script the README's
	// step table is generated from, through the verbs' code, while `labctl watch` follows.
	tourOnLocalLab(t, l)
	mark("tour --yes: 10 checkpoints")

	// From here on, the AWS variables of `labctl local env` are set as a shell's eval would,
	// so --target aws reaches the lab's endpoint through the SDK's standard configuration.
	setLocalEnv(t, state)
	checkBothTargets(t, state)
	checkErrorLines(t, state)
	via = "aws"
	code, out := l.tour(t, "", "--target", "aws", "--yes", "--from", "7")
	if code != 0 || !strings.Contains(out, "✓ All 4 checkpoints met") || !strings.HasPrefix(out, lab.ServiceStackName+" in "+locallab.Region) {
		t.Fatalf("tour --target aws --from 7: exit %d:\n%s", code, out)
	}
	via = ""
	mark("tour --target aws: 7-10")
	resetAndScreens(t, l)
	tourPrompts(t, l)
	mark("reset, screens, prompts")
	interruptRepairOnAWS(t, state)
	mark("repair --target aws, Ctrl-C")
	deployOnAWSStreamsTargetHealth(t, state)
	via = ""
	mark("deploy --target aws (stand-in npx)")

	// `local down` stops the lab: every web-server process ends and the state file goes.
	mustLabctl(t, state, "local", "down")
	l.waitExit(t)
	mark("local down")
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file left behind: %v", err)
	}
	if pids := processesRunning(bin); len(pids) > 0 {
		t.Errorf("web-server processes left running: %v", pids)
	}
	if _, err := labctl(t, state, "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Errorf("status after stop: %v, want no lab running", err)
	}
}
