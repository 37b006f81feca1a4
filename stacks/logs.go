package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FunctionLogRetention is how long the lab's helper functions keep their logs.
const FunctionLogRetention = awslogs.RetentionDays_ONE_WEEK

// newFunctionLogGroup declares the log group of one of the stack's Lambda functions, deleted
// with the stack. Without it, Lambda creates /aws/lambda/<name> on the first invocation, or the
// CDK declares one that is retained, and either outlives `cdk destroy`.
func newFunctionLogGroup(scope constructs.Construct, id string) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, &id, &awslogs.LogGroupProps{
		Retention:     FunctionLogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
}

// restrictDefaultSGProviderID is the construct id, at the stack's root, of the function the
// VPC uses to strip the default security group's rules (feature flag
// @aws-cdk/aws-ec2:restrictDefaultSecurityGroup).
const restrictDefaultSGProviderID = "Custom::VpcRestrictDefaultSGCustomResourceProvider"

// logRestrictDefaultSGToStack sends the logs of that function to a log group of the stack. The
// provider is a low-level CloudFormation function without a log-group setting of its own, so
// the property is set on its resource.
func logRestrictDefaultSGToStack(stack awscdk.Stack) {
	provider := stack.Node().TryFindChild(jsii.String(restrictDefaultSGProviderID))
	if provider == nil {
		return // the VPC declares no such function
	}
	handler, ok := provider.Node().TryFindChild(jsii.String("Handler")).(awscdk.CfnResource)
	if !ok {
		panic("the VPC's default-security-group function has moved: " + *provider.Node().Path())
	}
	logs := newFunctionLogGroup(stack, "RestrictDefaultSecurityGroupLogs")
	handler.AddPropertyOverride(jsii.String("LoggingConfig.LogGroup"), logs.LogGroupName())
}
