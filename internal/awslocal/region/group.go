package region

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/config"
	"healthchecklab/internal/targethealth"
)

var _ autoscaling.Backend = (*Region)(nil)

// active lists the members that count towards the desired capacity: launching or in
// service, and healthy.
func (r *Region) active() []*instance {
	var out []*instance
	for _, in := range r.instances {
		if in.member && in.health == healthy && (in.lifecycle == lifePending || in.lifecycle == lifeInService) {
			out = append(out, in)
		}
	}
	return out
}

// perZone counts instances by zone letter.
func perZone(ins []*instance) map[string]int {
	n := map[string]int{}
	for _, in := range ins {
		n[in.letter]++
	}
	return n
}

// zonesByCount lists the letters, fewest instances first (ties in Letters order).
func zonesByCount(n map[string]int) []string {
	zs := slices.Clone(Letters)
	sort.SliceStable(zs, func(i, j int) bool { return n[zs[i]] < n[zs[j]] })
	return zs
}

// chooseZone picks where the group launches next. EC2 Auto Scaling user guide, "Auto
// Scaling group Availability Zone distribution" (balanced best effort): the group keeps an
// equal number of instances in each zone, launching in the zone with the fewest; "If launch
// attempts fail in an Availability Zone, Auto Scaling attempts to launch instances in another
// healthy Availability Zone." A terminated member is therefore replaced in its own zone, and
// elsewhere while that zone has no capacity.
func (r *Region) chooseZone() (string, bool) {
	for _, z := range zonesByCount(perZone(r.active())) {
		if !r.noCapacity[z] {
			return z, true
		}
		if !r.iceNoted[z] {
			r.iceNoted[z] = true
			r.notef("Auto Scaling: launching in %s failed: InsufficientInstanceCapacity; trying another zone", ZoneName(z))
		}
	}
	return "", false
}

// reconcile keeps the group at its desired capacity, as Auto Scaling does between
// activities (EC2 Auto Scaling user guide, "Health checks for instances in an Auto Scaling
// group": an unhealthy instance is replaced "to maintain the desired capacity of the
// group"). A rolling update of the stack suspends it (the update launches and terminates by
// itself, one zone at a time).
func (r *Region) reconcile() {
	if r.rollout != nil {
		return
	}
	// A member being terminated still holds its place until its processes stop: Auto Scaling
	// terminates an unhealthy instance, and "Later, another scaling activity launches a new
	// instance to replace the terminated instance" (EC2 Auto Scaling user guide, "Replace
	// unhealthy instances").
	members := 0
	settled := true
	for _, in := range r.instances {
		if in.member {
			members++
			settled = settled && in.lifecycle == lifeInService && in.health == healthy
		}
	}
	if members < r.desired && r.now().Before(r.launchAfter) {
		return
	}
	for ; members < r.desired; members++ {
		z, ok := r.chooseZone()
		if !ok {
			return
		}
		r.launch(z, r.version)
		settled = false
	}
	if !settled {
		return // wait until every launch is in service and every termination done
	}
	act := r.active()
	if len(act) > r.desired {
		r.beginTerminate(r.surplus(act), "Auto Scaling: rebalancing")
		return
	}
	r.rebalance(act)
}

// LaunchRetryDelay is how long the group waits after a launch failed before it launches
// again. Auto Scaling retries failed launches after a pause (its scaling activities show
// each failed attempt); the lab waits this long.
const LaunchRetryDelay = 10 * time.Second

// surplus picks the member to terminate when the group has one too many. EC2 Auto Scaling
// user guide, "Control which Auto Scaling instances terminate during scale in" (default
// termination policy): the zone with the most instances, then the oldest launch template,
// then (the lab's tie-break) the earliest launch.
func (r *Region) surplus(act []*instance) *instance {
	n := perZone(act)
	best := act[0]
	for _, in := range act[1:] {
		switch {
		case n[in.letter] != n[best.letter]:
			if n[in.letter] > n[best.letter] {
				best = in
			}
		case in.version != best.version:
			if in.version < best.version {
				best = in
			}
		case in.launched.Before(best.launched):
			best = in
		}
	}
	return best
}

