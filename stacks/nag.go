package stacks

import (
	"regexp"
	"sort"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"healthchecklab/internal/lab"
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
	suppressFaultFindings(s)
}

func suppress(construct any, rule, reason string) {
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String(rule), Reason: jsii.String(reason)},
	}, jsii.Bool(true))
}

// suppressFaultFindings records the wildcard resources the FIS experiment and runbook roles
// need, each with why it cannot be narrower. The findings are matched by pattern, as their
// text names the partition, region and account only when the stack has an environment.
func suppressFaultFindings(s *ServiceStack) {
	f := s.Faults
	if f == nil {
		return
	}
	// A segment is a literal (aws, us-east-2) or a pseudo parameter (<AWS::Region>).
	const segment = `(?:<[^>]+>|[^:<]+)`
	arn := func(service, account, resource string) string {
		return `^Resource::arn:` + segment + `:` + service + `:` + segment + `:` + account + `:` + resource + `$`
	}
	const account = segment
	var (
		anyResource = `^Resource::\*$`
		anyInstance = arn("ec2", account, `instance/\*`)
		anyACL      = arn("ec2", account, `network-acl/\*`)
		prefixLists = arn("ec2", `\*`, `prefix-list/\*`)
		executions  = arn("ssm", account, `automation-execution/\*`)
	)
	tagged := "only on instances tagged aws:autoscaling:groupName with the lab's group (a condition of the statement); " +
		"instance ids change with every replacement"
	suppressWildcards(f.Roles[lab.FaultDependencyLoss], map[string]string{
		anyResource: "EC2 Describe calls (VPCs, subnets, network ACLs, VPC endpoints, prefix lists) have no resource-level " +
			"permissions; FIS reads the zone-c subnet's ACL and the DynamoDB prefix list through them.",
		prefixLists: "Reading the entries of the AWS-owned DynamoDB prefix list, whose id differs per region; read only.",
		anyACL: "The ACL that FIS creates has no id before the experiment; creating, editing and deleting it require the " +
			"managedByFIS=true tag FIS sets, and the association swap is limited to the zone-c subnet.",
	})
	suppressWildcards(f.Roles[lab.FaultInstanceLoss], map[string]string{
		anyResource: "ec2:DescribeInstances has no resource-level permissions; FIS resolves the zone-c instance with it.",
		anyInstance: "ec2:TerminateInstances " + tagged + ".",
	})
	suppressWildcards(f.Roles[lab.FaultZonePower], map[string]string{
		anyResource: "No resource-level permissions: EC2 and Auto Scaling Describe calls (FIS resolves the zone-c instances, the " +
			"group and the subnets' ACLs), and ec2:InjectApiError, limited by condition to the capacity-error action on the lab's group.",
		anyInstance: "ec2:StopInstances and ec2:StartInstances " + tagged + ".",
		anyACL: "The ACLs that FIS creates have no id before the experiment; creating, editing and deleting them require the " +
			"managedByFIS=true tag FIS sets, and the association swap is limited to the two zone-c subnets.",
	})
	suppressWildcards(f.RunbookRoles[lab.FaultStaleCredentials], map[string]string{
		anyResource: "ec2:DescribeInstances and ec2:DescribeIamInstanceProfileAssociations have no resource-level permissions; " +
			"the runbook finds the zone-c instance and its profile association with them.",
		anyInstance: "ec2:ReplaceIamInstanceProfileAssociation " + tagged + ".",
	})
	for _, fault := range []string{lab.FaultStaleCredentials, lab.FaultDependencyOutage} {
		doc := regexp.QuoteMeta("<" + *s.Stack.GetLogicalId(f.Runbooks[fault]) + ">")
		suppressWildcards(f.Roles[fault], map[string]string{
			arn("ssm", account, `automation-definition/`+doc+`:\*`): "Any version of this one runbook: SSM names the " +
				"version in the automation-definition ARN.",
			executions: "An automation execution's id exists only once FIS has started the runbook; FIS may only read and " +
				"stop executions, and start none but this runbook.",
		})
	}
}

// suppressWildcards suppresses AwsSolutions-IAM5 on one role for exactly the findings that
// match the given patterns, each with its reason.
func suppressWildcards(role any, reasons map[string]string) {
	patterns := make([]string, 0, len(reasons))
	for p := range reasons {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	var suppressions []*cdknag.NagPackSuppression
	for _, p := range patterns {
		suppressions = append(suppressions, &cdknag.NagPackSuppression{
			Id:        jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String("/" + p + "/")}},
			Reason:    jsii.String(reasons[p]),
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &suppressions, jsii.Bool(true))
}
