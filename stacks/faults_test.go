package stacks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
)

var withFaults = map[string]any{config.KeyFaultInjection: "true"}

// fisResourceTypes are the types only the fault injection declares.
var fisResourceTypes = []string{"AWS::FIS::ExperimentTemplate", "AWS::SSM::Document", "AWS::CloudWatch::Alarm"}

func TestNoFaultInjectionByDefault(t *testing.T) {
	for name, overrides := range map[string]map[string]any{"default": nil, "FaultInjection=false": {config.KeyFaultInjection: "false"}} {
		t.Run(name, func(t *testing.T) {
			tmpl := synthLab(t, overrides).service
			for _, typ := range fisResourceTypes {
				if n := len(resources(tmpl, typ)); n != 0 {
					t.Errorf("%d resources of type %s", n, typ)
				}
			}
			for _, key := range lab.FaultExperimentOutputs {
				if at(tmpl, "Outputs", key) != nil {
					t.Errorf("output %s without FaultInjection", key)
				}
			}
		})
	}
	t.Run("only additions with FaultInjection=true", func(t *testing.T) {
		base, faults := synthLab(t, nil), synthLab(t, withFaults)
		if !reflect.DeepEqual(base.network, faults.network) {
			t.Errorf("the network stack changed")
		}
		for id, r := range asMap(base.service["Resources"]) {
			if !reflect.DeepEqual(r, at(faults.service, "Resources", id)) {
				t.Errorf("resource %s changed", id)
			}
		}
	})
}

// experiment returns the template of one fault, found by its tag.
func experiment(t *testing.T, tmpl map[string]any, fault string) (string, map[string]any) {
	t.Helper()
	for id, r := range resources(tmpl, "AWS::FIS::ExperimentTemplate") {
		if at(r, "Properties", "Tags", "healthchecklab:fault") == fault {
			return id, props(r)
		}
	}
	t.Fatalf("no experiment template tagged %s", fault)
	return "", nil
}

// roleStatements returns a role's inline statements without their Sid, keyed by Sid.
func roleStatements(t *testing.T, tmpl map[string]any, roleRef any) map[string]any {
	t.Helper()
	id, _ := at(roleRef, "Fn::GetAtt", 0).(string)
	role := resources(tmpl, "AWS::IAM::Role")[id]
	if role == nil {
		t.Fatalf("role %v not found", roleRef)
	}
	out := map[string]any{}
	statements, managed := rolePolicies(tmpl, id)
	if len(managed) > 0 {
		t.Errorf("role %s has managed policies %v", id, managed)
	}
	for _, s := range statements {
		c := map[string]any{}
		for k, v := range s {
			if k != "Sid" {
				c[k] = v
			}
		}
		out[fmt.Sprint(s["Sid"])] = c
	}
	return out
}

// actionsOf lists a role's allowed actions, sorted.
func actionsOf(statements map[string]any) []string {
	var out []string
	for _, s := range statements {
		if at(s, "Effect") != "Allow" {
			continue
		}
		for _, a := range asList(at(s, "Action")) {
			out = append(out, fmt.Sprint(a))
		}
	}
	sort.Strings(out)
	return out
}

