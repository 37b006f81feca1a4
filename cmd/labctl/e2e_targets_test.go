package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/locallab"
)

// localEnv returns the environment of a shell that evaluated `labctl local env` for the
// lab (a real sh evaluates the lines), with the machine's AWS files and instance metadata out
// of the way: what --target aws reads through the SDK's standard configuration.
func (l *testLab) localEnv(t *testing.T) []string {
	t.Helper()
	if l.env != nil {
		return l.env
	}
	lines := mustLabctl(t, l.state, "local", "env")
	cmd := exec.Command("sh", "-c", `eval "$1" && env`, "sh", lines)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("eval of labctl local env: %v\n%s", err, lines)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	set := map[string]bool{}
	for _, kv := range strings.Split(string(out), "\n") {
		if k, _, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_") {
			env = append(env, kv)
			set[k] = true
		}
	}
	if !set["AWS_ENDPOINT_URL"] || !set["AWS_REGION"] {
		t.Fatalf("labctl local env did not set AWS_ENDPOINT_URL and AWS_REGION:\n%s", lines)
	}
	l.env = append(env, "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_EC2_METADATA_DISABLED=true")
	return l.env
}

// awsCommand is `labctl args…` as its own process (the test binary acting as labctl) in the
// lab's local env plus extra ("K=V", later ones win). The SDK reads its configuration from
// the process environment, which tests running side by side must leave alone.
func (l *testLab) awsCommand(t *testing.T, ctx context.Context, extra []string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, append(args, "--state", l.state)...)
	cmd.Env = append(append(slices.Clip(l.localEnv(t)), asLabctl+"=1", "NO_COLOR=1", "LABCTL_STATE=", "XDG_RUNTIME_DIR="), extra...)
	return cmd
}

