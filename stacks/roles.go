package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
)

// InstanceRoles are the lab's two instance roles, each with an instance profile of the same
// name: the normal one, and the one without DynamoDB access that the lab attaches by hand to
// simulate stale credentials.
type InstanceRoles struct {
	Role, NoDDBRole       awsiam.Role
	Profile, NoDDBProfile awsiam.InstanceProfile
}

// instanceRolesProps lists what the instances may use.
type instanceRolesProps struct {
	// Names give the roles their names.
	Names labnames.Names
	// TableArns are the tables the normal role may GetItem from.
	TableArns []*string
	// ParameterArn is the parameter both roles may read.
	ParameterArn *string
	// AssetObjectArn is the S3 object of the web server binary.
	AssetObjectArn *string
	// StackID is the stack a booting instance signals (cfn-signal).
	StackID *string
}

// sessionManagerActions let the SSM agent offer Session Manager shells (there is no SSH and no
// key pair). They take no resource narrower than "*".
var sessionManagerActions = []string{
	"ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel",
	"ssmmessages:CreateDataChannel",
	"ssmmessages:OpenControlChannel",
	"ssmmessages:OpenDataChannel",
}

// newInstanceRoles declares both roles with inline least-privilege policies. The two differ
// only in the DynamoDB statement.
func newInstanceRoles(scope constructs.Construct, id string, props *instanceRolesProps) *InstanceRoles {
	c := constructs.NewConstruct(scope, &id)
	common := []awsiam.PolicyStatement{
		statement("ReadLabParameter", lab.ParameterReadActions, props.ParameterArn),
		statement("ReadWebServerAsset", []string{"s3:GetObject"}, props.AssetObjectArn),
		statement("SessionManager", sessionManagerActions, jsii.String("*")),
		statement("SignalBoot", []string{"cloudformation:SignalResource"}, props.StackID),
		// The bootstrap signals once the load balancer reports the instance in service. This
		// action supports no resource-level permission and no condition key, hence "*".
		statement("ReadTargetHealth", []string{"elasticloadbalancing:DescribeTargetHealth"}, jsii.String("*")),
	}
	// GetItem on the decoy name too: while the service is disabled the server asks that table,
	// and the call must fail as ResourceNotFound (a real outage), not as AccessDenied.
	getItem := statement("GetRecommendation", lab.RecommendationReadActions, props.TableArns...)

	r := &InstanceRoles{}
	r.Role, r.Profile = newInstanceRole(c, "Role", props.Names.Role(),
		"HealthCheckLab web servers: read the recommendation table and the lab parameter",
		append([]awsiam.PolicyStatement{getItem}, common...))
	r.NoDDBRole, r.NoDDBProfile = newInstanceRole(c, "NoDDBRole", props.Names.NoDDBRole(),
		"HealthCheckLab stale-credentials fault: the web server role without any DynamoDB access",
		common)
	return r
}

func newInstanceRole(scope constructs.Construct, id, name, description string, statements []awsiam.PolicyStatement) (awsiam.Role, awsiam.InstanceProfile) {
	role := awsiam.NewRole(scope, &id, &awsiam.RoleProps{
		RoleName:    jsii.String(name),
		Description: jsii.String(description),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"HealthCheckLab": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		},
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	profile := awsiam.NewInstanceProfile(scope, jsii.String(id+"Profile"), &awsiam.InstanceProfileProps{
		InstanceProfileName: jsii.String(name),
		Role:                role,
	})
	return role, profile
}

func statement(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}