func TestFaultInjectionExperiments(t *testing.T) {
	s := synthLab(t, withFaults)
	tmpl := s.service
	alarms := map[string]string{} // metric name -> logical id
	for id, a := range resources(tmpl, "AWS::CloudWatch::Alarm") {
		alarms[fmt.Sprint(at(a, "Properties", "MetricName"))] = id
	}
	fiveXX, unhealthy := alarms["HTTPCode_ELB_5XX_Count"], alarms["UnHealthyHostCount"]
	asgID, _ := only(t, tmpl, "AWS::AutoScaling::AutoScalingGroup")
	duration := fmt.Sprintf("PT%dM", int(lab.FaultDuration.Minutes()))

	// The zone the experiments break is the one of the VPC's third private subnet.
	var zoneC, zoneCJSON string
	for id, sn := range resources(s.network, "AWS::EC2::Subnet") {
		if strings.HasPrefix(id, "VpcPrivateSubnet3") {
			zoneC = render(at(sn, "Properties", "AvailabilityZone"))
			zoneCJSON = jsonText(at(sn, "Properties", "AvailabilityZone"))
		}
	}
	if zoneC != `{Fn::Select:[2,{"Fn::GetAZs":""}]}` {
		t.Fatalf("third private subnet in %s", zoneC)
	}

	t.Run("stop-condition alarms", func(t *testing.T) {
		for metric, want := range map[string]struct {
			stat      string
			threshold float64
		}{"HTTPCode_ELB_5XX_Count": {"Sum", FiveXXStopThreshold}, "UnHealthyHostCount": {"Maximum", 2}} {
			p := props(resources(tmpl, "AWS::CloudWatch::Alarm")[alarms[metric]])
			if p["Statistic"] != want.stat || p["Threshold"] != want.threshold || p["Period"] != 60.0 ||
				p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["TreatMissingData"] != "notBreaching" {
				t.Errorf("%s alarm %v", metric, p)
			}
		}
	})

	t.Run("the unhealthy-hosts stop condition allows one whole zone", func(t *testing.T) {
		for desired, want := range map[int]float64{3: 2, 4: 3, 6: 3} {
			tmpl := synthLab(t, map[string]any{config.KeyFaultInjection: "true", config.KeyDesiredCapacity: fmt.Sprint(desired)}).service
			for _, a := range resources(tmpl, "AWS::CloudWatch::Alarm") {
				if at(a, "Properties", "MetricName") == "UnHealthyHostCount" && at(a, "Properties", "Threshold") != want {
					t.Errorf("DesiredCapacity %d: stops at %v unhealthy, want %v", desired, at(a, "Properties", "Threshold"), want)
				}
			}
		}
	})

	tests := []struct {
		fault  string
		action string // the one action's id, named after the fault
		// actionIDs are the actions by name, for an experiment with several.
		actionIDs map[string]string
		stopOn    []string
		actions   []string // every action the experiment's role may take
		check     func(t *testing.T, p map[string]any, statements map[string]any)
	}{
		{
			fault: lab.FaultDependencyLoss, action: "aws:network:disrupt-connectivity", stopOn: []string{fiveXX, unhealthy},
			actions: []string{"ec2:CreateNetworkAcl", "ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags",
				"ec2:DeleteNetworkAcl", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets",
				"ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs", "ec2:GetManagedPrefixListEntries", "ec2:ReplaceNetworkAclAssociation"},
			check: func(t *testing.T, p map[string]any, st map[string]any) {
				if got := at(p, "Actions", "DependencyLoss", "Parameters"); !reflect.DeepEqual(got, map[string]any{"scope": "dynamodb", "duration": duration}) {
					t.Errorf("parameters %v", got)
				}
				target := at(p, "Targets", "ZoneCSubnet")
				arns := asList(at(target, "ResourceArns"))
				if at(target, "ResourceType") != "aws:ec2:subnet" || len(arns) != 1 || !strings.Contains(render(arns[0]), ":subnet/") ||
					!strings.Contains(render(arns[0]), "VpcPrivateSubnet3") {
					t.Errorf("target %v, want the third private subnet", target)
				}
				// Created ACLs must carry FIS's tag; the swap touches the zone-c subnet only.
				if c := at(st, "CreateFaultACL", "Condition", "StringEquals", "aws:RequestTag/managedByFIS"); c != "true" {
					t.Errorf("ACL creation not limited to FIS-tagged ACLs: %v", c)
				}
				if c := at(st, "EditAndDeleteFaultACL", "Condition", "StringEquals", "ec2:ResourceTag/managedByFIS"); c != "true" {
					t.Errorf("ACL edits not limited to FIS-tagged ACLs: %v", c)
				}
				swap := asList(at(st, "SwapZoneCSubnetACL", "Resource"))
				if len(swap) != 2 || !strings.Contains(jsonText(swap), jsonText(arns[0])) {
					t.Errorf("ACL swap on %v, want the zone-c subnet", swap)
				}
			},
		},
		{
			fault: lab.FaultInstanceLoss, action: "aws:ec2:terminate-instances", stopOn: []string{unhealthy},
			actions: []string{"ec2:DescribeInstances", "ec2:TerminateInstances"},
			check: func(t *testing.T, p map[string]any, st map[string]any) {
				target := at(p, "Targets", "ZoneCInstance")
				want := map[string]any{
					"ResourceType":  "aws:ec2:instance",
					"SelectionMode": "COUNT(1)",
					"ResourceTags":  map[string]any{"aws:autoscaling:groupName": ref(asgID)},
					"Filters": []any{
						map[string]any{"Path": "Placement.AvailabilityZone", "Values": []any{map[string]any{"Fn::Select": []any{2.0, map[string]any{"Fn::GetAZs": ""}}}}},
						map[string]any{"Path": "State.Name", "Values": []any{"running"}},
					},
				}
				if !reflect.DeepEqual(target, want) {
					t.Errorf("target %v\nwant %v", target, want)
				}
				if c := at(st, "TerminateLabInstances", "Condition", "StringEquals", "ec2:ResourceTag/aws:autoscaling:groupName"); !reflect.DeepEqual(c, ref(asgID)) {
					t.Errorf("termination not limited to the lab's group: %v", c)
				}
			},
		},
		{
			fault: lab.FaultZonePower, stopOn: []string{unhealthy},
			actionIDs: map[string]string{
				"StopZoneCInstances":  "aws:ec2:stop-instances",
				"PauseZoneCLaunches":  "aws:ec2:asg-insufficient-instance-capacity-error",
				"DisruptZoneCSubnets": "aws:network:disrupt-connectivity",
			},
			actions: []string{"autoscaling:DescribeAutoScalingGroups", "ec2:CreateNetworkAcl", "ec2:CreateNetworkAcl",
				"ec2:CreateNetworkAclEntry", "ec2:CreateTags", "ec2:DeleteNetworkAcl", "ec2:DescribeInstances", "ec2:DescribeNetworkAcls",
				"ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:InjectApiError", "ec2:ReplaceNetworkAclAssociation",
				"ec2:StartInstances", "ec2:StopInstances"},
			check: func(t *testing.T, p map[string]any, st map[string]any) {
				zoneCValue := []any{map[string]any{"Fn::Select": []any{2.0, map[string]any{"Fn::GetAZs": ""}}}}
				// All of the group's running instances in zone c stop, and start after the window.
				wantInstances := map[string]any{
					"ResourceType":  "aws:ec2:instance",
					"SelectionMode": "ALL",
					"ResourceTags":  map[string]any{"aws:autoscaling:groupName": ref(asgID)},
					"Filters": []any{
						map[string]any{"Path": "Placement.AvailabilityZone", "Values": zoneCValue},
						map[string]any{"Path": "State.Name", "Values": []any{"running"}},
					},
				}
				if got := at(p, "Targets", "ZoneCInstances"); !reflect.DeepEqual(got, wantInstances) {
					t.Errorf("instances target %v\nwant %v", got, wantInstances)
				}
				if got := at(p, "Actions", "StopZoneCInstances"); !reflect.DeepEqual(got, map[string]any{
					"ActionId":   "aws:ec2:stop-instances",
					"Parameters": map[string]any{"startInstancesAfterDuration": duration, "completeIfInstancesTerminated": "true"},
					"Targets":    map[string]any{"Instances": "ZoneCInstances"},
				}) {
					t.Errorf("stop action %v", got)
				}
				// The lab's group, by the tags CloudFormation gives it, fails to launch in zone c.
				wantGroup := map[string]any{
					"ResourceType":  "aws:ec2:autoscaling-group",
					"SelectionMode": "ALL",
					"ResourceTags":  map[string]any{"aws:cloudformation:stack-name": lab.ServiceStackName, "aws:cloudformation:logical-id": asgID},
				}
				if got := at(p, "Targets", "LabGroup"); !reflect.DeepEqual(got, wantGroup) {
					t.Errorf("group target %v\nwant %v", got, wantGroup)
				}
				if got := at(p, "Actions", "PauseZoneCLaunches"); !reflect.DeepEqual(got, map[string]any{
					"ActionId":   "aws:ec2:asg-insufficient-instance-capacity-error",
					"Parameters": map[string]any{"availabilityZoneIdentifiers": zoneCValue[0], "duration": duration, "percentage": "100"},
					"Targets":    map[string]any{"AutoScalingGroups": "LabGroup"},
				}) {
					t.Errorf("capacity-error action %v", got)
				}
				// The zone's private and public subnets lose all traffic.
				subnets := at(p, "Targets", "ZoneCSubnets")
				arns := asList(at(subnets, "ResourceArns"))
				var subnetIDs []string
				for _, a := range arns {
					subnetIDs = append(subnetIDs, render(a))
				}
				if at(subnets, "ResourceType") != "aws:ec2:subnet" || at(subnets, "SelectionMode") != "ALL" || len(arns) != 2 ||
					!strings.Contains(subnetIDs[0], ":subnet/") || !strings.Contains(subnetIDs[0], "VpcPrivateSubnet3") ||
					!strings.Contains(subnetIDs[1], "VpcPublicSubnet3") {
					t.Errorf("subnets target %v, want the third private and public subnets", subnets)
				}
				if got := at(p, "Actions", "DisruptZoneCSubnets", "Parameters"); !reflect.DeepEqual(got, map[string]any{"scope": "all", "duration": duration}) {
					t.Errorf("connectivity parameters %v", got)
				}
				// The role: the lab's instances, the lab's group, FIS-tagged ACLs, the zone-c subnets.
				if c := at(st, "StopAndStartLabInstances", "Condition", "StringEquals", "ec2:ResourceTag/aws:autoscaling:groupName"); !reflect.DeepEqual(c, ref(asgID)) {
					t.Errorf("stop and start not limited to the lab's group: %v", c)
				}
				inject := at(st, "InjectCapacityErrorsIntoLabGroup", "Condition")
				if at(inject, "StringEquals", "ec2:FisActionId") != "aws:ec2:asg-insufficient-instance-capacity-error" ||
					!strings.HasSuffix(render(at(inject, "ForAllValues:ArnLike", "ec2:FisTargetArns")), ":autoScalingGroup:*:autoScalingGroupName/{Ref:"+asgID+"}") {
					t.Errorf("error injection not limited to the capacity error on the lab's group: %v", inject)
				}
				if c := at(st, "CreateFaultACL", "Condition", "StringEquals", "aws:RequestTag/managedByFIS"); c != "true" {
					t.Errorf("ACL creation not limited to FIS-tagged ACLs: %v", c)
				}
				if c := at(st, "EditAndDeleteFaultACL", "Condition", "StringEquals", "ec2:ResourceTag/managedByFIS"); c != "true" {
					t.Errorf("ACL edits not limited to FIS-tagged ACLs: %v", c)
				}
				swap := asList(at(st, "SwapZoneCSubnetACLs", "Resource"))
				if len(swap) != 3 || !strings.Contains(jsonText(swap), jsonText(arns[0])) || !strings.Contains(jsonText(swap), jsonText(arns[1])) {
					t.Errorf("ACL swap on %v, want the two zone-c subnets", swap)
				}
			},
		},
		{
			fault: lab.FaultStaleCredentials, action: "aws:ssm:start-automation-execution", stopOn: []string{fiveXX, unhealthy},
			actions: []string{"iam:PassRole", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution", "ssm:StopAutomationExecution"},
			check: func(t *testing.T, p map[string]any, st map[string]any) {
				params := automationParameters(t, p, "StaleCredentials")
				for k, v := range map[string]string{
					"AutoScalingGroupName": jsonText(ref(asgID)),
					"AvailabilityZone":     zoneCJSON,
					"FaultProfileName":     jsonText(ref(resourceID(t, tmpl, "AWS::IAM::InstanceProfile", "NoDDBRoleProfile"))),
					"NormalProfileName":    jsonText(ref(resourceID(t, tmpl, "AWS::IAM::InstanceProfile", "InstanceRolesRoleProfile"))),
					"Duration":             duration,
				} {
					if params[k] != v {
						t.Errorf("runbook parameter %s = %q, want %q", k, params[k], v)
					}
				}
			},
		},
		{
			fault: lab.FaultDependencyOutage, action: "aws:ssm:start-automation-execution", stopOn: []string{fiveXX},
			actions: []string{"iam:PassRole", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution", "ssm:StopAutomationExecution"},
			check: func(t *testing.T, p map[string]any, st map[string]any) {
				params := automationParameters(t, p, "DependencyOutage")
				paramID, _ := only(t, tmpl, "AWS::SSM::Parameter")
				if params["ParameterName"] != jsonText(ref(paramID)) || params["Duration"] != duration {
					t.Errorf("runbook parameters %v", params)
				}
			},
		},
	}
	seenRoles := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			id, p := experiment(t, tmpl, tt.fault)
			wantActions := tt.actionIDs
			if wantActions == nil {
				wantActions = map[string]string{camel(tt.fault): tt.action}
			}
			gotActions := map[string]string{}
			for name, a := range asMap(p["Actions"]) {
				gotActions[name] = fmt.Sprint(at(a, "ActionId"))
			}
			if !reflect.DeepEqual(gotActions, wantActions) {
				t.Errorf("actions %v, want %v", gotActions, wantActions)
			}
			var stops []string
			for _, sc := range asList(p["StopConditions"]) {
				if at(sc, "Source") != "aws:cloudwatch:alarm" {
					t.Errorf("stop condition %v", sc)
				}
				stops = append(stops, fmt.Sprint(at(sc, "Value", "Fn::GetAtt", 0)))
			}
			sort.Strings(stops)
			want := append([]string{}, tt.stopOn...)
			sort.Strings(want)
			if !reflect.DeepEqual(stops, want) {
				t.Errorf("stops on %v, want %v", stops, want)
			}
			if at(p, "ExperimentOptions", "EmptyTargetResolutionMode") != "fail" {
				t.Errorf("an experiment without a target must fail, not pass: %v", p["ExperimentOptions"])
			}
			if n := at(p, "Tags", "Name"); n != "HealthCheckLab "+tt.fault {
				t.Errorf("Name tag %v", n)
			}
			if got := at(tmpl, "Outputs", lab.FaultExperimentOutputs[tt.fault], "Value"); !reflect.DeepEqual(got, ref(id)) {
				t.Errorf("output %s = %v, want the template id", lab.FaultExperimentOutputs[tt.fault], got)
			}

			roleRef := p["RoleArn"]
			if roleID := fmt.Sprint(at(roleRef, "Fn::GetAtt", 0)); seenRoles[roleID] {
				t.Errorf("role %s shared between experiments", roleID)
			} else {
				seenRoles[roleID] = true
			}
			role := resources(tmpl, "AWS::IAM::Role")[fmt.Sprint(at(roleRef, "Fn::GetAtt", 0))]
			trust := at(role, "Properties", "AssumeRolePolicyDocument", "Statement", 0)
			if at(trust, "Principal", "Service") != "fis.amazonaws.com" ||
				!reflect.DeepEqual(at(trust, "Condition", "StringEquals", "aws:SourceAccount"), ref("AWS::AccountId")) ||
				!strings.HasSuffix(render(at(trust, "Condition", "ArnLike", "aws:SourceArn")), ":experiment/*") {
				t.Errorf("trust %v: FIS may assume it only for this account's experiments", trust)
			}
			st := roleStatements(t, tmpl, roleRef)
			if got := actionsOf(st); !reflect.DeepEqual(got, tt.actions) {
				t.Errorf("role allows %v\nwant exactly %v", got, tt.actions)
			}
			tt.check(t, p, st)
		})
	}
}

