package region_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/awslocal/region"
	rt "healthchecklab/internal/awslocal/region/regiontest"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// TestStart: the group launches one instance per zone with the normal profile and the
// stack's ServerCode; each is pending until its server answers, then running, in service
// and registered (EC2 user guide, "Amazon EC2 instance state changes"; ELB API reference,
// TargetHealth: initial, Elb.RegistrationInProgress).
func TestStart(t *testing.T) {
	r, s := newRegion(t, func(c *region.Config) { c.ServerCode = lab.CodeHealthCheck })
	if got := zonesOf(s.Launched); !slices.Equal(got, region.Letters) {
		t.Fatalf("launched in %v", got)
	}
	for _, l := range s.Launched {
		if l.Role != lab.RoleName(lab.DefaultNamingPrefix) || l.Code != lab.CodeHealthCheck || l.Zone != region.ZoneName(l.Letter) ||
			!strings.HasPrefix(l.PrivateIP, "10.0.") || !strings.HasSuffix(l.Hostname, ".local-1.compute.internal") {
			t.Errorf("launch %+v", l)
		}
		x := in(t, r, l.ID)
		if x.State != ec2.StateRunning || x.Profile == nil || x.Zone != l.Zone {
			t.Errorf("instance %+v", x)
		}
		if got := member(r, l.ID); got != "InService/Healthy" {
			t.Errorf("%s: %s", l.ID, got)
		}
		if got := health(r, l.ID); got != "initial Elb.RegistrationInProgress" {
			t.Errorf("%s: %s", l.ID, got)
		}
	}
	if got := s.Kinds(region.Register); len(got) != 3 {
		t.Errorf("registered %v", got)
	}
}

// TestPendingUntilStarted: until the shell reports the server live, EC2 says pending, Auto
// Scaling Pending, and the target group does not know the instance.
func TestPendingUntilStarted(t *testing.T) {
	c := rt.NewClock(t0)
	cfg := region.LabConfig(c.Now, 1)
	r, err := region.New(cfg)
	must(t, err)
	s := &rt.Shell{T: t, R: r, C: c, Hold: true, FailLaunch: map[string]bool{}}
	s.Run()
	id := s.Launched[0].ID
	if x := in(t, r, id); x.State != ec2.StatePending {
		t.Fatalf("state %s", x.State)
	}
	if got := member(r, id); got != "Pending/Healthy" {
		t.Fatalf("group: %s", got)
	}
	if got := health(r, id); got != "unused Target.NotRegistered" {
		t.Fatalf("target: %s", got)
	}
	must(t, r.Started(id))
	if x := in(t, r, id); x.State != ec2.StateRunning {
		t.Fatalf("after Started: %s", x.State)
	}
	if err := r.Started("i-0000000000000000f"); err == nil {
		t.Error("Started for an unknown instance: no error")
	}
}

