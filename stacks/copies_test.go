package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
)

// copyIDs are the copies the side-by-side test synthesizes into one app: the lab's own
// names and two LabIds.
var copyIDs = []string{"", "a", "b"}

// copiesApp is one synthesis of every copy in copyIDs, with fault injection (the most
// names), shared by the side-by-side tests and cfn-lint.
type copiesApp struct {
	dir string
	// stacks maps each LabId to its two stacks' names and templates.
	stacks map[string][]stackTemplate
}

type stackTemplate struct {
	name, file string
	template   map[string]any
}

var (
	copiesOnce sync.Once
	copies     *copiesApp
	copiesErr  error
)

func synthCopies(t *testing.T) *copiesApp {
	t.Helper()
	copiesOnce.Do(func() {
		app := newTestApp(t, nil, false)
		c := &copiesApp{stacks: map[string][]stackTemplate{}}
		labs := map[string]*Lab{}
		for _, id := range copyIDs {
			cfg := config.Defaults
			cfg.FaultInjection, cfg.LabID = true, id
			labs[id] = DeclareLab(app, cfg, nil)
		}
		asm := app.Synth(nil)
		c.dir = *asm.Directory()
		for id, l := range labs {
			for _, s := range []awscdk.Stack{l.Network.Stack, l.Service.Stack} {
				file := filepath.Join(c.dir, *s.TemplateFile())
				b, err := os.ReadFile(file)
				if err != nil {
					copiesErr = err
					return
				}
				st := stackTemplate{name: *s.StackName(), file: file}
				if copiesErr = json.Unmarshal(b, &st.template); copiesErr != nil {
					return
				}
				c.stacks[id] = append(c.stacks[id], st)
			}
		}
		copies = c
	})
	if copiesErr != nil {
		t.Fatal(copiesErr)
	}
	return copies
}

// uniqueNameProperties are the properties whose value must be unique in an account (IAM) or
// in an account and region, for the resource types that have them.
var uniqueNameProperties = []string{
	// (Not PolicyName: an AWS::IAM::Policy's name is unique per role only.)
	"RoleName", "InstanceProfileName", "ManagedPolicyName", "LogGroupName", "FunctionName",
	"TableName", "LaunchTemplateName", "AlarmName", "AutoScalingGroupName", "TopicName", "QueueName", "BucketName",
}

// accountUniqueNames lists the names a stack takes that another stack in the same account
// and region could collide with: the stack's name, named resources (literal names only: a
// generated name derives from the stack's), exports, and the Name tag of experiment
// templates (which is how the FIS console lists them).
func accountUniqueNames(st stackTemplate) []string {
	names := []string{"stack " + st.name}
	resources, _ := st.template["Resources"].(map[string]any)
	for _, r := range resources {
		res := r.(map[string]any)
		typ, _ := res["Type"].(string)
		props, _ := res["Properties"].(map[string]any)
		for _, p := range uniqueNameProperties {
			if v, ok := props[p].(string); ok {
				names = append(names, p+" "+v)
			}
		}
		switch typ {
		case "AWS::SSM::Parameter", "AWS::SSM::Document", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::TargetGroup":
			if v, ok := props["Name"].(string); ok {
				names = append(names, typ+" "+v)
			}
		case "AWS::FIS::ExperimentTemplate":
			if tags, ok := props["Tags"].(map[string]any); ok {
				names = append(names, fmt.Sprintf("%s tag %v", typ, tags["Name"]))
			}
		}
	}
	outputs, _ := st.template["Outputs"].(map[string]any)
	for _, o := range outputs {
		if exp, ok := o.(map[string]any)["Export"].(map[string]any); ok {
			names = append(names, fmt.Sprintf("export %v", exp["Name"]))
		}
	}
	sort.Strings(names)
	return names
}

// TestSideBySideCopiesShareNoName synthesizes the lab three times in one app (no LabId, a, b)
// and checks that no account- or region-unique name is taken twice.
func TestSideBySideCopiesShareNoName(t *testing.T) {
	c := synthCopies(t)
	owner := map[string]string{}
	for _, id := range copyIDs {
		var all []string
		for _, st := range c.stacks[id] {
			all = append(all, accountUniqueNames(st)...)
		}
		// Each copy names 2 stacks, 2 roles, 2 profiles, the parameter and 5 experiments
		// (the stacks share no exports: the service reads the network's outputs with
		// Fn::GetStackOutput by stack name). Fewer means the scan missed something.
		if len(all) < 11 {
			t.Fatalf("LabId %q: only %d names found: %v", id, len(all), all)
		}
		for _, n := range all {
			if other, ok := owner[n]; ok {
				t.Errorf("LabId %q and LabId %q both take %s", id, other, n)
			}
			owner[n] = id
		}
	}
}

