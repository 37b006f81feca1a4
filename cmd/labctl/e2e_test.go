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
	// Its own lab, state file and ports; --target aws runs as its own process, in the
	// lab's environment: it runs beside the other lab tests.
	t.Parallel()
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

	// status lists the lab's processes: the lab itself, dynalite and a web server per zone.
	out := mustLabctl(t, state, "status")
	for _, want := range []string{"PROCESS", "RESTARTS", "labctl", "dynalite", "web a", "web b", "web c"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	running := map[string]bool{}
	for _, p := range status(t, state).Processes {
		name := p.Name
		if p.Zone != "" {
			name = "web server in " + p.Zone
		}
		running[name] = p.State == "running" && p.PID > 0
	}
	for _, name := range []string{"dynalite", "web server in local-1a", "web server in local-1b", "web server in local-1c"} {
		if !running[name] {
			t.Errorf("status --json: no %s running: %+v", name, status(t, state).Processes)
		}
	}

	// The ten checkpoints are the tour's: `labctl tour --yes` walks the script the README's
	// step table is generated from, through the verbs' code, while `labctl watch` follows.
	tourOnLocalLab(t, l)
	mark("tour --yes: 10 checkpoints")

	// With --target aws, labctl runs in the environment a shell gets from evaluating
	// `labctl local env`, and reaches the lab's endpoint through the SDK's standard
	// configuration.
	checkBothTargets(t, l)
	checkErrorLines(t, l)
	tourOut, tourErr, code := l.awsctl(t, nil, "--target", "aws", "tour", "--yes", "--from", "7")
	if code != 0 || !strings.Contains(tourOut, "✓ All 4 checkpoints met") || !strings.HasPrefix(tourOut, lab.ServiceStackName+" in "+locallab.Region) {
		t.Fatalf("tour --target aws --from 7: exit %d:\n%s%s", code, tourOut, tourErr)
	}
	mark("tour --target aws: 7-10")
	resetAndScreens(t, l)
	tourPrompts(t, l)
	mark("reset, screens, prompts")
	interruptRepairOnAWS(t, l)
	mark("repair --target aws, Ctrl-C")
	deployOnAWSStreamsTargetHealth(t, l)
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
