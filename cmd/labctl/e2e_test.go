package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/locallab"
)

// checkpointMarks logs how long each part of a real-lab run took (go test -v shows it;
// docs/benchmarks.md quotes it).
func checkpointMarks(t *testing.T) func(string) {
	last := time.Now()
	return func(part string) {
		t.Logf("%-34s %5.1fs", part, time.Since(last).Seconds())
		last = time.Now()
	}
}

// TestLocalLabTenCheckpoints starts the local lab with --fast and walks the ten checkpoints
// of the lab (docs: ../shared/LAB.md) with `labctl tour --yes` on the local target, while
// `labctl watch` follows, then stops it with `local down`. TestLocalLabOnTargetAWS walks
// the last four with --target aws on a lab of its own, beside it.
func TestLocalLabTenCheckpoints(t *testing.T) {
	labTest(t)
	mark := checkpointMarks(t)

	if _, err := labctl(t, filepath.Join(t.TempDir(), "local.json"), "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Fatalf("status before up: %v, want no lab running", err)
	}
	l := startLab(t, labOptions{})
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

	// `local down` stops the lab: every process it ran ends and the state file goes.
	// Each process by its pid and command line: a pid reused since is another process.
	procs := map[int]string{}
	for _, p := range status(t, state).Processes {
		if p.PID > 0 && p.PID != os.Getpid() { // local up runs in the test's process
			procs[p.PID] = cmdline(p.PID)
		}
	}
	mustLabctl(t, state, "local", "down")
	l.waitExit(t)
	mark("local down")
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file left behind: %v", err)
	}
	for pid, cmd := range procs {
		if alive(pid) && cmdline(pid) == cmd {
			t.Errorf("process %d of the lab left running after local down: %q", pid, cmd)
		}
	}
	if _, err := labctl(t, state, "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Errorf("status after stop: %v, want no lab running", err)
	}
}

// TestLocalLabOnTargetAWS drives a --fast local lab with --target aws, as labctl runs in
// the environment a shell gets from evaluating `labctl local env` (the SDK's standard
// configuration, the lab's AWS endpoint): status and the views on both targets, the error
// lines, the tour's last four checkpoints, reset, the screens and the tour's prompts,
// an interrupted repair and a deploy through the CDK CLI's stand-in.
func TestLocalLabOnTargetAWS(t *testing.T) {
	labTest(t)
	mark := checkpointMarks(t)
	// The lab as the tour leaves it after step 6: every instance runs the deep health check.
	l := startLab(t, labOptions{code: string(lab.CodeHealthCheck)})
	mark("lab up")
	checkBothTargets(t, l)
	checkErrorLines(t, l)
	mark("both targets, error lines")
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
}

// alive says whether process pid still runs; a zombie, ended but not yet reaped, counts
// as gone. The state follows the last ')' of /proc/<pid>/stat (proc_pid_stat(5)).
func alive(pid int) bool {
	if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		return false // Linux, and no such process
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// cmdline is process pid's command line ("" where /proc does not tell).
func cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.ReplaceAll(string(b), "\x00", " ")
}
