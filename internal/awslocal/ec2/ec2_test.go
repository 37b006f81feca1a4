package ec2_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"healthchecklab/internal/awslocal/awslocaltest"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/region"
	rt "healthchecklab/internal/awslocal/region/regiontest"
)

const (
	normalARN = "arn:aws:iam::123456789012:instance-profile/WebApp1-EC2-Role-HealthCheckLab"
	noDDBARN  = "arn:aws:iam::123456789012:instance-profile/WebApp1-EC2-noDDB-Role-HealthCheckLab"
	noDDBName = "WebApp1-EC2-noDDB-Role-HealthCheckLab"
)

// lab is a region model (the real one) whose group holds desired instances in zones a, b,
// c, a, …; with terminated, the zone-a instance launched first was terminated through EC2
// and replaced (in zone a, launched last).
type lab struct {
	*rt.Shell
	all []ec2.Instance // in DescribeInstances order: launch time, then id
}

func newLab(t *testing.T, desired int, terminated bool) *lab {
	s := rt.Healthy(t, func(c *region.Config) { c.Desired, c.Max = desired, desired+1 })
	if terminated {
		if _, err := s.R.Terminate([]string{s.InZone("a")[0]}); err != nil {
			t.Fatal(err)
		}
		s.Run()
		s.Wait(10 * time.Second)
	}
	all := s.R.Instances()
	slices.SortFunc(all, func(a, b ec2.Instance) int {
		if c := a.LaunchTime.Compare(b.LaunchTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return &lab{s, all}
}

// pick returns the ids of the instances match keeps, in DescribeInstances order.
func (l *lab) pick(match func(ec2.Instance) bool) []string {
	var out []string
	for _, in := range l.all {
		if match(in) {
			out = append(out, in.ID)
		}
	}
	return out
}

func (l *lab) in(zone, state string) ec2.Instance {
	for _, in := range l.all {
		if in.Zone == zone && in.State == state {
			return in
		}
	}
	l.T.Fatalf("no %s instance in %s", state, zone)
	return ec2.Instance{}
}

func client(t *testing.T, l *lab) (*sdk.Client, *awslocaltest.Endpoint) {
	e := awslocaltest.Serve(t, ec2.Service(l.R))
	return sdk.NewFromConfig(e.UserConfig()), e
}

func ids(out *sdk.DescribeInstancesOutput) []string {
	var s []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			s = append(s, aws.ToString(in.InstanceId))
		}
	}
	return s
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func TestDescribeInstances(t *testing.T) {
	l := newLab(t, 3, true) // a (terminated), b, c running, then a's replacement
	c, _ := client(t, l)
	ctx := context.Background()
	zoneC := l.in("local-1c", "running")

	out, err := c.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{zoneC.ID}})
	if err != nil {
		t.Fatal(err)
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.InstanceId) != zoneC.ID || aws.ToString(in.Placement.AvailabilityZone) != "local-1c" ||
		in.State.Name != types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 ||
		aws.ToString(in.IamInstanceProfile.Arn) != normalARN || aws.ToString(in.ImageId) != "ami-0a1b2c3d4e5f60718" ||
		in.InstanceType != types.InstanceTypeT3Micro || !in.LaunchTime.Equal(rt.T0) || len(in.Tags) != 4 ||
		aws.ToString(out.Reservations[0].OwnerId) != "123456789012" || !strings.HasPrefix(aws.ToString(in.PrivateIpAddress), "10.0.3.") {
		t.Errorf("instance = %+v", in)
	}

	all := l.pick(func(ec2.Instance) bool { return true })
	running := l.pick(func(in ec2.Instance) bool { return in.State == "running" })
	tests := []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"group tag", []types.Filter{filter("tag:aws:autoscaling:groupName", l.R.GroupName())}, all},
		{"running", []types.Filter{filter("instance-state-name", "running")}, running},
		{"zone a running (README's zone filter)", []types.Filter{filter("tag:aws:autoscaling:groupName", l.R.GroupName()),
			filter("instance-state-name", "running"), filter("availability-zone", "local-1a")}, []string{l.in("local-1a", "running").ID}},
		{"terminated", []types.Filter{filter("instance-state-name", "terminated")}, []string{l.in("local-1a", "terminated").ID}},
		{"instance-id", []types.Filter{filter("instance-id", zoneC.ID)}, []string{zoneC.ID}},
		{"wildcard", []types.Filter{filter("availability-zone", "local-1?")}, all},
		{"two values", []types.Filter{filter("availability-zone", "local-1b", "local-1c")},
			l.pick(func(in ec2.Instance) bool { return in.Zone != "local-1a" })},
		{"tag-key", []types.Filter{filter("tag-key", "ServerCode")}, all},
		{"other tag value", []types.Filter{filter("tag:ServerCode", "healthcheck")}, nil},
	}
	if len(all) != 4 || len(running) != 3 {
		t.Fatalf("lab: %d instances, %d running", len(all), len(running))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeInstances(ctx, &sdk.DescribeInstancesInput{Filters: tt.filters})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(out); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeInstancesPages(t *testing.T) {
	l := newLab(t, 12, false)
	c, _ := client(t, l)
	var got []string
	pages := 0
	for p := sdk.NewDescribeInstancesPaginator(c, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(5)}); p.HasMorePages(); {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		got = append(got, ids(out)...)
	}
	if pages != 3 || len(got) != 12 || got[0] != l.all[0].ID || got[11] != l.all[11].ID {
		t.Errorf("%d pages, %v", pages, got)
	}
}

