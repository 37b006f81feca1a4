package stacks

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
)

// The CDK tests build each distinct app once and share its templates across table-driven
// subtests: every template comes from an in-process synthesis with the context of cdk.json.

var testOutdir string

func TestMain(m *testing.M) {
	var err error
	if testOutdir, err = os.MkdirTemp("", "healthchecklab-cdk-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(testOutdir)
	os.Exit(code)
}

// cdkJSONContext is the "context" object of the repository's cdk.json.
func cdkJSONContext(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Context map[string]any }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Context
}

// synthesized is one app's lab and its two templates as plain JSON values.
type synthesized struct {
	lab              *Lab
	network, service map[string]any
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
)

// synthLab builds (once per distinct context) an app with cdk.json's context plus overrides,
// with bundling skipped: the asset hash does not depend on it.
func synthLab(t *testing.T, overrides map[string]any) *synthesized {
	t.Helper()
	key := fmt.Sprint(overrides)
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[key]; ok {
		return s
	}
	app := newTestApp(t, overrides, false)
	l, err := NewLab(app, nil)
	if err != nil {
		t.Fatalf("NewLab(%v): %v", overrides, err)
	}
	s := &synthesized{lab: l, network: templateJSON(l.Network.Stack), service: templateJSON(l.Service.Stack)}
	synthCache[key] = s
	return s
}

func newTestApp(t *testing.T, overrides map[string]any, bundle bool) awscdk.App {
	t.Helper()
	ctx := cdkJSONContext(t)
	for k, v := range overrides {
		ctx[k] = v
	}
	if !bundle {
		ctx["aws:cdk:bundling-stacks"] = []string{}
	}
	// Apps outlive the test that built them (synthLab shares them), so their output
	// directories live under testOutdir until TestMain ends.
	outdir, err := os.MkdirTemp(testOutdir, "app-")
	if err != nil {
		t.Fatal(err)
	}
	return newTestAppIn(t, ctx, outdir)
}

// newTestAppIn is an app with exactly this context, synthesizing into outdir.
func newTestAppIn(t *testing.T, ctx map[string]any, outdir string) awscdk.App {
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: &outdir})
}

func templateJSON(stack awscdk.Stack) map[string]any {
	return *assertions.Template_FromStack(stack, nil).ToJSON()
}

// resources returns the resources of one CloudFormation type, by logical id.
func resources(tmpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tmpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// only returns the single resource of a type, failing the test otherwise.
func only(t *testing.T, tmpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(tmpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

// at walks a JSON value along keys and indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			a, _ := v.([]any)
			if p >= len(a) {
				return nil
			}
			v = a[p]
		}
	}
	return v
}

// render flattens a CloudFormation string expression (Fn::Join, Ref, Fn::Sub, …) into text,
// writing intrinsics other than Fn::Join as {Ref:X}-like placeholders.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if j, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, render(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if b, ok := v["Fn::Base64"]; ok {
			return render(b)
		}
		for k, x := range v {
			if s, ok := x.(string); ok {
				return "{" + k + ":" + s + "}"
			}
			data, _ := json.Marshal(x)
			return "{" + k + ":" + string(data) + "}"
		}
	}
	data, _ := json.Marshal(v)
	return string(data)
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

// resourceID returns the logical id of the single resource of a type whose id contains part.
func resourceID(t *testing.T, tmpl map[string]any, typ, part string) string {
	t.Helper()
	var ids []string
	for id := range resources(tmpl, typ) {
		if strings.Contains(id, part) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("resources of type %s named like %q: %v, want exactly one", typ, part, ids)
	}
	return ids[0]
}

func TestNetworkStack(t *testing.T) {
	tmpl := synthLab(t, nil).network
	subnets := resources(tmpl, "AWS::EC2::Subnet")
	zones := map[bool][]string{}
	for _, s := range subnets {
		public := at(s, "Properties", "MapPublicIpOnLaunch") == true
		zones[public] = append(zones[public], render(at(s, "Properties", "AvailabilityZone")))
	}
	for _, public := range []bool{true, false} {
		got := zones[public]
		sort.Strings(got)
		want := []string{}
		for i := 0; i < ZoneCount; i++ {
			want = append(want, fmt.Sprintf(`{Fn::Select:[%d,{"Fn::GetAZs":""}]}`, i))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("public=%v subnets in zones %v, want one in each of %v", public, got, want)
		}
	}
	if n := len(resources(tmpl, "AWS::EC2::NatGateway")); n != 1 {
		t.Errorf("%d NAT gateways, want 1 (NatGateways default)", n)
	}
	// Private subnets route to the NAT gateway (egress), public ones to the internet gateway.
	var natRoutes, igwRoutes int
	for _, r := range resources(tmpl, "AWS::EC2::Route") {
		if at(r, "Properties", "NatGatewayId") != nil {
			natRoutes++
		}
		if at(r, "Properties", "GatewayId") != nil {
			igwRoutes++
		}
	}
	if natRoutes != 3 || igwRoutes != 3 {
		t.Errorf("routes: %d to NAT, %d to the internet gateway; want 3 and 3", natRoutes, igwRoutes)
	}
	var endpoints []string
	for _, e := range resources(tmpl, "AWS::EC2::VPCEndpoint") {
		if at(e, "Properties", "VpcEndpointType") == "Gateway" {
			endpoints = append(endpoints, render(at(e, "Properties", "ServiceName")))
		}
	}
	sort.Strings(endpoints)
	if len(endpoints) != 2 || !strings.HasSuffix(endpoints[0], ".dynamodb") || !strings.HasSuffix(endpoints[1], ".s3") {
		t.Errorf("gateway endpoints %v, want DynamoDB and S3", endpoints)
	}

	t.Run("NatGateways context", func(t *testing.T) {
		tmpl := synthLab(t, map[string]any{config.KeyNatGateways: "3"}).network
		if n := len(resources(tmpl, "AWS::EC2::NatGateway")); n != 3 {
			t.Errorf("%d NAT gateways, want 3", n)
		}
	})
	t.Run("real zone names with an environment", func(t *testing.T) {
		app := newTestApp(t, map[string]any{
			"availability-zones:account=123456789012:region=us-east-2": []string{"us-east-2a", "us-east-2b", "us-east-2c"},
		}, false)
		l, err := NewLab(app, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-2")})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, s := range resources(templateJSON(l.Network.Stack), "AWS::EC2::Subnet") {
			got[render(at(s, "Properties", "AvailabilityZone"))]++
		}
		want := map[string]int{"us-east-2a": 2, "us-east-2b": 2, "us-east-2c": 2}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("subnets per zone %v, want %v", got, want)
		}
	})
}

