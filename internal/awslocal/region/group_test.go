package region_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/region"
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
	for _, l := range region.Letters {
		olds[l] = only(t, r, l)
	}
	must(t, r.Deploy(lab.CodeErrorHandling))
	s.Run()
	if err := r.Deploy(lab.CodeHealthCheck); !errors.Is(err, region.ErrBusy) {
		t.Fatalf("second deploy: %v", err)
	}
	if got := r.Stacks()[1].Status; got != "UPDATE_IN_PROGRESS" {
		t.Fatalf("stack %s", got)
	}
	for i, l := range region.Letters {
		if got := zonesOf(s.Launched); len(got) != i+1 || got[i] != l {
			t.Fatalf("zone %s: launched %v", l, got)
		}
		nw := s.Launched[i]
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
		s.Check(ok200, nw.ID)
		if got := health(r, olds[l]); got != "draining Target.DeregistrationInProgress" {
			t.Fatalf("old %s: %s", l, got)
		}
		if len(s.Launched) != i+1 {
			t.Fatalf("next zone launched before %s drained", l)
		}
		s.Wait(delay)
		if x := in(t, r, olds[l]); x.State != ec2.StateTerminated {
			t.Fatalf("old %s: %s", l, x.State)
		}
	}
	st := r.Stacks()[1]
	g := r.Groups()[0]
	if st.Status != "UPDATE_COMPLETE" || !st.Updated.Equal(s.C.Now()) || r.Operation() != nil || r.ServerCode() != lab.CodeErrorHandling ||
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
	s.Run()
	for i := range region.Letters {
		for range 3 {
			s.Check(bad503, s.Launched[i].ID)
		}
		s.Wait(delay)
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
	s.Run()
	c := only(t, r, "c")
	_, err := r.Terminate([]string{c})
	must(t, err)
	s.Run()
	s.Wait(delay)
	for i := 0; i < len(s.Launched); i++ {
		s.Check(ok200, s.Launched[i].ID)
		s.Wait(delay)
	}
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"a", "b", "c"}) {
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
		{"ELB after the grace period", region.HealthCheckELB, grace, true},
		{"ELB within the grace period", region.HealthCheckELB, grace / 2, false},
		{"EC2 ignores the load balancer", region.HealthCheckEC2, 2 * grace, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRegion(t, func(c *region.Config) { c.HealthCheckType, c.HealthCheckGrace = tt.typ, grace })
			s.CheckAll(ok200)
			s.Reset()
			s.Wait(tt.after - time.Second)
			id := only(t, r, "c")
			for range 3 {
				s.Check(bad503, id)
			}
			s.Wait(time.Second)
			want := "InService/Healthy"
			if tt.replaced {
				want = "Terminating/Unhealthy"
			}
			if got := member(r, id); got != want {
				t.Fatalf("member %s, want %s", got, want)
			}
			s.Wait(delay)
			if tt.replaced != (len(s.Launched) == 1) {
				t.Fatalf("launched %v", zonesOf(s.Launched))
			}
			if tt.replaced && s.Launched[0].Letter != "c" {
				t.Fatalf("replacement in %s", s.Launched[0].Letter)
			}
			if !tt.replaced {
				s.Wait(10 * grace)
				if len(s.Launched) != 0 {
					t.Fatalf("replaced later: %v", zonesOf(s.Launched))
				}
			}
		})
	}
}

