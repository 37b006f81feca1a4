package awslocal_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"healthchecklab/internal/awslocal"
	cfn "healthchecklab/internal/awslocal/cloudformation"
	"healthchecklab/internal/awslocal/query"
	rt "healthchecklab/internal/awslocal/region/regiontest"
	"healthchecklab/internal/awslocal/sigv4"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/ssmstub"
)

const (
	region  = "local-1"
	account = "123456789012"
	table   = "RecommendationService"
)

var (
	normalRole = lab.RoleName(lab.DefaultNamingPrefix)
	noDDBRole  = lab.NoDDBRoleName(lab.DefaultNamingPrefix)
	paramARN   = "arn:aws:ssm:local-1:123456789012:parameter/" + lab.ParameterName
	tableARN   = "arn:aws:dynamodb:local-1:123456789012:table/" + table
)

// fakeDynamoDB answers every DynamoDB call with an empty item and records the operations.
type fakeDynamoDB struct{ ops []string }

func (f *fakeDynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.ops = append(f.ops, r.Header.Get("X-Amz-Target"))
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = io.WriteString(w, `{}`)
}

type fixture struct {
	url   string
	keys  *awslocal.Keys
	user  sigv4.Credentials
	ssm   *ssmstub.Server
	ddb   *fakeDynamoDB
	lab   *rt.Shell // the region model behind CloudFormation
	stack cfn.Stack // its service stack as first described
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{keys: awslocal.NewKeys(account), ddb: &fakeDynamoDB{}}
	f.user = f.keys.NewUser("labctl")
	var err error
	if f.ssm, err = ssmstub.NewLab("true"); err != nil {
		t.Fatal(err)
	}
	f.lab = rt.New(t, nil)
	f.stack = f.lab.R.Stacks()[1]
	param := awslocal.Statement{Actions: lab.ParameterReadActions, Resources: []string{paramARN}}
	ep := awslocal.New(awslocal.Options{
		Region: region, Keys: f.keys,
		Policy: awslocal.Policy{
			normalRole: {{Actions: lab.RecommendationReadActions, Resources: []string{tableARN}}, param},
			noDDBRole:  {param},
		},
		JSON: []*awslocal.JSONService{
			{TargetPrefix: "AmazonSSM.", SigningName: "ssm", ContentType: "application/x-amz-json-1.1", DeniedType: "AccessDeniedException",
				Handler: f.ssm, Resource: func(string, []byte) string { return paramARN }},
			{TargetPrefix: "DynamoDB_20120810.", SigningName: "dynamodb", ContentType: "application/x-amz-json-1.0",
				DeniedType: "com.amazon.coral.service#AccessDeniedException", Handler: f.ddb, Resource: func(string, []byte) string { return tableARN }},
		},
		Query: []*query.Service{cfn.Service(f.lab.R)},
	})
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fixture) config(c sigv4.Credentials) aws.Config {
	return aws.Config{
		Region:           region,
		BaseEndpoint:     aws.String(f.url),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		}),
	}
}

// apiError asserts err is an AWS API error with code, and returns its message.
func apiError(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v, want API error %s", err, code)
	}
	return ae.ErrorMessage()
}

