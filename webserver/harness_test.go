package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/ddbauth"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/imds"
	"healthchecklab/internal/standin/ssmstub"
)

// The test binary starts one dynalite and builds the server once; every test then runs real
// server processes against it, through stand-ins of its own.
var (
	dynaliteURL string
	serverBin   string
)

// escapeTable holds a user whose name and show are HTML, to prove the page escapes them.
const escapeTable = "EscapeTest"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	ctx := context.Background()
	ddb, err := dynalite.Start(ctx, dynalite.Options{Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start dynalite:", err, "(run `npm ci` in the repository first)")
		return 1
	}
	defer ddb.Close()
	dynaliteURL = ddb.URL
	if err := dynalite.SetupLabTable(ctx, ddb.URL, dynalite.DefaultTableName); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	seed := lab.Seed()
	seed.Items[1].UserName = `<script>alert("x")</script>`
	seed.Items[1].Result = `<b>bold</b> & "quoted"`
	c := dynalite.NewClient(ddb.URL, "us-east-1", "setup")
	if err := dynalite.CreateLabTable(ctx, c, escapeTable); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := dynalite.SeedTable(ctx, c, escapeTable, seed); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	if bin := os.Getenv("WEBSERVER_BIN"); bin != "" {
		// A prebuilt server, e.g. an older version to compare benchmarks with.
		serverBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "webserver-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serverBin = filepath.Join(dir, "webserver")
	build := exec.Command("go", serverBuildArgs(serverBin)...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if raceEnabled {
		build.Env = append(os.Environ(), "CGO_ENABLED=1") // the race detector needs cgo
	}
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build webserver:", err)
		return 1
	}
	return m.Run()
}

// serverBuildArgs are the go command's arguments that build the server to out: with -race
// when this test binary has it, so `go test -race` also race-checks the server processes.
func serverBuildArgs(out string) []string {
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	return append(args, ".")
}

var (
	normalRole = lab.RoleName(lab.DefaultNamingPrefix)
	noDDBRole  = lab.NoDDBRoleName(lab.DefaultNamingPrefix)
)

// stack is one instance's world: its stand-ins and the server process using them.
type stack struct {
	t     testing.TB
	ssm   *ssmstub.Server
	imds  *imds.Server
	proxy *ddbauth.Proxy
	// imdsFault sits in front of the IMDS stand-in: SetFault makes the metadata service fail.
	imdsFault *faultyHandler
	ddbConns  atomic.Int64 // connections the server opened to DynamoDB (the proxy)
	URL       string       // the web server

	cmd    *exec.Cmd
	mu     sync.Mutex
	logs   []string
	exited chan struct{}
}

// stackConfig adjusts the stand-ins before the server starts.
type stackConfig struct {
	disabled bool     // RecommendationServiceEnabled=false
	role     string   // instance role; default normal
	hang     bool     // DynamoDB never answers
	table    string   // default dynalite.DefaultTableName
	args     []string // extra server flags
	env      []string // extra environment
}

// startStack starts the stand-ins and a server process for code, and stops both at cleanup.
func startStack(t testing.TB, code lab.ServerCode, cfg stackConfig) *stack {
	t.Helper()
	value := "true"
	if cfg.disabled {
		value = "false"
	}
	ssm, err := ssmstub.NewLab(value)
	if err != nil {
		t.Fatal(err)
	}
	role := cfg.role
	if role == "" {
		role = normalRole
	}
	md := imds.New(imds.Instance{Zone: "local-1c", Role: role})
	proxy, err := ddbauth.New(dynaliteURL, ddbauth.DenyRoles(noDDBRole))
	if err != nil {
		t.Fatal(err)
	}
	proxy.SetHang(cfg.hang)
	mdFaulty := &faultyHandler{next: md, release: make(chan struct{})}
	s := &stack{t: t, ssm: ssm, imds: md, imdsFault: mdFaulty, proxy: proxy, exited: make(chan struct{})}
	ssmTS, mdTS, ddbTS := httptest.NewServer(ssm), httptest.NewServer(mdFaulty), httptest.NewUnstartedServer(proxy)
	ddbTS.Config.ConnState = func(_ net.Conn, cs http.ConnState) {
		if cs == http.StateNew {
			s.ddbConns.Add(1)
		}
	}
	ddbTS.Start()
	t.Cleanup(func() {
		proxy.SetHang(false) // release hanging requests so the stand-ins can close
		close(mdFaulty.release)
		ssmTS.Close()
		mdTS.Close()
		ddbTS.Close()
	})
	table := cfg.table
	if table == "" {
		table = dynalite.DefaultTableName
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + mdTS.URL,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbTS.URL,
		"AWS_ENDPOINT_URL_SSM=" + ssmTS.URL,
	}
	s.start(code, table, cfg.args, append(env, cfg.env...))
	return s
}

func (s *stack) start(code lab.ServerCode, table string, extra, env []string) {
	t := s.t
	t.Helper()
	args := append([]string{"-listen", "127.0.0.1:0", "-server-code", string(code), "-table", table}, extra...)
	s.cmd = exec.Command(serverBin, args...)
	s.cmd.Env = env
	s.cmd.Stderr = os.Stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs = append(s.logs, line)
			s.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
	}()
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.stop() })
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-s.exited:
		t.Fatalf("server exited at start-up: %v", s.cmd.ProcessState)
	case <-time.After(15 * time.Second):
		t.Fatal("server did not listen within 15 s")
	}
}