// automationParameters checks an experiment's runbook action and returns the runbook
// parameters it passes (values rendered as text).
func automationParameters(t *testing.T, p map[string]any, action string) map[string]string {
	t.Helper()
	params := at(p, "Actions", action, "Parameters")
	if at(params, "maxDuration") != runbookMaxDuration {
		t.Errorf("maxDuration %v", at(params, "maxDuration"))
	}
	if doc := render(at(params, "documentArn")); !regexp.MustCompile(`:document/\{Ref:FaultInjection` + action + `Runbook[0-9A-F]+\}$`).MatchString(doc) {
		t.Errorf("documentArn %s, want this fault's runbook", doc)
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(renderPlain(at(params, "documentParameters"))), &out); err != nil {
		t.Fatalf("documentParameters: %v", err)
	}
	if !strings.Contains(out["AutomationAssumeRole"], "FaultInjection"+action+"RunbookRole") {
		t.Errorf("runbook role %s", out["AutomationAssumeRole"])
	}
	return out
}

// renderPlain is render for a string built with Fn::Join, writing each intrinsic as its
// JSON text, escaped, so that JSON text built by the template parses as JSON and each
// intrinsic comes back as jsonText of it.
func renderPlain(v any) string {
	j, ok := at(v, "Fn::Join").([]any)
	if !ok {
		return render(v)
	}
	var b strings.Builder
	for _, part := range asList(at(j, 1)) {
		if p, ok := part.(string); ok {
			b.WriteString(p)
			continue
		}
		quoted, _ := json.Marshal(jsonText(part))
		b.Write(quoted[1 : len(quoted)-1])
	}
	return b.String()
}