// TestTargetStates walks one target through ALB's states and reason codes (ELB user
// guide, "Health checks for Application Load Balancer target groups"; ELB API reference,
// TargetHealth and DeregisterTargets): registration, initial checks (one pass makes it
// healthy), the unhealthy threshold with each failure's reason, recovery after the healthy
// threshold, then draining for the deregistration delay and removal.
func TestTargetStates(t *testing.T) {
	type step struct {
		res  *targethealth.Result // a health check; nil: terminate through Auto Scaling
		wait time.Duration        // then move the clock
		want string               // "state reason" after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one pass ends initial", []step{
			{&ok200, 0, "healthy"},
		}},
		{"failures in initial", []step{
			{&bad503, 0, "initial Elb.InitialHealthChecking"},
			{&bad503, 0, "initial Elb.InitialHealthChecking"},
			{&bad503, 0, "unhealthy Target.ResponseCodeMismatch"},
		}},
		{"healthy to unhealthy after three failures, timeout", []step{
			{&ok200, 0, "healthy"},
			{&timeout, 0, "healthy"},
			{&timeout, 0, "healthy"},
			{&timeout, 0, "unhealthy Target.Timeout"},
		}},
		{"silent target", []step{
			{&ok200, 0, "healthy"},
			{&refused, 0, "healthy"},
			{&refused, 0, "healthy"},
			{&refused, 0, "unhealthy Target.FailedHealthChecks"},
		}},
		{"unhealthy back to healthy after two passes", []step{
			{&bad503, 0, "initial Elb.InitialHealthChecking"},
			{&bad503, 0, "initial Elb.InitialHealthChecking"},
			{&bad503, 0, "unhealthy Target.ResponseCodeMismatch"},
			{&ok200, 0, "unhealthy Target.ResponseCodeMismatch"},
			{&ok200, 0, "healthy"},
		}},
		{"draining, then gone after the delay", []step{
			{&ok200, 0, "healthy"},
			{nil, 9 * time.Second, "draining Target.DeregistrationInProgress"},
			{&ok200, 0, "draining Target.DeregistrationInProgress"}, // no longer checked
			{nil, time.Second, "unused Target.NotRegistered"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRegion(t, nil)
			id := only(t, r, "b")
			for i, st := range tt.steps {
				if st.res != nil {
					s.Check(*st.res, id)
				} else if len(inZone(r, "b")) > 0 && member(r, id) != "" && !strings.HasPrefix(member(r, id), "Terminating") {
					if _, err := r.TerminateInstance(id, false); err != nil {
						t.Fatal(err)
					}
					s.Run()
				}
				if st.wait > 0 {
					s.Wait(st.wait)
				}
				if got := health(r, id); got != st.want {
					t.Fatalf("step %d: %q, want %q", i+1, got, st.want)
				}
			}
		})
	}
}

