package region

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

const delay = 10 * time.Second // the lab's deregistration delay

// TestDeploy: a rolling update replaces one zone at a time: the new instance launches first;
// once its target has left initial the old one drains and is terminated; then the next zone
// (CloudFormation UpdatePolicy, AutoScalingRollingUpdate, MaxBatchSize 1,
// MinInstancesInService = desired).
func TestDeploy(t *testing.T) {
	r, s := healthyLab(t, nil)
	olds := map[string]string{}
	for _, l := range Letters {
		olds[l] = only(t, r, l)
	}
	must(t, r.Deploy(lab.CodeErrorHandling))
	s.run()
	if err := r.Deploy(lab.CodeHealthCheck); !errors.Is(err, ErrBusy) {
		t.Fatalf("second deploy: %v", err)
	}
	if got := r.Stacks()[1].Status; got != "UPDATE_IN_PROGRESS" {
		t.Fatalf("stack %s", got)
	}
	for i, l := range Letters {
		if got := zonesOf(s.launched); len(got) != i+1 || got[i] != l {
			t.Fatalf("zone %s: launched %v", l, got)
		}
		nw := s.launched[i]
		if nw.Code != lab.CodeErrorHandling {
			t.Fatalf("new instance runs %s", nw.Code)
		}
		if op := r.Operation(); op == nil || op.Zone != l || op.ServerCode != string(lab.CodeErrorHandling) {
			t.Fatalf("operation %+v", op)
		}
		// In service together until the new target leaves initial.
		if got := inZone(r, l); len(got) != 2 || member(r, olds[l]) != "InService/Healthy" {
			t.Fatalf("zone %s members %v", l, got)
		}
		s.check(ok200, nw.ID)
		if got := health(r, olds[l]); got != "draining Target.DeregistrationInProgress" {
			t.Fatalf("old %s: %s", l, got)
		}
		if len(s.launched) != i+1 {
			t.Fatalf("next zone launched before %s drained", l)
		}
		s.wait(delay)
		if x := in(t, r, olds[l]); x.State != ec2.StateTerminated {
			t.Fatalf("old %s: %s", l, x.State)
		}
	}
	st := r.Stacks()[1]
	g := r.Groups()[0]
	if st.Status != "UPDATE_COMPLETE" || !st.Updated.Equal(s.c.Now()) || r.Operation() != nil || r.ServerCode() != lab.CodeErrorHandling ||
		g.LaunchTemplate.Version != "2" || len(g.Instances) != 3 {
		t.Fatalf("after: %s %v %+v", st.Status, r.Operation(), g)
	}
	for _, m := range g.Instances {
		if m.LaunchTemplate.Version != "2" {
			t.Errorf("member %s on version %s", m.ID, m.LaunchTemplate.Version)
		}
	}
	for _, x := range r.Instances() {
		if x.State == ec2.StateRunning && x.Tags[3].Value != string(lab.CodeErrorHandling) {
			t.Errorf("running %s tagged %s", x.ID, x.Tags[3].Value)
		}
	}
}

// TestDeployUnhealthyNewTarget: a new target that fails its initial checks (the deep check
// during an outage) still lets the update go on: the stack waits on liveness only.
func TestDeployUnhealthyNewTarget(t *testing.T) {
	r, s := healthyLab(t, nil)
	must(t, r.Deploy(lab.CodeHealthCheck))
	s.run()
	for i := range Letters {
		for range 3 {
			s.check(bad503, s.launched[i].ID)
		}
		s.wait(delay)
	}
	if st := r.Stacks()[1].Status; st != "UPDATE_COMPLETE" {
		t.Fatalf("stack %s", st)
	}
}

