// Package regiontest drives a region model in tests the way the local lab's shell does,
// instantly: every launch starts, every stop stops, on a fake clock moved by hand.
package regiontest

import (
	"sync"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/targethealth"
)

// T0 is the time a test region starts at.
var T0 = time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)

// Clock is a fake clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Shell carries out a region's intents at once and keeps what it did.
type Shell struct {
	T          testing.TB
	R          *region.Region
	C          *Clock
	FailLaunch map[string]bool // zone letters whose launches fail to start
	Hold       bool            // leave launches pending (do not report Started)
	Launched   []region.LaunchSpec
	Stopped    []string
	Intents    []region.Intent
	Notes      []string
}

// Results of health checks, for Check.
var (
	OK200   = targethealth.Result{Kind: targethealth.Success, Code: 200}
	Bad503  = targethealth.Result{Kind: targethealth.CodeMismatch, Code: 503}
	Timeout = targethealth.Result{Kind: targethealth.Timeout}
	Refused = targethealth.Result{Kind: targethealth.ConnError}
)

// New returns a shell over a region with the lab's configuration (seed 42, load balancer
// at 127.0.0.1:8080), changed by edit, whose first launches have been carried out.
func New(t testing.TB, edit func(*region.Config)) *Shell {
	t.Helper()
	c := &Clock{t: T0}
	cfg := region.LabConfig(c.Now, 42)
	cfg.LoadBalancerURL, cfg.TableName = "http://127.0.0.1:8080", "RecommendationService"
	if edit != nil {
		edit(&cfg)
	}
	r, err := region.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &Shell{T: t, R: r, C: c, FailLaunch: map[string]bool{}}
	s.Run()
	return s
}

// Healthy returns a shell whose region's targets have all passed a health check.
func Healthy(t testing.TB, edit func(*region.Config)) *Shell {
	t.Helper()
	s := New(t, edit)
	s.CheckAll(OK200)
	s.Reset()
	return s
}

// Run drains the outbox and carries out its intents until the region asks for nothing more.
func (s *Shell) Run() {
	s.T.Helper()
	for range 50 {
		o := s.R.Drain()
		for _, n := range o.Notes {
			s.Notes = append(s.Notes, n.Text)
		}
		if len(o.Intents) == 0 {
			return
		}
		s.Intents = append(s.Intents, o.Intents...)
		for _, i := range o.Intents {
			switch i.Kind {
			case region.Launch:
				s.Launched = append(s.Launched, *i.Launch)
				switch {
				case s.FailLaunch[i.Launch.Letter]:
					s.must(s.R.LaunchFailed(i.Instance, "exited at start"))
				case !s.Hold:
					s.must(s.R.Started(i.Instance))
				}
			case region.Stop:
				s.Stopped = append(s.Stopped, i.Instance)
				s.must(s.R.Stopped(i.Instance))
			}
		}
	}
	s.T.Fatal("the region kept asking for more")
}

func (s *Shell) must(err error) {
	s.T.Helper()
	if err != nil {
		s.T.Fatal(err)
	}
}

// Reset forgets what the shell recorded so far.
func (s *Shell) Reset() { s.Launched, s.Stopped, s.Intents, s.Notes = nil, nil, nil, nil }

// Check reports res for each target id, then carries out what follows.
func (s *Shell) Check(res targethealth.Result, ids ...string) {
	s.T.Helper()
	for _, id := range ids {
		s.must(s.R.Checked(id, res))
	}
	s.Run()
}

// CheckAll reports res for every registered target that is not draining.
func (s *Shell) CheckAll(res targethealth.Result) {
	s.T.Helper()
	for _, h := range s.R.Targets() {
		if h.State != targethealth.StateDraining {
			s.must(s.R.Checked(h.ID, res))
		}
	}
	s.Run()
}

// Wait moves the clock on by d and carries out what follows.
func (s *Shell) Wait(d time.Duration) {
	s.T.Helper()
	s.C.Advance(d)
	s.R.Tick()
	s.Run()
}

// Kinds lists the recorded intents of kind k, by instance id.
func (s *Shell) Kinds(k region.IntentKind) []string {
	var out []string
	for _, i := range s.Intents {
		if i.Kind == k {
			out = append(out, i.Instance)
		}
	}
	return out
}

// Zones lists the zone letters of the recorded launches.
func (s *Shell) Zones() []string {
	var out []string
	for _, l := range s.Launched {
		out = append(out, l.Letter)
	}
	return out
}

// InZone returns the ids of the group's members in zone letter l, in launch order.
func (s *Shell) InZone(l string) []string {
	var out []string
	for _, m := range s.R.Groups()[0].Instances {
		if m.Zone == region.ZoneName(l) {
			out = append(out, m.ID)
		}
	}
	return out
}

// Only returns the one member in zone letter l.
func (s *Shell) Only(l string) string {
	s.T.Helper()
	ids := s.InZone(l)
	if len(ids) != 1 {
		s.T.Fatalf("zone %s has members %v, want one", l, ids)
	}
	return ids[0]
}

// NewClock returns a fake clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }
