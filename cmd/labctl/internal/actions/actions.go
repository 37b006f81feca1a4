// Package actions wraps, one small method each, the AWS calls labctl makes on a deployed
// HealthCheckLab stack: CloudFormation for the stack's outputs, Elastic Load Balancing for
// target health, EC2 for instances and their instance profiles, Auto Scaling for the group,
// Parameter Store for the lab's switch, and Fault Injection Service for the lab's
// experiments. The verbs and the tour are built on these, and the same methods run against
// AWS and against the local lab's AWS endpoint (which has no FIS).
package actions

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Actions holds one SDK client per service the lab uses.
type Actions struct {
	CFN *cloudformation.Client
	EC2 *ec2.Client
	ELB *elb.Client
	ASG *autoscaling.Client
	SSM *ssm.Client
	FIS *fis.Client
}

// New makes the clients from one configuration (config.LoadDefaultConfig's, with whatever
// endpoint and credentials it carries).
func New(cfg aws.Config) *Actions {
	return &Actions{
		CFN: cloudformation.NewFromConfig(cfg),
		EC2: ec2.NewFromConfig(cfg),
		ELB: elb.NewFromConfig(cfg),
		ASG: autoscaling.NewFromConfig(cfg),
		SSM: ssm.NewFromConfig(cfg),
		FIS: fis.NewFromConfig(cfg),
	}
}

// Stack is what labctl needs of a CloudFormation stack.
type Stack struct {
	Name    string
	ID      string // the stack's ARN
	Account string // from the ARN
	Region  string // from the ARN
	Status  string // e.g. UPDATE_IN_PROGRESS
	Outputs map[string]string
}

// DescribeStack reads one stack by name: its status, outputs, and the account and region
// its ARN names.
func (a *Actions) DescribeStack(ctx context.Context, name string) (Stack, error) {
	out, err := a.CFN.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return Stack{}, err
	}
	if len(out.Stacks) == 0 {
		return Stack{}, fmt.Errorf("DescribeStacks %s: no stack in the answer", name)
	}
	s := out.Stacks[0]
	st := Stack{
		Name: aws.ToString(s.StackName), ID: aws.ToString(s.StackId), Status: string(s.StackStatus),
		Outputs: map[string]string{},
	}
	if a, err := arn.Parse(st.ID); err == nil {
		st.Account, st.Region = a.AccountID, a.Region
	}
	for _, o := range s.Outputs {
		st.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return st, nil
}

// TargetHealth describes the health of every target registered with a target group, or of
// the given instances only.
func (a *Actions) TargetHealth(ctx context.Context, targetGroupArn string, instanceIDs ...string) ([]elbtypes.TargetHealthDescription, error) {
	in := &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(targetGroupArn)}
	for _, id := range instanceIDs {
		in.Targets = append(in.Targets, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	out, err := a.ELB.DescribeTargetHealth(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.TargetHealthDescriptions, nil
}

// TargetGroup returns one target group: its health-check settings.
func (a *Actions) TargetGroup(ctx context.Context, targetGroupArn string) (elbtypes.TargetGroup, error) {
	out, err := a.ELB.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{targetGroupArn}})
	if err != nil {
		return elbtypes.TargetGroup{}, err
	}
	if len(out.TargetGroups) == 0 {
		return elbtypes.TargetGroup{}, fmt.Errorf("DescribeTargetGroups %s: no target group in the answer", targetGroupArn)
	}
	return out.TargetGroups[0], nil
}

// DeregistrationDelay returns a target group's deregistration delay in seconds.
func (a *Actions) DeregistrationDelay(ctx context.Context, targetGroupArn string) (float64, error) {
	out, err := a.ELB.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(targetGroupArn)})
	if err != nil {
		return 0, err
	}
	for _, at := range out.Attributes {
		if aws.ToString(at.Key) == "deregistration_delay.timeout_seconds" {
			return strconv.ParseFloat(aws.ToString(at.Value), 64)
		}
	}
	return 0, fmt.Errorf("target group %s has no deregistration_delay.timeout_seconds attribute", targetGroupArn)
}