// TestDeployWaitsForReplacement: while a deploy runs, Auto Scaling does not launch a
// replacement of its own; it does once the update is complete.
func TestDeployWaitsForReplacement(t *testing.T) {
	r, s := healthyLab(t, nil)
	must(t, r.Deploy(lab.CodeErrorHandling))
	s.run()
	c := only(t, r, "c")
	_, err := r.Terminate([]string{c})
	must(t, err)
	s.run()
	s.wait(delay)
	for i := 0; i < len(s.launched); i++ {
		s.check(ok200, s.launched[i].ID)
		s.wait(delay)
	}
	if got := zonesOf(s.launched); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("launched %v", got)
	}
	if n := len(r.Groups()[0].Instances); n != 3 {
		t.Fatalf("%d members", n)
	}
}

// TestHealthCheckType: with type ELB an in-service member whose target is unhealthy once
// the grace period has passed is replaced, in its zone; before the grace period ends, or
// with type EC2, it is not (EC2 Auto Scaling user guide, "Health checks for instances in an
// Auto Scaling group", "Set the health check grace period for an Auto Scaling group").
func TestHealthCheckType(t *testing.T) {
	grace := 30 * time.Second
	tests := []struct {
		name     string
		typ      string
		after    time.Duration // since entering service, when the target turns unhealthy
		replaced bool
	}{
		{"ELB after the grace period", HealthCheckELB, grace, true},
		{"ELB within the grace period", HealthCheckELB, grace / 2, false},
		{"EC2 ignores the load balancer", HealthCheckEC2, 2 * grace, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRegion(t, func(c *Config) { c.HealthCheckType, c.HealthCheckGrace = tt.typ, grace })
			s.checkAll(ok200)
			s.reset()
			s.wait(tt.after - time.Second)
			id := only(t, r, "c")
			for range 3 {
				s.check(bad503, id)
			}
			s.wait(time.Second)
			want := "InService/Healthy"
			if tt.replaced {
				want = "Terminating/Unhealthy"
			}
			if got := member(r, id); got != want {
				t.Fatalf("member %s, want %s", got, want)
			}
			s.wait(delay)
			if tt.replaced != (len(s.launched) == 1) {
				t.Fatalf("launched %v", zonesOf(s.launched))
			}
			if tt.replaced && s.launched[0].Letter != "c" {
				t.Fatalf("replacement in %s", s.launched[0].Letter)
			}
			if !tt.replaced {
				s.wait(10 * grace)
				if len(s.launched) != 0 {
					t.Fatalf("replaced later: %v", zonesOf(s.launched))
				}
			}
		})
	}
}

// TestTrap is the chapter-11 trap on the model: with type ELB, an outage of the shared
// dependency makes every deep check fail; the load balancer fails open while Auto Scaling
// replaces every zone's instance, again and again. With EC2 nothing is replaced.
func TestTrap(t *testing.T) {
	for _, typ := range []string{HealthCheckELB, HealthCheckEC2} {
		t.Run(typ, func(t *testing.T) {
			r, s := newRegion(t, func(c *Config) {
				c.ServerCode, c.HealthCheckType, c.HealthCheckGrace = lab.CodeHealthCheck, typ, 30*time.Second
			})
			s.checkAll(ok200)
			s.wait(time.Minute)
			s.reset()
			opened := false
			for range 20 { // the outage: every check fails, 15 s apart
				s.checkAll(bad503)
				if _, open, ok := r.Pick(); ok && open {
					opened = true
				}
				s.wait(15 * time.Second)
			}
			zones := map[string]int{}
			for _, l := range s.launched {
				zones[l.Letter]++
			}
			if typ == HealthCheckEC2 {
				if len(s.launched) != 0 || !opened {
					t.Fatalf("EC2: launched %v, failed open %v", zonesOf(s.launched), opened)
				}
				return
			}
			for _, l := range Letters {
				if zones[l] < 2 {
					t.Fatalf("ELB: replacements per zone %v", zones)
				}
			}
			if !opened {
				t.Error("the load balancer never failed open")
			}
		})
	}
}

