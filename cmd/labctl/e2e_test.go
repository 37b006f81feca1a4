package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/repo"
)

// syncBuffer is a bytes.Buffer safe for the lab's concurrent progress writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// noEnv keeps the caller's LABCTL_STATE and XDG_RUNTIME_DIR out of the tests.
func noEnv(string) string { return "" }

// via is the target the verbs of the end-to-end test use: "" (the default, the running
// local lab) or "aws" (the same verbs with --target aws, reaching the lab's AWS endpoint
// through the standard AWS variables that `labctl local env` prints).
var via string

// labctl runs one labctl command line in-process against the lab behind state, on the
// target via names.
func labctl(t *testing.T, state string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if via != "" {
		args = append([]string{"--target", via}, args...)
	}
	code := run(ctx, append(args, "--state", state), &out, &errOut, noEnv)
	if code != 0 {
		return out.String(), fmt.Errorf("labctl %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

func mustLabctl(t *testing.T, state string, args ...string) string {
	t.Helper()
	out, err := labctl(t, state, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func status(t *testing.T, state string) labops.Status {
	t.Helper()
	var st labops.Status
	if err := json.Unmarshal([]byte(mustLabctl(t, state, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// eventually polls cond until it reports true, failing the test with cond's last
// explanation after a deadline generous enough for a loaded CI machine.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached: %s", what, detail)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func zoneTarget(st labops.Status, letter string) view.Target {
	for _, t := range st.Targets {
		if t.Current && t.Letter == letter {
			return t
		}
	}
	return view.Target{}
}

func allCurrent(st labops.Status, f func(view.Target) bool) (bool, string) {
	n := 0
	for _, t := range st.Targets {
		if !t.Current {
			continue
		}
		n++
		if !f(t) {
			b, _ := json.Marshal(st.Targets)
			return false, string(b)
		}
	}
	return n == len(region.Letters), fmt.Sprintf("%d current targets", n)
}

// TestLocalLabTenCheckpoints starts the local lab with --fast and walks the ten checkpoints
// of the lab (docs: ../shared/LAB.md) with `labctl tour --yes`, on the local target and, for
// the last four, with --target aws through the lab's AWS endpoint; then the verbs' other
// paths on both targets, and `local down`.
func TestLocalLabTenCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local lab; skipped with -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed for dynalite (see README: Node.js 22 or 24, 20 still works; then make deps)")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	via = ""
	t.Cleanup(func() { via = "" })
	dir := t.TempDir()
	state := filepath.Join(dir, "local.json")
	bin := os.Getenv("LABCTL_WEBSERVER_BIN") // a prebuilt server saves the build
	if bin == "" {
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		bin, err = locallab.BuildWebServer(bctx, root, dir)
		bcancel()
		if err != nil {
			t.Fatal(err)
		}
	}

	if _, err := labctl(t, state, "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Fatalf("status before up: %v, want no lab running", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var upOut syncBuffer
	upDone := make(chan int, 1)
	go func() {
		upDone <- run(ctx, []string{"local", "up", "--fast", "--port", "0", "--server-code", "basic",
			"--state", state, "--webserver-bin", bin, "--repo", root}, &upOut, &upOut, noEnv)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-upDone:
			if code != 0 {
				t.Errorf("local up exited %d:\n%s", code, upOut.String())
			}
		case <-time.After(60 * time.Second):
			t.Errorf("local up did not stop within 60s")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("local up output:\n%s", upOut.String())
		}
	})

	// mark logs how long each checkpoint took (go test -v shows it; docs/benchmarks.md quotes it).
	last := time.Now()
	mark := func(checkpoint string) {
		t.Logf("%-28s %5.1fs", checkpoint, time.Since(last).Seconds())
		last = time.Now()
	}

	eventually(t, "lab up with three healthy targets", func() (bool, string) {
		select {
		case code := <-upDone:
			stopped = true
			t.Fatalf("local up exited %d before the lab was up:\n%s", code, upOut.String())
		default:
		}
		if _, err := labctl(t, state, "status"); err != nil {
			return false, err.Error()
		}
		return allCurrent(status(t, state), func(tg view.Target) bool { return tg.State == "healthy" })
	})
	mark("lab up")

	// The ten checkpoints are the tour's: `labctl tour --yes` walks the script the README's
	// step table is generated from, through the verbs' code, while `labctl watch` follows.
	l := testLab{state: state, out: &upOut}
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
	select {
	case code := <-upDone:
		stopped = true
		if code != 0 {
			t.Errorf("local up exited %d after local down", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("local up still running 60s after local down")
	}
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

// processesRunning lists the pids whose command line starts with exe.
func processesRunning(exe string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(b), exe+"\x00") {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
