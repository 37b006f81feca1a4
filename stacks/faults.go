package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsfis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
)

// The lab's faults as AWS Fault Injection Service experiments (-c FaultInjection=true). Each
// experiment template has its own role that can do exactly what its action needs, stops early
// when a CloudWatch alarm declared here fires, and undoes its fault after lab.FaultDuration.
// FIS has no action that changes an instance profile or an SSM parameter, so those two faults
// are SSM Automation runbooks declared here, started by aws:ssm:start-automation-execution;
// each runbook restores what it changed after the hold, and also when it fails or is
// cancelled (which is what FIS does to it when the experiment is stopped).

// Stop-condition thresholds: an experiment breaks one zone, or makes every target fail its
// deep check on purpose (the dependency outage, where the load balancer fails open). Either
// alarm means users see more than the experiment is meant to show.
const (
	// FiveXXStopThreshold is the load balancer's own 5xx answers per minute that stop an
	// experiment (with ServerCode basic, a broken dependency drops connections: 502s).
	FiveXXStopThreshold = 5
	// runbookMaxDuration bounds an automation execution: the hold plus room for its API calls.
	runbookMaxDuration = "PT10M"
)

// UnhealthyStopThreshold is the number of unhealthy targets that stops a one-zone
// experiment: more than the one zone it breaks can hold (the group spreads its instances
// evenly, so a zone has at most desired/ZoneCount of them, rounded up).
func UnhealthyStopThreshold(desiredCapacity int) int {
	return (desiredCapacity+ZoneCount-1)/ZoneCount + 1
}

// FaultInjection holds the experiment templates, their runbooks and the stop-condition alarms.
type FaultInjection struct {
	// ZoneC is the zone the lab breaks: the third of the group's zones sorted by name.
	ZoneC *string
	// Experiments are the experiment templates, by lab fault name (lab.Fault*).
	Experiments map[string]awsfis.CfnExperimentTemplate
	// Roles are the experiments' roles, by lab fault name.
	Roles map[string]awsiam.Role
	// Runbooks are the SSM Automation documents, by lab fault name.
	Runbooks map[string]awsssm.CfnDocument
	// RunbookRoles are the roles the runbooks run as, by lab fault name.
	RunbookRoles map[string]awsiam.Role
	// FiveXXAlarm and UnhealthyHostsAlarm are the stop conditions.
	FiveXXAlarm, UnhealthyHostsAlarm awscloudwatch.Alarm

	names labnames.Names
}

type faultInjectionProps struct {
	// DesiredCapacity is the group's size, which sets the unhealthy-hosts stop condition.
	DesiredCapacity int
	// Names are the copy's names: the experiments' Name tags and descriptions carry them.
	Names     labnames.Names
	Vpc       awsec2.IVpc
	Web       *WebTier
	Roles     *InstanceRoles
	Parameter awsssm.StringParameter
}

// zoneCIndex returns the index, in the VPC's zone (and private subnet) order, of the zone the
// lab breaks: the third of the group's zones sorted by name, the rule labctl also applies to
// the running instances. With real zone names (a stack with an environment) that is a plain
// sort. An environment-agnostic VPC takes Fn::Select(0..2, Fn::GetAZs("")), and Fn::GetAZs
// lists a region's zones in alphabetical order, so its third zone by name is index 2.
func zoneCIndex(zones []*string) int {
	if len(zones) != ZoneCount {
		panic(fmt.Sprintf("the lab needs %d zones, the VPC has %d", ZoneCount, len(zones)))
	}
	names := make([]string, len(zones))
	for i, z := range zones {
		if awscdk.Token_IsUnresolved(z) != nil && *awscdk.Token_IsUnresolved(z) {
			return ZoneCount - 1
		}
		names[i] = *z
	}
	sorted := append([]string{}, names...)
	sort.Strings(sorted)
	for i, n := range names {
		if n == sorted[ZoneCount-1] {
			return i
		}
	}
	panic("unreachable")
}

