package autoscaling_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/awslocaltest"
)

type fake struct {
	groups     []autoscaling.Group
	terminated []string
}

func (f *fake) Groups() []autoscaling.Group { return f.groups }

func (f *fake) TerminateInstance(id string, decrement bool) (autoscaling.Activity, error) {
	g := f.groups[0]
	for _, in := range g.Instances {
		if in.ID != id {
			continue
		}
		if decrement && g.Desired <= g.Min {
			return autoscaling.Activity{}, autoscaling.MinSizeViolation(g.Min)
		}
		f.terminated = append(f.terminated, id)
		return autoscaling.Activity{ID: "act-1", GroupName: g.Name, Description: "Terminating EC2 instance: " + id,
			Cause: "user request", StatusCode: "InProgress", Start: time.Now(), Details: "{}"}, nil
	}
	return autoscaling.Activity{}, autoscaling.NotInGroup(id)
}

// newFake has n groups; the first is the lab's, with three instances.
func newFake(n int) *fake {
	f := &fake{}
	lt := autoscaling.LaunchTemplate{ID: "lt-0123", Name: "WebTier", Version: "2"}
	for i := 0; i < n; i++ {
		g := autoscaling.Group{Name: fmt.Sprintf("group-%d", i), ARN: "arn:aws:autoscaling:local-1:123456789012:autoScalingGroup:x:autoScalingGroupName/g",
			LaunchTemplate: lt, Min: 3, Max: 4, Desired: 3, Zones: []string{"local-1a", "local-1b", "local-1c"}, HealthCheckType: "EC2",
			HealthCheckGrace: 5 * time.Minute, Created: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC), SubnetIDs: []string{"subnet-1", "subnet-2"}}
		if i == 0 {
			for j, z := range g.Zones {
				state := "InService"
				if j == 2 {
					state = "Terminating"
				}
				g.Instances = append(g.Instances, autoscaling.Instance{ID: fmt.Sprintf("i-0%016x", j+1), Type: "t3.micro", Zone: z,
					LifecycleState: state, HealthStatus: "Healthy", LaunchTemplate: lt})
			}
		}
		f.groups = append(f.groups, g)
	}
	return f
}

func TestDescribeAutoScalingGroups(t *testing.T) {
	f := newFake(7)
	e := awslocaltest.Serve(t, autoscaling.Service(f))
	c := sdk.NewFromConfig(e.UserConfig())
	ctx := context.Background()
	out, err := c.DescribeAutoScalingGroups(ctx, &sdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"group-0"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	g := out.AutoScalingGroups[0]
	if aws.ToInt32(g.MinSize) != 3 || aws.ToInt32(g.MaxSize) != 4 || aws.ToInt32(g.DesiredCapacity) != 3 || aws.ToString(g.HealthCheckType) != "EC2" ||
		aws.ToInt32(g.HealthCheckGracePeriod) != 300 || strings.Join(g.AvailabilityZones, ",") != "local-1a,local-1b,local-1c" ||
		aws.ToString(g.LaunchTemplate.Version) != "2" || aws.ToString(g.VPCZoneIdentifier) != "subnet-1,subnet-2" || len(g.Instances) != 3 {
		t.Errorf("group %+v", g)
	}
	in := g.Instances[2]
	if aws.ToString(in.InstanceId) != "i-00000000000000003" || aws.ToString(in.AvailabilityZone) != "local-1c" || in.LifecycleState != "Terminating" ||
		aws.ToString(in.HealthStatus) != "Healthy" || aws.ToString(in.LaunchTemplate.LaunchTemplateId) != "lt-0123" {
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
	f := newFake(1)
	e := awslocaltest.Serve(t, autoscaling.Service(f))
	c := sdk.NewFromConfig(e.UserConfig())
	ctx := context.Background()
	out, err := c.TerminateInstanceInAutoScalingGroup(ctx, &sdk.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String("i-00000000000000002"), ShouldDecrementDesiredCapacity: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	a := out.Activity
	if aws.ToString(a.ActivityId) != "act-1" || a.StatusCode != "InProgress" || aws.ToString(a.Description) != "Terminating EC2 instance: i-00000000000000002" ||
		aws.ToString(a.AutoScalingGroupName) != "group-0" {
		t.Errorf("activity %+v", a)
	}
	_, err = c.TerminateInstanceInAutoScalingGroup(ctx, &sdk.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String("i-00000000000000002"), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	if msg := awslocaltest.Code(t, err, "ValidationError"); !strings.Contains(msg, "min size") {
		t.Errorf("decrement: %q", msg)
	}
	_, err = c.TerminateInstanceInAutoScalingGroup(ctx, &sdk.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String("i-0123456789abcdef0"), ShouldDecrementDesiredCapacity: aws.Bool(false)})
	if msg := awslocaltest.Code(t, err, "ValidationError"); msg != "Instance Id not found - No managed instance found for instance ID: i-0123456789abcdef0" {
		t.Errorf("unknown instance: %q", msg)
	}
	status, body := e.Post(t, "autoscaling", url.Values{"Action": {"TerminateInstanceInAutoScalingGroup"}, "Version": {"2011-01-01"}, "InstanceId": {"i-00000000000000001"}})
	if status != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") || !strings.Contains(body, "shouldDecrementDesiredCapacity") {
		t.Errorf("without ShouldDecrementDesiredCapacity: %d %s", status, body)
	}
	if strings.Join(f.terminated, ",") != "i-00000000000000002" {
		t.Errorf("terminated %v", f.terminated)
	}
}
