package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"healthchecklab/internal/labclient"
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/repo"
)

// upProcess is `labctl local up` running as its own process, as a user runs it.
type upProcess struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

func (p *upProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startUp starts labctl local up --fast with its own temporary directory and waits until
// the lab is ready.
func startUp(t *testing.T, labctlBin, webBin, root, state, tmp string) *upProcess {
	t.Helper()
	cmd := exec.Command(labctlBin, "local", "up", "--fast", "--port", "0", "--state", state,
		"--webserver-bin", webBin, "--repo", root)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "LABCTL_STATE=", "XDG_RUNTIME_DIR=")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &upProcess{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "local lab ready") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { _ = cmd.Wait(); pw.Close(); close(p.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("local up exited before the lab was ready:\n%s", p.output())
	case <-time.After(3 * time.Minute):
		t.Fatalf("lab not ready after 3 minutes:\n%s", p.output())
	}
	return p
}

func (p *upProcess) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("local up still running 60 s after its signal:\n%s", p.output())
	}
}

// frozenTargetIs504: with one web server stopped (SIGSTOP: its socket still accepts), the
// request routed to it is answered 504 by the load balancer after the idle timeout, which
// --fast scales to 4 s, and counted as a load-balancer 5xx.
func frozenTargetIs504(t *testing.T, state, webBin, upOutput string) {
	t.Helper()
	if !strings.Contains(upOutput, "idle timeout 4s") {
		t.Errorf("local up --fast does not report the 4 s idle timeout:\n%s", upOutput)
	}
	st, err := labclient.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	pids := processesRunning(webBin)
	if len(pids) == 0 {
		t.Fatal("no web server running")
	}
	// Freeze only once all three are healthy (a check that timed out on a busy machine
	// would keep a target out of the rotation), then ask at once.
	deadline := time.Now().Add(time.Minute)
	for healthy := 0; healthy < 3; {
		healthy = 0
		for _, tg := range status(t, state).Targets {
			if tg.State == "healthy" {
				healthy++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 targets healthy after a minute", healthy)
		}
		if healthy < 3 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	pid, _ := strconv.Atoi(pids[0])
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	// Round robin over three healthy targets: three requests reach the frozen one once; a
	// few more allow for a target the rotation skipped meanwhile.
	client := &http.Client{Timeout: 30 * time.Second}
	var codes []int
	for range 6 {
		resp, err := client.Get(st.URL + "/")
		if err != nil {
			t.Fatalf("request through the load balancer: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusGatewayTimeout {
			break
		}
	}
	if !slices.Contains(codes, http.StatusGatewayTimeout) {
		t.Errorf("codes %v with one target frozen, want a 504", codes)
	}
	var status struct {
		Counters *labclient.LBCounters `json:"counters"`
	}
	if err := json.Unmarshal([]byte(mustLabctl(t, state, "status", "--json")), &status); err != nil {
		t.Fatal(err)
	}
	if k := status.Counters; k == nil || k.ELB504 < 1 || k.ELB5xx < k.ELB504 {
		t.Errorf("counters %+v: want the 504 counted as a load-balancer 5xx", k)
	}
}

// TestLocalUpLifecycle runs `labctl local up` as a user does and ends it the two hard ways:
// its terminal closes (SIGHUP), after which the lab has stopped cleanly as on Ctrl-C, and
// kill -9, after which no web server survives it and the next start removes what it left.
// While it runs, a second `local up` on the same state file is refused and a frozen target
// gets a 504.
func TestLocalUpLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local lab twice; skipped with -short")
	}
	// Its own binaries, state file, temporary directory and ports: it runs beside the other
	// lab tests.
	t.Parallel()
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	labctlBin := filepath.Join(dir, "labctl")
	build := exec.CommandContext(ctx, "go", "build", "-o", labctlBin, "./cmd/labctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/labctl: %v\n%s", err, out)
	}
	// A web server binary of this test's own, so its processes can be told from other labs'.
	webBin, err := locallab.BuildWebServer(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state", "local.json")
	labDirs := func() []string {
		ds, _ := filepath.Glob(filepath.Join(tmp, "healthchecklab-local-*"))
		return ds
	}

	t.Run("terminal closed", func(t *testing.T) {
		p := startUp(t, labctlBin, webBin, root, state, tmp)
		if n := len(processesRunning(webBin)); n != 3 {
			t.Fatalf("%d web servers running, want 3", n)
		}
		if _, err := labctl(t, state, "local", "up", "--port", "0", "--repo", root); err == nil ||
			!strings.Contains(err.Error(), "a local lab is already running with state file "+state) {
			t.Errorf("second local up: %v, want refused", err)
		}
		frozenTargetIs504(t, state, webBin, p.output())
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
		if code := p.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p.output(), "\nstopped\n") {
			t.Errorf("after SIGHUP: exit %d, want 0 and a clean stop:\n%s", code, p.output())
		}
		if pids := processesRunning(webBin); len(pids) > 0 {
			t.Errorf("web servers left running: %v", pids)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Errorf("state file left behind: %v", err)
		}
		if ds := labDirs(); len(ds) != 0 {
			t.Errorf("lab directories left behind: %v", ds)
		}
	})

	t.Run("kill -9", func(t *testing.T) {
		p := startUp(t, labctlBin, webBin, root, state, tmp)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
		deadline := time.Now().Add(10 * time.Second)
		for len(processesRunning(webBin)) > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if pids := processesRunning(webBin); len(pids) > 0 {
			t.Errorf("web servers outlived labctl: %v", pids)
		}
		left := labDirs()
		if len(left) != 1 {
			t.Fatalf("lab directories after kill -9: %v, want the killed lab's", left)
		}
		removed, err := locallab.RemoveStaleLabDirs(tmp)
		if err != nil || len(removed) != 1 || removed[0].Path != left[0] || removed[0].PID != p.cmd.Process.Pid {
			t.Fatalf("RemoveStaleLabDirs = %+v, %v; want %s of pid %d", removed, err, left[0], p.cmd.Process.Pid)
		}
	})
}