// newFaultInjection declares the five experiments, their runbooks, roles and alarms.
func newFaultInjection(scope constructs.Construct, id string, props *faultInjectionProps) *FaultInjection {
	c := constructs.NewConstruct(scope, &id)
	stack := awscdk.Stack_Of(c)
	w := props.Web
	f := &FaultInjection{
		Experiments:  map[string]awsfis.CfnExperimentTemplate{},
		Roles:        map[string]awsiam.Role{},
		Runbooks:     map[string]awsssm.CfnDocument{},
		RunbookRoles: map[string]awsiam.Role{},
		names:        props.Names,
	}
	subnets := *props.Vpc.PrivateSubnets()
	zoneC := subnets[zoneCIndex(*props.Vpc.AvailabilityZones())]
	f.ZoneC = zoneC.AvailabilityZone()
	groupName := w.Group.AutoScalingGroupName()
	duration := isoMinutes(lab.FaultDuration.Minutes())
	holds := fmt.Sprintf("%d minutes", int(lab.FaultDuration.Minutes()))

	f.FiveXXAlarm = awscloudwatch.NewAlarm(c, jsii.String("LoadBalancer5xxAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("HealthCheckLab experiments stop: the load balancer answered %d or more 5xx in a minute", FiveXXStopThreshold)),
		Metric: w.LoadBalancer.Metrics().HttpCodeElb(elbv2.HttpCodeElb_ELB_5XX_COUNT, &awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Sum"),
		}),
		Threshold:          jsii.Number(FiveXXStopThreshold),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	f.UnhealthyHostsAlarm = awscloudwatch.NewAlarm(c, jsii.String("UnhealthyHostsAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("HealthCheckLab one-zone experiments stop: %d or more targets unhealthy", UnhealthyStopThreshold(props.DesiredCapacity))),
		Metric: w.TargetGroup.Metrics().UnhealthyHostCount(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(UnhealthyStopThreshold(props.DesiredCapacity)),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	bothAlarms := []awscloudwatch.Alarm{f.FiveXXAlarm, f.UnhealthyHostsAlarm}

	// Dependency loss: the zone-c subnet loses DynamoDB. FIS swaps in a copy of the subnet's
	// network ACL that denies the DynamoDB prefix list, and restores the original at the end.
	subnetArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("subnet"), ResourceName: zoneC.SubnetId()})
	vpcArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("vpc"), ResourceName: props.Vpc.VpcId()})
	anyNetworkACL := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("network-acl"), ResourceName: jsii.String("*")})
	f.experiment(c, lab.FaultDependencyLoss, experimentSpec{
		description: "HealthCheckLab: the zone-c subnet cannot reach DynamoDB for " + holds + " (network ACL swapped by FIS, restored after)",
		statements: append(faultACLStatements(vpcArn, anyNetworkACL, "SwapZoneCSubnetACL", subnetArn),
			allow("ReadDynamoDBPrefixList", []string{"ec2:GetManagedPrefixListEntries"},
				[]*string{stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Account: jsii.String("*"), Resource: jsii.String("prefix-list"), ResourceName: jsii.String("*")})}, nil),
			allow("DescribeNetwork", []string{"ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets",
				"ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs"}, []*string{jsii.String("*")}, nil),
		),
		targets: map[string]any{"ZoneCSubnet": &awsfis.CfnExperimentTemplate_ExperimentTemplateTargetProperty{
			ResourceType: jsii.String("aws:ec2:subnet"), SelectionMode: jsii.String("ALL"), ResourceArns: &[]*string{subnetArn},
		}},
		actions: map[string]*awsfis.CfnExperimentTemplate_ExperimentTemplateActionProperty{camel(lab.FaultDependencyLoss): {
			ActionId:   jsii.String("aws:network:disrupt-connectivity"),
			Parameters: map[string]*string{"scope": jsii.String("dynamodb"), "duration": jsii.String(duration)},
			Targets:    map[string]*string{"Subnets": jsii.String("ZoneCSubnet")},
		}},
		stopOn: bothAlarms,
	})

	// Stale credentials: the zone-c instance gets the noDDB profile, then the normal one back.
	instanceInGroup := map[string]any{"StringEquals": map[string]any{"ec2:ResourceTag/aws:autoscaling:groupName": groupName}}
	anyInstance := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("instance"), ResourceName: jsii.String("*")})
	swapRole := f.runbook(c, lab.FaultStaleCredentials, staleCredentialsRunbook(),
		"HealthCheckLab stale-credentials runbook: swap the zone-c instance's profile and back",
		[]awsiam.PolicyStatement{
			allow("FindZoneCInstance", []string{"ec2:DescribeInstances", "ec2:DescribeIamInstanceProfileAssociations"}, []*string{jsii.String("*")}, nil),
			allow("SwapProfileOfLabInstances", []string{"ec2:ReplaceIamInstanceProfileAssociation"}, []*string{anyInstance}, instanceInGroup),
			allow("PassInstanceRoles", []string{"iam:PassRole"}, []*string{props.Roles.Role.RoleArn(), props.Roles.NoDDBRole.RoleArn()},
				map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}),
		})
	f.automationExperiment(c, lab.FaultStaleCredentials,
		"HealthCheckLab: the zone-c instance runs with the noDDB profile (no DynamoDB access) for "+holds+", then with its own again",
		map[string]any{
			"AutoScalingGroupName": groupName,
			"AvailabilityZone":     f.ZoneC,
			"FaultProfileName":     props.Roles.NoDDBProfile.InstanceProfileName(),
			"NormalProfileName":    props.Roles.Profile.InstanceProfileName(),
			"Duration":             duration,
			"AutomationAssumeRole": swapRole.RoleArn(),
		}, bothAlarms)

	// Dependency outage: the parameter goes to false, then back to the value it had.
	outageRole := f.runbook(c, lab.FaultDependencyOutage, dependencyOutageRunbook(),
		"HealthCheckLab dependency-outage runbook: set the lab parameter to false and back",
		[]awsiam.PolicyStatement{
			allow("SwitchLabParameter", []string{"ssm:GetParameter", "ssm:PutParameter"}, []*string{props.Parameter.ParameterArn()}, nil),
		})
	// Every target fails its deep check on purpose here: only 5xx answers stop it.
	f.automationExperiment(c, lab.FaultDependencyOutage,
		"HealthCheckLab: the RecommendationService is switched off ("+props.Names.Parameter()+"=false) for "+holds+", then back",
		map[string]any{
			"ParameterName":        props.Parameter.ParameterName(),
			"Duration":             duration,
			"AutomationAssumeRole": outageRole.RoleArn(),
		}, []awscloudwatch.Alarm{f.FiveXXAlarm})

	// Instance loss: the zone-c instance is terminated; Auto Scaling replaces it in that zone.
	// A terminated instance's connections fail until the target group notices, so 5xx are
	// expected here: only a second unhealthy target stops it.
	f.experiment(c, lab.FaultInstanceLoss, experimentSpec{
		description: "HealthCheckLab: the zone-c instance is terminated; Auto Scaling launches its replacement",
		statements: []awsiam.PolicyStatement{
			allow("TerminateLabInstances", []string{"ec2:TerminateInstances"}, []*string{anyInstance}, instanceInGroup),
			allow("FindZoneCInstance", []string{"ec2:DescribeInstances"}, []*string{jsii.String("*")}, nil),
		},
		targets: map[string]any{"ZoneCInstance": &awsfis.CfnExperimentTemplate_ExperimentTemplateTargetProperty{
			ResourceType:  jsii.String("aws:ec2:instance"),
			SelectionMode: jsii.String("COUNT(1)"),
			ResourceTags:  map[string]*string{"aws:autoscaling:groupName": groupName},
			Filters: []any{
				&awsfis.CfnExperimentTemplate_ExperimentTemplateTargetFilterProperty{Path: jsii.String("Placement.AvailabilityZone"), Values: &[]*string{f.ZoneC}},
				&awsfis.CfnExperimentTemplate_ExperimentTemplateTargetFilterProperty{Path: jsii.String("State.Name"), Values: jsii.Strings("running")},
			},
		}},
		actions: map[string]*awsfis.CfnExperimentTemplate_ExperimentTemplateActionProperty{camel(lab.FaultInstanceLoss): {
			ActionId: jsii.String("aws:ec2:terminate-instances"),
			Targets:  map[string]*string{"Instances": jsii.String("ZoneCInstance")},
		}},
		stopOn: []awscloudwatch.Alarm{f.UnhealthyHostsAlarm},
	})

	f.zonePower(c, props, zoneCIndex(*props.Vpc.AvailabilityZones()), instanceInGroup, anyInstance, vpcArn, anyNetworkACL)
	return f
}

