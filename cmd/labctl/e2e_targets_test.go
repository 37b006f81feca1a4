package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/locallab"
)

// setLocalEnv applies `labctl local env` to the test's environment as `eval` in a shell
// would (a real sh evaluates the lines), with the machine's AWS files and instance metadata
// out of the way.
func setLocalEnv(t *testing.T, state string) {
	t.Helper()
	saved := via
	via = ""
	lines := mustLabctl(t, state, "local", "env")
	via = saved
	cmd := exec.Command("sh", "-c", `eval "$1" && env`, "sh", lines)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("eval of labctl local env: %v\n%s", err, lines)
	}
	after := map[string]string{}
	for _, kv := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_") {
			after[k] = v
		}
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			if _, kept := after[k]; !kept {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
		}
	}
	for k, v := range after {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if os.Getenv("AWS_ENDPOINT_URL") == "" || os.Getenv("AWS_REGION") != locallab.Region {
		t.Fatalf("labctl local env did not set AWS_ENDPOINT_URL and AWS_REGION:\n%s", lines)
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// checkBothTargets: each verb's first line names its target, and the default target (the
// running lab), --target aws and LABCTL_TARGET=aws see the same targets through the SDK.
func checkBothTargets(t *testing.T, state string) {
	t.Helper()
	st, err := labclient.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	via = ""
	if got, want := firstLine(mustLabctl(t, state, "status")), "local lab at "+st.URL; got != want {
		t.Fatalf("first line on the local target %q, want %q", got, want)
	}
	local := status(t, state)
	via = "aws"
	awsLine := regexp.MustCompile(`^` + lab.ServiceStackName + ` in ` + locallab.Region + ` \(account \d{12}\)$`)
	if got := firstLine(mustLabctl(t, state, "status")); !awsLine.MatchString(got) {
		t.Fatalf("first line with --target aws %q, want %s", got, awsLine)
	}
	remote := status(t, state)
	via = ""
	var out, errOut bytes.Buffer
	env := func(k string) string { return map[string]string{"LABCTL_TARGET": "aws"}[k] }
	if code := run(context.Background(), []string{"sample", "-n", "3", "--state", state}, &out, &errOut, env); code != 0 ||
		!awsLine.MatchString(firstLine(out.String())) {
		t.Fatalf("LABCTL_TARGET=aws: exit %d, first line %q, stderr %s", code, firstLine(out.String()), errOut.String())
	}
	// A status taken while EC2 does not know an instance yet (eventual consistency) leaves it
	// out rather than failing: Instances filters on instance-id.
	tgt, err := target.Resolve(context.Background(), target.Options{Flag: "local", Stack: lab.ServiceStackName, StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	known := local.Targets[0].InstanceID
	insts, err := actions.New(tgt.Config).Instances(context.Background(), known, "i-0fffffffffffffff0")
	if err != nil || len(insts) != 1 || *insts[0].InstanceId != known {
		t.Fatalf("Instances(%s, unknown) = %d instances, %v; want the known one only", known, len(insts), err)
	}
	// watch with --target aws: the first line, then the view, until interrupted.
	var watchOut syncBuffer
	wctx, wcancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	code := run(wctx, []string{"--target", "aws", "watch", "--interval", "200ms", "--state", state}, &watchOut, &watchOut, noEnv)
	wcancel()
	if w := watchOut.String(); code != 0 || !awsLine.MatchString(firstLine(w)) || strings.Count(w, "healthy") < 3 || !strings.Contains(w, "c local-1c") {
		t.Fatalf("watch --target aws: exit %d:\n%s", code, w)
	}
	if local.Target != "local" || remote.Target != "aws" || local.Counters == nil || remote.Counters != nil {
		t.Fatalf("targets %q and %q, counters %v and %v: only the local target has the load balancer's counters",
			local.Target, remote.Target, local.Counters, remote.Counters)
	}
	if len(local.Targets) != 3 || len(remote.Targets) != 3 || local.URL != remote.URL || local.Parameter != remote.Parameter {
		t.Fatalf("local and aws targets differ:\n%+v\n%+v", local, remote)
	}
	for i := range local.Targets {
		l, r := local.Targets[i], remote.Targets[i]
		if l.InstanceID != r.InstanceID || l.Zone != r.Zone || l.Letter != r.Letter || l.Role != r.Role || l.ServerCode != r.ServerCode {
			t.Fatalf("target %d: local %+v, aws %+v", i, l, r)
		}
	}
}

// checkErrorLines runs the error cases a user meets with a lab running: each is one line
// naming the AWS error code (where AWS gave one) and what to do, with a non-zero exit.
func checkErrorLines(t *testing.T, state string) {
	t.Helper()
	st, err := labclient.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	role, ok := st.RoleCredentials[lab.RoleName(lab.DefaultNamingPrefix)]
	if !ok {
		t.Fatalf("state file has no credentials of %s", lab.RoleName(lab.DefaultNamingPrefix))
	}
	tests := []struct {
		name   string
		target string
		env    map[string]string
		args   []string
		want   string
	}{
		{"unknown zone", "", nil, []string{"fault", "stale-credentials", "--az", "d"},
			`unknown zone "d": use a zone letter or name of the group, a (local-1a), b (local-1b), c (local-1c) (e.g. --az c)`},
		{"unknown zone on aws", "aws", nil, []string{"repair", "--az", "q"}, `unknown zone "q": use a zone letter or name of the group, a (local-1a)`},
		{"stack missing", "", nil, []string{"--stack", "Nope", "status"},
			"stack Nope not found in the local lab (ValidationError): check --stack (the lab's stack is HealthCheckLab)"},
		{"stack missing on aws", "aws", nil, []string{"--stack", "Nope", "status"},
			"stack Nope not found in region local-1 (ValidationError)"},
		{"instance role denied", "aws", map[string]string{"AWS_ACCESS_KEY_ID": role.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY": role.SecretAccessKey, "AWS_SESSION_TOKEN": role.SessionToken},
			[]string{"status"}, "may not call cloudformation:DescribeStacks (AccessDenied"},
		{"wrong secret", "aws", map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret"},
			[]string{"status"}, "(SignatureDoesNotMatch): the secret key does not belong to the access key"},
		{"unknown key", "aws", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"},
			[]string{"status"}, "the access key is not valid in region local-1"},
	}
	old := zoneTarget(status(t, state), "a").InstanceID
	tests = append(tests, struct {
		name   string
		target string
		env    map[string]string
		args   []string
		want   string
	}{"repair past its deadline", "aws", nil, []string{"repair", "--az", "a", "--timeout", "1ms"},
		"the replacement of " + old + " in local-1a: not done after 1ms"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"--state", state}, tt.args...)
			if tt.target != "" {
				args = append([]string{"--target", tt.target}, args...)
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, &out, &errOut, noEnv)
			msg := errOut.String()
			if code == 0 || !strings.HasPrefix(msg, "labctl: ") || !strings.Contains(msg, tt.want) ||
				strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q: want one line containing %q and a non-zero exit", code, msg, tt.want)
			}
		})
	}
	// The repair that labctl gave up on goes on: zone a gets its replacement.
	eventually(t, "zone a replaced after the repair's deadline", func() (bool, string) {
		st := status(t, state)
		if a := zoneTarget(st, "a"); a.InstanceID == old || a.State != "healthy" {
			return false, fmt.Sprintf("zone a: %+v", a)
		}
		return allCurrent(st, func(tg view.Target) bool { return tg.State == "healthy" })
	})
}

// deployOnAWSStreamsTargetHealth runs `deploy --target aws` with a stand-in npx that does
// what a rolling update does to one instance, through the real AWS CLI against the lab's
// endpoint: terminate it, then wait until a replacement is healthy. The deploy must show
// the target-health changes while the command runs. (This checks labctl's handling of the
// command and its target-health stream; it is no proof of what CloudFormation does.)
func deployOnAWSStreamsTargetHealth(t *testing.T, state string) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Log("deploy --target aws stream not checked: the AWS CLI (aws) is not installed")
		return
	}
	via = "aws"
	old := zoneTarget(status(t, state), "a").InstanceID
	out, err := exec.Command("aws", "cloudformation", "describe-stacks", "--stack-name", lab.ServiceStackName,
		"--query", "Stacks[0].Outputs[?OutputKey=='"+lab.OutputTargetGroupArn+"'].OutputValue", "--output", "text").Output()
	if err != nil {
		t.Fatalf("aws cloudformation describe-stacks: %v", err)
	}
	m := strings.TrimSpace(string(out))
	dir := t.TempDir()
	// A first deploy: the stack does not exist yet, which is no error for deploy.
	if err := os.WriteFile(filepath.Join(dir, "npx"), []byte("#!/bin/sh\necho \"stand-in: npx $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	first := mustLabctl(t, state, "--stack", "Fresh", "deploy", "--server-code", "basic")
	if firstLine(first) != "Fresh in local-1 (not deployed yet)" ||
		!strings.Contains(first, "cdk │ stand-in: npx cdk deploy Fresh -c ServerCode=basic --require-approval never") {
		t.Fatalf("first deploy of a stack:\n%s", first)
	}
	script := fmt.Sprintf(`#!/bin/sh
aws ec2 terminate-instances --instance-ids %[1]s --output text >/dev/null || exit 9
echo "stand-in deploy: %[1]s terminated"
i=0
while [ $i -lt 90 ]; do
  ids=$(aws elbv2 describe-target-health --target-group-arn '%[2]s' \
        --query "TargetHealthDescriptions[?TargetHealth.State=='healthy'].Target.Id" --output text)
  case "$ids" in *%[1]s*) ;; *) set -- $ids; [ $# -ge 3 ] && { echo "stand-in deploy: 3 healthy"; exit 0; } ;; esac
  sleep 0.5; i=$((i+1))
done
echo "stand-in deploy: no healthy replacement" >&2; exit 7
`, old, m)
	if err := os.WriteFile(filepath.Join(dir, "npx"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deployed := mustLabctl(t, state, "deploy", "--server-code", "healthcheck")
	if !strings.Contains(deployed, "cdk │ stand-in deploy: 3 healthy") || !strings.Contains(deployed, "deployed") {
		t.Fatalf("deploy --target aws output:\n%s", deployed)
	}
	changed := regexp.MustCompile(`target (i-0[0-9a-f]{16}) \(local-1a\): healthy`).FindAllStringSubmatch(deployed, -1)
	replaced := false
	for _, c := range changed {
		replaced = replaced || c[1] != old
	}
	if !replaced || !regexp.MustCompile(`target `+old+` (\(local-1a\): draining|: deregistered)`).MatchString(deployed) {
		t.Fatalf("deploy --target aws did not show zone a's target changes (old %s) in %s:\n%s", old, time.Since(start), deployed)
	}
}

// interruptRepairOnAWS presses Ctrl-C during `repair --target aws`: labctl stops waiting,
// says that the replacement goes on and how to follow it, and exits 130; the lab's Auto
// Scaling finishes the replacement anyway.
func interruptRepairOnAWS(t *testing.T, state string) {
	t.Helper()
	via = "aws"
	old := zoneTarget(status(t, state), "b").InstanceID
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--target", "aws", "repair", "--az", "b", "--state", state}, out, errOut, noEnv)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "Auto Scaling:"); {
		if time.Now().After(deadline) {
			t.Fatalf("repair did not start:\n%s%s", out, errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel() // what Ctrl-C does to labctl's context
	code := <-done
	want := "labctl: interrupted: the replacement of " + old + " in local-1b keeps going on AWS; follow it with `labctl --target aws watch`"
	if code != 130 || !strings.HasPrefix(errOut.String(), want) {
		t.Fatalf("repair after Ctrl-C: exit %d, stderr %q; want 130 and %q", code, errOut.String(), want)
	}
	eventually(t, "the interrupted repair finishes without labctl", func() (bool, string) {
		st := status(t, state)
		if b := zoneTarget(st, "b"); b.InstanceID == old || b.State != "healthy" {
			return false, fmt.Sprintf("zone b: %+v", b)
		}
		return allCurrent(st, func(tg view.Target) bool { return tg.State == "healthy" })
	})
}
