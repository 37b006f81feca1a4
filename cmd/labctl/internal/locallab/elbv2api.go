package locallab

import (
	"strings"

	"healthchecklab/internal/awslocal/elbv2"
	"healthchecklab/internal/lab"
)

// elbBackend answers Elastic Load Balancing's calls from the local load balancer.
type elbBackend struct{ l *Lab }

func (b elbBackend) TargetGroups() []elbv2.TargetGroup {
	l := b.l
	return []elbv2.TargetGroup{{
		ARN: l.ids.targetGroupARN, Name: l.ids.targetGroupName, VpcID: l.ids.vpcID, Port: lab.WebPort,
		LoadBalancerARNs: []string{l.ids.loadBalancerARN},
		HealthCheckPath:  l.hc.Path, HealthCheckInterval: l.hc.Interval, HealthCheckTimeout: l.hc.Timeout,
		HealthyThreshold: l.hc.HealthyThreshold, UnhealthyThreshold: l.hc.UnhealthyThreshold,
		SuccessCodes: l.hc.SuccessCodes, DeregistrationDelay: l.hc.DeregistrationDelay, LoadBalancingAlgorithm: "round_robin",
	}}
}

func (b elbBackend) LoadBalancers() []elbv2.LoadBalancer {
	l := b.l
	lb := elbv2.LoadBalancer{
		ARN: l.ids.loadBalancerARN, Name: l.ids.loadBalancerName, VpcID: l.ids.vpcID, Created: l.ids.created,
		// The local load balancer has no DNS name; its address is the closest thing.
		DNSName:        strings.TrimPrefix(l.lbURL, "http://"),
		SecurityGroups: []string{l.ids.securityGroupID},
	}
	for i, z := range Letters {
		lb.Zones = append(lb.Zones, elbv2.ZoneSubnet{Zone: ZoneName(z), SubnetID: l.ids.publicSubnets[i]})
	}
	return []elbv2.LoadBalancer{lb}
}

func (b elbBackend) TargetHealth(arn string) []elbv2.TargetHealth {
	var out []elbv2.TargetHealth
	for _, t := range b.l.lb.Targets() {
		out = append(out, elbv2.TargetHealth{ID: t.ID, Port: lab.WebPort, State: string(t.State), Reason: t.Reason, Description: t.Description})
	}
	return out
}