// TestFailOpen: the load balancer routes round robin to healthy targets only, and to every
// registered target that is not draining when none is healthy (ELB user guide, "Health
// checks for Application Load Balancer target groups": "If a target group contains only
// unhealthy registered targets, the load balancer routes requests to all those targets ...
// the load balancer fails open"); with nothing but draining targets there is nowhere to go.
func TestFailOpen(t *testing.T) {
	tests := []struct {
		name      string
		unhealthy []string // zones whose deep check fails three times
		draining  []string // zones whose instance is terminated (its target drains)
		want      []string // zones routed to
		open, ok  bool
	}{
		{"all healthy", nil, nil, []string{"a", "b", "c"}, false, true},
		{"zone c unhealthy", []string{"c"}, nil, []string{"a", "b"}, false, true},
		{"all unhealthy: fail open", []string{"a", "b", "c"}, nil, []string{"a", "b", "c"}, true, true},
		{"unhealthy and draining: open over the unhealthy", []string{"a", "b"}, []string{"c"}, []string{"a", "b"}, true, true},
		{"all draining", nil, []string{"a", "b", "c"}, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := healthyLab(t, nil)
			zoneOf := map[string]string{}
			for _, l := range region.Letters {
				zoneOf[only(t, r, l)] = l
			}
			for _, l := range tt.unhealthy {
				for range 3 {
					s.Check(bad503, only(t, r, l))
				}
			}
			for _, l := range tt.draining {
				_, err := r.TerminateInstance(only(t, r, l), false)
				must(t, err)
			}
			s.Run()
			seen := map[string]bool{}
			for range 6 {
				id, open, ok := r.Pick()
				if ok != tt.ok || open != tt.open {
					t.Fatalf("pick %s open=%v ok=%v", id, open, ok)
				}
				if ok {
					seen[zoneOf[id]] = true
				}
			}
			var got []string
			for _, l := range region.Letters {
				if seen[l] {
					got = append(got, l)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("routed to %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDeregistrationDelay: a terminated member's target drains for exactly the target
// group's deregistration delay; only then is the target removed and the instance stopped
// (ELB user guide, "Deregistration delay"; target group attribute
// deregistration_delay.timeout_seconds).
func TestDeregistrationDelay(t *testing.T) {
	for _, delay := range []time.Duration{0, 10 * time.Second, 300 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			r, s := healthyLab(t, func(c *region.Config) { c.HealthCheck.DeregistrationDelay = delay })
			id := only(t, r, "a")
			_, err := r.TerminateInstance(id, false)
			must(t, err)
			s.Run()
			if delay > 0 {
				if got := health(r, id); got != "draining Target.DeregistrationInProgress" {
					t.Fatalf("after terminate: %s", got)
				}
				s.Wait(delay - time.Millisecond)
				if len(s.Stopped) != 0 || health(r, id) != "draining Target.DeregistrationInProgress" {
					t.Fatalf("before the delay: stopped %v, %s", s.Stopped, health(r, id))
				}
				if x := in(t, r, id); x.State != ec2.StateShuttingDown {
					t.Fatalf("while draining: %s", x.State)
				}
				s.Wait(time.Millisecond)
			}
			if !slices.Equal(s.Stopped, []string{id}) || !slices.Equal(s.Kinds(region.Remove), []string{id}) {
				t.Fatalf("stopped %v, removed %v", s.Stopped, s.Kinds(region.Remove))
			}
			if x := in(t, r, id); x.State != ec2.StateTerminated {
				t.Fatalf("after the delay: %s", x.State)
			}
		})
	}
}

// TestTerminateInstances follows EC2's TerminateInstances: pending and running instances go
// to shutting-down (a pending one stops at once, having no target), a second call succeeds
// again, and one unknown id fails the call without terminating anything.
func TestTerminateInstances(t *testing.T) {
	r, s := newRegion(t, nil)
	s.Hold = true
	running := only(t, r, "a")
	// A pending instance: the zone-b member terminated, its replacement held pending.
	_, err := r.Terminate([]string{only(t, r, "b")})
	must(t, err)
	s.Run()
	s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
	pending := only(t, r, "b")
	if in(t, r, pending).State != ec2.StatePending {
		t.Fatalf("replacement not pending")
	}
	s.Reset()

	tests := []struct {
		name        string
		ids         []string
		code        string // error code, or ""
		prev, cur   string
		stopsAtOnce bool
	}{
		{"unknown id fails the call", []string{running, "i-0123456789abcdef0"}, "InvalidInstanceID.NotFound", "", "", false},
		{"running", []string{running}, "", ec2.StateRunning, ec2.StateShuttingDown, false},
		{"again: idempotent", []string{running}, "", ec2.StateShuttingDown, ec2.StateShuttingDown, false},
		{"pending", []string{pending}, "", ec2.StatePending, ec2.StateShuttingDown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Reset()
			out, err := r.Terminate(tt.ids)
			s.Run()
			if tt.code != "" {
				var qe *query.Error
				if !errors.As(err, &qe) || qe.Code != tt.code {
					t.Fatalf("error %v, want %s", err, tt.code)
				}
				if in(t, r, running).State != ec2.StateRunning {
					t.Fatal("a failed call terminated an instance")
				}
				return
			}
			must(t, err)
			if len(out) != 1 || out[0].Previous != tt.prev || out[0].Current != tt.cur {
				t.Fatalf("state change %+v", out)
			}
			if got := len(s.Stopped) == 1; got != tt.stopsAtOnce {
				t.Fatalf("stopped %v", s.Stopped)
			}
		})
	}
	if x := in(t, r, pending); x.State != ec2.StateTerminated {
		t.Errorf("pending instance after its stop: %s", x.State)
	}
}

// TestReplacement: a member that leaves, whichever way, is replaced in its own zone with
// the group's current launch template and the normal profile, and only once it has been
// terminated (EC2 Auto Scaling user guide, "Replace unhealthy instances"; "Auto Scaling
// group Availability Zone distribution"). Through EC2 it fails the group's EC2 health check
// first ("Health checks for instances in an Auto Scaling group").
func TestReplacement(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*region.Config)
		end         func(t *testing.T, r *region.Region, s *rt.Shell, id string)
		terminating string // its group status while it drains
	}{
		{"EC2 TerminateInstances", nil, func(t *testing.T, r *region.Region, s *rt.Shell, id string) {
			_, err := r.Terminate([]string{id})
			must(t, err)
		}, "Terminating/Unhealthy"},
		{"TerminateInstanceInAutoScalingGroup", nil, func(t *testing.T, r *region.Region, s *rt.Shell, id string) {
			_, err := r.TerminateInstance(id, false)
			must(t, err)
		}, "Terminating/Healthy"},
		{"ELB health check", func(c *region.Config) { c.HealthCheckType, c.HealthCheckGrace = region.HealthCheckELB, 0 },
			func(t *testing.T, r *region.Region, s *rt.Shell, id string) {
				for range 3 {
					s.Check(bad503, id)
				}
			}, "Terminating/Unhealthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := healthyLab(t, tt.edit)
			old := only(t, r, "c")
			tt.end(t, r, s, old)
			s.Run()
			if got := member(r, old); got != tt.terminating {
				t.Fatalf("group: %s", got)
			}
			if len(s.Launched) != 0 {
				t.Fatalf("replacement launched before the old instance terminated: %v", zonesOf(s.Launched))
			}
			s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
			if got := zonesOf(s.Launched); !slices.Equal(got, []string{"c"}) {
				t.Fatalf("replacement in %v", got)
			}
			if member(r, old) != "" || in(t, r, old).State != ec2.StateTerminated {
				t.Fatalf("old: %q %s", member(r, old), in(t, r, old).State)
			}
			if l := s.Launched[0]; l.Code != lab.CodeBasic || l.Role != lab.RoleName(lab.DefaultNamingPrefix) {
				t.Errorf("replacement %+v", l)
			}
			if n := len(r.Groups()[0].Instances); n != 3 {
				t.Errorf("group has %d members", n)
			}
		})
	}
}