// zonePower declares the zone-power experiment, modelled on the FIS scenario library's "AZ
// Availability: Power Interruption" and limited to the lab's own resources in zone c. Its
// three actions start together and hold for lab.FaultDuration:
//   - the group's running instances in zone c stop, and start again at the end
//     (aws:ec2:stop-instances with startInstancesAfterDuration). Auto Scaling finds a stopped
//     instance unhealthy and may terminate and replace it first, hence
//     completeIfInstancesTerminated: the action then completes instead of failing;
//   - the group's launches in zone c fail with InsufficientInstanceCapacity
//     (aws:ec2:asg-insufficient-instance-capacity-error, 100 %), so its replacement goes to
//     zones a and b; once the window ends the group rebalances back into zone c;
//   - the zone's two subnets, the private one of the instances and the public one of the
//     load balancer's zone-c node, lose all traffic (aws:network:disrupt-connectivity,
//     scope all). The scenario holds this one shorter than the power loss; here the whole
//     window holds it, like the lab's other faults.
//
// The scenario finds its resources by tags that you add; this template names them exactly
// instead, so it reaches this copy of the lab and nothing else. Stopped and unreachable
// targets answer 5xx until the target group notices, so, as for instance loss, only a second
// zone's unhealthy targets stop it.
func (f *FaultInjection) zonePower(c constructs.Construct, props *faultInjectionProps, zoneIdx int,
	instanceInGroup map[string]any, anyInstance, vpcArn, anyNetworkACL *string) {
	stack := awscdk.Stack_Of(c)
	w := props.Web
	groupName := w.Group.AutoScalingGroupName()
	duration := jsii.String(isoMinutes(lab.FaultDuration.Minutes()))
	subnetArn := func(s awsec2.ISubnet) *string {
		return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("subnet"), ResourceName: s.SubnetId()})
	}
	zoneSubnets := []*string{subnetArn((*props.Vpc.PrivateSubnets())[zoneIdx]), subnetArn((*props.Vpc.PublicSubnets())[zoneIdx])}
	// The group's ARN carries an id that exists only once it is created; its name is enough.
	groupArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("autoscaling"), Resource: jsii.String("autoScalingGroup"),
		ResourceName: jsii.String("*:autoScalingGroupName/" + *groupName), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})

	statements := append(faultACLStatements(vpcArn, anyNetworkACL, "SwapZoneCSubnetACLs", zoneSubnets...),
		allow("DescribeNetwork", []string{"ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs"}, []*string{jsii.String("*")}, nil),
		// The root volumes use the account's default EBS key (aws/ebs), whose key policy lets
		// EC2 use it for any caller of the account: starting them needs no kms:CreateGrant.
		allow("StopAndStartLabInstances", []string{"ec2:StartInstances", "ec2:StopInstances"}, []*string{anyInstance}, instanceInGroup),
		allow("FindZoneCInstances", []string{"ec2:DescribeInstances"}, []*string{jsii.String("*")}, nil),
		// ec2:InjectApiError has no resource-level permission: the condition keys name the
		// action and the one group it may make fail.
		allow("InjectCapacityErrorsIntoLabGroup", []string{"ec2:InjectApiError"}, []*string{jsii.String("*")}, map[string]any{
			"StringEquals":         map[string]any{"ec2:FisActionId": "aws:ec2:asg-insufficient-instance-capacity-error"},
			"ForAllValues:ArnLike": map[string]any{"ec2:FisTargetArns": groupArn},
		}),
		allow("FindLabGroup", []string{"autoscaling:DescribeAutoScalingGroups"}, []*string{jsii.String("*")}, nil),
	)
	f.experiment(c, lab.FaultZonePower, experimentSpec{
		description: fmt.Sprintf("HealthCheckLab: zone c loses power for %d minutes: its instances stop, the group cannot launch there, its subnets lose all traffic",
			int(lab.FaultDuration.Minutes())),
		statements: statements,
		targets: map[string]any{
			"ZoneCInstances": &awsfis.CfnExperimentTemplate_ExperimentTemplateTargetProperty{
				ResourceType:  jsii.String("aws:ec2:instance"),
				SelectionMode: jsii.String("ALL"),
				ResourceTags:  map[string]*string{"aws:autoscaling:groupName": groupName},
				Filters: []any{
					&awsfis.CfnExperimentTemplate_ExperimentTemplateTargetFilterProperty{Path: jsii.String("Placement.AvailabilityZone"), Values: &[]*string{f.ZoneC}},
					&awsfis.CfnExperimentTemplate_ExperimentTemplateTargetFilterProperty{Path: jsii.String("State.Name"), Values: jsii.Strings("running")},
				},
			},
			// CloudFormation tags every group it creates with its stack and logical id.
			"LabGroup": &awsfis.CfnExperimentTemplate_ExperimentTemplateTargetProperty{
				ResourceType:  jsii.String("aws:ec2:autoscaling-group"),
				SelectionMode: jsii.String("ALL"),
				ResourceTags: map[string]*string{
					"aws:cloudformation:stack-name": stack.StackName(),
					"aws:cloudformation:logical-id": stack.GetLogicalId(w.Group.Node().DefaultChild().(awscdk.CfnElement)),
				},
			},
			"ZoneCSubnets": &awsfis.CfnExperimentTemplate_ExperimentTemplateTargetProperty{
				ResourceType: jsii.String("aws:ec2:subnet"), SelectionMode: jsii.String("ALL"), ResourceArns: &zoneSubnets,
			},
		},
		actions: map[string]*awsfis.CfnExperimentTemplate_ExperimentTemplateActionProperty{
			"StopZoneCInstances": {
				ActionId: jsii.String("aws:ec2:stop-instances"),
				Parameters: map[string]*string{
					"startInstancesAfterDuration":   duration,
					"completeIfInstancesTerminated": jsii.String("true"),
				},
				Targets: map[string]*string{"Instances": jsii.String("ZoneCInstances")},
			},
			"PauseZoneCLaunches": {
				ActionId: jsii.String("aws:ec2:asg-insufficient-instance-capacity-error"),
				Parameters: map[string]*string{
					"availabilityZoneIdentifiers": f.ZoneC,
					"duration":                    duration,
					"percentage":                  jsii.String("100"),
				},
				Targets: map[string]*string{"AutoScalingGroups": jsii.String("LabGroup")},
			},
			"DisruptZoneCSubnets": {
				ActionId:   jsii.String("aws:network:disrupt-connectivity"),
				Parameters: map[string]*string{"scope": jsii.String("all"), "duration": duration},
				Targets:    map[string]*string{"Subnets": jsii.String("ZoneCSubnets")},
			},
		},
		stopOn: []awscloudwatch.Alarm{f.UnhealthyHostsAlarm},
	})
}

