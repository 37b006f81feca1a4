package localb

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/targethealth"
)

// testHC is the lab's target group sped up for tests: same path, thresholds and codes.
var testHC = lab.HealthCheck{
	Path:                lab.TargetGroupHealthCheck.Path,
	Interval:            150 * time.Millisecond,
	Timeout:             120 * time.Millisecond,
	HealthyThreshold:    lab.TargetGroupHealthCheck.HealthyThreshold,
	UnhealthyThreshold:  lab.TargetGroupHealthCheck.UnhealthyThreshold,
	SuccessCodes:        lab.TargetGroupHealthCheck.SuccessCodes,
	DeregistrationDelay: 300 * time.Millisecond,
}

// fakeTarget is an httptest server whose health answer and page behaviour can be switched.
type fakeTarget struct {
	name   string
	srv    *httptest.Server
	health atomic.Int32 // status code of /healthcheck; 0 hangs until the checker gives up
	page   atomic.Int32 // status code of /; 0 drops the connection without an answer
}

func newFakeTarget(t *testing.T, name string) *fakeTarget {
	t.Helper()
	f := &fakeTarget{name: name}
	f.health.Store(200)
	f.page.Store(200)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == lab.TargetGroupHealthCheck.Path {
			code := int(f.health.Load())
			if code == 0 {
				<-r.Context().Done()
				return
			}
			w.WriteHeader(code)
			return
		}
		code := int(f.page.Load())
		if code == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(code)
		fmt.Fprint(w, f.name)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTarget) target() Target {
	u, _ := url.Parse(f.srv.URL)
	return Target{ID: f.name, URL: u}
}

// newLB starts a load balancer behind a real HTTP server and registers the targets.
func newLB(t *testing.T, targets ...*fakeTarget) (*LB, string) {
	t.Helper()
	lb, err := New(Options{HealthCheck: testHC})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	t.Cleanup(func() { front.Close(); lb.Close() })
	for _, f := range targets {
		if err := lb.Register(f.target()); err != nil {
			t.Fatal(err)
		}
	}
	return lb, front.URL
}

// waitState polls until target id reaches state, or fails the test after a generous deadline.
func waitState(t *testing.T, lb *LB, id string, want targethealth.State) TargetStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := lb.Target(id)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("target %s is %s (%s), want %s", id, st.State, st.Reason, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get sends one request through the load balancer and returns status, body and target header.
func get(t *testing.T, base string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get(labclient.TargetHeader)
}

func TestFast(t *testing.T) {
	f := Fast(lab.TargetGroupHealthCheck)
	want := lab.HealthCheck{
		Path: "/healthcheck", Interval: time.Second, Timeout: 800 * time.Millisecond,
		HealthyThreshold: 2, UnhealthyThreshold: 3, SuccessCodes: "200",
		DeregistrationDelay: 667 * time.Millisecond,
	}
	if f != want {
		t.Fatalf("Fast = %+v\nwant   %+v", f, want)
	}
	if _, err := New(Options{HealthCheck: f}); err != nil {
		t.Fatalf("Fast settings rejected: %v", err)
	}
}

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		in      string
		yes, no []int
		wantErr bool
	}{
		{in: "200", yes: []int{200}, no: []int{201, 503, 302}},
		{in: "200,202", yes: []int{200, 202}, no: []int{201}},
		{in: "200-299", yes: []int{200, 250, 299}, no: []int{300, 199}},
		{in: "200-204, 301", yes: []int{204, 301}, no: []int{205}},
		{in: "", wantErr: true},
		{in: "ok", wantErr: true},
		{in: "500", wantErr: true},
		{in: "299-200", wantErr: true},
	}
	for _, tt := range tests {
		m, err := ParseMatcher(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMatcher(%q) error = %v", tt.in, err)
			continue
		}
		for _, c := range tt.yes {
			if !m(c) {
				t.Errorf("%q: %d should match", tt.in, c)
			}
		}
		for _, c := range tt.no {
			if m(c) {
				t.Errorf("%q: %d should not match", tt.in, c)
			}
		}
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	bad := []func(*lab.HealthCheck){
		func(h *lab.HealthCheck) { h.Timeout = h.Interval },
		func(h *lab.HealthCheck) { h.Path = "healthcheck" },
		func(h *lab.HealthCheck) { h.SuccessCodes = "abc" },
		func(h *lab.HealthCheck) { h.HealthyThreshold = 1 },
	}
	for i, mutate := range bad {
		hc := testHC
		mutate(&hc)
		if _, err := New(Options{HealthCheck: hc}); err == nil {
			t.Errorf("case %d: New(%+v) accepted", i, hc)
		}
	}
}