// TestMinimumSize: TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity
// is refused when the desired capacity equals the minimum size (Auto Scaling's
// ValidationError "Currently, desiredSize equals minSize"), and otherwise lowers the desired
// capacity without a replacement; without it, a replacement follows.
func TestMinimumSize(t *testing.T) {
	tests := []struct {
		name             string
		min, desired     int
		decrement        bool
		refused          bool
		wantDesired      int
		wantReplacements int
	}{
		{"lab: desired equals min, decrement refused", 3, 3, true, true, 3, 0},
		{"desired above min, decrement allowed", 3, 4, true, false, 3, 0},
		{"no decrement: replaced", 3, 3, false, false, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := newRegion(t, func(c *region.Config) { c.Min, c.Desired, c.Max = tt.min, tt.desired, tt.desired+1 })
			s.CheckAll(ok200)
			s.Reset()
			id := r.Groups()[0].Instances[0].ID
			_, err := r.TerminateInstance(id, tt.decrement)
			s.Run()
			s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
			if tt.refused {
				var qe *query.Error
				if !errors.As(err, &qe) || qe.Code != "ValidationError" || !strings.Contains(qe.Message, "desiredSize equals minSize (3)") {
					t.Fatalf("error %v", err)
				}
				if in(t, r, id).State != ec2.StateRunning {
					t.Fatal("a refused call terminated the instance")
				}
			} else {
				must(t, err)
			}
			if g := r.Groups()[0]; g.Desired != tt.wantDesired {
				t.Errorf("desired %d, want %d", g.Desired, tt.wantDesired)
			}
			if len(s.Launched) != tt.wantReplacements {
				t.Errorf("launched %v, want %d", zonesOf(s.Launched), tt.wantReplacements)
			}
		})
	}
	r, _ := newRegion(t, nil)
	if _, err := r.TerminateInstance("i-0123456789abcdef0", false); err == nil || !strings.Contains(err.Error(), "No managed instance") {
		t.Errorf("unknown instance: %v", err)
	}
}