// awsctl runs `labctl args…` in the lab's local env plus extra and returns its output and
// exit code.
func (l *testLab) awsctl(t *testing.T, extra []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := l.awsCommand(t, ctx, extra, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("labctl %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// onAWS runs `labctl --target aws args…` in the lab's local env; it fails the test unless
// it exits 0.
func (l *testLab) onAWS(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := l.awsctl(t, nil, append([]string{"--target", "aws"}, args...)...)
	if code != 0 {
		t.Fatalf("labctl --target aws %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut))
	}
	return out
}

// statusOnAWS is `labctl --target aws status --json`.
func (l *testLab) statusOnAWS(t *testing.T) labops.Status {
	t.Helper()
	var st labops.Status
	if err := json.Unmarshal([]byte(l.onAWS(t, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// checkBothTargets: each verb's first line names its target, and the default target (the
// running lab), --target aws and LABCTL_TARGET=aws see the same targets through the SDK.
func checkBothTargets(t *testing.T, l *testLab) {
	t.Helper()
	state := l.state
	st, err := labclient.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := firstLine(mustLabctl(t, state, "status")), "local lab at "+st.URL; got != want {
		t.Fatalf("first line on the local target %q, want %q", got, want)
	}
	local := status(t, state)
	awsLine := regexp.MustCompile(`^` + lab.ServiceStackName + ` in ` + locallab.Region + ` \(account \d{12}\)$`)
	if got := firstLine(l.onAWS(t, "status")); !awsLine.MatchString(got) {
		t.Fatalf("first line with --target aws %q, want %s", got, awsLine)
	}
	remote := l.statusOnAWS(t)
	if out, errOut, code := l.awsctl(t, []string{"LABCTL_TARGET=aws"}, "sample", "-n", "3"); code != 0 || !awsLine.MatchString(firstLine(out)) {
		t.Fatalf("LABCTL_TARGET=aws: exit %d, first line %q, stderr %s", code, firstLine(out), errOut)
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
	// watch with --target aws: the first line, then the view, until interrupted (Ctrl-C).
	var watchOut syncBuffer
	watch := l.awsCommand(t, context.Background(), nil, "--target", "aws", "watch", "--interval", "200ms")
	watch.Stdout, watch.Stderr = &watchOut, &watchOut
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); strings.Count(watchOut.String(), "healthy") < 3 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if err := watch.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := watch.Wait(); err != nil || !awsLine.MatchString(firstLine(watchOut.String())) ||
		strings.Count(watchOut.String(), "healthy") < 3 || !strings.Contains(watchOut.String(), "c local-1c") {
		t.Fatalf("watch --target aws: %v:\n%s", err, watchOut.String())
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
func checkErrorLines(t *testing.T, l *testLab) {
	t.Helper()
	state := l.state
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
			var msg string
			var code int
			if tt.target == "" {
				var out, errOut bytes.Buffer
				code = run(context.Background(), append([]string{"--state", state}, tt.args...), &out, &errOut, noEnv)
				msg = errOut.String()
			} else {
				var extra []string
				for k, v := range tt.env {
					extra = append(extra, k+"="+v)
				}
				_, msg, code = l.awsctl(t, extra, append([]string{"--target", tt.target}, tt.args...)...)
			}
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
func deployOnAWSStreamsTargetHealth(t *testing.T, l *testLab) {
	t.Helper()
	aws := awsCLI(t)
	if aws == "" {
		t.Log("deploy --target aws stream not checked: the AWS CLI (aws) is not installed")
		return
	}
	old := zoneTarget(l.statusOnAWS(t), "a").InstanceID
	describe := exec.Command(aws, "cloudformation", "describe-stacks", "--stack-name", lab.ServiceStackName,
		"--query", "Stacks[0].Outputs[?OutputKey=='"+lab.OutputTargetGroupArn+"'].OutputValue", "--output", "text")
	describe.Env = l.localEnv(t)
	out, err := describe.Output()
	if err != nil {
		t.Fatalf("aws cloudformation describe-stacks: %v", err)
	}
	m := strings.TrimSpace(string(out))
	dir := t.TempDir()
	// The stand-in npx and the AWS CLI it calls come first on the PATH.
	if err := os.Symlink(aws, filepath.Join(dir, "aws")); err != nil {
		t.Fatal(err)
	}
	path := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}
	deploy := func(args ...string) string {
		t.Helper()
		out, errOut, code := l.awsctl(t, path, append([]string{"--target", "aws"}, args...)...)
		if code != 0 {
			t.Fatalf("labctl --target aws %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut))
		}
		return out
	}
	// A first deploy: the stack does not exist yet, which is no error for deploy.
	if err := os.WriteFile(filepath.Join(dir, "npx"), []byte("#!/bin/sh\necho \"stand-in: npx $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	first := deploy("--stack", "Fresh", "deploy", "--server-code", "basic")
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
	deployed := deploy("deploy", "--server-code", "healthcheck")
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
func interruptRepairOnAWS(t *testing.T, l *testLab) {
	t.Helper()
	old := zoneTarget(status(t, l.state), "b").InstanceID
	out, errOut := &syncBuffer{}, &syncBuffer{}
	repair := l.awsCommand(t, context.Background(), nil, "--target", "aws", "repair", "--az", "b")
	repair.Stdout, repair.Stderr = out, errOut
	if err := repair.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "Auto Scaling:"); {
		if time.Now().After(deadline) {
			_ = repair.Process.Kill()
			t.Fatalf("repair did not start:\n%s%s", out, errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := repair.Process.Signal(os.Interrupt); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	err := repair.Wait()
	var exit *exec.ExitError
	want := "labctl: interrupted: the replacement of " + old + " in local-1b keeps going on AWS; follow it with `labctl --target aws watch`"
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.HasPrefix(errOut.String(), want) {
		t.Fatalf("repair after Ctrl-C: %v, stderr %q; want exit 130 and %q", err, errOut.String(), want)
	}
	eventually(t, "the interrupted repair finishes without labctl", func() (bool, string) {
		st := status(t, l.state)
		if b := zoneTarget(st, "b"); b.InstanceID == old || b.State != "healthy" {
			return false, fmt.Sprintf("zone b: %+v", b)
		}
		return allCurrent(st, func(tg view.Target) bool { return tg.State == "healthy" })
	})
}
