package target

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"healthchecklab/internal/labclient"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// isolate points the SDK's standard configuration at nothing of the machine's: no
// profile files, no instance metadata, no region, no keys.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestResolve: the flag wins over LABCTL_TARGET; with neither, only a running local lab is
// chosen, never AWS.
func TestResolve(t *testing.T) {
	isolate(t)
	noLab := filepath.Join(t.TempDir(), "none.json")
	tests := []struct {
		name      string
		flag, env string
		stack     string // "" means HealthCheckLab; "-" an empty --stack
		want      string // error substring
		// one more variable of the AWS configuration
		setKey, setValue string
	}{
		{"nothing chosen, no lab", "", "", "", "no lab running here and no target chosen: start one with `labctl local up`, or drive a deployed stack with `--target aws`", "", ""},
		{"local chosen, no lab", "local", "", "", "no lab running (start one with `labctl local up`)", "", ""},
		{"env local, no lab", "", "local", "", "no lab running (start one", "", ""},
		{"flag local beats env aws", "local", "aws", "", "no lab running (start one", "", ""},
		{"aws without a region", "aws", "", "", "no AWS region configured: set AWS_REGION", "", ""},
		{"env aws without a region", "", "aws", "", "no AWS region configured", "", ""},
		{"unknown target", "gcp", "", "", `unknown target "gcp": use --target aws or --target local`, "", ""},
		{"aws without credentials", "aws", "", "", "no AWS credentials found: run `aws configure`", "AWS_REGION", "eu-west-1"},
		{"aws with a missing profile", "aws", "", "", `AWS profile "nosuch" not found: check AWS_PROFILE`, "AWS_PROFILE", "nosuch"},
		{"empty --stack", "aws", "", "-", "--stack needs a stack name (the lab's is HealthCheckLab)", "AWS_REGION", "eu-west-1"},
		{"blank --stack, no target", "", "", " ", "--stack needs a stack name", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setKey != "" {
				t.Setenv(tt.setKey, tt.setValue)
			}
			stack := "HealthCheckLab"
			switch tt.stack {
			case "":
			case "-":
				stack = ""
			default:
				stack = tt.stack
			}
			_, err := Resolve(context.Background(), Options{Flag: tt.flag, Env: tt.env, Stack: stack, StatePath: noLab})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Resolve: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestResolveNeverDefaultsToAWS: with working AWS configuration in the environment and no
// local lab, choosing nothing sends nothing to AWS.
func TestResolveNeverDefaultsToAWS(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer aws.Close()
	t.Setenv("AWS_ENDPOINT_URL", aws.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	_, err := Resolve(context.Background(), Options{StatePath: filepath.Join(t.TempDir(), "none.json"), Stack: "HealthCheckLab"})
	if !errors.Is(err, ErrNoTarget) || calls.Load() != 0 {
		t.Fatalf("Resolve: %v with %d AWS calls, want ErrNoTarget and none", err, calls.Load())
	}
}

// TestResolveLocalIgnoresAWSConfig: the local target takes endpoint, keys and region from
// the state file, whatever the user's AWS variables say.
func TestResolveLocalIgnoresAWSConfig(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
	ctl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"counters":{},"requests":{}}`))
	}))
	defer ctl.Close()
	path := filepath.Join(t.TempDir(), "local.json")
	st := labclient.State{PID: 1, ControlURL: ctl.URL, Token: "t", Region: "local-1",
		Endpoint: "http://127.0.0.1:4566", AccessKeyID: "AKIALAB", SecretAccessKey: "s"}
	if err := labclient.WriteState(path, st); err != nil {
		t.Fatal(err)
	}
	tg, err := Resolve(context.Background(), Options{StatePath: path, Stack: "HealthCheckLab"})
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := tg.Config.Credentials.Retrieve(context.Background())
	if tg.Kind != Local || tg.Config.Region != "local-1" || aws.ToString(tg.Config.BaseEndpoint) != st.Endpoint ||
		creds.AccessKeyID != "AKIALAB" || tg.Config.ConfigSources != nil {
		t.Fatalf("local target: kind %s region %s endpoint %s key %s sources %v",
			tg.Kind, tg.Config.Region, aws.ToString(tg.Config.BaseEndpoint), creds.AccessKeyID, tg.Config.ConfigSources)
	}
}

// TestExplain: AWS errors become one line with the code and what to do.
func TestExplain(t *testing.T) {
	op := func(service, name string, err error) error {
		return &smithy.OperationError{ServiceID: service, OperationName: name, Err: err}
	}
	api := func(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }
	onAWS := &Where{Kind: AWS, Stack: "HealthCheckLab", Config: aws.Config{Region: "eu-west-1"}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no credentials", op("CloudFormation", "DescribeStacks", &v4.SigningError{Err: errors.New("failed to retrieve credentials")}),
			"no AWS credentials found: run `aws configure`"},
		{"stack not found", op("CloudFormation", "DescribeStacks", api("ValidationError", "Stack with id HealthCheckLab does not exist")),
			"stack HealthCheckLab not found in region eu-west-1 (ValidationError): deploy it"},
		{"ec2 denied", op("EC2", "ReplaceIamInstanceProfileAssociation", api("UnauthorizedOperation",
			"You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/student is not authorized to perform: ec2:ReplaceIamInstanceProfileAssociation")),
			"arn:aws:iam::123456789012:user/student may not call ec2:ReplaceIamInstanceProfileAssociation (UnauthorizedOperation)"},
		{"elb denied", op("Elastic Load Balancing v2", "DescribeTargetHealth", api("AccessDenied", "denied")),
			"your identity may not call elasticloadbalancing:DescribeTargetHealth (AccessDenied)"},
		{"ssm denied", op("SSM", "PutParameter", api("AccessDeniedException", "User: arn:aws:sts::1:assumed-role/r/i is not authorized")),
			"arn:aws:sts::1:assumed-role/r/i may not call ssm:PutParameter (AccessDeniedException)"},
		{"bad key", op("Auto Scaling", "DescribeAutoScalingGroups", api("InvalidClientTokenId", "The security token included in the request is invalid.")),
			"the access key is not valid in region eu-west-1 (InvalidClientTokenId)"},
		{"bad secret", op("EC2", "DescribeInstances", api("SignatureDoesNotMatch", "x")), "(SignatureDoesNotMatch): the secret key does not belong"},
		{"bad secret, json", op("SSM", "GetParameter", api("InvalidSignatureException", "x")), "(InvalidSignatureException): the secret key does not belong"},
		{"region not served", op("CloudFormation", "DescribeStacks", api("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'eu-west-1'. ")),
			"the endpoint refused requests signed for region eu-west-1 (SignatureDoesNotMatch): set AWS_REGION"},
		{"expired", op("SSM", "GetParameter", api("ExpiredTokenException", "x")), "have expired (ExpiredTokenException)"},
		{"unreachable", op("CloudFormation", "DescribeStacks", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}),
			"cannot reach the AWS endpoint for cloudformation:DescribeStacks in region eu-west-1 (connect: connection refused): check the network, a proxy, or AWS_ENDPOINT_URL, or drive the local lab instead with --target local"},
		// Offline: eu-west-1 exists, so a failed lookup of its endpoint is the network's fault.
		{"offline, known region", op("CloudFormation", "DescribeStacks", &net.DNSError{Name: "cloudformation.eu-west-1.amazonaws.com", Err: "no such host", IsNotFound: true}),
			"cannot reach the AWS endpoint cloudformation.eu-west-1.amazonaws.com for cloudformation:DescribeStacks: its name does not resolve (no such host), so this machine looks offline or its DNS is failing: check the network or a proxy, or drive the local lab instead with --target local"},
		{"other", op("EC2", "DescribeInstances", api("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist\n")),
			"ec2:DescribeInstances: The instance ID 'i-1' does not exist (InvalidInstanceID.NotFound)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := onAWS.Explain(tt.err)
			if got == nil || !strings.Contains(got.Error(), tt.want) || strings.Contains(got.Error(), "\n") {
				t.Fatalf("Explain = %v\nwant one line containing %q", got, tt.want)
			}
		})
	}
	plain := errors.New("not from AWS")
	if onAWS.Explain(plain) != plain {
		t.Fatal("a non-SDK error was rewritten")
	}
}

// TestExplainNameLookup tells a failed name lookup for a region that exists (offline, DNS
// down: the endpoint is named and --target local suggested) from a region that does not (a
// typo: check AWS_REGION).
func TestExplainNameLookup(t *testing.T) {
	lookup := func(region string, timeout bool) error {
		return &smithy.OperationError{ServiceID: "SSM", OperationName: "GetParameter", Err: &net.DNSError{Name: "ssm." + region + ".amazonaws.com", Err: "no such host", IsNotFound: !timeout, IsTimeout: timeout}}
	}
	tests := []struct {
		name, region string
		timeout      bool
		want, not    string
	}{
		{"known region offline", "eu-west-1", false,
			"cannot reach the AWS endpoint ssm.eu-west-1.amazonaws.com for ssm:GetParameter: its name does not resolve (no such host), so this machine looks offline", "not an AWS region"},
		{"newer known region offline", "mx-central-1", false, "--target local", "not an AWS region"},
		{"region typo", "eu-wset-1", false,
			`cannot resolve ssm.eu-wset-1.amazonaws.com: "eu-wset-1" is not an AWS region labctl knows (eu-west-1, us-east-1, …): check AWS_REGION or the profile's region`, "offline"},
		{"lookup timed out", "eu-wset-1", true, "looks offline or its DNS is failing", "not an AWS region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &Where{Kind: AWS, Stack: "HealthCheckLab", Config: aws.Config{Region: tt.region}}
			got := tg.Explain(lookup(tt.region, tt.timeout))
			if got == nil || !strings.Contains(got.Error(), tt.want) || strings.Contains(got.Error(), tt.not) || strings.Contains(got.Error(), "\n") {
				t.Fatalf("Explain = %v\nwant one line containing %q, without %q", got, tt.want, tt.not)
			}
		})
	}
}