// faultACLStatements let FIS swap the given subnets' network ACLs for copies it creates in
// the lab's VPC (aws:network:disrupt-connectivity): it may create, fill and delete only ACLs
// that carry its managedByFIS=true tag, and swap the associations of these subnets only.
func faultACLStatements(vpcArn, anyNetworkACL *string, swapSid string, subnetArns ...*string) []awsiam.PolicyStatement {
	managedByFIS := map[string]any{"aws:RequestTag/managedByFIS": "true"}
	return []awsiam.PolicyStatement{
		allow("CreateFaultACL", []string{"ec2:CreateNetworkAcl"}, []*string{anyNetworkACL}, map[string]any{"StringEquals": managedByFIS}),
		allow("CreateFaultACLInLabVpc", []string{"ec2:CreateNetworkAcl"}, []*string{vpcArn}, nil),
		allow("TagFaultACL", []string{"ec2:CreateTags"}, []*string{anyNetworkACL}, map[string]any{"StringEquals": map[string]any{
			"ec2:CreateAction": "CreateNetworkAcl", "aws:RequestTag/managedByFIS": "true"}}),
		allow("EditAndDeleteFaultACL", []string{"ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"}, []*string{anyNetworkACL},
			map[string]any{"StringEquals": map[string]any{"ec2:ResourceTag/managedByFIS": "true"}}),
		allow(swapSid, []string{"ec2:ReplaceNetworkAclAssociation"}, append(append([]*string{}, subnetArns...), anyNetworkACL), nil),
	}
}

