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
	"healthchecklab/internal/awslocal/region"
	rt "healthchecklab/internal/awslocal/region/regiontest"
	"healthchecklab/internal/lab"
)

// backend is the real region model, with n-1 more target groups and load balancers (plain
// data) after the lab's so that paging has something to page through.
type backend struct {
	*region.Region
	n int
}

func (b backend) TargetGroups() []elbv2.TargetGroup {
	gs := b.Region.TargetGroups()
	for i := 1; i < b.n; i++ {
		g := gs[0]
		g.ARN, g.Name, g.LoadBalancerARNs = fmt.Sprintf("%s%d", gs[0].ARN, i), fmt.Sprintf("group-%d", i), []string{fmt.Sprintf("%s%d", gs[0].LoadBalancerARNs[0], i)}
		gs = append(gs, g)
	}
	return gs
}

func (b backend) LoadBalancers() []elbv2.LoadBalancer {
	lbs := b.Region.LoadBalancers()
	for i := 1; i < b.n; i++ {
		lb := lbs[0]
		lb.ARN, lb.Name = fmt.Sprintf("%s%d", lbs[0].ARN, i), fmt.Sprintf("lb-%d", i)
		lbs = append(lbs, lb)
	}
	return lbs
}

// newBackend is a region whose targets are: zone a healthy, zone b draining (its instance
// terminated through Auto Scaling), zone c unhealthy (the deep check's 503); plus n-1 more
// groups and load balancers.
func newBackend(t *testing.T, n int) (backend, *rt.Shell) {
	s := rt.Healthy(t, nil)
	if _, err := s.R.TerminateInstance(s.Only("b"), false); err != nil {
		t.Fatal(err)
	}
	s.Run()
	for range 3 {
		s.Check(rt.Bad503, s.Only("c"))
	}
	return backend{s.R, n}, s
}

func client(t *testing.T, b backend) (*sdk.Client, *awslocaltest.Endpoint) {
	e := awslocaltest.Serve(t, elbv2.Service(b))
	return sdk.NewFromConfig(e.UserConfig()), e
}

func TestDescribeTargetHealth(t *testing.T) {
	b, s := newBackend(t, 1)
	c, e := client(t, b)
	ctx := context.Background()
	tgARN := b.TargetGroupARN()
	zoneA, zoneB, zoneC := s.Only("a"), s.Only("b"), s.Only("c")
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
		zoneA + ":80 healthy  ",
		zoneB + ":80 draining Target.DeregistrationInProgress Target deregistration is in progress",
		zoneC + ":80 unhealthy Target.ResponseCodeMismatch Health checks failed with these codes: [503]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Named targets, as the SDK's waiters ask: an instance that is no longer registered (zone
	// b's, once drained) is unused, Target.NotRegistered; an id that names no instance is an
	// InvalidTarget error (ELB API reference, DescribeTargetHealth and TargetHealth).
	s.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
	out, err = c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN),
		Targets: []types.TargetDescription{{Id: aws.String(zoneC)}, {Id: aws.String(zoneB)}}})
	if err != nil || len(out.TargetHealthDescriptions) != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	if h := out.TargetHealthDescriptions[0].TargetHealth; h.State != types.TargetHealthStateEnumUnhealthy {
		t.Errorf("zone c: %+v", h)
	}
	if h := out.TargetHealthDescriptions[1].TargetHealth; h.State != types.TargetHealthStateEnumUnused || h.Reason != types.TargetHealthReasonEnumNotRegistered ||
		aws.ToString(h.Description) != "Target is not registered to the target group" {
		t.Errorf("deregistered target: %+v", h)
	}
	_, err = c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN),
		Targets: []types.TargetDescription{{Id: aws.String("i-0eeeeeeeeeeeeeeee")}}})
	if msg := awslocaltest.Code(t, err, "InvalidTarget"); !strings.Contains(msg, "i-0eeeeeeeeeeeeeeee") {
		t.Errorf("unknown target: %q", msg)
	}
	w := sdk.NewTargetInServiceWaiter(c)
	if err := w.Wait(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN),
		Targets: []types.TargetDescription{{Id: aws.String(zoneA)}}}, time.Second); err != nil {
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
	b, _ := newBackend(t, 5)
	c, _ := client(t, b)
	ctx := context.Background()
	tgARN, lbARN, name := b.TargetGroupARN(), b.LoadBalancers()[0].ARN, b.TargetGroups()[0].Name
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
	for _, in := range []*sdk.DescribeTargetGroupsInput{{Names: []string{name}}, {LoadBalancerArn: aws.String(lbARN)}} {
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
	_, err = c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{Names: []string{name}, TargetGroupArns: []string{tgARN}})
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
	b, _ := newBackend(t, 3)
	c, _ := client(t, b)
	ctx := context.Background()
	lbARN := b.LoadBalancers()[0].ARN
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