// TestNamesFollowLabID checks each copy's names: the lab's own without LabId (what the lab's
// documents and console steps say), the id's otherwise; and the outputs that publish them.
func TestNamesFollowLabID(t *testing.T) {
	c := synthCopies(t)
	for _, id := range copyIDs {
		n := labnames.Names{Prefix: lab.DefaultNamingPrefix, LabID: id}
		want := []string{
			"stack " + n.VPCStack(), "stack " + n.ServiceStack(),
			"RoleName " + n.Role(), "RoleName " + n.NoDDBRole(),
			"InstanceProfileName " + n.Role(), "InstanceProfileName " + n.NoDDBRole(),
			"AWS::SSM::Parameter " + n.Parameter(),
		}
		for _, f := range []string{lab.FaultDependencyLoss, lab.FaultStaleCredentials, lab.FaultDependencyOutage, lab.FaultInstanceLoss, lab.FaultZonePower} {
			want = append(want, "AWS::FIS::ExperimentTemplate tag "+n.ServiceStack()+" "+f)
		}
		got := map[string]bool{}
		for _, st := range c.stacks[id] {
			for _, name := range accountUniqueNames(st) {
				got[name] = true
				if strings.HasPrefix(name, "export ") && !strings.HasPrefix(name, "export "+n.VPCStack()+":") {
					t.Errorf("LabId %q: %s is not under the network stack's name", id, name)
				}
			}
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("LabId %q: no %s", id, w)
			}
		}
		if id == "" && (n.ServiceStack() != lab.ServiceStackName || n.Role() != "WebApp1-EC2-Role-HealthCheckLab" || n.Parameter() != lab.ParameterName) {
			t.Errorf("without LabId the names are not the lab's: %+v", n)
		}
		// The service stack reads its own copy's network, by that stack's name.
		b, err := os.ReadFile(c.stacks[id][1].file)
		if err != nil {
			t.Fatal(err)
		}
		linked := map[string]bool{}
		for _, m := range stackOutputRef.FindAllSubmatch(b, -1) {
			linked[string(m[1])] = true
		}
		if len(linked) != 1 || !linked[n.VPCStack()] {
			t.Errorf("LabId %q: the service stack reads the outputs of %v, want %s only", id, keys(linked), n.VPCStack())
		}

		// The outputs that labctl and the walkthrough read these names from.
		service := c.stacks[id][1].template
		labIDOutput, hasLabID := service["Outputs"].(map[string]any)[labnames.OutputLabID].(map[string]any)
		if hasLabID != (id != "") || (hasLabID && labIDOutput["Value"] != id) {
			t.Errorf("LabId %q: output %s = %v, want it only on a copy with an id, holding the id", id, labnames.OutputLabID, labIDOutput)
		}
		for key, want := range map[string]string{
			lab.OutputParameterName:       n.Parameter(),
			lab.OutputInstanceProfileName: n.Role(),
			lab.OutputNoDDBProfileName:    n.NoDDBRole(),
		} {
			if got := outputName(service, key); got != want {
				t.Errorf("LabId %q: output %s names %q, want %q", id, key, got, want)
			}
		}
	}
}

// stackOutputRef finds the stack names of Fn::GetStackOutput references.
var stackOutputRef = regexp.MustCompile(`"Fn::GetStackOutput":\s*\{\s*"StackName":\s*"([^"]+)"`)

// outputName follows an output's {"Ref": X} to resource X and returns its literal name.
func outputName(template map[string]any, key string) string {
	out, _ := template["Outputs"].(map[string]any)[key].(map[string]any)
	ref, _ := out["Value"].(map[string]any)["Ref"].(string)
	res, _ := template["Resources"].(map[string]any)[ref].(map[string]any)
	props, _ := res["Properties"].(map[string]any)
	for _, p := range []string{"Name", "InstanceProfileName"} {
		if v, ok := props[p].(string); ok {
			return v
		}
	}
	return ""
}