// experimentSpec is one experiment template: what its role may do, its targets, its actions
// by name (they all start together) and the alarms that stop it.
type experimentSpec struct {
	description string
	statements  []awsiam.PolicyStatement
	targets     map[string]any
	actions     map[string]*awsfis.CfnExperimentTemplate_ExperimentTemplateActionProperty
	stopOn      []awscloudwatch.Alarm
}

// experiment declares an experiment template and its role; FIS may assume the role only for
// experiments of this account and region.
func (f *FaultInjection) experiment(scope constructs.Construct, fault string, spec experimentSpec) {
	stack := awscdk.Stack_Of(scope)
	id := camel(fault)
	role := awsiam.NewRole(scope, jsii.String(id+"ExperimentRole"), &awsiam.RoleProps{
		Description: jsii.String("HealthCheckLab " + fault + " experiment: only what its action needs"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("fis.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
				"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("fis"), Resource: jsii.String("experiment"), ResourceName: jsii.String("*")})},
			},
		}),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"Experiment": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &spec.statements}),
		},
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	actions := make(map[string]any, len(spec.actions))
	for name, a := range spec.actions {
		actions[name] = a
	}
	stops := make([]any, 0, len(spec.stopOn))
	for _, a := range spec.stopOn {
		stops = append(stops, &awsfis.CfnExperimentTemplate_ExperimentTemplateStopConditionProperty{
			Source: jsii.String("aws:cloudwatch:alarm"), Value: a.AlarmArn(),
		})
	}
	tmpl := awsfis.NewCfnExperimentTemplate(scope, jsii.String(id+"Experiment"), &awsfis.CfnExperimentTemplateProps{
		Description:    jsii.String(spec.description),
		RoleArn:        role.RoleArn(),
		StopConditions: stops,
		Targets:        spec.targets,
		Actions:        actions,
		ExperimentOptions: &awsfis.CfnExperimentTemplate_ExperimentTemplateExperimentOptionsProperty{
			AccountTargeting:          jsii.String("single-account"),
			EmptyTargetResolutionMode: jsii.String("fail"),
		},
		Tags: &map[string]*string{
			// The stack's name tells the experiments of side-by-side copies apart.
			"Name":                 jsii.String(f.names.ServiceStack() + " " + fault),
			"healthchecklab:fault": jsii.String(fault),
		},
	})
	f.Experiments[fault] = tmpl
	f.Roles[fault] = role
	output(stack, lab.FaultExperimentOutputs[fault], *tmpl.Ref(), "FIS experiment template of the "+fault+" fault: labctl fault "+fault+" --via fis")
}