// jsonText is the compact JSON text of a template value.
func jsonText(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func TestFaultInjectionRunbooks(t *testing.T) {
	tmpl := synthLab(t, withFaults).service
	type step struct {
		Name, Action, OnFailure, OnCancel string
		IsEnd                             bool
		Inputs                            map[string]any
	}
	runbook := func(t *testing.T, fault string) (content struct {
		SchemaVersion, AssumeRole string
		Parameters                map[string]map[string]any
		MainSteps                 []step
	}) {
		t.Helper()
		for _, d := range resources(tmpl, "AWS::SSM::Document") {
			if at(d, "Properties", "Tags", 0, "Value") == fault {
				if at(d, "Properties", "DocumentType") != "Automation" {
					t.Errorf("document type %v", at(d, "Properties", "DocumentType"))
				}
				data, _ := json.Marshal(at(d, "Properties", "Content"))
				if err := json.Unmarshal(data, &content); err != nil {
					t.Fatal(err)
				}
				return content
			}
		}
		t.Fatalf("no runbook for %s", fault)
		return
	}
	// After the step that applies the fault, every step until the restoring one sends its
	// failure and its cancellation there, and the restoring step ends the runbook.
	restores := func(t *testing.T, steps []step, apply, restore string) {
		t.Helper()
		applying := false
		for _, s := range steps {
			if s.Name == apply {
				applying = true
			}
			if s.Name == restore {
				if !applying {
					t.Fatalf("%s comes before %s", restore, apply)
				}
				break
			}
			if applying && (s.OnFailure != "step:"+restore || s.OnCancel != "step:"+restore) {
				t.Errorf("step %s: onFailure %q onCancel %q, want step:%s for both", s.Name, s.OnFailure, s.OnCancel, restore)
			}
		}
		if last := steps[len(steps)-1]; !last.IsEnd {
			t.Errorf("last step %s does not end the runbook", last.Name)
		}
	}
	params := func(t *testing.T, got map[string]map[string]any, want ...string) {
		t.Helper()
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want = append(want, "AutomationAssumeRole", "Duration")
		sort.Strings(want)
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("runbook parameters %v, want %v", keys, want)
		}
		if d := got["Duration"]["default"]; d != fmt.Sprintf("PT%dM", int(lab.FaultDuration.Minutes())) {
			t.Errorf("default duration %v", d)
		}
	}
	names := func(steps []step) []string {
		var out []string
		for _, s := range steps {
			out = append(out, s.Name+"="+s.Action)
		}
		return out
	}

	t.Run(lab.FaultStaleCredentials, func(t *testing.T) {
		c := runbook(t, lab.FaultStaleCredentials)
		if c.SchemaVersion != "0.3" || c.AssumeRole != "{{ AutomationAssumeRole }}" {
			t.Errorf("schema %s, assumeRole %s", c.SchemaVersion, c.AssumeRole)
		}
		want := []string{"FindInstance=aws:executeAwsApi", "FindAssociation=aws:executeAwsApi", "AttachFaultProfile=aws:executeAwsApi",
			"Hold=aws:sleep", "FindCurrentAssociation=aws:executeAwsApi", "AttachNormalProfile=aws:executeAwsApi"}
		if got := names(c.MainSteps); !reflect.DeepEqual(got, want) {
			t.Fatalf("steps %v, want %v", got, want)
		}
		restores(t, c.MainSteps, "AttachFaultProfile", "FindCurrentAssociation")
		params(t, c.Parameters, "AutoScalingGroupName", "AvailabilityZone", "FaultProfileName", "NormalProfileName")
		find := c.MainSteps[0].Inputs
		filters, _ := json.Marshal(find["Filters"])
		for _, f := range []string{`"tag:aws:autoscaling:groupName","Values":["{{ AutoScalingGroupName }}"]`,
			`"availability-zone","Values":["{{ AvailabilityZone }}"]`, `"instance-state-name","Values":["running"]`} {
			if !strings.Contains(string(filters), f) {
				t.Errorf("instance filters %s lack %s", filters, f)
			}
		}
		if p := at(c.MainSteps[2].Inputs, "IamInstanceProfile", "Name"); p != "{{ FaultProfileName }}" {
			t.Errorf("fault profile %v", p)
		}
		if p := at(c.MainSteps[5].Inputs, "IamInstanceProfile", "Name"); p != "{{ NormalProfileName }}" {
			t.Errorf("restored profile %v", p)
		}
		if d := c.MainSteps[3].Inputs["Duration"]; d != "{{ Duration }}" {
			t.Errorf("hold %v", d)
		}
	})
	t.Run(lab.FaultDependencyOutage, func(t *testing.T) {
		c := runbook(t, lab.FaultDependencyOutage)
		want := []string{"ReadValue=aws:executeAwsApi", "SwitchOff=aws:executeAwsApi", "Hold=aws:sleep", "Restore=aws:executeAwsApi"}
		if got := names(c.MainSteps); !reflect.DeepEqual(got, want) {
			t.Fatalf("steps %v, want %v", got, want)
		}
		restores(t, c.MainSteps, "SwitchOff", "Restore")
		params(t, c.Parameters, "ParameterName")
		if v := c.MainSteps[1].Inputs["Value"]; v != "false" {
			t.Errorf("switches to %v", v)
		}
		if v := c.MainSteps[3].Inputs["Value"]; v != "{{ ReadValue.Value }}" {
			t.Errorf("restores %v, want the value read first", v)
		}
	})

	t.Run("runbook roles", func(t *testing.T) {
		paramID, _ := only(t, tmpl, "AWS::SSM::Parameter")
		asgID, _ := only(t, tmpl, "AWS::AutoScaling::AutoScalingGroup")
		for _, tc := range []struct {
			role    string
			actions []string
		}{
			{"StaleCredentialsRunbookRole", []string{"ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeInstances", "ec2:ReplaceIamInstanceProfileAssociation", "iam:PassRole"}},
			{"DependencyOutageRunbookRole", []string{"ssm:GetParameter", "ssm:PutParameter"}},
		} {
			id := resourceID(t, tmpl, "AWS::IAM::Role", tc.role)
			role := resources(tmpl, "AWS::IAM::Role")[id]
			trust := at(role, "Properties", "AssumeRolePolicyDocument", "Statement", 0)
			if at(trust, "Principal", "Service") != "ssm.amazonaws.com" || at(trust, "Condition", "StringEquals", "aws:SourceAccount") == nil {
				t.Errorf("%s trust %v", tc.role, trust)
			}
			st := roleStatements(t, tmpl, map[string]any{"Fn::GetAtt": []any{id, "Arn"}})
			if got := actionsOf(st); !reflect.DeepEqual(got, tc.actions) {
				t.Errorf("%s allows %v, want %v", tc.role, got, tc.actions)
			}
			switch tc.role {
			case "DependencyOutageRunbookRole":
				if r := at(st, "SwitchLabParameter", "Resource"); !strings.Contains(render(r), "parameter/{Ref:"+paramID+"}") {
					t.Errorf("parameter access on %s", render(r))
				}
			case "StaleCredentialsRunbookRole":
				if c := at(st, "SwapProfileOfLabInstances", "Condition", "StringEquals", "ec2:ResourceTag/aws:autoscaling:groupName"); !reflect.DeepEqual(c, ref(asgID)) {
					t.Errorf("profile swap not limited to the lab's group: %v", c)
				}
				if c := at(st, "PassInstanceRoles", "Condition", "StringEquals", "iam:PassedToService"); c != "ec2.amazonaws.com" {
					t.Errorf("PassRole condition %v", c)
				}
				if n := len(asList(at(st, "PassInstanceRoles", "Resource"))); n != 2 {
					t.Errorf("PassRole on %d roles, want the two instance roles", n)
				}
			}
		}
	})
}