func TestDescribeInstancesErrors(t *testing.T) {
	l := newLab(t, 3, false)
	c, e := client(t, l)
	ctx := context.Background()
	tests := []struct {
		name string
		in   *sdk.DescribeInstancesInput
		code string
		msg  string
	}{
		{"unknown id", &sdk.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist"},
		{"malformed id", &sdk.DescribeInstancesInput{InstanceIds: []string{"web-1"}}, "InvalidInstanceID.Malformed", `Invalid id: "web-1"`},
		{"unknown filter", &sdk.DescribeInstancesInput{Filters: []types.Filter{filter("color", "blue")}}, "InvalidParameterValue", "The filter 'color' is invalid"},
		{"page size", &sdk.DescribeInstancesInput{MaxResults: aws.Int32(2)}, "InvalidParameterValue", "Expecting a value between 5 and 1000"},
		{"bad token", &sdk.DescribeInstancesInput{NextToken: aws.String("%%%")}, "InvalidParameterValue", "nextToken"},
		{"ids and page size", &sdk.DescribeInstancesInput{InstanceIds: []string{l.all[0].ID}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination", "maxResults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeInstances(ctx, tt.in)
			if msg := awslocaltest.Code(t, err, tt.code); !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q, want %q", msg, tt.msg)
			}
		})
	}
	for name, cfg := range map[string]aws.Config{"unknown key": e.StrangerConfig(), "wrong secret": e.WrongSecretConfig()} {
		_, err := sdk.NewFromConfig(cfg).DescribeInstances(ctx, nil)
		awslocaltest.Code(t, err, "AuthFailure")
		_ = name
	}
	_, err := sdk.NewFromConfig(e.RoleConfig()).DescribeInstances(ctx, nil)
	if msg := awslocaltest.Code(t, err, "UnauthorizedOperation"); !strings.Contains(msg, "is not authorized to perform: ec2:DescribeInstances") {
		t.Errorf("role: %q", msg)
	}
}

func TestDescribeAvailabilityZones(t *testing.T) {
	c, _ := client(t, newLab(t, 3, false))
	ctx := context.Background()
	out, err := c.DescribeAvailabilityZones(ctx, &sdk.DescribeAvailabilityZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, z := range out.AvailabilityZones {
		names = append(names, aws.ToString(z.ZoneName))
		if z.State != types.AvailabilityZoneStateAvailable || aws.ToString(z.RegionName) != "local-1" || aws.ToString(z.ZoneType) != "availability-zone" {
			t.Errorf("zone %+v", z)
		}
	}
	if strings.Join(names, ",") != "local-1a,local-1b,local-1c" {
		t.Errorf("zones %v", names)
	}
	out, err = c.DescribeAvailabilityZones(ctx, &sdk.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("zone-name", "local-1c")}})
	if err != nil || len(out.AvailabilityZones) != 1 || aws.ToString(out.AvailabilityZones[0].ZoneId) != "loc1-az3" {
		t.Errorf("filtered: %v %+v", err, out)
	}
	_, err = c.DescribeAvailabilityZones(ctx, &sdk.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1a"}})
	awslocaltest.Code(t, err, "InvalidParameterValue")
	_, err = c.DescribeAvailabilityZones(ctx, &sdk.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("color", "x")}})
	awslocaltest.Code(t, err, "InvalidParameterValue")
}

