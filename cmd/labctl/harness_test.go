package main

// The one harness for tests that need a running local lab (the end-to-end, README, tour,
// LabId and reset tests): it checks for Node (dynalite needs it), builds the web server
// once per test (or takes LABCTL_WEBSERVER_BIN), runs `labctl local up --fast` in-process
// on free ports with the test's own state file, waits until three targets are healthy, and
// stops the lab when the test ends, checking that it stopped cleanly. Plus the helpers
// those tests drive a lab with: labctl, status, eventually, allCurrent.

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
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/repo"
)

// labOptions say how startLab starts a lab; the zero value is a lab on basic.
type labOptions struct {
	code    string   // --server-code; basic when empty
	webBin  string   // the web server its instances run; buildWebServer's when empty
	upFlags []string // further flags of local up, e.g. --lab-id
}

// testLab is a fast local lab started in-process for one test.
type testLab struct {
	root  string      // the checkout
	state string      // its state file, in the test's temporary directory
	bin   string      // the web-server binary its instances run
	out   *syncBuffer // local up's output

	done   chan int // local up's exit code
	cancel context.CancelFunc
	exited bool // local up has returned, with code
	code   int

	env []string // the environment `labctl local env` gives a shell (localEnv)
}

// needNode fails the test when Node.js, which runs dynalite, is missing.
func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed for dynalite (see README: Node.js 22 or 24, 20 still works; then make deps)")
	}
}

// buildWebServer returns a web-server binary: LABCTL_WEBSERVER_BIN when set, else one built
// from the checkout into dir.
func buildWebServer(t *testing.T, root, dir string) string {
	t.Helper()
	if bin := os.Getenv("LABCTL_WEBSERVER_BIN"); bin != "" {
		return bin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := locallab.BuildWebServer(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// labTest marks a test that starts a whole local lab of its own (its state file, ports and
// processes): skipped with -short, and run beside the other lab tests.
func labTest(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the whole local lab; skipped with -short")
	}
	t.Parallel()
}

// startLab runs `labctl local up --fast` on free ports until the test ends (its cleanup
// stops the lab as Ctrl-C does and fails the test unless it exits 0) and returns once the
// lab answers with three healthy targets.
func startLab(t *testing.T, o labOptions) *testLab {
	t.Helper()
	needNode(t)
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if o.webBin == "" {
		o.webBin = buildWebServer(t, root, dir)
	}
	if o.code == "" {
		o.code = "basic"
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &testLab{root: root, state: filepath.Join(dir, "local.json"), bin: o.webBin, out: &syncBuffer{},
		done: make(chan int, 1), cancel: cancel}
	go func() {
		l.done <- run(ctx, append([]string{"local", "up", "--fast", "--port", "0", "--server-code", o.code,
			"--state", l.state, "--webserver-bin", l.bin, "--repo", root}, o.upFlags...), l.out, l.out, noEnv)
	}()
	t.Cleanup(func() {
		l.stop(t)
		if t.Failed() {
			t.Logf("local up output:\n%s", l.out)
		}
	})
	eventually(t, "local lab up with three healthy targets", func() (bool, string) {
		if code, ok := l.exit(0); ok {
			t.Fatalf("local up exited %d before the lab was up:\n%s", code, l.out)
		}
		if _, err := labctl(t, l.state, "status"); err != nil {
			return false, err.Error()
		}
		return allCurrent(status(t, l.state), func(tg view.Target) bool { return tg.State == "healthy" })
	})
	return l
}

// exit waits up to d (not at all when d is 0) for local up to return and gives its exit
// code; ok is false while it still runs.
func (l *testLab) exit(d time.Duration) (code int, ok bool) {
	switch {
	case l.exited:
	case d == 0:
		select {
		case l.code = <-l.done:
			l.exited = true
		default:
		}
	default:
		select {
		case l.code = <-l.done:
			l.exited = true
		case <-time.After(d):
		}
	}
	return l.code, l.exited
}

// waitExit waits for local up to end by itself (after `local down`, say) and fails the
// test unless it exits 0 within a minute.
func (l *testLab) waitExit(t *testing.T) {
	t.Helper()
	code, ok := l.exit(60 * time.Second)
	switch {
	case !ok:
		t.Fatal("local up still running 60s after it was asked to stop")
	case code != 0:
		t.Errorf("local up exited %d:\n%s", code, l.out)
	}
}

// stop ends the lab as Ctrl-C does, once, and fails the test unless local up exits 0
// within a minute.
func (l *testLab) stop(t *testing.T) {
	t.Helper()
	if l.exited {
		return
	}
	l.cancel()
	code, ok := l.exit(60 * time.Second)
	switch {
	case !ok:
		t.Errorf("local up did not stop within 60s")
	case code != 0:
		t.Errorf("local up exited %d:\n%s", code, l.out)
	}
}

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

// labctl runs one labctl command line in-process against the lab behind state, on its
// default target (the running local lab).
func labctl(t *testing.T, state string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
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

// awsCLI is the AWS CLI the tests run, or "" when it is not installed. A pyenv shim is
// resolved to the executable it runs (`pyenv which aws`): the shim starts a shell and pyenv
// before Python, about half a second per call, and the README walkthrough makes dozens.
func awsCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		return ""
	}
	if filepath.Base(filepath.Dir(p)) != "shims" {
		return p
	}
	out, err := exec.Command("pyenv", "which", "aws").Output()
	if real := strings.TrimSpace(string(out)); err == nil && filepath.IsAbs(real) {
		return real
	}
	return p
}