func TestRoundRobinOverHealthyTargets(t *testing.T) {
	a, b, c := newFakeTarget(t, "a"), newFakeTarget(t, "b"), newFakeTarget(t, "c")
	lb, base := newLB(t, a, b, c)
	if st := lb.Target("a"); st.State != targethealth.StateInitial {
		t.Fatalf("just registered: %s", st.State)
	}
	for _, id := range []string{"a", "b", "c"} {
		waitState(t, lb, id, targethealth.StateHealthy)
	}
	seen := map[string]int{}
	for range 30 {
		code, body, hdr := get(t, base)
		if code != 200 || body != hdr {
			t.Fatalf("got %d %q from %q", code, body, hdr)
		}
		seen[body]++
	}
	if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 {
		t.Fatalf("round robin over three healthy targets: %v", seen)
	}
	for _, ts := range lb.Targets() {
		if ts.Requests != 10 {
			t.Errorf("target %s counted %d requests, want 10", ts.ID, ts.Requests)
		}
	}
	if c := lb.Counters(); c.Requests != 30 || c.ELB5xx != 0 || c.Target5xx != 0 || c.FailOpen != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func TestUnhealthyTargetGetsNoTraffic(t *testing.T) {
	a, b, c := newFakeTarget(t, "a"), newFakeTarget(t, "b"), newFakeTarget(t, "c")
	lb, base := newLB(t, a, b, c)
	for _, id := range []string{"a", "b", "c"} {
		waitState(t, lb, id, targethealth.StateHealthy)
	}
	c.health.Store(503)
	st := waitState(t, lb, "c", targethealth.StateUnhealthy)
	if st.Reason != targethealth.ReasonResponseCodeMismatch || st.Description != "Health checks failed with these codes: [503]" {
		t.Fatalf("unhealthy c: %s %q", st.Reason, st.Description)
	}
	for range 20 {
		if code, body, _ := get(t, base); code != 200 || body == "c" {
			t.Fatalf("got %d from %q while c is unhealthy", code, body)
		}
	}
	// Healthy again after HealthyThreshold successes, and back in rotation.
	c.health.Store(200)
	waitState(t, lb, "c", targethealth.StateHealthy)
	seen := map[string]bool{}
	for range 3 {
		_, body, _ := get(t, base)
		seen[body] = true
	}
	if !seen["c"] {
		t.Fatalf("c not routed to after recovery: %v", seen)
	}
}

func TestDroppedConnectionIsLoadBalancer502(t *testing.T) {
	a := newFakeTarget(t, "a")
	a.page.Store(0) // basic ServerCode with the dependency down: drop the connection
	lb, base := newLB(t, a)
	waitState(t, lb, "a", targethealth.StateHealthy)
	for range 5 {
		code, _, hdr := get(t, base)
		if code != http.StatusBadGateway || hdr != "a" {
			t.Fatalf("got %d (target %q), want 502 from a", code, hdr)
		}
	}
	c := lb.Counters()
	if c.ELB502 != 5 || c.ELB5xx != 5 || c.Target5xx != 0 {
		t.Fatalf("counters %+v: want 5 load-balancer 502s and no target 5xx", c)
	}
	if st := lb.Target("a"); st.State != targethealth.StateHealthy {
		t.Fatalf("shallow check should keep a healthy: %s", st.State)
	}
}

func TestTarget5xxCountedAsTarget(t *testing.T) {
	a := newFakeTarget(t, "a")
	a.page.Store(500)
	lb, base := newLB(t, a)
	waitState(t, lb, "a", targethealth.StateHealthy)
	if code, _, _ := get(t, base); code != 500 {
		t.Fatalf("got %d, want the target's 500", code)
	}
	if c := lb.Counters(); c.Target5xx != 1 || c.ELB5xx != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func TestFailOpenWhenNoTargetIsHealthy(t *testing.T) {
	a, b, c := newFakeTarget(t, "a"), newFakeTarget(t, "b"), newFakeTarget(t, "c")
	lb, base := newLB(t, a, b, c)
	for _, f := range []*fakeTarget{a, b, c} {
		waitState(t, lb, f.name, targethealth.StateHealthy)
		f.health.Store(503)
	}
	for _, f := range []*fakeTarget{a, b, c} {
		waitState(t, lb, f.name, targethealth.StateUnhealthy)
	}
	seen := map[string]int{}
	for range 9 {
		code, body, _ := get(t, base)
		if code != 200 {
			t.Fatalf("fail open: got %d", code)
		}
		seen[body]++
	}
	if len(seen) != 3 {
		t.Fatalf("fail open should route to all three: %v", seen)
	}
	if c := lb.Counters(); c.FailOpen != 9 || c.ELB5xx != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func TestHealthCheckFailureReasons(t *testing.T) {
	hang := newFakeTarget(t, "hang")
	hang.health.Store(0)
	// A listener that is closed at once: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL, _ := url.Parse("http://" + l.Addr().String())
	l.Close()

	lb, base := newLB(t, hang)
	if err := lb.Register(Target{ID: "gone", URL: refusedURL}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ id, reason string }{
		{"hang", targethealth.ReasonTimeout},
		{"gone", targethealth.ReasonFailedHealthChecks},
	}
	for _, tt := range tests {
		if st := waitState(t, lb, tt.id, targethealth.StateUnhealthy); st.Reason != tt.reason {
			t.Errorf("%s: reason %s, want %s", tt.id, st.Reason, tt.reason)
		}
	}
	// Both unhealthy: fail open, and the unreachable one yields a load-balancer 502.
	codes := map[int]int{}
	for range 4 {
		code, _, _ := get(t, base)
		codes[code]++
	}
	if codes[http.StatusBadGateway] == 0 {
		t.Fatalf("no 502 from the unreachable target while failing open: %v", codes)
	}
}

func TestDeregisterDrainsThenRemoves(t *testing.T) {
	a, b := newFakeTarget(t, "a"), newFakeTarget(t, "b")
	lb, base := newLB(t, a, b)
	waitState(t, lb, "a", targethealth.StateHealthy)
	waitState(t, lb, "b", targethealth.StateHealthy)
	if err := lb.Deregister("a"); err != nil {
		t.Fatal(err)
	}
	if st := lb.Target("a"); st.State != targethealth.StateDraining || st.Reason != targethealth.ReasonDeregistrationInProgress {
		t.Fatalf("after Deregister: %s %s", st.State, st.Reason)
	}
	for range 6 {
		if _, body, _ := get(t, base); body != "b" {
			t.Fatalf("draining target a got a request")
		}
	}
	waitState(t, lb, "a", targethealth.StateUnused)
	if n := len(lb.Targets()); n != 1 {
		t.Fatalf("%d targets listed after removal", n)
	}
	if err := lb.Deregister("a"); err == nil {
		t.Fatal("deregistering a removed target should fail")
	}
}

func TestNoTargetIs503(t *testing.T) {
	lb, base := newLB(t)
	code, body, _ := get(t, base)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "503") {
		t.Fatalf("got %d %q", code, body)
	}
	if c := lb.Counters(); c.ELB503 != 1 || c.ELB5xx != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestRegisterDuplicate(t *testing.T) {
	a := newFakeTarget(t, "a")
	lb, _ := newLB(t, a)
	if err := lb.Register(a.target()); err == nil {
		t.Fatal("duplicate registration accepted")
	}
}

// BenchmarkProxy measures one request through the load balancer to a healthy target,
// against the same request sent to the target directly (the overhead is the difference).
func BenchmarkProxy(b *testing.B) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer target.Close()
	lb, err := New(Options{HealthCheck: testHC})
	if err != nil {
		b.Fatal(err)
	}
	defer lb.Close()
	front := httptest.NewServer(lb)
	defer front.Close()
	u, _ := url.Parse(target.URL)
	_ = lb.Register(Target{ID: "t", URL: u})
	for lb.Target("t").State != targethealth.StateHealthy {
		time.Sleep(10 * time.Millisecond)
	}
	for _, bc := range []struct{ name, url string }{{"direct", target.URL}, {"via-lb", front.URL}} {
		b.Run(bc.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(bc.url)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
