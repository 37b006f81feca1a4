package localb

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/targethealth"
)

const testIdle = 300 * time.Millisecond

// newIdleLB starts a load balancer with the test idle timeout in front of one target that
// passes its health checks and serves page for every other path.
func newIdleLB(t *testing.T, page http.HandlerFunc) (*LB, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == lab.TargetGroupHealthCheck.Path {
			return
		}
		page(w, r)
	}))
	t.Cleanup(srv.Close)
	return newIdleLBFor(t, srv.URL)
}

func newIdleLBFor(t *testing.T, target string) (*LB, string) {
	t.Helper()
	lb, err := New(Options{HealthCheck: testHC, IdleTimeout: testIdle})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	t.Cleanup(func() { front.Close(); lb.Close() })
	u, _ := url.Parse(target)
	if err := lb.Register(Target{ID: "a", URL: u}); err != nil {
		t.Fatal(err)
	}
	waitState(t, lb, "a", targethealth.StateHealthy)
	return lb, front.URL
}

// assert504 sends one request and checks the load balancer's own 504, given no sooner than
// the idle timeout, and its count as a load-balancer 5xx.
func assert504(t *testing.T, lb *LB, base string) {
	t.Helper()
	start := time.Now()
	// Without an idle timeout the request would hang; fail in bounded time instead.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatalf("no answer from the load balancer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, body, hdr := resp.StatusCode, string(b), resp.Header.Get(labclient.TargetHeader)
	if code != http.StatusGatewayTimeout || hdr != "a" || !strings.Contains(body, "504") {
		t.Fatalf("got %d %q (target %q), want the load balancer's 504 for a", code, body, hdr)
	}
	if took := time.Since(start); took < testIdle {
		t.Errorf("504 after %s, before the idle timeout %s", took, testIdle)
	}
	if c := lb.Counters(); c.ELB504 != 1 || c.ELB5xx != 1 || c.Target5xx != 0 {
		t.Errorf("counters %+v: want one load-balancer 504, counted in the load balancer's 5xx", c)
	}
}

// TestFrozenTargetIs504: a target that accepts a request and then says nothing gets the
// request answered 504 by the load balancer after the idle timeout, as ALB does.
func TestFrozenTargetIs504(t *testing.T) {
	release := make(chan struct{})
	lb, base := newIdleLB(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the target's server closes
	assert504(t, lb, base)
}

// TestSlowTargetIsNotCut: the idle timeout bounds silence, not the whole answer: a target
// that takes longer than the idle timeout in all but never pauses that long is served.
func TestSlowTargetIsNotCut(t *testing.T) {
	const chunks = 6
	lb, base := newIdleLB(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(testIdle / 2)
		w.WriteHeader(http.StatusOK)
		for range chunks {
			_, _ = io.WriteString(w, "x")
			w.(http.Flusher).Flush()
			time.Sleep(testIdle / 2)
		}
	})
	code, body, _ := get(t, base)
	if code != http.StatusOK || body != strings.Repeat("x", chunks) {
		t.Fatalf("got %d %q, want 200 and the whole body", code, body)
	}
	if c := lb.Counters(); c.ELB5xx != 0 {
		t.Errorf("counters %+v: want no load-balancer 5xx", c)
	}
}

func TestFastIdleTimeout(t *testing.T) {
	if got := FastIdleTimeout(); got != 4*time.Second {
		t.Fatalf("FastIdleTimeout = %s, want 4s (60 s scaled as 15 s to 1 s)", got)
	}
	lb, err := New(Options{HealthCheck: testHC})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	if lb.IdleTimeout() != lab.IdleTimeout {
		t.Fatalf("default idle timeout %s, want lab.IdleTimeout %s", lb.IdleTimeout(), lab.IdleTimeout)
	}
}

func TestFastGracePeriod(t *testing.T) {
	if got := FastGracePeriod(); got != 20*time.Second {
		t.Fatalf("FastGracePeriod = %s, want 20s (5 min scaled as 15 s to 1 s)", got)
	}
}