// runbook declares an SSM Automation runbook and the role it runs as.
func (f *FaultInjection) runbook(scope constructs.Construct, fault string, content map[string]any, description string, statements []awsiam.PolicyStatement) awsiam.Role {
	stack := awscdk.Stack_Of(scope)
	id := camel(fault)
	role := awsiam.NewRole(scope, jsii.String(id+"RunbookRole"), &awsiam.RoleProps{
		Description: jsii.String(description),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ssm.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		}),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"Runbook": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		},
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	content["description"] = description
	f.Runbooks[fault] = awsssm.NewCfnDocument(scope, jsii.String(id+"Runbook"), &awsssm.CfnDocumentProps{
		DocumentType:   jsii.String("Automation"),
		DocumentFormat: jsii.String("JSON"),
		Content:        content,
		Tags:           &[]*awscdk.CfnTag{{Key: jsii.String("healthchecklab:fault"), Value: jsii.String(fault)}},
	})
	f.RunbookRoles[fault] = role
	return role
}

// automationExperiment declares an experiment whose one action runs the fault's runbook with
// the given parameters; its role may start, follow and stop that runbook only, and pass it
// its own role.
func (f *FaultInjection) automationExperiment(scope constructs.Construct, fault, description string, parameters map[string]any, stopOn []awscloudwatch.Alarm) {
	stack := awscdk.Stack_Of(scope)
	doc := f.Runbooks[fault]
	docArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Resource: jsii.String("document"), ResourceName: doc.Ref()})
	definition := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Resource: jsii.String("automation-definition"),
		ResourceName: jsii.String(*doc.Ref() + ":*")})
	executions := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Resource: jsii.String("automation-execution"), ResourceName: jsii.String("*")})
	f.experiment(scope, fault, experimentSpec{
		description: description,
		statements: []awsiam.PolicyStatement{
			allow("StartRunbook", []string{"ssm:StartAutomationExecution"}, []*string{definition}, nil),
			allow("FollowAndStopRunbook", []string{"ssm:GetAutomationExecution", "ssm:StopAutomationExecution"}, []*string{executions}, nil),
			allow("PassRunbookRole", []string{"iam:PassRole"}, []*string{f.RunbookRoles[fault].RoleArn()},
				map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ssm.amazonaws.com"}}),
		},
		targets: map[string]any{},
		actions: map[string]*awsfis.CfnExperimentTemplate_ExperimentTemplateActionProperty{camel(fault): {
			ActionId: jsii.String("aws:ssm:start-automation-execution"),
			Parameters: map[string]*string{
				"documentArn":        docArn,
				"documentParameters": stack.ToJsonString(parameters, nil),
				"maxDuration":        jsii.String(runbookMaxDuration),
			},
		}},
		stopOn: stopOn,
	})
}

