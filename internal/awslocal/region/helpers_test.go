package region

import (
	"slices"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/targethealth"
)

var t0 = time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)

// clock is the fake clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

var (
	ok200   = targethealth.Result{Kind: targethealth.Success, Code: 200}
	bad503  = targethealth.Result{Kind: targethealth.CodeMismatch, Code: 503}
	timeout = targethealth.Result{Kind: targethealth.Timeout}
	refused = targethealth.Result{Kind: targethealth.ConnError}
)

// shell carries out the region's intents the way the real shell would, at once: every
// launch starts (unless its zone is in failLaunch), every stop stops. It keeps what it did.
type shell struct {
	t          *testing.T
	r          *Region
	c          *clock
	failLaunch map[string]bool // zone letters whose launches fail to start
	hold       bool            // leave launches pending (do not report Started)
	launched   []LaunchSpec
	stopped    []string
	intents    []Intent
	notes      []string
}

// newRegion returns a region with the lab's configuration, changed by edit, its fake clock
// and a shell that has carried out the first launches.
func newRegion(t *testing.T, edit func(*Config)) (*Region, *shell) {
	t.Helper()
	c := &clock{t: t0}
	cfg := LabConfig(c.Now, 42)
	cfg.LoadBalancerURL, cfg.TableName = "http://127.0.0.1:8080", "RecommendationService"
	if edit != nil {
		edit(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &shell{t: t, r: r, c: c, failLaunch: map[string]bool{}}
	s.run()
	return r, s
}

// run drains the outbox and carries out its intents until the region asks for nothing more.
func (s *shell) run() {
	s.t.Helper()
	for range 50 {
		o := s.r.Drain()
		for _, n := range o.Notes {
			s.notes = append(s.notes, n.Text)
		}
		if len(o.Intents) == 0 {
			return
		}
		s.intents = append(s.intents, o.Intents...)
		for _, i := range o.Intents {
			switch i.Kind {
			case Launch:
				s.launched = append(s.launched, *i.Launch)
				switch {
				case s.failLaunch[i.Launch.Letter]:
					must(s.t, s.r.LaunchFailed(i.Instance, "exited at start"))
				case !s.hold:
					must(s.t, s.r.Started(i.Instance))
				}
			case Stop:
				s.stopped = append(s.stopped, i.Instance)
				must(s.t, s.r.Stopped(i.Instance))
			}
		}
	}
	s.t.Fatal("the region kept asking for more")
}

// reset forgets what the shell recorded so far.
func (s *shell) reset() { s.launched, s.stopped, s.intents, s.notes = nil, nil, nil, nil }

// check reports res for each target id, then carries out what follows.
func (s *shell) check(res targethealth.Result, ids ...string) {
	s.t.Helper()
	for _, id := range ids {
		must(s.t, s.r.Checked(id, res))
	}
	s.run()
}

// checkAll reports res for every registered target that is not draining.
func (s *shell) checkAll(res targethealth.Result) {
	s.t.Helper()
	for _, h := range s.r.Targets() {
		if h.State != targethealth.StateDraining {
			must(s.t, s.r.Checked(h.ID, res))
		}
	}
	s.run()
}

// wait moves the clock on and carries out what follows.
func (s *shell) wait(d time.Duration) {
	s.t.Helper()
	s.c.Advance(d)
	s.r.Tick()
	s.run()
}

// kinds lists the recorded intents of one kind, by instance.
func (s *shell) kinds(k IntentKind) []string {
	var out []string
	for _, i := range s.intents {
		if i.Kind == k {
			out = append(out, i.Instance)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// in returns the EC2 view of one instance.
func in(t *testing.T, r *Region, id string) ec2.Instance {
	t.Helper()
	for _, x := range r.Instances() {
		if x.ID == id {
			return x
		}
	}
	t.Fatalf("no instance %s", id)
	return ec2.Instance{}
}

// member returns the Auto Scaling view of one instance: lifecycle and health, or "" when
// it is not in the group.
func member(r *Region, id string) string {
	for _, m := range r.Groups()[0].Instances {
		if m.ID == id {
			return m.LifecycleState + "/" + m.HealthStatus
		}
	}
	return ""
}

// inZone returns the ids of the group's members in zone letter l, in launch order.
func inZone(r *Region, l string) []string {
	var out []string
	for _, m := range r.Groups()[0].Instances {
		if m.Zone == ZoneName(l) {
			out = append(out, m.ID)
		}
	}
	return out
}

// only returns the one member in zone l.
func only(t *testing.T, r *Region, l string) string {
	t.Helper()
	ids := inZone(r, l)
	if len(ids) != 1 {
		t.Fatalf("zone %s has members %v, want one", l, ids)
	}
	return ids[0]
}

// health returns "state reason" of a target.
func health(r *Region, id string) string {
	h := r.Target(id)
	return strings.TrimSpace(string(h.State) + " " + h.Reason)
}

// healthyLab returns a region whose three targets are healthy.
func healthyLab(t *testing.T, edit func(*Config)) (*Region, *shell) {
	t.Helper()
	r, s := newRegion(t, edit)
	s.checkAll(ok200)
	for _, h := range r.Targets() {
		if h.State != targethealth.StateHealthy {
			t.Fatalf("target %s is %s", h.ID, h.State)
		}
	}
	s.reset()
	return r, s
}

func zonesOf(specs []LaunchSpec) []string {
	var out []string
	for _, l := range specs {
		out = append(out, l.Letter)
	}
	return out
}

var _ = slices.Equal[[]string]