// TestAssociations: ReplaceIamInstanceProfileAssociation makes a new association
// (associating, then associated) and ends the old one (disassociating, then disassociated);
// the instance serves the new role's credentials at once. Only an associated association of
// a running instance can be replaced; termination disassociates (EC2 API reference,
// ReplaceIamInstanceProfileAssociation, IamInstanceProfileAssociation).
func TestAssociations(t *testing.T) {
	r, s := healthyLab(t, nil)
	id := only(t, r, "c")
	states := func() map[string]string {
		m := map[string]string{}
		for _, a := range r.Associations() {
			if a.InstanceID == id {
				m[a.ID] = a.State
			}
		}
		return m
	}
	var old string
	for k := range states() {
		old = k
	}
	noDDB := lab.NoDDBRoleName(lab.DefaultNamingPrefix)
	a, err := r.ReplaceAssociation(old, noDDB, "")
	must(t, err)
	s.Run()
	if a.ID == old || a.State != "associating" || a.Profile.ARN != region.ProfileARN(noDDB) {
		t.Fatalf("new association %+v", a)
	}
	if got := states(); got[old] != "disassociating" || got[a.ID] != "associating" {
		t.Fatalf("during: %v", got)
	}
	if got := s.Intents; len(got) != 1 || got[0].Kind != region.SetRole || got[0].Role != noDDB {
		t.Fatalf("intents %+v", got)
	}
	if x := in(t, r, id); x.Profile.ARN != region.ProfileARN(noDDB) {
		t.Fatalf("instance profile %s", x.Profile.ARN)
	}
	s.Wait(region.AssociationDelay)
	if got := states(); got[old] != "disassociated" || got[a.ID] != "associated" {
		t.Fatalf("after %s: %v", region.AssociationDelay, got)
	}

	errs := []struct {
		name, assoc, profile, code string
	}{
		{"old association", old, noDDB, "IncorrectState"},
		{"unknown association", "iip-assoc-0000000000000000a", noDDB, "InvalidAssociationID.NotFound"},
		{"unknown profile", a.ID, "Admin", "InvalidParameterValue"},
	}
	for _, tt := range errs {
		_, err := r.ReplaceAssociation(tt.assoc, tt.profile, "")
		var qe *query.Error
		if !errors.As(err, &qe) || qe.Code != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}

	_, err = r.Terminate([]string{id})
	must(t, err)
	s.Run()
	if got := states(); got[a.ID] != "disassociating" {
		t.Fatalf("terminating: %v", got)
	}
	s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
	if got := states(); got[a.ID] != "disassociated" {
		t.Fatalf("terminated: %v", got)
	}
	if x := in(t, r, id); x.Profile != nil {
		t.Errorf("terminated instance still has a profile")
	}

	// A pending instance cannot have its profile replaced.
	c := rt.NewClock(t0)
	r3, err := region.New(region.LabConfig(c.Now, 7))
	must(t, err)
	o := r3.Drain()
	pid := o.Intents[0].Instance
	var pa string
	for _, x := range r3.Associations() {
		if x.InstanceID == pid {
			pa = x.ID
		}
	}
	_, err = r3.ReplaceAssociation(pa, noDDB, "")
	var qe *query.Error
	if !errors.As(err, &qe) || qe.Code != "IncorrectInstanceState" {
		t.Errorf("pending instance: %v", err)
	}
}

// TestDeterministic: the same seed and clock give the same ids; another seed others.
func TestDeterministic(t *testing.T) {
	ids := func(seed uint64) []string {
		c := rt.NewClock(t0)
		r, err := region.New(region.LabConfig(c.Now, seed))
		must(t, err)
		var out []string
		for _, i := range r.Drain().Intents {
			out = append(out, i.Instance)
		}
		return append(out, r.TargetGroupARN(), r.GroupName())
	}
	if a, b := ids(5), ids(5); !slices.Equal(a, b) {
		t.Errorf("same seed: %v and %v", a, b)
	}
	if a, b := ids(5), ids(6); slices.Equal(a, b) {
		t.Errorf("different seeds: both %v", a)
	}
}

// TestLaunchFailure: an instance whose server never starts is terminated, and the group
// tries again in the same zone after LaunchRetryDelay.
func TestLaunchFailure(t *testing.T) {
	r, s := healthyLab(t, nil)
	s.FailLaunch["b"] = true
	old := only(t, r, "b")
	_, err := r.TerminateInstance(old, false)
	must(t, err)
	s.Run()
	s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("launched %v", got)
	}
	if x := in(t, r, s.Launched[0].ID); x.State != ec2.StateTerminated {
		t.Fatalf("failed instance: %s", x.State)
	}
	s.FailLaunch["b"] = false
	s.Wait(region.LaunchRetryDelay - time.Millisecond)
	if len(s.Launched) != 1 {
		t.Fatalf("retried before the delay: %v", zonesOf(s.Launched))
	}
	s.Wait(time.Millisecond)
	if got := zonesOf(s.Launched); !slices.Equal(got, []string{"b", "b"}) {
		t.Fatalf("launched %v", got)
	}
	if got := member(r, only(t, r, "b")); got != "InService/Healthy" {
		t.Fatalf("zone b: %s", got)
	}
}

