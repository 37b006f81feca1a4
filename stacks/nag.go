package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Every cdk-nag AwsSolutions finding the lab accepts is suppressed here, on the one resource
// it concerns, with the rule and a reason specific to this lab. Anything not listed fails the
// tests.

// awsCustomResourceSingletonID is the construct id the CDK gives the single Lambda function
// behind every AwsCustomResource of a stack (here only the table seeding).
const awsCustomResourceSingletonID = "AWS679f53fac002430cb0da5b7982bd2287"

// suppressNetworkFindings records the cdk-nag findings the network stack accepts.
func suppressNetworkFindings(s *NetworkStack) {
	suppress(s.Vpc, "AwsSolutions-VPC7",
		"Short-lived lab VPC: the lab observes target health and load-balancer metrics, not packets, and flow logs would add CloudWatch Logs cost.")
}

// suppressServiceFindings records the cdk-nag findings the HealthCheckLab stack accepts.
func suppressServiceFindings(s *ServiceStack) {
	for _, role := range []any{s.Roles.Role, s.Roles.NoDDBRole} {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{"Resource::*"},
			Reason: jsii.String("Only actions without resource-level permissions: Session Manager (ssm:UpdateInstanceInformation, " +
				"ssmmessages:*Channel, so the instances need no SSH or key pair) and elasticloadbalancing:DescribeTargetHealth " +
				"(the boot waits until the load balancer routes to the instance before it signals)."),
		}}, jsii.Bool(true))
	}
	suppress(s.Web.LoadBalancerSecurityGroup, "AwsSolutions-EC23",
		"The lab's web site is public on port 80 only; narrow it with -c AllowedCidr=<your network>.")
	suppress(s.Web.LoadBalancer, "AwsSolutions-ELB2",
		"The lab reads target health and the ELB/target 5xx metrics, not access logs; a log bucket would outlive cdk destroy.")
	suppress(s.Web.Group, "AwsSolutions-AS3",
		"The lab watches instance replacement in the console and target health; nobody subscribes to scaling notifications here.")
	cdknag.NagSuppressions_AddResourceSuppressionsByPath(s.Stack,
		jsii.String("/"+*s.Stack.Node().Path()+"/"+awsCustomResourceSingletonID+"/ServiceRole/Resource"),
		&[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM4"),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
			Reason: jsii.String("The one-shot table-seeding function needs only to write its own logs, exactly what this " +
				"managed policy grants; its write access is a separate statement on the lab table alone."),
		}}, nil)
}

func suppress(construct any, rule, reason string) {
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String(rule), Reason: jsii.String(reason)},
	}, jsii.Bool(true))
}
