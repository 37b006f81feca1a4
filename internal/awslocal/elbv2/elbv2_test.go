package elbv2_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"healthchecklab/internal/awslocal/awslocaltest"
	"healthchecklab/internal/awslocal/elbv2"
)

const (
	tgARN = "arn:aws:elasticloadbalancing:local-1:123456789012:targetgroup/Health-WebTi-ABC/0123456789abcdef"
	lbARN = "arn:aws:elasticloadbalancing:local-1:123456789012:loadbalancer/app/Health-WebTi-DEF/0123456789abcdef"
)

type fake struct {
	groups  []elbv2.TargetGroup
	lbs     []elbv2.LoadBalancer
	targets []elbv2.TargetHealth
}

func (f fake) TargetGroups() []elbv2.TargetGroup        { return f.groups }
func (f fake) LoadBalancers() []elbv2.LoadBalancer      { return f.lbs }
func (f fake) TargetHealth(string) []elbv2.TargetHealth { return f.targets }

// newFake has the lab's group, n-1 more groups, n load balancers and three targets: healthy,
// unhealthy (the deep check's 503) and draining.
func newFake(n int) fake {
	f := fake{targets: []elbv2.TargetHealth{
		{ID: "i-0aaaaaaaaaaaaaaaa", Port: 80, State: "healthy"},
		{ID: "i-0cccccccccccccccc", Port: 80, State: "unhealthy", Reason: "Target.ResponseCodeMismatch", Description: "Health checks failed with these codes: [503]"},
		{ID: "i-0dddddddddddddddd", Port: 80, State: "draining", Reason: "Target.DeregistrationInProgress", Description: "Target deregistration is in progress"},
	}}
	for i := 0; i < n; i++ {
		tg, lb := tgARN, lbARN
		if i > 0 {
			tg, lb = fmt.Sprintf("%s%d", tgARN, i), fmt.Sprintf("%s%d", lbARN, i)
		}
		f.groups = append(f.groups, elbv2.TargetGroup{
			ARN: tg, Name: fmt.Sprintf("group-%d", i), VpcID: "vpc-0123", Port: 80, LoadBalancerARNs: []string{lb},
			HealthCheckPath: "/healthcheck", HealthCheckInterval: 15 * time.Second, HealthCheckTimeout: 3 * time.Second,
			HealthyThreshold: 2, UnhealthyThreshold: 3, SuccessCodes: "200", DeregistrationDelay: 10 * time.Second,
			LoadBalancingAlgorithm: "round_robin",
		})
		f.lbs = append(f.lbs, elbv2.LoadBalancer{ARN: lb, Name: fmt.Sprintf("lb-%d", i), DNSName: "127.0.0.1:8080", VpcID: "vpc-0123",
			Created: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC), Zones: []elbv2.ZoneSubnet{{Zone: "local-1a", SubnetID: "subnet-1"}}})
	}
	return f
}

func client(t *testing.T, f fake) (*sdk.Client, *awslocaltest.Endpoint) {
	e := awslocaltest.Serve(t, elbv2.Service(f))
	return sdk.NewFromConfig(e.UserConfig()), e
}

func TestDescribeTargetHealth(t *testing.T) {
	c, e := client(t, newFake(1))
	ctx := context.Background()
	out, err := c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range out.TargetHealthDescriptions {
		h := d.TargetHealth
		got = append(got, fmt.Sprintf("%s:%d %s %s %s", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port), h.State, h.Reason, aws.ToString(h.Description)))
	}
	want := []string{
		"i-0aaaaaaaaaaaaaaaa:80 healthy  ",
		"i-0cccccccccccccccc:80 unhealthy Target.ResponseCodeMismatch Health checks failed with these codes: [503]",
		"i-0dddddddddddddddd:80 draining Target.DeregistrationInProgress Target deregistration is in progress",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Named targets, as the SDK's waiters ask: an unknown one is unused, not registered.
	out, err = c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN),
		Targets: []types.TargetDescription{{Id: aws.String("i-0cccccccccccccccc")}, {Id: aws.String("i-0eeeeeeeeeeeeeeee")}}})
	if err != nil || len(out.TargetHealthDescriptions) != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	if h := out.TargetHealthDescriptions[1].TargetHealth; h.State != types.TargetHealthStateEnumUnused || h.Reason != types.TargetHealthReasonEnumNotRegistered ||
		aws.ToString(h.Description) != "Target is not registered to the target group" {
		t.Errorf("unknown target: %+v", h)
	}
	w := sdk.NewTargetInServiceWaiter(c)
	if err := w.Wait(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN),
		Targets: []types.TargetDescription{{Id: aws.String("i-0aaaaaaaaaaaaaaaa")}}}, time.Second); err != nil {
		t.Errorf("TargetInService waiter: %v", err)
	}

	_, err = c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN + "0")})
	if msg := awslocaltest.Code(t, err, "TargetGroupNotFound"); !strings.Contains(msg, tgARN+"0") {
		t.Errorf("message %q", msg)
	}
	_, err = c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String("my-group")})
	awslocaltest.Code(t, err, "ValidationError")
	status, body := e.Post(t, "elasticloadbalancing", url.Values{"Action": {"DescribeTargetHealth"}, "Version": {"2015-12-01"}})
	if status != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") || !strings.Contains(body, "targetGroupArn") {
		t.Errorf("without TargetGroupArn: %d %s", status, body)
	}
	_, err = sdk.NewFromConfig(e.RoleConfig()).DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if msg := awslocaltest.Code(t, err, "AccessDenied"); !strings.Contains(msg, "elasticloadbalancing:DescribeTargetHealth") {
		t.Errorf("role: %q", msg)
	}
	_, err = sdk.NewFromConfig(e.StrangerConfig()).DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	awslocaltest.Code(t, err, "InvalidClientTokenId")
	_, err = sdk.NewFromConfig(e.WrongSecretConfig()).DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	awslocaltest.Code(t, err, "SignatureDoesNotMatch")
}