// TestInsufficientCapacity: while a zone cannot launch, the replacement of its instance
// goes to another zone; when the zone recovers the group launches there first and then
// terminates the surplus in the fullest zone (EC2 Auto Scaling user guide, "Auto Scaling
// group Availability Zone distribution", "Rebalancing activities").
func TestInsufficientCapacity(t *testing.T) {
	r, s := healthyLab(t, nil)
	oldA := only(t, r, "a")
	must(t, r.SetZoneCapacity("local-1c", false))
	_, err := r.Terminate([]string{only(t, r, "c")})
	must(t, err)
	s.run()
	s.wait(delay)
	if got := zonesOf(s.launched); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("replacement in %v", got)
	}
	if !slices.ContainsFunc(s.notes, func(n string) bool { return strings.Contains(n, "InsufficientInstanceCapacity") }) {
		t.Errorf("notes %q", s.notes)
	}
	s.check(ok200, s.launched[0].ID)
	s.wait(time.Minute)
	if len(s.launched) != 1 || len(inZone(r, "a")) != 2 {
		t.Fatalf("rebalanced into a zone without capacity: %v", zonesOf(s.launched))
	}
	s.reset()
	s.hold = true // the new instance stays pending: nothing is terminated yet
	must(t, r.SetZoneCapacity("c", true))
	s.run()
	if got := zonesOf(s.launched); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("rebalancing launched %v", got)
	}
	s.wait(time.Minute)
	if got := s.kinds(Deregister); len(got) != 0 {
		t.Fatalf("terminated %v while the new instance is pending", got)
	}
	s.hold = false
	must(t, r.Started(s.launched[0].ID))
	s.run()
	launch := slices.IndexFunc(s.intents, func(i Intent) bool { return i.Kind == Launch })
	dereg := slices.IndexFunc(s.intents, func(i Intent) bool { return i.Kind == Deregister })
	if dereg >= 0 && dereg < launch {
		t.Fatal("terminated before launching")
	}
	s.check(ok200, s.launched[0].ID)
	if got := health(r, oldA); got != "draining Target.DeregistrationInProgress" {
		t.Fatalf("surplus in a: %s", got)
	}
	s.wait(delay)
	for _, l := range Letters {
		if n := len(inZone(r, l)); n != 1 {
			t.Fatalf("zone %s has %d", l, n)
		}
	}
	if err := r.SetZoneCapacity("local-2a", false); err == nil {
		t.Error("unknown zone accepted")
	}
}

// TestPowerOff is chapter 12 on the model: a zone loses power; its instance stops, its
// target fails its checks, the group replaces it in another zone, and rebalances when the
// zone comes back.
func TestPowerOff(t *testing.T) {
	r, s := healthyLab(t, nil)
	c := only(t, r, "c")
	must(t, r.PowerOff("c"))
	s.run()
	if !slices.Equal(s.stopped, []string{c}) {
		t.Fatalf("stopped %v", s.stopped)
	}
	for range 3 { // the stopped server no longer answers
		s.check(refused, c)
	}
	if got := health(r, c); got != "draining Target.DeregistrationInProgress" && got != "unhealthy Target.FailedHealthChecks" {
		t.Fatalf("target %s", got)
	}
	s.wait(delay)
	if x := in(t, r, c); x.State != ec2.StateTerminated {
		t.Fatalf("instance %s", x.State)
	}
	if got := zonesOf(s.launched); len(got) != 1 || got[0] == "c" {
		t.Fatalf("replacement in %v", got)
	}
	s.checkAll(ok200)
	healthyIn := map[string]bool{}
	for _, h := range r.Targets() {
		if h.State == targethealth.StateHealthy {
			healthyIn[in(t, r, h.ID).Zone] = true
		}
	}
	if len(healthyIn) != 2 || healthyIn[ZoneName("c")] || len(r.Groups()[0].Instances) != 3 {
		t.Fatalf("healthy in %v, %d members", healthyIn, len(r.Groups()[0].Instances))
	}
	s.reset()
	must(t, r.PowerOn("c"))
	s.run()
	s.checkAll(ok200)
	s.wait(delay)
	if got := zonesOf(s.launched); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("after power returns: launched %v", got)
	}
	for _, l := range Letters {
		if n := len(inZone(r, l)); n != 1 {
			t.Fatalf("zone %s has %d", l, n)
		}
	}
}