// TestTrap is the chapter-11 trap on the model: with type ELB, an outage of the shared
// dependency makes every deep check fail; the load balancer fails open while Auto Scaling
// replaces every zone's instance, again and again. With EC2 nothing is replaced.
func TestTrap(t *testing.T) {
	for _, typ := range []string{region.HealthCheckELB, region.HealthCheckEC2} {
		t.Run(typ, func(t *testing.T) {
			r, s := newRegion(t, func(c *region.Config) {
				c.ServerCode, c.HealthCheckType, c.HealthCheckGrace = lab.CodeHealthCheck, typ, 30*time.Second
			})
			s.CheckAll(ok200)
			s.Wait(time.Minute)
			s.Reset()
			opened := false
			for range 20 { // the outage: every check fails, 15 s apart
				s.CheckAll(bad503)
				if _, open, ok := r.Pick(); ok && open {
					opened = true
				}
				s.Wait(15 * time.Second)
			}
			zones := map[string]int{}
			for _, l := range s.Launched {
				zones[l.Letter]++
			}
			if typ == region.HealthCheckEC2 {
				if len(s.Launched) != 0 || !opened {
					t.Fatalf("EC2: launched %v, failed open %v", zonesOf(s.Launched), opened)
				}
				return
			}
			for _, l := range region.Letters {
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
	s.Run()
	s.Wait(delay)
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("replacement in %v", got)
	}
	if !slices.ContainsFunc(s.Notes, func(n string) bool { return strings.Contains(n, "InsufficientInstanceCapacity") }) {
		t.Errorf("notes %q", s.Notes)
	}
	s.Check(ok200, s.Launched[0].ID)
	s.Wait(time.Minute)
	if len(s.Launched) != 1 || len(inZone(r, "a")) != 2 {
		t.Fatalf("rebalanced into a zone without capacity: %v", zonesOf(s.Launched))
	}
	s.Reset()
	s.Hold = true // the new instance stays pending: nothing is terminated yet
	must(t, r.SetZoneCapacity("c", true))
	s.Run()
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("rebalancing launched %v", got)
	}
	s.Wait(time.Minute)
	if got := s.Kinds(region.Deregister); len(got) != 0 {
		t.Fatalf("terminated %v while the new instance is pending", got)
	}
	s.Hold = false
	must(t, r.Started(s.Launched[0].ID))
	s.Run()
	launch := slices.IndexFunc(s.Intents, func(i region.Intent) bool { return i.Kind == region.Launch })
	dereg := slices.IndexFunc(s.Intents, func(i region.Intent) bool { return i.Kind == region.Deregister })
	if dereg >= 0 && dereg < launch {
		t.Fatal("terminated before launching")
	}
	s.Check(ok200, s.Launched[0].ID)
	if got := health(r, oldA); got != "draining Target.DeregistrationInProgress" {
		t.Fatalf("surplus in a: %s", got)
	}
	s.Wait(delay)
	for _, l := range region.Letters {
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
	s.Run()
	if !slices.Equal(s.Stopped, []string{c}) {
		t.Fatalf("stopped %v", s.Stopped)
	}
	for range 3 { // the stopped server no longer answers
		s.Check(refused, c)
	}
	if got := health(r, c); got != "draining Target.DeregistrationInProgress" && got != "unhealthy Target.FailedHealthChecks" {
		t.Fatalf("target %s", got)
	}
	s.Wait(delay)
	if x := in(t, r, c); x.State != ec2.StateTerminated {
		t.Fatalf("instance %s", x.State)
	}
	if got := zonesOf(s.Launched); len(got) != 1 || got[0] == "c" {
		t.Fatalf("replacement in %v", got)
	}
	s.CheckAll(ok200)
	healthyIn := map[string]bool{}
	for _, h := range r.Targets() {
		if h.State == targethealth.StateHealthy {
			healthyIn[in(t, r, h.ID).Zone] = true
		}
	}
	if len(healthyIn) != 2 || healthyIn[region.ZoneName("c")] || len(r.Groups()[0].Instances) != 3 {
		t.Fatalf("healthy in %v, %d members", healthyIn, len(r.Groups()[0].Instances))
	}
	s.Reset()
	must(t, r.PowerOn("c"))
	s.Run()
	s.CheckAll(ok200)
	s.Wait(delay)
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("after power returns: launched %v", got)
	}
	for _, l := range region.Letters {
		if n := len(inZone(r, l)); n != 1 {
			t.Fatalf("zone %s has %d", l, n)
		}
	}
}

// TestDeployFailure: a rolling update whose new instance never starts gives up after three
// attempts; the stack rolls back and the old instances stay in service.
func TestDeployFailure(t *testing.T) {
	r, s := healthyLab(t, nil)
	old := only(t, r, "a")
	s.FailLaunch["a"] = true
	must(t, r.Deploy(lab.CodeHealthCheck))
	s.Run()
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"a", "a", "a"}) {
		t.Fatalf("launched %v", got)
	}
	st := r.Stacks()[1]
	if st.Status != "UPDATE_ROLLBACK_COMPLETE" || r.Operation() != nil || r.ServerCode() != lab.CodeBasic {
		t.Fatalf("stack %s, operation %v, code %s", st.Status, r.Operation(), r.ServerCode())
	}
	if got := member(r, old); got != "InService/Healthy" {
		t.Fatalf("old instance: %s", got)
	}
	if v := r.Groups()[0].LaunchTemplate.Version; v != "1" {
		t.Fatalf("launch template version %s", v)
	}
}