func TestDescribeStacks(t *testing.T) {
	f := newFixture(t)
	c := cloudformation.NewFromConfig(f.config(f.user))
	ctx := context.Background()
	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(lab.ServiceStackName)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Stacks) != 1 {
		t.Fatalf("%d stacks", len(out.Stacks))
	}
	s := out.Stacks[0]
	if aws.ToString(s.StackId) != f.stack.ID || string(s.StackStatus) != "CREATE_COMPLETE" || !s.CreationTime.Equal(rt.T0) ||
		!strings.HasPrefix(aws.ToString(s.StackId), "arn:aws:cloudformation:local-1:123456789012:stack/HealthCheckLab/") || s.LastUpdatedTime != nil {
		t.Errorf("stack = %+v", s)
	}
	got := map[string]string{}
	for _, o := range s.Outputs {
		got[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if got[lab.OutputWebsiteURL] != "http://127.0.0.1:8080" || got[lab.OutputParameterName] != lab.ParameterName ||
		got[lab.OutputHealthCheckURL] != "http://127.0.0.1:8080/healthcheck" || got[lab.OutputTargetGroupArn] != f.lab.R.TargetGroupARN() ||
		got[lab.OutputAutoScalingGroupName] != f.lab.R.GroupName() || got[lab.OutputNoDDBProfileName] != noDDBRole ||
		got[lab.OutputInstanceProfileName] != normalRole || got[lab.OutputTableName] != table || len(got) != 8 {
		t.Errorf("outputs = %v", got)
	}

	// A deploy updates the stack: in progress, then complete with its time.
	if err := f.lab.R.Deploy(lab.CodeErrorHandling); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(lab.ServiceStackName)})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.Stacks[0].StackStatus)
	}
	if got := status(); got != "UPDATE_IN_PROGRESS" {
		t.Errorf("deploying: %s", got)
	}
	f.lab.Reset()
	f.lab.Run()
	for i := 0; i < len(f.lab.Launched); i++ { // each zone's new instance, launched in turn
		f.lab.Check(rt.OK200, f.lab.Launched[i].ID)
		f.lab.Wait(lab.TargetGroupHealthCheck.DeregistrationDelay)
	}
	if got := status(); got != "UPDATE_COMPLETE" {
		t.Errorf("deployed: %s", got)
	}

	// By stack id, and every stack through the SDK's paginator.
	if out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(f.stack.ID)}); err != nil || len(out.Stacks) != 1 {
		t.Errorf("by stack id: %v", err)
	}
	var names []string
	for p := cloudformation.NewDescribeStacksPaginator(c, &cloudformation.DescribeStacksInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Stacks {
			names = append(names, aws.ToString(s.StackName))
		}
	}
	if strings.Join(names, ",") != lab.VPCStackName+","+lab.ServiceStackName {
		t.Errorf("all stacks: %v", names)
	}

	_, err = c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("Nope")})
	if msg := apiError(t, err, "ValidationError"); msg != "Stack with id Nope does not exist" {
		t.Errorf("message %q", msg)
	}
}

// TestSignatures sends each service a request with a bad or missing signature and checks
// AWS's error code for that protocol.
func TestSignatures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	stranger := sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	wrongSecret := sigv4.Credentials{AccessKeyID: f.user.AccessKeyID, SecretAccessKey: "guessed"}
	role := f.keys.ForRole(normalRole, "i-0123456789abcdef0")
	noToken := sigv4.Credentials{AccessKeyID: role.AccessKeyID, SecretAccessKey: role.SecretAccessKey}
	tests := []struct {
		creds    sigv4.Credentials
		cfn, ssm string // error codes; "" means success
		ddb      string
	}{
		{f.user, "", "", ""},
		{stranger, "InvalidClientTokenId", "UnrecognizedClientException", "UnrecognizedClientException"},
		{wrongSecret, "SignatureDoesNotMatch", "InvalidSignatureException", "InvalidSignatureException"},
		{noToken, "InvalidClientTokenId", "UnrecognizedClientException", "UnrecognizedClientException"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			cfg := f.config(tt.creds)
			_, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
			check(t, "cloudformation", err, tt.cfn)
			_, err = ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(lab.ParameterName)})
			check(t, "ssm", err, tt.ssm)
			_, err = dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			check(t, "dynamodb", err, tt.ddb)
		})
	}
}

func check(t *testing.T, svc string, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: %v", svc, err)
		}
		return
	}
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !errors.As(err, &re) || re.HTTPStatusCode() < 400 || re.HTTPStatusCode() > 499 {
		t.Errorf("%s: %v, want %s with a 4xx", svc, err, code)
	}
}

