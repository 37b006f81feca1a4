package autoscaling_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/awslocaltest"
	"healthchecklab/internal/awslocal/region"
	rt "healthchecklab/internal/awslocal/region/regiontest"
)

// backend is the real region model, with n-1 more groups (plain data) after the lab's so
// that paging has something to page through.
type backend struct {
	*region.Region
	n int
}

func (b backend) Groups() []autoscaling.Group {
	gs := b.Region.Groups()
	for i := 1; i < b.n; i++ {
		g := gs[0]
		g.Name, g.Instances = fmt.Sprintf("group-%d", i), nil
		gs = append(gs, g)
	}
	return gs
}

// newBackend is a region with the lab's group (healthy, three instances) and n-1 others.
func newBackend(t *testing.T, n int) (backend, *rt.Shell) {
	s := rt.Healthy(t, nil)
	return backend{s.R, n}, s
}

func TestDescribeAutoScalingGroups(t *testing.T) {
	b, s := newBackend(t, 7)
	e := awslocaltest.Serve(t, autoscaling.Service(b))
	c := sdk.NewFromConfig(e.UserConfig())
	ctx := context.Background()
	zoneC := s.Only("c")
	if _, err := s.R.TerminateInstance(zoneC, false); err != nil {
		t.Fatal(err)
	}
	s.Run()
	out, err := c.DescribeAutoScalingGroups(ctx, &sdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{s.R.GroupName()}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	g := out.AutoScalingGroups[0]
	if aws.ToInt32(g.MinSize) != 3 || aws.ToInt32(g.MaxSize) != 4 || aws.ToInt32(g.DesiredCapacity) != 3 || aws.ToString(g.HealthCheckType) != "EC2" ||
		aws.ToInt32(g.HealthCheckGracePeriod) != 300 || strings.Join(g.AvailabilityZones, ",") != "local-1a,local-1b,local-1c" ||
		aws.ToString(g.LaunchTemplate.Version) != "1" || len(strings.Split(aws.ToString(g.VPCZoneIdentifier), ",")) != 3 || len(g.Instances) != 3 {
		t.Errorf("group %+v", g)
	}
	in := g.Instances[2]
	if aws.ToString(in.InstanceId) != zoneC || aws.ToString(in.AvailabilityZone) != "local-1c" || in.LifecycleState != "Terminating" ||
		aws.ToString(in.HealthStatus) != "Healthy" || !strings.HasPrefix(aws.ToString(in.LaunchTemplate.LaunchTemplateId), "lt-0") ||
		aws.ToString(in.LaunchTemplate.Version) != "1" {
		t.Errorf("instance %+v", in)
	}
	if out, err := c.DescribeAutoScalingGroups(ctx, &sdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"nope"}}); err != nil || len(out.AutoScalingGroups) != 0 {
		t.Errorf("unknown name: %v %+v", err, out)
	}
	n, pages := 0, 0
	for p := sdk.NewDescribeAutoScalingGroupsPaginator(c, &sdk.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(3)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, pages = n+len(out.AutoScalingGroups), pages+1
	}
	if n != 7 || pages != 3 {
		t.Errorf("%d groups in %d pages", n, pages)
	}
	_, err = c.DescribeAutoScalingGroups(ctx, &sdk.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(500)})
	awslocaltest.Code(t, err, "ValidationError")
	_, err = c.DescribeAutoScalingGroups(ctx, &sdk.DescribeAutoScalingGroupsInput{NextToken: aws.String("bogus")})
	awslocaltest.Code(t, err, "ValidationError")
	_, err = sdk.NewFromConfig(e.RoleConfig()).DescribeAutoScalingGroups(ctx, nil)
	if msg := awslocaltest.Code(t, err, "AccessDenied"); !strings.Contains(msg, "autoscaling:DescribeAutoScalingGroups") {
		t.Errorf("role: %q", msg)
	}
	_, err = sdk.NewFromConfig(e.StrangerConfig()).DescribeAutoScalingGroups(ctx, nil)
	awslocaltest.Code(t, err, "InvalidClientTokenId")
}