// TestRepairOperation: the group replacing a member outside a rolling update is an
// operation for live views, from the termination until the group is whole again (its new
// target past its initial check); a rolling update is the deploy's operation instead.
func TestRepairOperation(t *testing.T) {
	r, s := healthyLab(t, nil)
	if op := r.Operation(); op != nil {
		t.Fatalf("operation %+v on a settled group", op)
	}
	old := only(t, r, "c")
	_, err := r.TerminateInstance(old, false)
	must(t, err)
	s.Run()
	op := r.Operation()
	if op == nil || op.Kind != region.OpRepair || op.Zone != "c" || op.ServerCode != string(r.ServerCode()) || !op.Started.Equal(s.C.Now()) {
		t.Fatalf("operation %+v, want repair in c since the termination", op)
	}
	s.Wait(delay) // drained, terminated, replaced
	nw := only(t, r, "c")
	if nw == old {
		t.Fatal("zone c not replaced")
	}
	if op := r.Operation(); op == nil || op.Kind != region.OpRepair || op.Last == "" {
		t.Fatalf("operation %+v while the new target is initial", op)
	}
	s.Check(ok200, nw)
	if op := r.Operation(); op != nil {
		t.Fatalf("operation %+v after the group is whole", op)
	}
	must(t, r.Deploy(lab.CodeBasic))
	if op := r.Operation(); op == nil || op.Kind != region.OpDeploy {
		t.Fatalf("operation %+v during a deploy", op)
	}
}

// TestSetHealthCheck: a stack update of the group's health-check type changes how the group
// judges the instances it already has, and each replacement is a scaling activity whose
// cause names the failed check (EC2 Auto Scaling user guide, "View the reason for health
// check failures"); back on EC2 an unhealthy target is replaced no more.
func TestSetHealthCheck(t *testing.T) {
	grace := 20 * time.Second
	r, s := newRegion(t, nil)
	s.CheckAll(ok200)
	if err := r.SetHealthCheck("TCP", grace); err == nil {
		t.Fatal("type TCP accepted")
	}
	must(t, r.SetHealthCheck(region.HealthCheckELB, grace))
	if g := r.Groups()[0]; g.HealthCheckType != region.HealthCheckELB || g.HealthCheckGrace != grace {
		t.Fatalf("group %s %s", g.HealthCheckType, g.HealthCheckGrace)
	}
	s.Wait(grace)
	id := only(t, r, "b")
	for range 3 {
		s.Check(bad503, id)
	}
	acts := r.Activities()
	if len(acts) != 1 || acts[0].Description != "Terminating EC2 instance: "+id || acts[0].StatusCode != "InProgress" ||
		!strings.Contains(acts[0].Cause, "ELB system health check failure") || !strings.Contains(acts[0].Details, "local-1b") {
		t.Fatalf("activities %+v", acts)
	}
	s.Wait(delay)
	if acts = r.Activities(); acts[0].StatusCode != "Successful" {
		t.Fatalf("after termination: %+v", acts[0])
	}
	s.CheckAll(ok200)
	must(t, r.SetHealthCheck(region.HealthCheckEC2, grace))
	s.Wait(grace)
	for range 3 {
		s.CheckAll(bad503)
	}
	s.Wait(delay)
	if n := len(r.Activities()); n != 1 {
		t.Fatalf("type EC2: %d activities", n)
	}
}