func TestRecommendationService(t *testing.T) {
	s := synthLab(t, nil)
	tmpl := s.service
	tableID, table := only(t, tmpl, "AWS::DynamoDB::Table")

	checks := []struct {
		name string
		got  any
		want any
	}{
		{"key schema", at(table, "Properties", "KeySchema"), []any{
			map[string]any{"AttributeName": lab.PartitionKey, "KeyType": "HASH"},
			map[string]any{"AttributeName": lab.SortKey, "KeyType": "RANGE"},
		}},
		{"attribute types", at(table, "Properties", "AttributeDefinitions"), []any{
			map[string]any{"AttributeName": lab.PartitionKey, "AttributeType": "S"},
			map[string]any{"AttributeName": lab.SortKey, "AttributeType": "N"},
		}},
		{"on-demand", at(table, "Properties", "BillingMode"), "PAY_PER_REQUEST"},
		{"encrypted", at(table, "Properties", "SSESpecification", "SSEEnabled"), true},
		{"removed with the stack", table["DeletionPolicy"], "Delete"},
	}
	for _, c := range checks {
		t.Run("table "+c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}

	t.Run("seeded with the five rows", func(t *testing.T) {
		_, seed := only(t, tmpl, "Custom::AWS")
		create := render(at(seed, "Properties", "Create"))
		if update := render(at(seed, "Properties", "Update")); update != create {
			t.Errorf("Update call differs from Create:\n%s\n%s", update, create)
		}
		var call struct {
			Action     string
			Parameters struct {
				TransactItems []struct {
					Put struct {
						TableName string
						Item      map[string]map[string]string
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(create), &call); err != nil {
			t.Fatalf("Create is not JSON: %v\n%s", err, create)
		}
		// All or nothing: a transaction has no UnprocessedItems that a single call could ignore.
		puts := call.Parameters.TransactItems
		if call.Action != "TransactWriteItems" || len(puts) != len(lab.Seed().Items) {
			t.Fatalf("seed call %+v does not put %d items in one transaction", call, len(lab.Seed().Items))
		}
		for i, want := range lab.Seed().Items {
			if got := puts[i].Put.TableName; got != render(ref(tableID)) {
				t.Errorf("item %d goes to table %s", i, got)
			}
			got := puts[i].Put.Item
			w := map[string]map[string]string{
				lab.PartitionKey:      {"S": lab.ServiceAPI},
				lab.SortKey:           {"N": fmt.Sprint(want.UserID)},
				lab.UserNameAttribute: {"S": want.UserName},
				lab.ResultAttribute:   {"S": want.Result},
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("item %d = %v, want %v", i, got, w)
			}
		}
	})

	t.Run("seeding may put items into this table only, in a transaction", func(t *testing.T) {
		var statements []any
		for _, p := range resources(tmpl, "AWS::IAM::Policy") {
			if strings.Contains(fmt.Sprint(at(p, "Properties", "PolicyName")), "Seed") {
				statements = append(statements, at(p, "Properties", "PolicyDocument", "Statement").([]any)...)
			}
		}
		want := []any{map[string]any{
			"Action": "dynamodb:PutItem", "Effect": "Allow",
			"Resource":  map[string]any{"Fn::GetAtt": []any{tableID, "Arn"}},
			"Condition": map[string]any{"ForAnyValue:StringEquals": map[string]any{"dynamodb:EnclosingOperation": []any{"TransactWriteItems"}}},
		}}
		if !reflect.DeepEqual(statements, want) {
			t.Errorf("seed policy %v, want %v", statements, want)
		}
	})

	t.Run("a changed seed file re-seeds", func(t *testing.T) {
		app := newTestApp(t, nil, false)
		cfg, err := ReadConfig(app)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(seedFixture(t)), "Mad About You", "Frasier", 1)
		other := NewServiceStack(app, "Reseeded", &ServiceStackProps{
			Vpc: NewNetworkStack(app, "Net", &NetworkStackProps{NatGateways: 1}).Vpc, Config: cfg, SeedJSON: []byte(changed),
		})
		_, a := only(t, tmpl, "Custom::AWS")
		_, b := only(t, templateJSON(other.Stack), "Custom::AWS")
		ca, cb := render(at(a, "Properties", "Update")), render(at(b, "Properties", "Update"))
		if ca == cb || !strings.Contains(cb, "Frasier") {
			t.Errorf("the custom resource's properties did not change with the seed file")
		}
	})

	t.Run("parameter", func(t *testing.T) {
		_, p := only(t, tmpl, "AWS::SSM::Parameter")
		pp := props(p)
		if pp["Name"] != lab.ParameterName || pp["Type"] != "String" || pp["Value"] != "true" || pp["AllowedPattern"] != "^(true|false)$" {
			t.Errorf("parameter %v", pp)
		}
		d := strings.ToLower(fmt.Sprint(pp["Description"]))
		if !strings.Contains(d, "switch") || !strings.Contains(d, "emergency lever") {
			t.Errorf("description %q should call it the lab's switch and emergency lever", d)
		}
	})
}

func seedFixture(t *testing.T) []byte {
	data, err := os.ReadFile("../assets/recommendations.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rolePolicies returns every statement that applies to a role: its inline policies and the
// AWS::IAM::Policy resources attached to it, plus its managed policy ARNs.
func rolePolicies(tmpl map[string]any, roleID string) (statements []map[string]any, managed []any) {
	role := resources(tmpl, "AWS::IAM::Role")[roleID]
	for _, p := range at(role, "Properties", "Policies").([]any) {
		for _, s := range at(p, "PolicyDocument", "Statement").([]any) {
			statements = append(statements, s.(map[string]any))
		}
	}
	for _, p := range resources(tmpl, "AWS::IAM::Policy") {
		for _, r := range at(p, "Properties", "Roles").([]any) {
			if reflect.DeepEqual(r, ref(roleID)) {
				for _, s := range at(p, "Properties", "PolicyDocument", "Statement").([]any) {
					statements = append(statements, s.(map[string]any))
				}
			}
		}
	}
	managed, _ = at(role, "Properties", "ManagedPolicyArns").([]any)
	return statements, managed
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func roleID(t *testing.T, tmpl map[string]any, name string) string {
	t.Helper()
	for id, r := range resources(tmpl, "AWS::IAM::Role") {
		if at(r, "Properties", "RoleName") == name {
			return id
		}
	}
	t.Fatalf("no role named %s", name)
	return ""
}

func TestInstanceRoles(t *testing.T) {
	tmpl := synthLab(t, nil).service
	tableID, _ := only(t, tmpl, "AWS::DynamoDB::Table")

	for _, prefix := range []string{lab.DefaultNamingPrefix, "Team7"} {
		t.Run("names with prefix "+prefix, func(t *testing.T) {
			tmpl := synthLab(t, map[string]any{config.KeyNamingPrefix: prefix}).service
			for _, name := range []string{lab.RoleName(prefix), lab.NoDDBRoleName(prefix)} {
				id := roleID(t, tmpl, name)
				if got := at(resources(tmpl, "AWS::IAM::Role")[id], "Properties", "AssumeRolePolicyDocument", "Statement", 0, "Principal", "Service"); got != "ec2.amazonaws.com" {
					t.Errorf("%s is assumed by %v", name, got)
				}
				found := false
				for _, p := range resources(tmpl, "AWS::IAM::InstanceProfile") {
					if at(p, "Properties", "InstanceProfileName") == name && reflect.DeepEqual(at(p, "Properties", "Roles"), []any{ref(id)}) {
						found = true
					}
				}
				if !found {
					t.Errorf("no instance profile named %s for role %s", name, id)
				}
			}
		})
	}

	normal := roleID(t, tmpl, lab.RoleName(lab.DefaultNamingPrefix))
	noDDB := roleID(t, tmpl, lab.NoDDBRoleName(lab.DefaultNamingPrefix))

	t.Run("noDDB role has no DynamoDB action anywhere", func(t *testing.T) {
		statements, managed := rolePolicies(tmpl, noDDB)
		if len(managed) > 0 {
			t.Errorf("managed policies %v", managed)
		}
		for _, s := range statements {
			for _, a := range asList(s["Action"]) {
				if strings.HasPrefix(strings.ToLower(fmt.Sprint(a)), "dynamodb:") || a == "*" {
					t.Errorf("noDDB role allows %v", a)
				}
			}
		}
	})

	t.Run("normal role: GetItem on the table and the decoy only", func(t *testing.T) {
		statements, managed := rolePolicies(tmpl, normal)
		if len(managed) > 0 {
			t.Errorf("managed policies %v", managed)
		}
		var ddb []map[string]any
		for _, s := range statements {
			for _, a := range asList(s["Action"]) {
				if strings.HasPrefix(strings.ToLower(fmt.Sprint(a)), "dynamodb:") || a == "*" {
					ddb = append(ddb, s)
					if a != "dynamodb:GetItem" {
						t.Errorf("normal role allows %v", a)
					}
				}
			}
		}
		if len(ddb) != 1 {
			t.Fatalf("%d statements with DynamoDB actions, want 1", len(ddb))
		}
		var got []string
		for _, r := range asList(ddb[0]["Resource"]) {
			got = append(got, render(r))
		}
		want := []string{
			render(map[string]any{"Fn::GetAtt": []any{tableID, "Arn"}}),
			"arn:{Ref:AWS::Partition}:dynamodb:{Ref:AWS::Region}:{Ref:AWS::AccountId}:table/" + lab.DecoyTableName,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetItem on %v, want %v", got, want)
		}
	})

	t.Run("the roles differ only in DynamoDB", func(t *testing.T) {
		n, _ := rolePolicies(tmpl, normal)
		d, _ := rolePolicies(tmpl, noDDB)
		without := func(ss []map[string]any) map[string]bool {
			out := map[string]bool{}
			for _, s := range ss {
				if s["Sid"] == "GetRecommendation" {
					continue
				}
				c := map[string]any{}
				for k, v := range s {
					if k != "Sid" {
						c[k] = v
					}
				}
				data, _ := json.Marshal(c)
				out[string(data)] = true
			}
			return out
		}
		if a, b := without(n), without(d); !reflect.DeepEqual(a, b) {
			t.Errorf("normal role minus GetItem:\n%v\nnoDDB role:\n%v", a, b)
		}
	})

	t.Run("parameter and asset access are exact", func(t *testing.T) {
		statements, _ := rolePolicies(tmpl, normal)
		// Only these statements' actions lack resource-level permissions.
		anyResource := map[any]bool{"SessionManager": true, "ReadTargetHealth": true}
		for _, s := range statements {
			for _, r := range asList(s["Resource"]) {
				if text := render(r); !anyResource[s["Sid"]] && strings.Contains(text, "*") {
					t.Errorf("statement %v has a wildcard in %s", s["Sid"], text)
				}
			}
		}
	})

	t.Run("target health: read only, the one action the boot's readiness wait needs", func(t *testing.T) {
		statements, _ := rolePolicies(tmpl, normal)
		var found []any
		for _, s := range statements {
			for _, a := range asList(s["Action"]) {
				if strings.HasPrefix(fmt.Sprint(a), "elasticloadbalancing:") {
					found = append(found, a)
				}
			}
		}
		if want := []any{"elasticloadbalancing:DescribeTargetHealth"}; !reflect.DeepEqual(found, want) {
			t.Errorf("load-balancing actions %v, want %v", found, want)
		}
	})
}

// userData renders the launch template's user data script.
func userData(t *testing.T, tmpl map[string]any) string {
	_, lt := only(t, tmpl, "AWS::EC2::LaunchTemplate")
	return render(at(lt, "Properties", "LaunchTemplateData", "UserData"))
}

func TestWebTier(t *testing.T) {
	tmpl := synthLab(t, nil).service
	_, lt := only(t, tmpl, "AWS::EC2::LaunchTemplate")
	asgID, asg := only(t, tmpl, "AWS::AutoScaling::AutoScalingGroup")
	tableID, _ := only(t, tmpl, "AWS::DynamoDB::Table")
	paramID, _ := only(t, tmpl, "AWS::SSM::Parameter")
	data := at(lt, "Properties", "LaunchTemplateData").(map[string]any)

	t.Run("IMDSv2 required", func(t *testing.T) {
		if got := at(data, "MetadataOptions", "HttpTokens"); got != "required" {
			t.Errorf("HttpTokens = %v", got)
		}
	})
	t.Run("no key pair, the normal profile, encrypted root volume", func(t *testing.T) {
		if data["KeyName"] != nil {
			t.Errorf("KeyName = %v", data["KeyName"])
		}
		profile := render(at(data, "IamInstanceProfile", "Arn"))
		if !strings.Contains(profile, "InstanceRolesRoleProfile") {
			t.Errorf("instance profile %s", profile)
		}
		if at(data, "BlockDeviceMappings", 0, "Ebs", "Encrypted") != true {
			t.Errorf("root volume not encrypted")
		}
	})
	t.Run("latest Amazon Linux 2023 for the architecture", func(t *testing.T) {
		for _, tc := range []struct{ instanceType, ssm string }{
			{"t3.micro", "al2023-ami-kernel-6.1-x86_64"},
			{"t4g.small", "al2023-ami-kernel-6.1-arm64"},
		} {
			tmpl := synthLab(t, map[string]any{config.KeyInstanceType: tc.instanceType}).service
			_, lt := only(t, tmpl, "AWS::EC2::LaunchTemplate")
			if got := at(lt, "Properties", "LaunchTemplateData", "InstanceType"); got != tc.instanceType {
				t.Errorf("InstanceType = %v", got)
			}
			imageParam := at(lt, "Properties", "LaunchTemplateData", "ImageId", "Ref").(string)
			if got := at(tmpl, "Parameters", imageParam, "Default"); got != "/aws/service/ami-amazon-linux-latest/"+tc.ssm {
				t.Errorf("%s: image from %v, want %s", tc.instanceType, got, tc.ssm)
			}
		}
	})

	t.Run("AmiId pins the image", func(t *testing.T) {
		const ami = "ami-0123456789abcdef0"
		pinned := synthLab(t, map[string]any{config.KeyAmiID: ami}).service
		_, lt := only(t, pinned, "AWS::EC2::LaunchTemplate")
		if got := at(lt, "Properties", "LaunchTemplateData", "ImageId"); got != ami {
			t.Errorf("ImageId = %v, want %s", got, ami)
		}
		for name, p := range asMap(pinned["Parameters"]) {
			if strings.Contains(fmt.Sprint(at(p, "Default")), "ami-amazon-linux-latest") {
				t.Errorf("a pinned image still looks up the latest AMI through parameter %s", name)
			}
		}
		if a, b := withoutServerCode(t, tmpl), withoutServerCode(t, pinned); !reflect.DeepEqual(withoutImage(a), withoutImage(b)) {
			t.Errorf("pinning the image changed more than the image: %v", changedParts(withoutImage(a), withoutImage(b)))
		}
	})

	t.Run("user data", func(t *testing.T) {
		ud := userData(t, tmpl)
		for _, want := range []string{
			"SERVER_CODE=basic\n",
			"TABLE=" + render(ref(tableID)) + "\n",
			"PARAMETER=" + render(ref(paramID)) + "\n",
			"REGION={Ref:AWS::Region}\n",
			"LISTEN=:80\n",
			"curl -sf --max-time 2 -o /dev/null 'http://127.0.0.1:80" + lab.LivenessPath + "'",
			"--target-group-arn '" + render(ref(resourceID(t, tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup", "Web"))) + "'",
			"--resource '" + asgID + "'",
			"cfn-signal --exit-code",
			"DynamicUser=yes",
			"AmbientCapabilities=CAP_NET_BIND_SERVICE",
			"-server-code ${SERVER_CODE} -table ${TABLE} -parameter ${PARAMETER} -region ${REGION}",
		} {
			if !strings.Contains(ud, want) {
				t.Errorf("user data lacks %q", want)
			}
		}
		for _, line := range strings.Split(ud, "\n") {
			if strings.Contains(line, "curl") && strings.Contains(line, lab.TargetGroupHealthCheck.Path) {
				t.Errorf("the boot signal must not wait for the deep health check: %s", line)
			}
		}
	})

	t.Run("security groups", func(t *testing.T) {
		groups := resources(tmpl, "AWS::EC2::SecurityGroup")
		var lbID, instID string
		for id := range groups {
			switch {
			case strings.HasPrefix(id, "WebLoadBalancerSecurityGroup"):
				lbID = id
			case strings.HasPrefix(id, "WebInstanceSecurityGroup"):
				instID = id
			}
		}
		lbIngress := at(groups[lbID], "Properties", "SecurityGroupIngress").([]any)
		if len(lbIngress) != 1 || at(lbIngress, 0, "CidrIp") != "0.0.0.0/0" || at(lbIngress, 0, "FromPort") != 80.0 || at(lbIngress, 0, "ToPort") != 80.0 {
			t.Errorf("load balancer ingress %v, want HTTP from AllowedCidr only", lbIngress)
		}
		if in := at(groups[instID], "Properties", "SecurityGroupIngress"); in != nil {
			t.Errorf("instance security group has inline ingress %v", in)
		}
		ingress := resources(tmpl, "AWS::EC2::SecurityGroupIngress")
		if len(ingress) != 1 {
			t.Fatalf("%d separate ingress rules, want 1", len(ingress))
		}
		for _, r := range ingress {
			p := props(r)
			want := map[string]any{
				"GroupId":               map[string]any{"Fn::GetAtt": []any{instID, "GroupId"}},
				"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{lbID, "GroupId"}},
				"FromPort":              80.0, "ToPort": 80.0, "IpProtocol": "tcp",
			}
			for k, v := range want {
				if !reflect.DeepEqual(p[k], v) {
					t.Errorf("instance ingress %s = %v, want %v", k, p[k], v)
				}
			}
		}
		narrow := synthLab(t, map[string]any{config.KeyAllowedCidr: "203.0.113.0/24"}).service
		for id, g := range resources(narrow, "AWS::EC2::SecurityGroup") {
			if strings.HasPrefix(id, "WebLoadBalancerSecurityGroup") {
				if got := at(g, "Properties", "SecurityGroupIngress", 0, "CidrIp"); got != "203.0.113.0/24" {
					t.Errorf("AllowedCidr not applied: %v", got)
				}
			}
		}
	})

	t.Run("auto scaling group", func(t *testing.T) {
		p := props(asg)
		want := map[string]any{"MinSize": "3", "DesiredCapacity": "3", "MaxSize": "4", "HealthCheckType": "EC2",
			"HealthCheckGracePeriod": lab.HealthCheckGracePeriod.Seconds()}
		for k, v := range want {
			if p[k] != v {
				t.Errorf("%s = %v, want %v", k, p[k], v)
			}
		}
		if n := len(p["VPCZoneIdentifier"].([]any)); n != ZoneCount {
			t.Errorf("group spans %d subnets, want %d", n, ZoneCount)
		}
		if !strings.Contains(render(p["VPCZoneIdentifier"]), "PrivateSubnet") {
			t.Errorf("instances not in the private subnets: %s", render(p["VPCZoneIdentifier"]))
		}
		if got := at(asg, "CreationPolicy", "ResourceSignal", "Count"); got != 3.0 {
			t.Errorf("CreationPolicy waits for %v signals, want 3", got)
		}
		ru := at(asg, "UpdatePolicy", "AutoScalingRollingUpdate").(map[string]any)
		if ru["MaxBatchSize"] != 1.0 || ru["MinInstancesInService"] != 3.0 || ru["WaitOnResourceSignals"] != true {
			t.Errorf("rolling update %v", ru)
		}
		six := synthLab(t, map[string]any{config.KeyDesiredCapacity: "6"}).service
		_, asg6 := only(t, six, "AWS::AutoScaling::AutoScalingGroup")
		if d, m := at(asg6, "Properties", "DesiredCapacity"), at(asg6, "Properties", "MaxSize"); d != "6" || m != "7" {
			t.Errorf("DesiredCapacity=6 gives desired %v max %v", d, m)
		}
	})

	t.Run("load balancer and target group", func(t *testing.T) {
		_, lb := only(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		if got := at(lb, "Properties", "Scheme"); got != "internet-facing" {
			t.Errorf("Scheme = %v", got)
		}
		_, tg := only(t, tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup")
		hc := lab.TargetGroupHealthCheck
		want := map[string]any{
			"HealthCheckPath":            hc.Path,
			"HealthCheckIntervalSeconds": hc.Interval.Seconds(),
			"HealthCheckTimeoutSeconds":  hc.Timeout.Seconds(),
			"HealthyThresholdCount":      float64(hc.HealthyThreshold),
			"UnhealthyThresholdCount":    float64(hc.UnhealthyThreshold),
			"Matcher":                    map[string]any{"HttpCode": hc.SuccessCodes},
			"Port":                       float64(lab.WebPort),
			"Protocol":                   "HTTP",
		}
		p := props(tg)
		for k, v := range want {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("target group %s = %v, want %v", k, p[k], v)
			}
		}
		delay := map[string]any{"Key": "deregistration_delay.timeout_seconds", "Value": fmt.Sprint(hc.DeregistrationDelay.Seconds())}
		found := false
		for _, a := range p["TargetGroupAttributes"].([]any) {
			found = found || reflect.DeepEqual(a, delay)
		}
		if !found {
			t.Errorf("attributes %v lack %v", p["TargetGroupAttributes"], delay)
		}
		_, l := only(t, tmpl, "AWS::ElasticLoadBalancingV2::Listener")
		if at(l, "Properties", "Port") != 80.0 || at(l, "Properties", "Protocol") != "HTTP" {
			t.Errorf("listener %v", props(l))
		}
	})

	t.Run("outputs", func(t *testing.T) {
		outputs := tmpl["Outputs"].(map[string]any)
		for _, name := range []string{OutputWebsiteURL, OutputHealthCheckURL, OutputTargetGroupArn,
			OutputAutoScalingGroupName, OutputParameterName, OutputNoDDBProfileName, OutputInstanceProfileName, OutputTableName} {
			if outputs[name] == nil {
				t.Errorf("output %s missing", name)
			}
		}
		if got := render(at(outputs, OutputHealthCheckURL, "Value")); !strings.HasPrefix(got, "http://") || !strings.HasSuffix(got, lab.TargetGroupHealthCheck.Path) {
			t.Errorf("HealthCheckURL = %s", got)
		}
		for key, profile := range map[string]string{OutputNoDDBProfileName: "NoDDBRoleProfile", OutputInstanceProfileName: "InstanceRolesRoleProfile"} {
			if got := render(at(outputs, key, "Value")); got != render(ref(resourceID(t, tmpl, "AWS::IAM::InstanceProfile", profile))) {
				t.Errorf("%s = %s, want the %s instance profile", key, got, profile)
			}
		}
	})

	t.Run("instances tagged with their ServerCode at launch", func(t *testing.T) {
		for _, code := range lab.ServerCodes {
			tmpl := synthLab(t, map[string]any{config.KeyServerCode: string(code)}).service
			_, lt := only(t, tmpl, "AWS::EC2::LaunchTemplate")
			var instanceTags []any
			for _, spec := range asList(at(lt, "Properties", "LaunchTemplateData", "TagSpecifications")) {
				if at(spec, "ResourceType") == "instance" {
					instanceTags = asList(at(spec, "Tags"))
				}
			}
			want := map[string]any{"Key": lab.ServerCodeTagKey, "Value": string(code)}
			found := false
			for _, tag := range instanceTags {
				found = found || reflect.DeepEqual(tag, want)
			}
			if !found {
				t.Errorf("%s: instance tags %v lack %v", code, instanceTags, want)
			}
		}
	})
}

// withoutServerCode returns a deep copy of a template without the launch template's user
// data and without the value of its ServerCode tags: the two places a ServerCode goes.
func withoutServerCode(t *testing.T, tmpl map[string]any) map[string]any {
	data, _ := json.Marshal(tmpl)
	var c map[string]any
	json.Unmarshal(data, &c)
	for _, lt := range resources(c, "AWS::EC2::LaunchTemplate") {
		ltData := at(lt, "Properties", "LaunchTemplateData").(map[string]any)
		delete(ltData, "UserData")
		for _, specs := range []any{ltData["TagSpecifications"], at(lt, "Properties", "TagSpecifications")} {
			for _, spec := range asList(specs) {
				for _, tag := range asList(at(spec, "Tags")) {
					if tag, ok := tag.(map[string]any); ok && tag["Key"] == lab.ServerCodeTagKey {
						tag["Value"] = "any"
					}
				}
			}
		}
	}
	return c
}

// withoutImage returns a template without the launch template's image and the AMI parameters.
func withoutImage(tmpl map[string]any) map[string]any {
	data, _ := json.Marshal(tmpl)
	var c map[string]any
	json.Unmarshal(data, &c)
	for _, lt := range resources(c, "AWS::EC2::LaunchTemplate") {
		delete(at(lt, "Properties", "LaunchTemplateData").(map[string]any), "ImageId")
	}
	for name := range asMap(c["Parameters"]) {
		if strings.Contains(fmt.Sprint(at(c, "Parameters", name, "Default")), "ami-amazon-linux-latest") {
			delete(c["Parameters"].(map[string]any), name)
		}
	}
	return c
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// changedParts names the sections and resources that differ between two templates.
func changedParts(a, b map[string]any) []string {
	var out []string
	for _, section := range []string{"Resources", "Outputs", "Parameters", "Conditions", "Rules", "Description"} {
		as, _ := a[section].(map[string]any)
		bs, _ := b[section].(map[string]any)
		if as == nil || bs == nil {
			if !reflect.DeepEqual(a[section], b[section]) {
				out = append(out, section)
			}
			continue
		}
		for id := range as {
			if !reflect.DeepEqual(as[id], bs[id]) {
				out = append(out, section+"."+id)
			}
		}
		for id := range bs {
			if _, ok := as[id]; !ok {
				out = append(out, section+"."+id)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestServerCodeChangesOnlyUserData(t *testing.T) {
	base := synthLab(t, map[string]any{config.KeyServerCode: string(lab.CodeBasic)})
	for _, code := range []lab.ServerCode{lab.CodeErrorHandling, lab.CodeHealthCheck} {
		t.Run(string(code), func(t *testing.T) {
			other := synthLab(t, map[string]any{config.KeyServerCode: string(code)})
			if !reflect.DeepEqual(base.network, other.network) {
				t.Errorf("the network stack changed")
			}
			if a, b := withoutServerCode(t, base.service), withoutServerCode(t, other.service); !reflect.DeepEqual(a, b) {
				t.Errorf("the HealthCheckLab template changed beyond the user data and the ServerCode tag, in %v", changedParts(a, b))
			}
			// The user data differs in the server code line alone. The group's reference to
			// the template's LatestVersionNumber then rolls the instances.
			a, b := strings.Split(userData(t, base.service), "\n"), strings.Split(userData(t, other.service), "\n")
			if len(a) != len(b) {
				t.Fatalf("user data has %d lines, was %d", len(b), len(a))
			}
			var diff []string
			for i := range a {
				if a[i] != b[i] {
					diff = append(diff, a[i]+" -> "+b[i])
				}
			}
			if want := []string{"SERVER_CODE=basic -> SERVER_CODE=" + string(code)}; !reflect.DeepEqual(diff, want) {
				t.Errorf("user data changes %v, want %v", diff, want)
			}
		})
	}
	t.Run("the group follows the launch template's latest version", func(t *testing.T) {
		ltID, _ := only(t, base.service, "AWS::EC2::LaunchTemplate")
		_, asg := only(t, base.service, "AWS::AutoScaling::AutoScalingGroup")
		want := map[string]any{"Fn::GetAtt": []any{ltID, "LatestVersionNumber"}}
		if got := at(asg, "Properties", "LaunchTemplate", "Version"); !reflect.DeepEqual(got, want) {
			t.Errorf("version %v, want %v", got, want)
		}
	})
}

// TestAsgHealthCheckChangesOnlyTheGroup: -c AsgHealthCheck=ELB changes the group's health
// check type and nothing else (the grace period stays), so `cdk diff` shows that one change.
func TestAsgHealthCheckChangesOnlyTheGroup(t *testing.T) {
	for _, code := range lab.ServerCodes {
		t.Run(string(code), func(t *testing.T) {
			ec2 := synthLab(t, map[string]any{config.KeyServerCode: string(code)})
			elb := synthLab(t, map[string]any{config.KeyServerCode: string(code), config.KeyAsgHealthCheck: string(lab.AsgHealthCheckELB)})
			if !reflect.DeepEqual(ec2.network, elb.network) {
				t.Errorf("the network stack changed")
			}
			asgID, asgEC2 := only(t, ec2.service, "AWS::AutoScaling::AutoScalingGroup")
			if got := changedParts(ec2.service, elb.service); !reflect.DeepEqual(got, []string{"Resources." + asgID}) {
				t.Fatalf("changed %v, want only the group %s", got, asgID)
			}
			_, asgELB := only(t, elb.service, "AWS::AutoScaling::AutoScalingGroup")
			var diff []string
			for k, v := range props(asgELB) {
				if !reflect.DeepEqual(v, props(asgEC2)[k]) {
					diff = append(diff, fmt.Sprintf("%s: %v -> %v", k, props(asgEC2)[k], v))
				}
			}
			for k := range props(asgEC2) {
				if _, ok := props(asgELB)[k]; !ok {
					diff = append(diff, k+" removed")
				}
			}
			sort.Strings(diff)
			if want := []string{"HealthCheckType: EC2 -> ELB"}; !reflect.DeepEqual(diff, want) {
				t.Errorf("group properties changed %v, want %v", diff, want)
			}
			if g := at(asgELB, "Properties", "HealthCheckGracePeriod"); g != lab.HealthCheckGracePeriod.Seconds() {
				t.Errorf("ELB grace period %v, want %v", g, lab.HealthCheckGracePeriod.Seconds())
			}
			for _, part := range []string{"CreationPolicy", "UpdatePolicy", "DependsOn", "Metadata"} {
				if !reflect.DeepEqual(asgEC2[part], asgELB[part]) {
					t.Errorf("group %s changed", part)
				}
			}
		})
	}
	t.Run("cdk.json declares the default", func(t *testing.T) {
		if got := cdkJSONContext(t)[config.KeyAsgHealthCheck]; got != string(config.Defaults.AsgHealthCheck) {
			t.Errorf("cdk.json %s = %v, want %s", config.KeyAsgHealthCheck, got, config.Defaults.AsgHealthCheck)
		}
	})
}

func TestInvalidContextStopsSynthesis(t *testing.T) {
	tests := []struct {
		key  string
		val  any
		want string
	}{
		{config.KeyServerCode, "deep", `invalid ServerCode "deep": must be one of basic, errorhandling, healthcheck`},
		{config.KeyDesiredCapacity, "2", "between 3 and 6"},
		{config.KeyInstanceType, "large", "InstanceType"},
		{config.KeyAsgHealthCheck, "elb", `invalid AsgHealthCheck "elb": must be one of EC2, ELB`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			app := newTestApp(t, map[string]any{tt.key: tt.val}, false)
			l, err := NewLab(app, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewLab with %s=%v: %v, %v; want error %q", tt.key, tt.val, l, err, tt.want)
			}
			if n := len(*app.Node().Children()); n != 0 {
				t.Errorf("%d constructs declared despite the error", n)
			}
		})
	}
}

var nagRule = regexp.MustCompile(`^AwsSolutions-[A-Z0-9]+$`)

func TestCdkNag(t *testing.T) {
	s := synthLab(t, nil)
	for _, stack := range []awscdk.Stack{s.lab.Network.Stack, s.lab.Service.Stack} {
		t.Run(*stack.StackName(), func(t *testing.T) {
			ann := assertions.Annotations_FromStack(stack)
			match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			for _, m := range append(*ann.FindError(jsii.String("*"), match), *ann.FindWarning(jsii.String("*"), match)...) {
				t.Errorf("unsuppressed finding at %s: %v", *m.Id, m.Entry.Data)
			}
		})
	}
	t.Run("every suppression names its rule and a reason", func(t *testing.T) {
		count := 0
		for _, tmpl := range []map[string]any{s.network, s.service} {
			for id, r := range tmpl["Resources"].(map[string]any) {
				rules, _ := at(r, "Metadata", "cdk_nag", "rules_to_suppress").([]any)
				for _, rule := range rules {
					count++
					ruleID, _ := at(rule, "id").(string)
					reason, _ := at(rule, "reason").(string)
					if !nagRule.MatchString(ruleID) || len(reason) < 40 || strings.Contains(reason, "\n") {
						t.Errorf("%s: suppression %v needs an AwsSolutions rule id and a one-line reason", id, rule)
					}
				}
			}
		}
		if count == 0 {
			t.Errorf("no suppressions found: the metadata this test reads has moved")
		}
	})
	t.Run("the checks run", func(t *testing.T) {
		// The same VPC without its suppression must be reported, or the test above proves nothing.
		app := newTestApp(t, nil, false)
		n := NewNetworkStack(app, "Unsuppressed", &NetworkStackProps{NatGateways: 1})
		l, err := NewLab(app, nil)
		if err != nil || l == nil {
			t.Fatal(err)
		}
		// Error annotations fail synthesis (cdk.json's annotationsInValidationReport), and the
		// validation report names the rule.
		failed := func() (failed bool) {
			defer func() { failed = recover() != nil }()
			assertions.Template_FromStack(n.Stack, nil)
			return false
		}()
		report, _ := os.ReadFile(filepath.Join(*app.Outdir(), "validation-report.json"))
		if !failed || !strings.Contains(string(report), "AwsSolutions-VPC7") {
			t.Errorf("an unsuppressed finding did not fail synthesis (failed=%v, report %.200s)", failed, report)
		}
	})
}

func TestSynthesisIsDeterministic(t *testing.T) {
	a := synthLab(t, nil)
	b := newTestApp(t, nil, false)
	l, err := NewLab(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.service, templateJSON(l.Service.Stack)) || !reflect.DeepEqual(a.network, templateJSON(l.Network.Stack)) {
		t.Errorf("two syntheses of the same source differ")
	}
}

// TestCDKJSONSetsRecommendedFeatureFlags compares cdk.json with the recommended flags that
// ship inside the linked aws-cdk-lib, so that synthesis prints no feature-flag warning.
func TestCDKJSONSetsRecommendedFeatureFlags(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if err != nil || dir == "" {
		t.Fatalf("locating aws-cdk-go: %q %v", out, err)
	}
	tgz := filepath.Join(dir, "jsii", "aws-cdk-lib-"+strings.TrimPrefix(version, "v")+".tgz")
	recommended := readTarJSON(t, tgz, "package/recommended-feature-flags.json")
	ctx := cdkJSONContext(t)
	if len(recommended) < 50 {
		t.Fatalf("only %d recommended flags read from %s", len(recommended), tgz)
	}
	for flag, want := range recommended {
		if got, ok := ctx[flag]; !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("cdk.json %s = %v, recommended %v", flag, got, want)
		}
	}
}

func readTarJSON(t *testing.T, tgz, name string) map[string]any {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, tgz, err)
		}
		if h.Name == name {
			var v map[string]any
			if err := json.NewDecoder(tr).Decode(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
}

// TestAppReportsInvalidServerCode runs the app the way the CDK CLI does (context in
// CDK_CONTEXT_JSON) and expects it to stop with the message naming the three codes.
func TestAppReportsInvalidServerCode(t *testing.T) {
	cmd := exec.Command("go", "run", "healthchecklab")
	cmd.Env = append(os.Environ(), `CDK_CONTEXT_JSON={"ServerCode":"deep"}`, "CDK_OUTDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	want := `healthchecklab: invalid context: invalid ServerCode "deep": must be one of basic, errorhandling, healthcheck`
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("app with ServerCode=deep: %v\n%s\nwant a failure saying %q", err, out, want)
	}
}

// TestFunctionLogsGoWithTheStack checks that every Lambda function of both stacks writes to a
// log group the stack declares and deletes, so `cdk destroy --all` leaves no log group behind.
func TestFunctionLogsGoWithTheStack(t *testing.T) {
	s := synthLab(t, nil)
	for name, tmpl := range map[string]map[string]any{"network": s.network, "service": s.service} {
		t.Run(name, func(t *testing.T) {
			groups := resources(tmpl, "AWS::Logs::LogGroup")
			for id, g := range groups {
				if g["DeletionPolicy"] != "Delete" || g["UpdateReplacePolicy"] != "Delete" {
					t.Errorf("log group %s outlives the stack: %v / %v", id, g["DeletionPolicy"], g["UpdateReplacePolicy"])
				}
				if got := at(g, "Properties", "RetentionInDays"); got != 7.0 {
					t.Errorf("log group %s keeps logs %v days, want 7", id, got)
				}
			}
			functions := resources(tmpl, "AWS::Lambda::Function")
			if len(functions) == 0 {
				t.Fatal("no function: the stack no longer needs this test, or the template moved")
			}
			for id, f := range functions {
				ref, _ := at(f, "Properties", "LoggingConfig", "LogGroup", "Ref").(string)
				if _, ok := groups[ref]; !ok {
					t.Errorf("function %s logs to %v, not to a log group of the stack", id, at(f, "Properties", "LoggingConfig"))
				}
			}
			if len(groups) != len(functions) {
				t.Errorf("%d log groups for %d functions", len(groups), len(functions))
			}
		})
	}
}