// rebalance launches one instance in the emptiest zone when the zones differ by more than
// one instance and that zone can launch again; reconcile then terminates the surplus in the
// fullest zone. EC2 Auto Scaling user guide, "Rebalancing activities" (AZRebalance): a group
// becomes unbalanced when "An Availability Zone that previously had insufficient capacity
// recovers", and Auto Scaling "launches new instances before attempting to terminate old
// ones", going up to 10% over the maximum size if it must.
func (r *Region) rebalance(act []*instance) {
	n := perZone(act)
	zs := zonesByCount(n)
	least, most := zs[0], zs[len(zs)-1]
	if n[most]-n[least] <= 1 || r.noCapacity[least] {
		return
	}
	limit := r.cfg.Max + (r.cfg.Max+9)/10
	members := 0
	for _, in := range r.instances {
		if in.member {
			members++
		}
	}
	if members >= limit {
		return
	}
	r.notef("Auto Scaling: rebalancing: %s has %d instances, %s has %d", ZoneName(most), n[most], ZoneName(least), n[least])
	r.launch(least, r.version)
}

// checkGroupHealth applies the group's health checks (EC2 Auto Scaling user guide, "Health
// checks for instances in an Auto Scaling group"): an in-service member whose instance is no
// longer running is unhealthy (the EC2 status check, whatever the type); with type ELB, so is
// one whose target the load balancer reports unhealthy, once the health-check grace period
// since it entered service has passed ("Set the health check grace period for an Auto Scaling
// group"). An unhealthy member is terminated and replaced.
func (r *Region) checkGroupHealth() {
	now := r.now()
	for _, in := range r.instances {
		if !in.member || in.lifecycle != lifeInService || in.health != healthy {
			continue
		}
		why := ""
		switch {
		case in.state != ec2.StateRunning:
			why = "its instance is " + in.state
		case r.cfg.HealthCheckType == HealthCheckELB && !now.Before(in.inService.Add(r.cfg.HealthCheckGrace)) &&
			r.tg.Get(in.id).State == targethealth.StateUnhealthy:
			why = "the load balancer reports its target unhealthy"
		default:
			continue
		}
		in.health = unhealthy
		r.notef("Auto Scaling: instance %s in %s is unhealthy: %s", in.id, ZoneName(in.letter), why)
		// EC2 Auto Scaling user guide, "View the reason for health check failures": the
		// group starts a scaling activity terminating the instance, whose cause names the
		// health check that failed.
		cause := "an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped."
		if in.state == ec2.StateRunning {
			cause = "an instance was taken out of service in response to an ELB system health check failure."
		}
		r.record(in, fmt.Sprintf("At %s %s", now.Format(time.RFC3339), cause))
		r.beginTerminate(in, "Auto Scaling: replacing an unhealthy instance")
	}
}

// record starts the scaling activity terminating in, with cause, and returns it.
func (r *Region) record(in *instance, cause string) autoscaling.Activity {
	a := autoscaling.Activity{
		ID: r.uuid(), GroupName: r.ids.groupName, Start: r.now(), StatusCode: "InProgress",
		Description: "Terminating EC2 instance: " + in.id, Cause: cause,
		Details: fmt.Sprintf(`{"Subnet ID":"%s","Availability Zone":"%s"}`, r.ids.subnets[zoneIndex(in.letter)], ZoneName(in.letter)),
	}
	r.activityOf[in.id] = len(r.activities)
	r.activities = append(r.activities, a)
	return a
}

// Activities lists the group's scaling activities that terminated or are terminating an
// instance, newest first, as DescribeScalingActivities does; one whose instance is
// terminated is Successful.
func (r *Region) Activities() []autoscaling.Activity {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	out := make([]autoscaling.Activity, 0, len(r.activities))
	for i := len(r.activities) - 1; i >= 0; i-- {
		out = append(out, r.activities[i])
	}
	return out
}

