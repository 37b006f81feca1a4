package ec2_test

import (
	"context"
	"fmt"
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
)

const (
	normalARN = "arn:aws:iam::123456789012:instance-profile/WebApp1-EC2-Role-HealthCheckLab"
	noDDBARN  = "arn:aws:iam::123456789012:instance-profile/WebApp1-EC2-noDDB-Role-HealthCheckLab"
	noDDBName = "WebApp1-EC2-noDDB-Role-HealthCheckLab"
)

// fake holds n instances: zone a, b, c, a, b, c…, ids i-0…01 upward, one terminated.
type fake struct {
	instances  []ec2.Instance
	assocs     []ec2.Association
	terminated []string
}

func newFake(n int) *fake {
	f := &fake{}
	t0 := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("i-0%016x", i+1)
		zone := "local-1" + string(rune('a'+i%3))
		state := ec2.StateRunning
		if i == n-1 {
			state = ec2.StateTerminated
		}
		f.instances = append(f.instances, ec2.Instance{
			ID: id, OwnerID: "123456789012", ImageID: "ami-0a1b2c3d4e5f60718", Type: "t3.micro", Architecture: "x86_64", Zone: zone, State: state,
			PrivateIP: "10.0.1.10", LaunchTime: t0.Add(time.Duration(i) * time.Minute),
			Profile: &ec2.Profile{ARN: normalARN, ID: "AIPAEXAMPLE"},
			Tags:    []ec2.Tag{{Key: "Name", Value: "WebApp1"}, {Key: "aws:autoscaling:groupName", Value: "HealthCheckLab-Group"}, {Key: "ServerCode", Value: "basic"}},
		})
		st := "associated"
		if state == ec2.StateTerminated {
			st = "disassociated"
		}
		f.assocs = append(f.assocs, ec2.Association{ID: fmt.Sprintf("iip-assoc-0%016x", i+1), InstanceID: id, State: st,
			Profile: ec2.Profile{ARN: normalARN, ID: "AIPAEXAMPLE"}, Timestamp: t0})
	}
	return f
}

func (f *fake) Instances() []ec2.Instance { return f.instances }
func (f *fake) Zones() []ec2.Zone {
	return []ec2.Zone{{"local-1a", "loc1-az1", "local-1"}, {"local-1b", "loc1-az2", "local-1"}, {"local-1c", "loc1-az3", "local-1"}}
}
func (f *fake) Associations() []ec2.Association { return f.assocs }

func (f *fake) ReplaceAssociation(id, name, arn string) (ec2.Association, error) {
	if name != noDDBName && arn != noDDBARN && arn != normalARN {
		return ec2.Association{}, ec2.ProfileNotFound(name, arn)
	}
	for i, a := range f.assocs {
		if a.ID == id {
			if a.State != "associated" {
				return ec2.Association{}, ec2.IncorrectState(id, a.State)
			}
			f.assocs[i] = ec2.Association{ID: "iip-assoc-0ffffffffffffffff", InstanceID: a.InstanceID, State: "associated",
				Profile: ec2.Profile{ARN: noDDBARN, ID: "AIPANODDB"}, Timestamp: time.Now()}
			return f.assocs[i], nil
		}
	}
	return ec2.Association{}, ec2.AssociationNotFound(id)
}

func (f *fake) Terminate(ids []string) ([]ec2.StateChange, error) {
	known := map[string]bool{}
	for _, in := range f.instances {
		known[in.ID] = true
	}
	for _, id := range ids {
		if !known[id] {
			return nil, ec2.NotFound(ids, known)
		}
	}
	var out []ec2.StateChange
	for _, id := range ids {
		f.terminated = append(f.terminated, id)
		out = append(out, ec2.StateChange{ID: id, Previous: ec2.StateRunning, Current: ec2.StateShuttingDown})
	}
	return out, nil
}

