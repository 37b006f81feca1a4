package labops

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/repo"
)

func TestZones(t *testing.T) {
	zones := []string{"eu-west-1c", "eu-west-1a", "eu-west-1b"} // as a group may list them
	if got := ZoneLetters(zones); got["eu-west-1a"] != "a" || got["eu-west-1c"] != "c" || len(got) != 3 {
		t.Fatalf("ZoneLetters = %v", got)
	}
	tests := []struct{ in, want, err string }{
		{"c", "eu-west-1c", ""},
		{" B ", "eu-west-1b", ""},
		{"eu-west-1a", "eu-west-1a", ""},
		{"d", "", `unknown zone "d": use a zone letter or name of the group, a (eu-west-1a), b (eu-west-1b), c (eu-west-1c) (e.g. --az c)`},
		{"us-east-1c", "", `unknown zone "us-east-1c"`},
		{"", "", `unknown zone ""`},
	}
	for _, tt := range tests {
		got, err := ParseZone(zones, tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseZone(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestProfileName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::123456789012:instance-profile/WebApp1-EC2-noDDB-Role-HealthCheckLab": "WebApp1-EC2-noDDB-Role-HealthCheckLab",
		"arn:aws:iam::123456789012:instance-profile/lab/path/Prof":                         "Prof",
		"not-an-arn": "not-an-arn",
	} {
		if got := actions.ProfileName(in); got != want {
			t.Errorf("ProfileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeNPX puts an `npx` on PATH that runs script (sh).
func fakeNPX(t *testing.T, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "npx"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// unreachableLab is an AWS-target lab whose endpoint refuses connections: the deploy's
// target-health reports fail (and say so) while the process handling is under test.
func unreachableLab() *Lab {
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: aws.AnonymousCredentials{}}
	return &Lab{T: &target.Where{Kind: target.AWS, Stack: lab.ServiceStackName, Config: cfg}, A: actions.New(cfg),
		Stack: actions.Stack{Name: lab.ServiceStackName, Outputs: map[string]string{
			lab.OutputTargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/1", lab.OutputAutoScalingGroupName: "g",
		}}}
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (w *lines) add(s string) { w.mu.Lock(); w.l = append(w.l, s); w.mu.Unlock() }
func (w *lines) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.l, "\n")
}

// TestDeployOnAWSRunsCDK checks the process handling of `deploy` on AWS with a stand-in
// npx: the command line and directory, its output passed on, failure and Ctrl-C.
func TestDeployOnAWSRunsCDK(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("success", func(t *testing.T) {
		fakeNPX(t, `echo "in $PWD: npx $*"; echo "progress on stderr" >&2`)
		var out lines
		if err := unreachableLab().Deploy(context.Background(), lab.CodeHealthCheck, out.add); err != nil {
			t.Fatalf("Deploy: %v\n%s", err, &out)
		}
		want := "cdk │ in " + root + ": npx cdk deploy HealthCheckLab -c ServerCode=healthcheck --require-approval never"
		if s := out.String(); !strings.Contains(s, want) || !strings.Contains(s, "cdk │ progress on stderr") || !strings.Contains(s, "deployed") {
			t.Fatalf("output:\n%s\nwant a line with %q, stderr passed on, and deployed", s, want)
		}
	})
	t.Run("failure", func(t *testing.T) {
		fakeNPX(t, `echo "HealthCheckLab failed: UPDATE_ROLLBACK_COMPLETE" >&2; exit 3`)
		var out lines
		err := unreachableLab().Deploy(context.Background(), lab.CodeBasic, out.add)
		if err == nil || err.Error() != "npx cdk deploy failed (exit 3): see cdk's output above" {
			t.Fatalf("Deploy = %v", err)
		}
		if s := out.String(); !strings.Contains(s, "UPDATE_ROLLBACK_COMPLETE") || strings.Contains(s, "deployed") {
			t.Fatalf("output:\n%s", s)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		marker := filepath.Join(t.TempDir(), "got-int")
		fakeNPX(t, `trap 'echo stopped > `+marker+`; exit 143' TERM; echo started; while :; do sleep 0.1; done`)
		ctx, cancel := context.WithCancel(context.Background())
		var out lines
		done := make(chan error, 1)
		go func() { done <- unreachableLab().Deploy(ctx, lab.CodeBasic, out.add) }()
		for !strings.Contains(out.String(), "cdk │ started") {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		err := <-done
		var stop *Interrupted
		if !errors.As(err, &stop) || !strings.Contains(err.Error(), "CloudFormation keeps updating stack HealthCheckLab on AWS") ||
			!strings.Contains(err.Error(), "aws cloudformation describe-stack-events --stack-name HealthCheckLab") {
			t.Fatalf("Deploy after Ctrl-C = %v", err)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Fatal("cdk was not interrupted")
		}
	})
}

// TestStatusJSONShape: tools read `status --json`'s targets by these keys; they must stay.
func TestStatusJSONShape(t *testing.T) {
	b, err := json.Marshal(Status{Targets: []view.Target{{Zone: "eu-west-1c", InstanceID: "i-0123456789abcdef0", State: "unhealthy",
		Reason: "Target.ResponseCodeMismatch", Role: "WebApp1-EC2-noDDB-Role-HealthCheckLab"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Targets []map[string]any `json:"targets"`
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Targets) != 1 {
		t.Fatalf("%s: %v", b, err)
	}
	for _, k := range []string{"zone", "instance_id", "state", "reason", "role", "server_code", "current"} {
		if _, ok := got.Targets[0][k]; !ok {
			t.Errorf("status --json target lacks %q: %s", k, b)
		}
	}
}