// SetHealthCheck changes the group's health-check type (EC2 or ELB) and grace period, as a
// stack update of the group's HealthCheckType and HealthCheckGracePeriod does: the
// instances stay, and from now on the group judges them by the new type (EC2 Auto Scaling
// user guide, "Health checks for instances in an Auto Scaling group").
func (r *Region) SetHealthCheck(typ string, grace time.Duration) error {
	switch {
	case typ != HealthCheckEC2 && typ != HealthCheckELB:
		return fmt.Errorf("region: health check type %q: use EC2 or ELB", typ)
	case grace < 0:
		return fmt.Errorf("region: grace period %s", grace)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	if r.cfg.HealthCheckType == typ && r.cfg.HealthCheckGrace == grace {
		return nil
	}
	r.cfg.HealthCheckType, r.cfg.HealthCheckGrace = typ, grace
	r.notef("Auto Scaling: the group's health check type is %s (grace period %s)", typ, grace)
	r.settle()
	return nil
}

// SetZoneCapacity makes launches in zone (a letter or zone name) fail as EC2's
// InsufficientInstanceCapacity does (available false), or succeed again. When a zone
// recovers, the group rebalances into it.
func (r *Region) SetZoneCapacity(zone string, available bool) error {
	l, err := ParseLetter(zone)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	if r.noCapacity[l] == !available {
		return nil
	}
	r.noCapacity[l], r.iceNoted[l] = !available, false
	if available {
		r.notef("EC2: %s has capacity again", ZoneName(l))
	} else {
		r.notef("EC2: %s has no capacity: launches there fail with InsufficientInstanceCapacity", ZoneName(l))
	}
	r.settle()
	return nil
}

func (r *Region) template(version int) autoscaling.LaunchTemplate {
	return autoscaling.LaunchTemplate{ID: r.ids.launchTemplateID, Name: r.ids.launchTemplateName, Version: strconv.Itoa(version)}
}

// Groups describes the Auto Scaling group, for DescribeAutoScalingGroups.
func (r *Region) Groups() []autoscaling.Group {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	g := autoscaling.Group{
		Name: r.ids.groupName, ARN: r.ids.groupARN, Min: r.cfg.Min, Max: r.cfg.Max, Desired: r.desired,
		TargetGroupARNs: []string{r.ids.targetGroupARN}, HealthCheckType: r.cfg.HealthCheckType, HealthCheckGrace: r.cfg.HealthCheckGrace,
		Created: r.ids.created, SubnetIDs: r.ids.subnets, LaunchTemplate: r.template(r.version),
	}
	for _, z := range Letters {
		g.Zones = append(g.Zones, ZoneName(z))
	}
	for _, in := range r.instances {
		if !in.member {
			continue
		}
		g.Instances = append(g.Instances, autoscaling.Instance{
			ID: in.id, Type: config.Defaults.InstanceType, Zone: ZoneName(in.letter), LifecycleState: in.lifecycle,
			HealthStatus: in.health, LaunchTemplate: r.template(in.version),
		})
	}
	return []autoscaling.Group{g}
}

// TerminateInstance follows TerminateInstanceInAutoScalingGroup (EC2 Auto Scaling API
// reference): the instance must be a member; "If you do not specify the option to decrement
// the desired capacity, Amazon EC2 Auto Scaling launches instances to replace the ones that
// are terminated"; with it, the desired capacity drops by one, which Auto Scaling refuses
// when the desired capacity already equals the minimum size (its ValidationError: "Currently,
// desiredSize equals minSize").
func (r *Region) TerminateInstance(id string, decrement bool) (autoscaling.Activity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	in := r.find(id)
	if in == nil || !in.member {
		return autoscaling.Activity{}, autoscaling.NotInGroup(id)
	}
	if decrement {
		if r.desired <= r.cfg.Min {
			return autoscaling.Activity{}, autoscaling.MinSizeViolation(r.cfg.Min)
		}
		r.desired--
	}
	cause := fmt.Sprintf("At %s instance %s taken out of service in response to a user request.", r.now().Format(time.RFC3339), id)
	if decrement {
		cause += " Shrinking the capacity from " + strconv.Itoa(r.desired+1) + " to " + strconv.Itoa(r.desired) + "."
	}
	a := r.record(in, cause)
	r.beginTerminate(in, "Auto Scaling: at the caller's request")
	r.settle()
	return a, nil
}
