// Package autoscaling speaks Auto Scaling's Query protocol for the calls the lab makes:
// DescribeAutoScalingGroups, DescribeScalingActivities and TerminateInstanceInAutoScalingGroup,
// over the group a Backend holds.
package autoscaling

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"healthchecklab/internal/awslocal/query"
)

// Group is an Auto Scaling group.
type Group struct {
	Name, ARN         string
	LaunchTemplate    LaunchTemplate
	Min, Max, Desired int
	Zones             []string
	TargetGroupARNs   []string
	HealthCheckType   string // EC2 or ELB
	HealthCheckGrace  time.Duration
	Created           time.Time
	SubnetIDs         []string
	Instances         []Instance
}

// LaunchTemplate names a launch template version.
type LaunchTemplate struct {
	ID, Name, Version string
}

// Instance is a group member.
type Instance struct {
	ID, Type, Zone string
	LifecycleState string // Pending, InService, Terminating, …
	HealthStatus   string // Healthy or Unhealthy
	LaunchTemplate LaunchTemplate
}

// Activity is a scaling activity, as TerminateInstanceInAutoScalingGroup starts one.
type Activity struct {
	ID, GroupName, Description, Cause, Details string
	Start                                      time.Time
	StatusCode                                 string // InProgress, Successful, …
	Progress                                   int
}

// Backend is the state the service answers from and acts on. Its errors are *query.Error
// values with Auto Scaling's codes (see NotInGroup and MinSizeViolation).
type Backend interface {
	Groups() []Group
	// TerminateInstance starts terminating a member; without decrement the group launches a
	// replacement in the same zone.
	TerminateInstance(id string, decrement bool) (Activity, error)
	// Activities lists the group's scaling activities, newest first.
	Activities() []Activity
}

// Service returns Auto Scaling's wire format over b.
func Service(b Backend) *query.Service {
	s := &query.Service{
		SigningName: "autoscaling",
		Version:     "2011-01-01",
		Namespace:   "http://autoscaling.amazonaws.com/doc/2011-01-01/",
	}
	h := handlers{b: b, s: s}
	s.Actions = map[string]query.Action{
		"DescribeAutoScalingGroups":           h.describeGroups,
		"TerminateInstanceInAutoScalingGroup": h.terminateInstance,
		"DescribeScalingActivities":           h.describeActivities,
	}
	return s
}

type handlers struct {
	b Backend
	s *query.Service
}

func validation(format string, args ...any) error {
	return query.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// NotInGroup is the error for an instance id no group manages.
func NotInGroup(id string) error {
	return validation("Instance Id not found - No managed instance found for instance ID: %s", id)
}

// MinSizeViolation is the error for a decrement that would take the group below its minimum.
func MinSizeViolation(min int) error {
	return validation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. "+
		"Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", min)
}

type describeGroupsResult struct {
	Groups    []groupXML `xml:"AutoScalingGroups>member"`
	NextToken string     `xml:"NextToken,omitempty"`
}

type launchTemplateXML struct {
	LaunchTemplateID   string `xml:"LaunchTemplateId"`
	LaunchTemplateName string `xml:"LaunchTemplateName"`
	Version            string `xml:"Version"`
}

type groupXML struct {
	AutoScalingGroupName             string            `xml:"AutoScalingGroupName"`
	AutoScalingGroupARN              string            `xml:"AutoScalingGroupARN"`
	LaunchTemplate                   launchTemplateXML `xml:"LaunchTemplate"`
	MinSize                          int               `xml:"MinSize"`
	MaxSize                          int               `xml:"MaxSize"`
	DesiredCapacity                  int               `xml:"DesiredCapacity"`
	DefaultCooldown                  int               `xml:"DefaultCooldown"`
	AvailabilityZones                []string          `xml:"AvailabilityZones>member"`
	LoadBalancerNames                struct{}          `xml:"LoadBalancerNames"`
	TargetGroupARNs                  []string          `xml:"TargetGroupARNs>member"`
	HealthCheckType                  string            `xml:"HealthCheckType"`
	HealthCheckGracePeriod           int               `xml:"HealthCheckGracePeriod"`
	Instances                        []instanceXML     `xml:"Instances>member"`
	CreatedTime                      string            `xml:"CreatedTime"`
	VPCZoneIdentifier                string            `xml:"VPCZoneIdentifier"`
	TerminationPolicies              []string          `xml:"TerminationPolicies>member"`
	NewInstancesProtectedFromScaleIn bool              `xml:"NewInstancesProtectedFromScaleIn"`
	CapacityRebalance                bool              `xml:"CapacityRebalance"`
}

type instanceXML struct {
	InstanceID           string            `xml:"InstanceId"`
	InstanceType         string            `xml:"InstanceType"`
	AvailabilityZone     string            `xml:"AvailabilityZone"`
	LifecycleState       string            `xml:"LifecycleState"`
	HealthStatus         string            `xml:"HealthStatus"`
	LaunchTemplate       launchTemplateXML `xml:"LaunchTemplate"`
	ProtectedFromScaleIn bool              `xml:"ProtectedFromScaleIn"`
}

func templateOut(t LaunchTemplate) launchTemplateXML {
	return launchTemplateXML{LaunchTemplateID: t.ID, LaunchTemplateName: t.Name, Version: t.Version}
}