// Group returns an Auto Scaling group: its zones and its instances with their zone,
// lifecycle state and health.
func (a *Actions) Group(ctx context.Context, name string) (asgtypes.AutoScalingGroup, error) {
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(a.ASG, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{name},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return asgtypes.AutoScalingGroup{}, err
		}
		for _, g := range page.AutoScalingGroups {
			if aws.ToString(g.AutoScalingGroupName) == name {
				return g, nil
			}
		}
	}
	return asgtypes.AutoScalingGroup{}, fmt.Errorf("the Auto Scaling group %s (the stack's AutoScalingGroupName output) not found: deploy the stack again (npx cdk deploy --all)", name)
}

// Activities returns an Auto Scaling group's latest scaling activities (one page, up to
// 100), newest first: launches, terminations and their causes.
func (a *Actions) Activities(ctx context.Context, group string) ([]asgtypes.Activity, error) {
	out, err := a.ASG.DescribeScalingActivities(ctx, &autoscaling.DescribeScalingActivitiesInput{
		AutoScalingGroupName: aws.String(group), MaxRecords: aws.Int32(100),
	})
	if err != nil {
		return nil, err
	}
	return out.Activities, nil
}

// TerminateInGroup terminates an instance of an Auto Scaling group without lowering its
// desired capacity, so the group launches a replacement (in the same zone, to stay
// balanced). It returns the scaling activity's description.
func (a *Actions) TerminateInGroup(ctx context.Context, instanceID string) (string, error) {
	out, err := a.ASG.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId:                     aws.String(instanceID),
		ShouldDecrementDesiredCapacity: aws.Bool(false),
	})
	if err != nil {
		return "", err
	}
	if out.Activity == nil {
		return "", nil
	}
	return aws.ToString(out.Activity.Description), nil
}

// Instances describes the given instances. It filters on instance-id rather than naming the
// ids, so an id EC2 does not know (yet: a just-launched instance, EC2 being eventually
// consistent) is left out instead of failing the whole call with InvalidInstanceID.NotFound.
func (a *Actions) Instances(ctx context.Context, ids ...string) ([]ec2types.Instance, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var all []ec2types.Instance
	p := ec2.NewDescribeInstancesPaginator(a.EC2, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: ids}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			all = append(all, r.Instances...)
		}
	}
	return all, nil
}

// ProfileAssociations returns the current (associating or associated) instance-profile
// associations of the given instances.
func (a *Actions) ProfileAssociations(ctx context.Context, ids ...string) ([]ec2types.IamInstanceProfileAssociation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var all []ec2types.IamInstanceProfileAssociation
	p := ec2.NewDescribeIamInstanceProfileAssociationsPaginator(a.EC2, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("instance-id"), Values: ids},
			{Name: aws.String("state"), Values: []string{"associating", "associated"}},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.IamInstanceProfileAssociations...)
	}
	return all, nil
}

// ReplaceProfile attaches the instance profile named profile in place of an association's
// current one, as the console's "Modify IAM role" does.
func (a *Actions) ReplaceProfile(ctx context.Context, associationID, profile string) (ec2types.IamInstanceProfileAssociation, error) {
	out, err := a.EC2.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{
		AssociationId:      aws.String(associationID),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)},
	})
	if err != nil {
		return ec2types.IamInstanceProfileAssociation{}, err
	}
	if out.IamInstanceProfileAssociation == nil {
		return ec2types.IamInstanceProfileAssociation{}, nil
	}
	return *out.IamInstanceProfileAssociation, nil
}

// GetParameter reads a String parameter's value.
func (a *Actions) GetParameter(ctx context.Context, name string) (string, error) {
	out, err := a.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Parameter.Value), nil
}

// PutParameter overwrites a String parameter and returns its new version.
func (a *Actions) PutParameter(ctx context.Context, name, value string) (int64, error) {
	out, err := a.SSM.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		return 0, err
	}
	return out.Version, nil
}

// ProfileName returns the name in an instance profile's ARN
// (arn:aws:iam::123456789012:instance-profile/NAME, possibly with a path).
func ProfileName(profileArn string) string {
	a, err := arn.Parse(profileArn)
	if err != nil {
		return profileArn
	}
	r := strings.TrimPrefix(a.Resource, "instance-profile/")
	return r[strings.LastIndex(r, "/")+1:]
}

// Tag returns the value of an instance's tag, or "".
func Tag(in ec2types.Instance, key string) string {
	for _, t := range in.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