// restoreOn sends a step's failure or cancellation to the restoring step, so that a fault,
// once applied, is always undone.
func restoreOn(step map[string]any, restore string) map[string]any {
	step["onFailure"] = "step:" + restore
	step["onCancel"] = "step:" + restore
	return step
}

// staleCredentialsRunbook finds the running instance of the group in the given zone, attaches
// the fault profile, holds, then attaches the normal profile to whatever association the
// instance has then (so the restore also works when the swap itself failed half-way).
func staleCredentialsRunbook() map[string]any {
	association := func(name string) map[string]any {
		return map[string]any{
			"name": name, "action": "aws:executeAwsApi",
			"inputs": map[string]any{
				"Service": "ec2", "Api": "DescribeIamInstanceProfileAssociations",
				"Filters": []any{
					map[string]any{"Name": "instance-id", "Values": []string{"{{ FindInstance.InstanceId }}"}},
					map[string]any{"Name": "state", "Values": []string{"associating", "associated"}},
				},
			},
			"outputs": []any{map[string]any{"Name": "AssociationId", "Selector": "$.IamInstanceProfileAssociations[0].AssociationId", "Type": "String"}},
		}
	}
	replace := func(name, association, profile string) map[string]any {
		return map[string]any{
			"name": name, "action": "aws:executeAwsApi",
			"inputs": map[string]any{
				"Service": "ec2", "Api": "ReplaceIamInstanceProfileAssociation",
				"AssociationId":      "{{ " + association + ".AssociationId }}",
				"IamInstanceProfile": map[string]any{"Name": "{{ " + profile + " }}"},
			},
		}
	}
	restore := replace("AttachNormalProfile", "FindCurrentAssociation", "NormalProfileName")
	restore["isEnd"] = true
	return automationDocument(map[string]any{
		"AutoScalingGroupName": stringParameter("The lab's Auto Scaling group"),
		"AvailabilityZone":     stringParameter("The zone whose instance gets the fault"),
		"FaultProfileName":     stringParameter("The instance profile without DynamoDB access"),
		"NormalProfileName":    stringParameter("The web servers' own instance profile"),
	},
		[]any{
			map[string]any{
				"name": "FindInstance", "action": "aws:executeAwsApi",
				"inputs": map[string]any{
					"Service": "ec2", "Api": "DescribeInstances",
					"Filters": []any{
						map[string]any{"Name": "tag:aws:autoscaling:groupName", "Values": []string{"{{ AutoScalingGroupName }}"}},
						map[string]any{"Name": "availability-zone", "Values": []string{"{{ AvailabilityZone }}"}},
						map[string]any{"Name": "instance-state-name", "Values": []string{"running"}},
					},
				},
				"outputs": []any{map[string]any{"Name": "InstanceId", "Selector": "$.Reservations[0].Instances[0].InstanceId", "Type": "String"}},
			},
			association("FindAssociation"),
			restoreOn(replace("AttachFaultProfile", "FindAssociation", "FaultProfileName"), "FindCurrentAssociation"),
			restoreOn(map[string]any{"name": "Hold", "action": "aws:sleep", "inputs": map[string]any{"Duration": "{{ Duration }}"}}, "FindCurrentAssociation"),
			association("FindCurrentAssociation"),
			restore,
		})
}

