package localb_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
	"healthchecklab/internal/targethealth"
)

var _ localb.Health = (*region.Region)(nil)

// instance is one "EC2 instance" of the test: an HTTP server naming itself, whose health
// check can be made to fail.
type instance struct {
	srv  *httptest.Server
	sick atomic.Bool
}

// regionShell carries out the region's intents with real HTTP servers and the real load
// balancer, as the local lab's shell does, until ctx ends.
type regionShell struct {
	r  *region.Region
	lb *localb.LB

	mu        sync.Mutex
	instances map[string]*instance
}

func (s *regionShell) run(ctx context.Context, t *testing.T) {
	for ctx.Err() == nil {
		s.r.Tick()
		for _, i := range s.r.Drain().Intents {
			switch i.Kind {
			case region.Launch:
				in := &instance{}
				id := i.Instance
				in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == lab.TargetGroupHealthCheck.Path && in.sick.Load() {
						http.Error(w, "Fail", http.StatusServiceUnavailable)
						return
					}
					_, _ = io.WriteString(w, id)
				}))
				s.mu.Lock()
				s.instances[id] = in
				s.mu.Unlock()
				_ = s.r.Started(id)
			case region.Register:
				u, _ := url.Parse(s.get(i.Instance).srv.URL)
				if err := s.lb.Register(localb.Target{ID: i.Instance, URL: u}); err != nil {
					t.Error(err)
				}
			case region.Deregister:
				_ = s.lb.Deregister(i.Instance)
			case region.Remove:
				s.lb.Remove(i.Instance)
			case region.Stop:
				s.get(i.Instance).srv.Close()
				_ = s.r.Stopped(i.Instance)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *regionShell) get(id string) *instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instances[id]
}

// TestRegionModel runs the load balancer on the region model's health: the model's targets
// turn healthy from the load balancer's real checks, a failing deep check takes a target out
// of rotation, and a terminated instance drains and is replaced in its zone, all decided by
// the model and carried out over real HTTP.
func TestRegionModel(t *testing.T) {
	hc := lab.HealthCheck{Path: lab.TargetGroupHealthCheck.Path, Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond,
		HealthyThreshold: 2, UnhealthyThreshold: 2, SuccessCodes: "200", DeregistrationDelay: 100 * time.Millisecond}
	cfg := region.LabConfig(time.Now, 1)
	cfg.HealthCheck = hc
	r, err := region.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := localb.New(localb.Options{HealthCheck: hc, Health: r})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	defer front.Close()
	defer lb.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sh := &regionShell{r: r, lb: lb, instances: map[string]*instance{}}
	done := make(chan struct{})
	go func() { defer close(done); sh.run(ctx, t) }()
	defer func() {
		cancel()
		<-done
		for _, in := range sh.instances {
			in.srv.Close()
		}
	}()

	// waitFor polls the model until cond holds; it fails the test after a generous bound.
	waitFor := func(what string, cond func([]region.InstanceStatus) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cond(r.Status()) {
				return
			}
		}
		t.Fatalf("waiting for %s: %+v", what, r.Status())
	}
	healthyIn := func(st []region.InstanceStatus) map[string]string {
		m := map[string]string{}
		for _, x := range st {
			if x.Current && x.Target.State == targethealth.StateHealthy {
				m[x.Letter] = x.ID
			}
		}
		return m
	}
	served := func(n int) map[string]bool {
		seen := map[string]bool{}
		for range n {
			resp, err := http.Get(front.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				seen[string(b)] = true
			}
		}
		return seen
	}

	waitFor("three healthy targets", func(st []region.InstanceStatus) bool { return len(healthyIn(st)) == 3 })
	zones := healthyIn(r.Status())
	if seen := served(9); len(seen) != 3 {
		t.Fatalf("served by %v", seen)
	}

	// Zone c's deep check fails: unhealthy, out of rotation (the others are healthy).
	sh.get(zones["c"]).sick.Store(true)
	waitFor("zone c unhealthy", func([]region.InstanceStatus) bool {
		return r.Target(zones["c"]).Reason == targethealth.ReasonResponseCodeMismatch
	})
	if seen := served(9); len(seen) != 2 || seen[zones["c"]] {
		t.Fatalf("with zone c unhealthy, served by %v", seen)
	}

	// Terminated: it drains, its server stops, and a new instance in zone c takes traffic.
	if _, err := r.Terminate([]string{zones["c"]}); err != nil {
		t.Fatal(err)
	}
	waitFor("a new healthy instance in zone c", func(st []region.InstanceStatus) bool {
		id, ok := healthyIn(st)["c"]
		return ok && id != zones["c"]
	})
	if got := lb.Target(zones["c"]).State; got != targethealth.StateUnused {
		t.Errorf("old target: %s", got)
	}
	if seen := served(9); len(seen) != 3 || seen[zones["c"]] {
		t.Fatalf("after the replacement, served by %v", seen)
	}
}
