package locallab

import (
	"fmt"
	"strconv"
	"time"

	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/config"
)

// healthCheckGrace is the group's health-check grace period, as the stack declares it.
const healthCheckGrace = 5 * time.Minute

// asgBackend answers Auto Scaling's calls from the lab's instances.
type asgBackend struct{ l *Lab }

func (b asgBackend) template(version int) autoscaling.LaunchTemplate {
	return autoscaling.LaunchTemplate{ID: b.l.ids.launchTemplateID, Name: b.l.ids.launchTemplateName, Version: strconv.Itoa(version)}
}

func (b asgBackend) Groups() []autoscaling.Group {
	l := b.l
	desired := len(Letters)
	g := autoscaling.Group{
		Name: l.ids.groupName, ARN: l.ids.groupARN, Min: config.MinCapacity, Max: desired + 1, Desired: desired,
		TargetGroupARNs: []string{l.ids.targetGroupARN}, HealthCheckType: "EC2", HealthCheckGrace: healthCheckGrace,
		Created: l.ids.created, SubnetIDs: l.ids.subnets,
	}
	for _, z := range Letters {
		g.Zones = append(g.Zones, ZoneName(z))
	}
	l.mu.Lock()
	g.LaunchTemplate = b.template(l.templateVersion)
	for _, in := range l.allInstances() {
		lifecycle := map[string]string{ec2.StatePending: "Pending", ec2.StateRunning: "InService", ec2.StateShuttingDown: "Terminating"}[in.state]
		if lifecycle == "" {
			continue
		}
		g.Instances = append(g.Instances, autoscaling.Instance{
			ID: in.id, Type: in.meta.Instance().Type, Zone: ZoneName(in.zone), LifecycleState: lifecycle,
			HealthStatus: "Healthy", LaunchTemplate: b.template(in.version),
		})
	}
	l.mu.Unlock()
	return []autoscaling.Group{g}
}

func (b asgBackend) TerminateInstance(id string, decrement bool) (autoscaling.Activity, error) {
	l := b.l
	in := l.findInstance(id)
	l.mu.Lock()
	member := in != nil && (in.state == ec2.StateRunning || in.state == ec2.StateShuttingDown)
	l.mu.Unlock()
	if !member {
		return autoscaling.Activity{}, autoscaling.NotInGroup(id)
	}
	if decrement && len(Letters) <= config.MinCapacity {
		return autoscaling.Activity{}, autoscaling.MinSizeViolation(config.MinCapacity)
	}
	if l.terminateAsync(in) {
		l.printf("Auto Scaling: terminating instance %s (%s) at the caller's request; a replacement follows", in.id, ZoneName(in.zone))
	}
	now := time.Now().UTC()
	return autoscaling.Activity{
		ID: uuid(), GroupName: l.ids.groupName, Start: now, StatusCode: "InProgress",
		Description: "Terminating EC2 instance: " + id,
		Cause:       fmt.Sprintf("At %s instance %s taken out of service in response to a user request.", now.Format(time.RFC3339), id),
		Details:     fmt.Sprintf(`{"Subnet ID":"%s","Availability Zone":"%s"}`, l.ids.subnets[zoneIndex(in.zone)], ZoneName(in.zone)),
	}, nil
}