func (h handlers) describeGroups(_ context.Context, p query.Params) (any, error) {
	if p.Has("Filters.member.1.Name") {
		return nil, validation("Filters are not supported by the local lab; name the group with AutoScalingGroupNames")
	}
	names := p.List("AutoScalingGroupNames.member")
	size, ok := p.Int("MaxRecords", 0)
	if !ok || (p.Has("MaxRecords") && (size < 1 || size > 100)) {
		return nil, validation("1 validation error detected: Value '%s' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100", p.Get("MaxRecords"))
	}
	var picked []Group
	for _, g := range h.b.Groups() {
		if len(names) == 0 || slices.Contains(names, g.Name) {
			picked = append(picked, g)
		}
	}
	start, end, next, ok := query.Page(len(picked), p.Get("NextToken"), size)
	if !ok {
		return nil, validation("The token '%s' is invalid.", p.Get("NextToken"))
	}
	res := describeGroupsResult{NextToken: next, Groups: []groupXML{}}
	for _, g := range picked[start:end] {
		x := groupXML{
			AutoScalingGroupName: g.Name, AutoScalingGroupARN: g.ARN, LaunchTemplate: templateOut(g.LaunchTemplate),
			MinSize: g.Min, MaxSize: g.Max, DesiredCapacity: g.Desired, DefaultCooldown: 300,
			AvailabilityZones: g.Zones, TargetGroupARNs: g.TargetGroupARNs, HealthCheckType: g.HealthCheckType,
			HealthCheckGracePeriod: int(g.HealthCheckGrace / time.Second), Instances: []instanceXML{},
			CreatedTime: query.Time(g.Created), TerminationPolicies: []string{"Default"},
		}
		for i, s := range g.SubnetIDs {
			if i > 0 {
				x.VPCZoneIdentifier += ","
			}
			x.VPCZoneIdentifier += s
		}
		for _, in := range g.Instances {
			x.Instances = append(x.Instances, instanceXML{
				InstanceID: in.ID, InstanceType: in.Type, AvailabilityZone: in.Zone, LifecycleState: in.LifecycleState,
				HealthStatus: in.HealthStatus, LaunchTemplate: templateOut(in.LaunchTemplate),
			})
		}
		res.Groups = append(res.Groups, x)
	}
	return res, nil
}

type terminateResult struct {
	Activity activityXML `xml:"Activity"`
}

type activityXML struct {
	ActivityID           string `xml:"ActivityId"`
	AutoScalingGroupName string `xml:"AutoScalingGroupName"`
	Description          string `xml:"Description"`
	Cause                string `xml:"Cause"`
	StartTime            string `xml:"StartTime"`
	StatusCode           string `xml:"StatusCode"`
	Progress             int    `xml:"Progress"`
	Details              string `xml:"Details"`
}

func (h handlers) terminateInstance(_ context.Context, p query.Params) (any, error) {
	id := p.Get("InstanceId")
	if id == "" {
		return nil, h.s.Missing("InstanceId")
	}
	if !p.Has("ShouldDecrementDesiredCapacity") {
		return nil, h.s.Missing("ShouldDecrementDesiredCapacity")
	}
	decrement, err := strconv.ParseBool(p.Get("ShouldDecrementDesiredCapacity"))
	if err != nil {
		return nil, validation("Invalid value '%s' for ShouldDecrementDesiredCapacity: use true or false", p.Get("ShouldDecrementDesiredCapacity"))
	}
	a, err := h.b.TerminateInstance(id, decrement)
	if err != nil {
		return nil, err
	}
	return terminateResult{Activity: activityOut(a)}, nil
}

type describeActivitiesResult struct {
	Activities []activityXML `xml:"Activities>member"`
	NextToken  string        `xml:"NextToken,omitempty"`
}

func activityOut(a Activity) activityXML {
	return activityXML{
		ActivityID: a.ID, AutoScalingGroupName: a.GroupName, Description: a.Description, Cause: a.Cause,
		StartTime: query.Time(a.Start), StatusCode: a.StatusCode, Progress: a.Progress, Details: a.Details,
	}
}

// describeActivities follows DescribeScalingActivities (EC2 Auto Scaling API reference): the
// activities of the named group (or of every group), newest first, at most MaxRecords
// (1–100, default 100) a page.
func (h handlers) describeActivities(_ context.Context, p query.Params) (any, error) {
	size, ok := p.Int("MaxRecords", 100)
	if !ok || size < 1 || size > 100 {
		return nil, validation("1 validation error detected: Value '%s' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100", p.Get("MaxRecords"))
	}
	name := p.Get("AutoScalingGroupName")
	var picked []Activity
	for _, a := range h.b.Activities() {
		if name == "" || a.GroupName == name {
			picked = append(picked, a)
		}
	}
	start, end, next, ok := query.Page(len(picked), p.Get("NextToken"), size)
	if !ok {
		return nil, validation("The token '%s' is invalid.", p.Get("NextToken"))
	}
	res := describeActivitiesResult{NextToken: next, Activities: []activityXML{}}
	for _, a := range picked[start:end] {
		res.Activities = append(res.Activities, activityOut(a))
	}
	return res, nil
}