// TestValidate: configurations the region refuses.
func TestValidate(t *testing.T) {
	base := region.LabConfig(func() time.Time { return t0 }, 1)
	tests := []struct {
		name string
		edit func(*region.Config)
		want string
	}{
		{"no clock", func(c *region.Config) { c.Now = nil }, "clock"},
		{"min above desired", func(c *region.Config) { c.Min = 4 }, "group sizes"},
		{"health check type", func(c *region.Config) { c.HealthCheckType = "ALB" }, "EC2 or ELB"},
		{"server code", func(c *region.Config) { c.ServerCode = "fancy" }, "ServerCode"},
	}
	for _, tt := range tests {
		c := base
		tt.edit(&c)
		if _, err := region.New(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// TestTerminatedVisible: EC2 lists a terminated instance, and its association, for about an
// hour (TerminateInstances), then no more; asking for it by id is then an unknown id.
func TestTerminatedVisible(t *testing.T) {
	r, s := healthyLab(t, nil)
	id := only(t, r, "a")
	_, err := r.Terminate([]string{id})
	must(t, err)
	s.Run()
	s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
	listed := func() (inst, assoc bool) {
		for _, x := range r.Instances() {
			inst = inst || x.ID == id
		}
		for _, a := range r.Associations() {
			assoc = assoc || a.InstanceID == id
		}
		return
	}
	s.Wait(region.TerminatedVisible - time.Second)
	if i, a := listed(); !i || !a || in(t, r, id).State != ec2.StateTerminated {
		t.Fatalf("before the hour: listed %v %v", i, a)
	}
	s.Wait(time.Second)
	if i, a := listed(); i || a {
		t.Fatalf("after the hour: listed %v %v", i, a)
	}
	if _, err := r.Terminate([]string{id}); err == nil {
		t.Error("a forgotten instance is still known")
	}
	if n := len(r.Instances()); n != 3 {
		t.Errorf("%d instances listed", n)
	}
}

// TestStatus: the live view joins each instance's EC2, Auto Scaling and target sides, and
// tells the zone's current instance from one draining away.
func TestStatus(t *testing.T) {
	r, s := healthyLab(t, nil)
	old := only(t, r, "b")
	_, err := r.ReplaceAssociation(r.Associations()[1].ID, lab.NoDDBRoleName(lab.DefaultNamingPrefix), "")
	must(t, err)
	must(t, r.Deploy(lab.CodeErrorHandling))
	s.Run()
	s.Check(ok200, s.Launched[0].ID) // zone a's new instance
	st := r.Status()
	var got []string
	for _, x := range st {
		got = append(got, strings.Join([]string{x.Letter, x.State, x.Lifecycle, string(x.Code), string(x.Target.State), fmt.Sprint(x.Current)}, " "))
	}
	want := []string{
		"a shutting-down Terminating basic draining false",
		"a running InService errorhandling healthy true",
		"b running InService basic healthy true",
		"c running InService basic healthy true",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("status\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, x := range st {
		want := lab.RoleName(lab.DefaultNamingPrefix)
		switch {
		case !x.Current:
			want = "" // terminating: its association is disassociating
		case x.ID == old:
			want = lab.NoDDBRoleName(lab.DefaultNamingPrefix)
		}
		if x.Role != want {
			t.Errorf("%s (zone %s) role %s, want %s", x.ID, x.Letter, x.Role, want)
		}
	}
}

func TestParseLetter(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"a", "a", false},
		{"C", "c", false},
		{"local-1b", "b", false},
		{" c ", "c", false},
		{"d", "", true},
		{"", "", true},
		{"us-east-1a", "", true},
		{"local-1", "", true},
	}
	for _, tt := range tests {
		got, err := region.ParseLetter(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLetter(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "the local lab's zones are a, b, c (e.g. --az c)") {
			t.Errorf("ParseLetter(%q): %v", tt.in, err)
		}
	}
	r, _ := newRegion(t, nil)
	if err := r.PowerOff("local-2c"); err == nil {
		t.Error("PowerOff of an unknown zone: no error")
	}
}
