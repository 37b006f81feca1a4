//go:build unix

package locallab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/repo"
	"healthchecklab/internal/supervise"
	"healthchecklab/internal/targethealth"
)

// syncBuffer is a bytes.Buffer safe for the lab's writes and the test's reads.
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

// TestBadDay runs one --fast lab with the deep health check through a bad day: the nested
// request that once crashed DynamoDB, kill -9 of dynalite, kill -9 of a web server, a frozen
// web server, a terminated instance. After each
// kill every target is healthy again and every zone serves personalized answers without
// anyone doing anything; the frozen server is not restarted (its target times out as a
// silent one does) and the terminated one is not either. Meanwhile no request through the
// load balancer gets an answer other than a page or the load balancer's own 502 (a target
// that refused the connection) or 504 (the frozen one), as ALB answers, and nothing logs a
// raw proxy error.
func TestBadDay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole lab")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	var logged syncBuffer
	log.SetOutput(&logged) // where net/http/httputil writes "http: proxy error"
	defer log.SetOutput(io.Discard)
	progress := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	l, err := Start(ctx, Options{Code: lab.CodeHealthCheck, Fast: true, RepoRoot: root, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer func() {
		if t.Failed() {
			t.Logf("lab log:\n%s", progress)
		}
	}()
	if err := l.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}

	// Users keep asking all along; every answer is recorded.
	var (
		answersMu sync.Mutex
		answers   = map[int]int{}
		bad       []string
	)
	stopUsers := make(chan struct{})
	usersDone := make(chan struct{})
	go func() {
		defer close(usersDone)
		client := &http.Client{Timeout: 10 * time.Second}
		for {
			select {
			case <-stopUsers:
				return
			case <-time.After(20 * time.Millisecond):
			}
			code, body, err := get(client, l.URL()+"/")
			answersMu.Lock()
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case code == http.StatusOK && strings.Contains(body, `"show"`):
			case code == http.StatusBadGateway && strings.Contains(body, "502 Bad Gateway"):
			case code == http.StatusGatewayTimeout && strings.Contains(body, "504 Gateway Time-out"): // the frozen target
			default:
				bad = append(bad, fmt.Sprintf("%d %q", code, body))
			}
			answers[code]++
			answersMu.Unlock()
		}
	}()

	// 0. The request that once crashed dynalite is refused as DynamoDB refuses it, and
	// dynalite neither dies nor restarts.
	sendHostileGetItem(ctx, t, l)
	if st := l.ddbSup.Status(); st.State != supervise.Running || st.Restarts != 0 {
		t.Errorf("dynalite after the nested request: %+v, want running, never restarted", st)
	}

	// 1. kill -9 dynalite.
	old := l.ddbSup.Process().Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "dynalite restarted", func() bool {
		st := l.ddbSup.Status()
		return st.State == supervise.Running && st.Restarts == 1
	})
	if st := l.ddbSup.Status(); st.PID == old || st.LastExit != "signal: killed" {
		t.Errorf("dynalite after kill -9: %+v", st)
	}
	recovered(ctx, t, l)
	for _, want := range []string{fmt.Sprintf("dynalite (pid %d) exited (signal: killed): restarting in 100ms", old), "dynalite restarted", "created and seeded again"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("lab log lacks %q", want)
		}
	}

	// 2. kill -9 the web server in zone a: the same instance comes back, its target recovers
	// through its health checks.
	inA := current(t, l, "a")
	old = inA.supervisor().Process().Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "web server a restarted", func() bool {
		st := inA.supervisor().Status()
		return st.State == supervise.Running && st.Restarts == 1
	})
	recovered(ctx, t, l)
	if current(t, l, "a") != inA {
		t.Error("zone a has another instance: the web server should have restarted in place")
	}
	if !strings.Contains(progress.String(), fmt.Sprintf("web server of %s in %s (pid %d) exited (signal: killed)", inA.id, region.ZoneName("a"), old)) {
		t.Error("lab log lacks the web server's exit")
	}

	// 3. Freeze the web server in zone b: not an exit, so no restart; its target times out.
	inB := current(t, l, "b")
	frozenPID := inB.supervisor().Process().Pid()
	if err := syscall.Kill(frozenPID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "frozen target unhealthy", func() bool {
		tg := l.lb.Target(inB.id)
		return tg.State == targethealth.StateUnhealthy && tg.Reason == "Target.Timeout"
	})
	if st := inB.supervisor().Status(); st.State != supervise.Running || st.PID != frozenPID || st.Restarts != 0 {
		t.Errorf("frozen web server: %+v, want still running, not restarted", st)
	}
	if runtime.GOOS == "linux" {
		for _, p := range l.Processes() {
			if (p.InstanceID == inB.id) != p.Frozen {
				t.Errorf("process %+v: only the web server of %s is frozen", p, inB.id)
			}
		}
	}
	_ = syscall.Kill(frozenPID, syscall.SIGCONT)
	recovered(ctx, t, l)

	close(stopUsers)
	<-usersDone
	answersMu.Lock()
	if len(bad) > 0 {
		t.Errorf("answers no load balancer in front of these servers gives (%d): %v", len(bad), bad[:min(len(bad), 5)])
	}
	t.Logf("answers during the bad day: %v", answers)
	answersMu.Unlock()

	// Status lists every process with its restarts.
	ps := l.Processes()
	if len(ps) != 5 || ps[0].Name != "labctl" || ps[1].Name != "dynalite" || ps[1].Restarts != 1 {
		t.Errorf("processes %+v", ps)
	}
	restarts := map[string]int{}
	for _, p := range ps[2:] {
		restarts[p.InstanceID] = p.Restarts
	}
	if restarts[inA.id] != 1 || restarts[inB.id] != 0 {
		t.Errorf("restarts %v: want 1 for %s, 0 for the frozen %s", restarts, inA.id, inB.id)
	}

	// 4. A terminated instance (EC2's TerminateInstances, through the region) is stopped for
	// good: Auto Scaling replaces it.
	if _, err := l.r.Terminate([]string{inA.id}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "instance terminated", func() bool {
		for _, in := range l.r.Instances() {
			if in.ID == inA.id {
				return in.State == "terminated"
			}
		}
		return false
	})
	if st := inA.supervisor().Status(); st.State != supervise.Stopped || st.Restarts != 1 {
		t.Errorf("terminated instance's web server: %+v, want stopped (and no restart after its one crash)", st)
	}
	if strings.Contains(logged.String(), "proxy error") {
		t.Errorf("logged: %s", logged.String())
	}
}

// get asks url for JSON and returns the status code and body.
func get(client *http.Client, url string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// recovered waits until all three targets are healthy and every zone has served a
// personalized answer, which needs DynamoDB.
func recovered(ctx context.Context, t *testing.T, l *Lab) {
	t.Helper()
	if err := l.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	client := &http.Client{Timeout: 10 * time.Second}
	waitFor(ctx, t, "personalized answers from every zone", func() bool {
		code, body, err := get(client, l.URL()+"/")
		var page struct {
			Personalized bool `json:"personalized"`
			Metadata     struct {
				Zone string `json:"availability_zone"`
			} `json:"metadata"`
		}
		if err == nil && code == http.StatusOK && json.Unmarshal([]byte(body), &page) == nil && page.Personalized {
			zones[page.Metadata.Zone] = true
		}
		return len(zones) == len(region.Letters)
	})
}

// current returns the processes of zone letter's current instance.
func current(t *testing.T, l *Lab, letter string) *instance {
	t.Helper()
	for _, s := range l.r.Status() {
		if s.Letter == letter && s.Current {
			if in := l.proc(s.ID); in != nil {
				return in
			}
		}
	}
	t.Fatalf("zone %s has no running instance", letter)
	return nil
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