func TestTerminateInstanceInAutoScalingGroup(t *testing.T) {
	b, s := newBackend(t, 1)
	e := awslocaltest.Serve(t, autoscaling.Service(b))
	c := sdk.NewFromConfig(e.UserConfig())
	ctx := context.Background()
	zoneB, zoneA := s.Only("b"), s.Only("a")
	out, err := c.TerminateInstanceInAutoScalingGroup(ctx, &sdk.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(zoneB), ShouldDecrementDesiredCapacity: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	a := out.Activity
	if len(aws.ToString(a.ActivityId)) != 36 || a.StatusCode != "InProgress" || aws.ToString(a.Description) != "Terminating EC2 instance: "+zoneB ||
		aws.ToString(a.AutoScalingGroupName) != s.R.GroupName() || !strings.Contains(aws.ToString(a.Details), "local-1b") ||
		!aws.ToTime(a.StartTime).Equal(rt.T0) {
		t.Errorf("activity %+v", a)
	}
	// The group is at its minimum size (3): no decrement.
	_, err = c.TerminateInstanceInAutoScalingGroup(ctx, &sdk.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(zoneA), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	if msg := awslocaltest.Code(t, err, "ValidationError"); !strings.Contains(msg, "desiredSize equals minSize (3)") || !strings.Contains(msg, "min size") {
		t.Errorf("decrement: %q", msg)
	}
	_, err = c.TerminateInstanceInAutoScalingGroup(ctx, &sdk.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String("i-0123456789abcdef0"), ShouldDecrementDesiredCapacity: aws.Bool(false)})
	if msg := awslocaltest.Code(t, err, "ValidationError"); msg != "Instance Id not found - No managed instance found for instance ID: i-0123456789abcdef0" {
		t.Errorf("unknown instance: %q", msg)
	}
	status, body := e.Post(t, "autoscaling", url.Values{"Action": {"TerminateInstanceInAutoScalingGroup"}, "Version": {"2011-01-01"}, "InstanceId": {zoneA}})
	if status != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") || !strings.Contains(body, "shouldDecrementDesiredCapacity") {
		t.Errorf("without ShouldDecrementDesiredCapacity: %d %s", status, body)
	}
	var terminating []string
	for _, m := range s.R.Groups()[0].Instances {
		if m.LifecycleState == "Terminating" {
			terminating = append(terminating, m.ID)
		}
	}
	if strings.Join(terminating, ",") != zoneB {
		t.Errorf("terminating %v", terminating)
	}
}

// TestDescribeScalingActivities: the group's terminations, newest first, paged by
// MaxRecords, filtered by group name.
func TestDescribeScalingActivities(t *testing.T) {
	b, s := newBackend(t, 1)
	e := awslocaltest.Serve(t, autoscaling.Service(b))
	c := sdk.NewFromConfig(e.UserConfig())
	ctx := context.Background()
	zoneA, zoneB := s.Only("a"), s.Only("b")
	for _, id := range []string{zoneA, zoneB} {
		if _, err := s.R.TerminateInstance(id, false); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.DescribeScalingActivities(ctx, &sdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String(s.R.GroupName()), MaxRecords: aws.Int32(1)})
	if err != nil || len(out.Activities) != 1 || aws.ToString(out.Activities[0].Description) != "Terminating EC2 instance: "+zoneB || out.NextToken == nil {
		t.Fatalf("%v %+v", err, out)
	}
	out, err = c.DescribeScalingActivities(ctx, &sdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String(s.R.GroupName()), NextToken: out.NextToken})
	if err != nil || len(out.Activities) != 1 || aws.ToString(out.Activities[0].Description) != "Terminating EC2 instance: "+zoneA ||
		!strings.Contains(aws.ToString(out.Activities[0].Cause), "user request") || out.NextToken != nil {
		t.Fatalf("%v %+v", err, out)
	}
	out, err = c.DescribeScalingActivities(ctx, &sdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("other")})
	if err != nil || len(out.Activities) != 0 {
		t.Fatalf("other group: %v %+v", err, out)
	}
	_, err = c.DescribeScalingActivities(ctx, &sdk.DescribeScalingActivitiesInput{MaxRecords: aws.Int32(101)})
	awslocaltest.Code(t, err, "ValidationError")
}