func TestDescribeTargetGroups(t *testing.T) {
	c, _ := client(t, newFake(5))
	ctx := context.Background()
	out, err := c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{TargetGroupArns: []string{tgARN}})
	if err != nil || len(out.TargetGroups) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	g := out.TargetGroups[0]
	if aws.ToString(g.HealthCheckPath) != "/healthcheck" || aws.ToInt32(g.HealthCheckIntervalSeconds) != 15 || aws.ToInt32(g.HealthCheckTimeoutSeconds) != 3 ||
		aws.ToInt32(g.HealthyThresholdCount) != 2 || aws.ToInt32(g.UnhealthyThresholdCount) != 3 || aws.ToString(g.Matcher.HttpCode) != "200" ||
		g.Protocol != types.ProtocolEnumHttp || aws.ToInt32(g.Port) != 80 || g.LoadBalancerArns[0] != lbARN || g.TargetType != types.TargetTypeEnumInstance {
		t.Errorf("target group %+v", g)
	}
	for _, in := range []*sdk.DescribeTargetGroupsInput{{Names: []string{"group-0"}}, {LoadBalancerArn: aws.String(lbARN)}} {
		if out, err := c.DescribeTargetGroups(ctx, in); err != nil || len(out.TargetGroups) != 1 || aws.ToString(out.TargetGroups[0].TargetGroupArn) != tgARN {
			t.Errorf("%+v: %v %+v", in, err, out)
		}
	}
	n, pages := 0, 0
	for p := sdk.NewDescribeTargetGroupsPaginator(c, &sdk.DescribeTargetGroupsInput{PageSize: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, pages = n+len(out.TargetGroups), pages+1
	}
	if n != 5 || pages != 3 {
		t.Errorf("%d groups in %d pages", n, pages)
	}
	_, err = c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{Names: []string{"nope"}})
	awslocaltest.Code(t, err, "TargetGroupNotFound")
	_, err = c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbARN + "9")})
	awslocaltest.Code(t, err, "LoadBalancerNotFound")
	_, err = c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{Names: []string{"group-0"}, TargetGroupArns: []string{tgARN}})
	awslocaltest.Code(t, err, "ValidationError")
	_, err = c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{PageSize: aws.Int32(500)})
	awslocaltest.Code(t, err, "ValidationError")

	attrs, err := c.DescribeTargetGroupAttributes(ctx, &sdk.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range attrs.Attributes {
		got[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	if got["deregistration_delay.timeout_seconds"] != "10" || got["load_balancing.algorithm.type"] != "round_robin" {
		t.Errorf("attributes %v", got)
	}
	_, err = c.DescribeTargetGroupAttributes(ctx, &sdk.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN + "9")})
	awslocaltest.Code(t, err, "TargetGroupNotFound")
}

func TestDescribeLoadBalancers(t *testing.T) {
	c, _ := client(t, newFake(3))
	ctx := context.Background()
	out, err := c.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if err != nil || len(out.LoadBalancers) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	lb := out.LoadBalancers[0]
	if aws.ToString(lb.DNSName) != "127.0.0.1:8080" || lb.Type != types.LoadBalancerTypeEnumApplication || lb.State.Code != types.LoadBalancerStateEnumActive ||
		lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing || aws.ToString(lb.AvailabilityZones[0].ZoneName) != "local-1a" {
		t.Errorf("load balancer %+v", lb)
	}
	n := 0
	for p := sdk.NewDescribeLoadBalancersPaginator(c, &sdk.DescribeLoadBalancersInput{PageSize: aws.Int32(1)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.LoadBalancers)
	}
	if n != 3 {
		t.Errorf("paged %d load balancers", n)
	}
	_, err = c.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{Names: []string{"nope"}})
	awslocaltest.Code(t, err, "LoadBalancerNotFound")
	_, err = c.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{LoadBalancerArns: []string{"nope"}})
	awslocaltest.Code(t, err, "ValidationError")
}