// fault is how a faultyHandler misbehaves.
type fault int32

const (
	faultNone  fault = iota
	faultHang        // requests wait unanswered until the client gives up
	faultError       // requests get 500
)

// faultyHandler passes requests to next unless told to fail: the instance metadata service
// having a bad day after the server started.
type faultyHandler struct {
	next    http.Handler
	mode    atomic.Int32
	release chan struct{} // closed at cleanup, to free hanging requests
	faulted atomic.Int64  // requests that met the fault
}

// SetFault switches the fault on (faultHang, faultError) or off (faultNone).
func (f *faultyHandler) SetFault(m fault) { f.mode.Store(int32(m)) }

// Faulted is the number of requests that met a fault.
func (f *faultyHandler) Faulted() int64 { return f.faulted.Load() }

func (f *faultyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch fault(f.mode.Load()) {
	case faultHang:
		f.faulted.Add(1)
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	case faultError:
		f.faulted.Add(1)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// stop sends SIGTERM and waits for a clean exit. Any other exit fails the test: under
// `go test -race` a server that met a data race exits with status 66.
func (s *stack) stop() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			s.t.Error("server did not stop within 15 s of SIGTERM")
			return
		}
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Errorf("server exited with status %d (66: the race detector found a data race; see its report above)", code)
	}
}

// cpuTime is the CPU time (user and system) the server process has used so far, from
// /proc/PID/stat (Linux; in clock ticks of 10 ms). ok is false where it cannot be read.
func (s *stack) cpuTime() (d time.Duration, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which is in parentheses and may hold spaces):
	// state is field 3, utime field 14, stime field 15.
	_, rest, found := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !found || len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// Logs returns the server's log lines so far.
func (s *stack) Logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logs...)
}

// client has the load balancer's patience: the target group's health-check timeout.
var client = &http.Client{Timeout: lab.TargetGroupHealthCheck.Timeout}

// get requests path with an optional Accept header and returns status and body.
func get(t testing.TB, url, accept string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// getJSON requests path as JSON and decodes the answer into v.
func getJSON(t testing.TB, url string, v any) int {
	t.Helper()
	status, body, err := get(t, url, "application/json")
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: status %d, body %q: %v", url, status, body, err)
	}
	return status
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// saturate keeps n clients sending GET url with c until the returned stop func is called,
// and hands every response (body already read) to seen, which must be safe for concurrent use.
func saturate(c *http.Client, url string, n int, seen func(*http.Response)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				resp, err := c.Get(url)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				seen(resp)
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}