// TestZoneC checks which zone the experiments break: the third of the group's zones sorted
// by name, wherever it sits in the VPC's order.
func TestZoneC(t *testing.T) {
	unresolved := []*string{awscdk.Fn_Select(jsii.Number(0), awscdk.Fn_GetAzs(jsii.String(""))),
		awscdk.Fn_Select(jsii.Number(1), awscdk.Fn_GetAzs(jsii.String(""))), awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_GetAzs(jsii.String("")))}
	tests := []struct {
		name  string
		zones []*string
		want  int
	}{
		{"environment-agnostic: Fn::GetAZs is alphabetical", unresolved, 2},
		{"sorted names", *jsii.Strings("eu-west-1a", "eu-west-1b", "eu-west-1c"), 2},
		{"unsorted names", *jsii.Strings("eu-west-1b", "eu-west-1c", "eu-west-1a"), 1},
	}
	for _, tt := range tests {
		if got := zoneCIndex(tt.zones); got != tt.want {
			t.Errorf("%s: index %d, want %d", tt.name, got, tt.want)
		}
	}

	t.Run("in the templates of a stack with an environment", func(t *testing.T) {
		ctx := map[string]any{config.KeyFaultInjection: "true",
			"availability-zones:account=123456789012:region=us-east-2": []string{"us-east-2b", "us-east-2c", "us-east-2a"}}
		app := newTestApp(t, ctx, false)
		l, err := NewLab(app, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-2")})
		if err != nil {
			t.Fatal(err)
		}
		tmpl := templateJSON(l.Service.Stack)
		_, p := experiment(t, tmpl, lab.FaultInstanceLoss)
		if got := at(p, "Targets", "ZoneCInstance", "Filters", 0, "Values", 0); got != "us-east-2c" {
			t.Errorf("instance-loss zone %v, want us-east-2c", got)
		}
		_, p = experiment(t, tmpl, lab.FaultDependencyLoss)
		subnetID := ""
		for id, sn := range resources(templateJSON(l.Network.Stack), "AWS::EC2::Subnet") {
			if strings.HasPrefix(id, "VpcPrivateSubnet") && at(sn, "Properties", "AvailabilityZone") == "us-east-2c" {
				subnetID = id
			}
		}
		if arn := render(at(p, "Targets", "ZoneCSubnet", "ResourceArns", 0)); subnetID == "" || !strings.Contains(arn, subnetID) {
			t.Errorf("dependency-loss subnet %s, want the private subnet in us-east-2c (%s)", arn, subnetID)
		}
		_, p = experiment(t, tmpl, lab.FaultZonePower)
		if got := at(p, "Actions", "PauseZoneCLaunches", "Parameters", "availabilityZoneIdentifiers"); got != "us-east-2c" {
			t.Errorf("zone-power capacity errors in %v, want us-east-2c", got)
		}
		if got := at(p, "Targets", "ZoneCInstances", "Filters", 0, "Values", 0); got != "us-east-2c" {
			t.Errorf("zone-power instances in %v, want us-east-2c", got)
		}
		var zoneSubnets []string
		for id, sn := range resources(templateJSON(l.Network.Stack), "AWS::EC2::Subnet") {
			if at(sn, "Properties", "AvailabilityZone") == "us-east-2c" {
				zoneSubnets = append(zoneSubnets, id)
			}
		}
		arns := render(at(p, "Targets", "ZoneCSubnets", "ResourceArns"))
		if len(zoneSubnets) != 2 {
			t.Fatalf("subnets in us-east-2c: %v", zoneSubnets)
		}
		for _, id := range zoneSubnets {
			if !strings.Contains(arns, id) {
				t.Errorf("zone-power subnets %s lack %s, a subnet in us-east-2c", arns, id)
			}
		}
	})
}

func TestCdkNagWithFaultInjection(t *testing.T) {
	s := synthLab(t, withFaults)
	ann := assertions.Annotations_FromStack(s.lab.Service.Stack)
	match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range append(*ann.FindError(jsii.String("*"), match), *ann.FindWarning(jsii.String("*"), match)...) {
		t.Errorf("unsuppressed finding at %s: %v", *m.Id, m.Entry.Data)
	}
	for id, r := range asMap(s.service["Resources"]) {
		for _, rule := range asList(at(r, "Metadata", "cdk_nag", "rules_to_suppress")) {
			if reason, _ := at(rule, "reason").(string); rule != nil && (len(reason) < 40 || strings.Contains(reason, "\n")) {
				t.Errorf("%s: suppression %v needs a one-line reason", id, rule)
			}
		}
	}
}