func client(t *testing.T, f *fake) (*sdk.Client, *awslocaltest.Endpoint) {
	e := awslocaltest.Serve(t, ec2.Service(f))
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
	f := newFake(4) // a, b, c running; a terminated
	c, _ := client(t, f)
	ctx := context.Background()

	out, err := c.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{f.instances[2].ID}})
	if err != nil {
		t.Fatal(err)
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.InstanceId) != f.instances[2].ID || aws.ToString(in.Placement.AvailabilityZone) != "local-1c" ||
		in.State.Name != types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 ||
		aws.ToString(in.IamInstanceProfile.Arn) != normalARN || aws.ToString(in.ImageId) != "ami-0a1b2c3d4e5f60718" ||
		in.InstanceType != types.InstanceTypeT3Micro || !in.LaunchTime.Equal(f.instances[2].LaunchTime) || len(in.Tags) != 3 ||
		aws.ToString(out.Reservations[0].OwnerId) != "123456789012" {
		t.Errorf("instance = %+v", in)
	}

	tests := []struct {
		name    string
		filters []types.Filter
		want    []int // indexes into f.instances
	}{
		{"group tag", []types.Filter{filter("tag:aws:autoscaling:groupName", "HealthCheckLab-Group")}, []int{0, 1, 2, 3}},
		{"running", []types.Filter{filter("instance-state-name", "running")}, []int{0, 1, 2}},
		{"zone a running (README's zone filter)", []types.Filter{filter("tag:aws:autoscaling:groupName", "HealthCheckLab-Group"),
			filter("instance-state-name", "running"), filter("availability-zone", "local-1a")}, []int{0}},
		{"terminated", []types.Filter{filter("instance-state-name", "terminated")}, []int{3}},
		{"instance-id", []types.Filter{filter("instance-id", f.instances[1].ID)}, []int{1}},
		{"wildcard", []types.Filter{filter("availability-zone", "local-1?")}, []int{0, 1, 2, 3}},
		{"two values", []types.Filter{filter("availability-zone", "local-1b", "local-1c")}, []int{1, 2}},
		{"tag-key", []types.Filter{filter("tag-key", "ServerCode")}, []int{0, 1, 2, 3}},
		{"other tag value", []types.Filter{filter("tag:ServerCode", "healthcheck")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeInstances(ctx, &sdk.DescribeInstancesInput{Filters: tt.filters})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range tt.want {
				want = append(want, f.instances[i].ID)
			}
			if got := ids(out); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestDescribeInstancesPages(t *testing.T) {
	f := newFake(12)
	c, _ := client(t, f)
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
	if pages != 3 || len(got) != 12 || got[0] != f.instances[0].ID || got[11] != f.instances[11].ID {
		t.Errorf("%d pages, %v", pages, got)
	}
}

func TestDescribeInstancesErrors(t *testing.T) {
	f := newFake(3)
	c, e := client(t, f)
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
		{"ids and page size", &sdk.DescribeInstancesInput{InstanceIds: []string{f.instances[0].ID}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination", "maxResults"},
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
	c, _ := client(t, newFake(3))
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
	f := newFake(7) // six associated, the last disassociated
	c, _ := client(t, f)
	ctx := context.Background()
	inst := f.instances[2].ID

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
	if aws.ToString(a.InstanceId) != inst || a.State != types.IamInstanceProfileAssociationStateAssociated || aws.ToString(a.IamInstanceProfile.Arn) != normalARN {
		t.Errorf("association %+v", a)
	}
	if out, err := c.DescribeIamInstanceProfileAssociations(ctx, &sdk.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{filter("state", "disassociated")}}); err != nil || len(out.IamInstanceProfileAssociations) != 1 {
		t.Errorf("disassociated: %v %+v", err, out)
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
		f := newFake(3)
		c, _ := client(t, f)
		r, err := c.ReplaceIamInstanceProfileAssociation(ctx, &sdk.ReplaceIamInstanceProfileAssociationInput{
			AssociationId: aws.String(f.assocs[1].ID), IamInstanceProfile: &profile,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := r.IamInstanceProfileAssociation
		if aws.ToString(got.IamInstanceProfile.Arn) != noDDBARN || aws.ToString(got.InstanceId) != f.instances[1].ID ||
			got.State != types.IamInstanceProfileAssociationStateAssociating || aws.ToString(got.AssociationId) == "iip-assoc-00000000000000002" {
			t.Errorf("replaced: %+v", got)
		}
	}

	errs := []struct {
		name string
		in   *sdk.ReplaceIamInstanceProfileAssociationInput
		code string
	}{
		{"unknown profile", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(f.assocs[0].ID),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("Admin")}}, "InvalidParameterValue"},
		{"unknown association", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String("iip-assoc-0000000000000000a"),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(noDDBName)}}, "InvalidAssociationID.NotFound"},
		{"disassociated", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(f.assocs[6].ID),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(noDDBName)}}, "IncorrectState"},
		{"no profile", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(f.assocs[0].ID),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{}}, "MissingParameter"},
		{"name and arn", &sdk.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(f.assocs[0].ID),
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
	f := newFake(3)
	c, e := client(t, f)
	ctx := context.Background()
	out, err := c.TerminateInstances(ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{f.instances[1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	ch := out.TerminatingInstances[0]
	if aws.ToString(ch.InstanceId) != f.instances[1].ID || ch.CurrentState.Name != types.InstanceStateNameShuttingDown ||
		aws.ToInt32(ch.CurrentState.Code) != 32 || ch.PreviousState.Name != types.InstanceStateNameRunning {
		t.Errorf("state change %+v", ch)
	}
	if !slices.Equal(f.terminated, []string{f.instances[1].ID}) {
		t.Errorf("terminated %v", f.terminated)
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
	if len(f.terminated) != 1 {
		t.Errorf("a failed call terminated %v", f.terminated)
	}
}