func TestAssociations(t *testing.T) {
	l := newLab(t, 6, true) // six associated, the terminated instance's disassociated
	c, _ := client(t, l)
	ctx := context.Background()
	inst := l.in("local-1c", "running").ID

	out, err := c.DescribeIamInstanceProfileAssociations(ctx, &sdk.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{filter("instance-id", inst), filter("state", "associated")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("associations %+v", out.IamInstanceProfileAssociations)
	}
	a := out.IamInstanceProfileAssociations[0]
	if aws.ToString(a.InstanceId) != inst || a.State != types.IamInstanceProfileAssociationStateAssociated || aws.ToString(a.IamInstanceProfile.Arn) != normalARN ||
		!aws.ToTime(a.Timestamp).Equal(rt.T0) {
		t.Errorf("association %+v", a)
	}
	gone, err := c.DescribeIamInstanceProfileAssociations(ctx, &sdk.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{filter("state", "disassociated")}})
	if err != nil || len(gone.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("disassociated: %v %+v", err, gone)
	}
	n, pages := 0, 0
	for p := sdk.NewDescribeIamInstanceProfileAssociationsPaginator(c, &sdk.DescribeIamInstanceProfileAssociationsInput{MaxResults: aws.Int32(5)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, pages = n+len(out.IamInstanceProfileAssociations), pages+1
	}
	if n != 7 || pages != 2 {
		t.Errorf("paged %d associations in %d pages", n, pages)
	}

	for _, profile := range []types.IamInstanceProfileSpecification{{Name: aws.String(noDDBName)}, {Arn: aws.String(noDDBARN)}} {
		l := newLab(t, 3, false)
		c, _ := client(t, l)
		b := l.in("local-1b", "running").ID
		old := l.R.Associations()[1]
		if old.InstanceID != b {
			t.Fatalf("association %+v is not zone b's", old)
		}
		r, err := c.ReplaceIamInstanceProfileAssociation(ctx, &sdk.ReplaceIamInstanceProfileAssociationInput{
			AssociationId: aws.String(old.ID), IamInstanceProfile: &profile,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := r.IamInstanceProfileAssociation
		if aws.ToString(got.IamInstanceProfile.Arn) != noDDBARN || aws.ToString(got.InstanceId) != b ||
			got.State != types.IamInstanceProfileAssociationStateAssociating || aws.ToString(got.AssociationId) == old.ID {
			t.Errorf("replaced: %+v", got)
		}
		// The old association is on its way out, as EC2 lists it.
		d, err := c.DescribeIamInstanceProfileAssociations(ctx, &sdk.DescribeIamInstanceProfileAssociationsInput{AssociationIds: []string{old.ID}})
		if err != nil || len(d.IamInstanceProfileAssociations) != 1 || d.IamInstanceProfileAssociations[0].State != types.IamInstanceProfileAssociationStateDisassociating {
			t.Errorf("old association: %v %+v", err, d)
		}
	}

	current := aws.ToString(a.AssociationId)
	disassociated := aws.ToString(gone.IamInstanceProfileAssociations[0].AssociationId)
	errs := []struct {
		name string
		in   *sdk.ReplaceIamInstanceProfileAssociationInput
		code string
	}{
		{"unknown profile", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(current),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("Admin")}}, "InvalidParameterValue"},
		{"unknown association", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String("iip-assoc-0000000000000000a"),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(noDDBName)}}, "InvalidAssociationID.NotFound"},
		{"disassociated", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(disassociated),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(noDDBName)}}, "IncorrectState"},
		{"no profile", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(current),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{}}, "MissingParameter"},
		{"name and arn", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(current),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(noDDBName), Arn: aws.String(noDDBARN)}}, "InvalidParameterCombination"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ReplaceIamInstanceProfileAssociation(ctx, tt.in)
			awslocaltest.Code(t, err, tt.code)
		})
	}
	_, err = c.DescribeIamInstanceProfileAssociations(ctx, &sdk.DescribeIamInstanceProfileAssociationsInput{AssociationIds: []string{"iip-assoc-0000000000000000a"}})
	awslocaltest.Code(t, err, "InvalidAssociationID.NotFound")
	_, err = c.DescribeIamInstanceProfileAssociations(ctx, &sdk.DescribeIamInstanceProfileAssociationsInput{Filters: []types.Filter{filter("profile", "x")}})
	awslocaltest.Code(t, err, "InvalidParameterValue")
}

func TestTerminateInstances(t *testing.T) {
	l := newLab(t, 3, false)
	c, e := client(t, l)
	ctx := context.Background()
	b := l.in("local-1b", "running").ID
	out, err := c.TerminateInstances(ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{b}})
	if err != nil {
		t.Fatal(err)
	}
	ch := out.TerminatingInstances[0]
	if aws.ToString(ch.InstanceId) != b || ch.CurrentState.Name != types.InstanceStateNameShuttingDown ||
		aws.ToInt32(ch.CurrentState.Code) != 32 || ch.PreviousState.Name != types.InstanceStateNameRunning {
		t.Errorf("state change %+v", ch)
	}
	terminating := func() []string {
		var out []string
		for _, in := range l.R.Instances() {
			if in.State != "running" {
				out = append(out, in.ID)
			}
		}
		return out
	}
	if got := terminating(); !slices.Equal(got, []string{b}) {
		t.Errorf("terminating %v", got)
	}
	_, err = c.TerminateInstances(ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}})
	if msg := awslocaltest.Code(t, err, "InvalidInstanceID.NotFound"); !strings.Contains(msg, "i-0123456789abcdef0, i-0123456789abcdef1") {
		t.Errorf("message %q", msg)
	}
	status, body := e.Post(t, "ec2", url.Values{"Action": {"TerminateInstances"}, "Version": {"2016-11-15"}})
	if status != 400 || !strings.Contains(body, "<Code>MissingParameter</Code>") || !strings.Contains(body, "<RequestID>") {
		t.Errorf("without InstanceId: %d %s", status, body)
	}
	status, body = e.Post(t, "ec2", url.Values{"Action": {"RunInstances"}, "Version": {"2016-11-15"}})
	if status != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("RunInstances: %d %s", status, body)
	}
	if got := terminating(); len(got) != 1 {
		t.Errorf("a failed call terminated %v", got)
	}
}