// dependencyOutageRunbook reads the parameter, sets it to false, holds, then writes back the
// value it read.
func dependencyOutageRunbook() map[string]any {
	return automationDocument(map[string]any{"ParameterName": stringParameter("The lab's switch parameter")},
		[]any{
			map[string]any{
				"name": "ReadValue", "action": "aws:executeAwsApi",
				"inputs":  map[string]any{"Service": "ssm", "Api": "GetParameter", "Name": "{{ ParameterName }}"},
				"outputs": []any{map[string]any{"Name": "Value", "Selector": "$.Parameter.Value", "Type": "String"}},
			},
			restoreOn(map[string]any{
				"name": "SwitchOff", "action": "aws:executeAwsApi",
				"inputs": map[string]any{"Service": "ssm", "Api": "PutParameter", "Name": "{{ ParameterName }}", "Value": "false", "Overwrite": true},
			}, "Restore"),
			restoreOn(map[string]any{"name": "Hold", "action": "aws:sleep", "inputs": map[string]any{"Duration": "{{ Duration }}"}}, "Restore"),
			map[string]any{
				"name": "Restore", "action": "aws:executeAwsApi", "isEnd": true,
				"inputs": map[string]any{"Service": "ssm", "Api": "PutParameter", "Name": "{{ ParameterName }}", "Value": "{{ ReadValue.Value }}", "Overwrite": true},
			},
		})
}

// automationDocument is an Automation runbook (schema 0.3) with the given parameters and
// steps, plus the two every lab runbook takes: how long the fault holds, and the role it
// runs as.
func automationDocument(parameters map[string]any, steps []any) map[string]any {
	parameters["Duration"] = map[string]any{
		"type": "String", "default": isoMinutes(lab.FaultDuration.Minutes()),
		"allowedPattern": "^PT([1-9]|[1-5][0-9])M$", "description": "How long the fault holds (ISO 8601, 1 to 59 minutes)",
	}
	parameters["AutomationAssumeRole"] = stringParameter("The role this runbook runs as")
	return map[string]any{
		"schemaVersion": "0.3",
		"assumeRole":    "{{ AutomationAssumeRole }}",
		"parameters":    parameters,
		"mainSteps":     steps,
	}
}

func stringParameter(description string) map[string]any {
	return map[string]any{"type": "String", "description": description}
}

func isoMinutes(m float64) string { return fmt.Sprintf("PT%dM", int(m)) }

func allow(sid string, actions []string, resources []*string, conditions map[string]any) awsiam.PolicyStatement {
	p := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources}
	if conditions != nil {
		p.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(p)
}

// camel turns a fault name such as "stale-credentials" into "StaleCredentials".
func camel(name string) string {
	out := []byte{}
	upper := true
	for _, b := range []byte(name) {
		switch {
		case b == '-':
			upper = true
		case upper && b >= 'a' && b <= 'z':
			out = append(out, b-'a'+'A')
			upper = false
		default:
			out = append(out, b)
			upper = false
		}
	}
	return string(out)
}
