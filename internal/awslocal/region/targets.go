package region

import (
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/elbv2"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

var (
	_ elbv2.Backend       = (*Region)(nil)
	_ elbv2.TargetChecker = (*Region)(nil)
)

// register adds in's target to the target group in state initial
// (Elb.RegistrationInProgress until its first health check: ELB API reference, TargetHealth).
// Auto Scaling registers an instance with its group's target groups as it enters service.
func (r *Region) register(in *instance) {
	if err := r.tg.Register(in.id, r.now()); err != nil {
		return
	}
	in.target = true
	r.intent(Intent{Kind: Register, Instance: in.id})
	r.notef("target %s (%s) registered: initial", in.id, ZoneName(in.letter))
}

// expireTargets ends the deregistrations whose delay has passed: the target becomes unused
// and is forgotten (ELB user guide, "Deregistration delay": "After the deregistration delay
// elapses, the deregistration process completes and the state of the target is unused. If
// the target is part of an Auto Scaling group, it can be terminated and replaced."). Its
// instance, if terminating, is stopped now.
func (r *Region) expireTargets() {
	for _, id := range r.tg.Expire(r.now()) {
		r.intent(Intent{Kind: Remove, Instance: id})
		in := r.find(id)
		if in == nil {
			continue
		}
		in.target = false
		if in.state == ec2.StateShuttingDown {
			r.stop(in)
		}
	}
}

// TargetGroups describes the lab's target group.
func (r *Region) TargetGroups() []elbv2.TargetGroup {
	hc := r.cfg.HealthCheck
	return []elbv2.TargetGroup{{
		ARN: r.ids.targetGroupARN, Name: r.ids.targetGroupName, VpcID: r.ids.vpcID, Port: lab.WebPort,
		LoadBalancerARNs: []string{r.ids.loadBalancerARN},
		HealthCheckPath:  hc.Path, HealthCheckInterval: hc.Interval, HealthCheckTimeout: hc.Timeout,
		HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold,
		SuccessCodes: hc.SuccessCodes, DeregistrationDelay: hc.DeregistrationDelay, LoadBalancingAlgorithm: "round_robin",
	}}
}

// LoadBalancers describes the lab's load balancer; its DNS name is its loopback address.
func (r *Region) LoadBalancers() []elbv2.LoadBalancer {
	lb := elbv2.LoadBalancer{
		ARN: r.ids.loadBalancerARN, Name: r.ids.loadBalancerName, VpcID: r.ids.vpcID, Created: r.ids.created,
		DNSName: r.lbHost(), SecurityGroups: []string{r.ids.securityGroupID},
	}
	for i, z := range Letters {
		lb.Zones = append(lb.Zones, elbv2.ZoneSubnet{Zone: ZoneName(z), SubnetID: r.ids.publicSubnets[i]})
	}
	return []elbv2.LoadBalancer{lb}
}

// TargetHealth lists the registered targets, draining ones included, in registration order.
func (r *Region) TargetHealth(arn string) []elbv2.TargetHealth {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	var out []elbv2.TargetHealth
	if arn != r.ids.targetGroupARN {
		return out
	}
	for _, h := range r.tg.Snapshot() {
		out = append(out, elbv2.TargetHealth{ID: h.ID, Port: lab.WebPort, State: string(h.State), Reason: h.Reason, Description: h.Description})
	}
	return out
}

// TargetExists reports whether id names an instance of the region, registered or not:
// DescribeTargetHealth answers any other id with InvalidTarget ("The specified target does
// not exist", ELB API reference, DescribeTargetHealth).
func (r *Region) TargetExists(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.find(id) != nil
}

// Target returns one target's health as the target group sees it (unused and
// Target.NotRegistered when it is not registered), with its recent checks.
func (r *Region) Target(id string) targethealth.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	return r.tg.Get(id)
}

// Targets lists the registered targets' health, in registration order.
func (r *Region) Targets() []targethealth.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	return r.tg.Snapshot()
}

// Pick chooses the target for the next request: round robin over the healthy targets, or
// over every registered target that is not draining when none is healthy (ELB user guide,
// "Health checks for Application Load Balancer target groups": "If a target group contains
// only unhealthy registered targets, the load balancer routes requests to all those targets,
// regardless of their health status", fail open). ok is false when nothing can take it.
func (r *Region) Pick() (id string, failOpen, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	return r.tg.Pick()
}