// raw sends a request by hand: unsigned, or signed at a chosen time.
func raw(t *testing.T, url, target, body string, sign *sigv4.Credentials, service string, at time.Time) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if sign != nil {
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: sign.AccessKeyID, SecretAccessKey: sign.SecretAccessKey},
			req, sha(body), service, region, at); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sha(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

func TestUnsignedAndExpired(t *testing.T) {
	f := newFixture(t)
	describe := url.Values{"Action": {"DescribeStacks"}, "Version": {"2010-05-15"}}.Encode()
	tests := []struct {
		name, target, body, service string
		sign                        bool
		at                          time.Time
		status                      int
		want                        string
	}{
		{"unsigned query", "", describe, "", false, time.Time{}, 403, "<Code>MissingAuthenticationToken</Code>"},
		{"unsigned json", "AmazonSSM.GetParameter", `{"Name":"x"}`, "", false, time.Time{}, 400, `"__type":"MissingAuthenticationTokenException"`},
		{"expired query", "", describe, "cloudformation", true, time.Now().Add(-time.Hour), 403, "Signature expired"},
		{"expired json", "AmazonSSM.GetParameter", `{"Name":"x"}`, "ssm", true, time.Now().Add(-time.Hour), 400, "Signature expired"},
		{"wrong service in scope", "AmazonSSM.GetParameter", `{"Name":"x"}`, "dynamodb", true, time.Now(), 400, "Credential should be scoped to correct service: 'ssm'"},
		{"service not served", "", url.Values{"Action": {"ListQueues"}}.Encode(), "sqs", true, time.Now(), 400, "does not serve the service sqs"},
		{"unknown action", "", url.Values{"Action": {"DeleteStack"}, "StackName": {"HealthCheckLab"}}.Encode(), "cloudformation", true, time.Now(), 400, "<Code>InvalidAction</Code>"},
		{"unknown target", "AmazonSQS.ListQueues", `{}`, "sqs", true, time.Now(), 400, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sign *sigv4.Credentials
			if tt.sign {
				sign = &f.user
			}
			status, body := raw(t, f.url, tt.target, tt.body, sign, tt.service, tt.at)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d %s, want %d with %s", status, body, tt.status, tt.want)
			}
		})
	}
}

// TestRolePolicy checks that instance roles may do what their policy allows and nothing else.
func TestRolePolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	normal := f.config(f.keys.ForRole(normalRole, "i-0aaaaaaaaaaaaaaaa"))
	noDDB := f.config(f.keys.ForRole(noDDBRole, "i-0ccccccccccccccc"))
	key := map[string]types.AttributeValue{}
	_ = key

	if _, err := ssm.NewFromConfig(normal).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(lab.ParameterName)}); err != nil {
		t.Errorf("normal role GetParameter: %v", err)
	}
	if _, err := ssm.NewFromConfig(noDDB).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(lab.ParameterName)}); err != nil {
		t.Errorf("noDDB role GetParameter: %v", err)
	}
	_, err := ssm.NewFromConfig(normal).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(lab.ParameterName), Value: aws.String("false"), Overwrite: aws.Bool(true)})
	msg := apiError(t, err, "AccessDeniedException")
	want := "User: arn:aws:sts::123456789012:assumed-role/" + normalRole + "/i-0aaaaaaaaaaaaaaaa is not authorized to perform: ssm:PutParameter on resource: " + paramARN +
		" because no identity-based policy allows the ssm:PutParameter action"
	if msg != want {
		t.Errorf("message\n%s\nwant\n%s", msg, want)
	}
	if p, _ := f.ssm.Get(lab.ParameterName); p.Value != "true" {
		t.Errorf("denied PutParameter changed the parameter to %q", p.Value)
	}

	getItem := &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{}}
	if _, err := dynamodb.NewFromConfig(normal).GetItem(ctx, getItem); err != nil {
		t.Errorf("normal role GetItem: %v", err)
	}
	_, err = dynamodb.NewFromConfig(noDDB).GetItem(ctx, getItem)
	msg = apiError(t, err, "AccessDeniedException")
	if !strings.Contains(msg, "assumed-role/"+noDDBRole+"/i-0ccccccccccccccc is not authorized to perform: dynamodb:GetItem on resource: "+tableARN) {
		t.Errorf("noDDB GetItem message %q", msg)
	}
	if _, err := dynamodb.NewFromConfig(normal).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)}); err == nil {
		t.Error("normal role Scan allowed; its policy grants GetItem only")
	}
	if len(f.ddb.ops) != 1 {
		t.Errorf("DynamoDB saw %v, want only the allowed GetItem", f.ddb.ops)
	}

	_, err = cloudformation.NewFromConfig(normal).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
	msg = apiError(t, err, "AccessDenied")
	if !strings.Contains(msg, "is not authorized to perform: cloudformation:DescribeStacks because no identity-based policy allows") {
		t.Errorf("cloudformation denial %q", msg)
	}
}
