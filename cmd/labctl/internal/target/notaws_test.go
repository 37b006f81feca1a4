package target

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// TestExplainNotAnAWSEndpoint: an endpoint that answers without an AWS error (the lab's
// website URL given as AWS_ENDPOINT_URL, a proxy's page) is named with its HTTP status, in
// one line saying what to check, for the Query and the JSON protocols, on both targets.
func TestExplainNotAnAWSEndpoint(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}))
	defer site.Close()
	cfg := aws.Config{Region: "local-1", BaseEndpoint: aws.String(site.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIALAB", "s", "")}
	ctx := context.Background()
	_, cfnErr := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("HealthCheckLab")})
	_, ssmErr := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("RecommendationServiceEnabled")})
	tests := []struct {
		name string
		kind Kind
		err  error
		want string
	}{
		{"query on aws", AWS, cfnErr, "cloudformation:DescribeStacks: " + site.URL + " answered HTTP 405 without an AWS error: is AWS_ENDPOINT_URL an AWS endpoint?"},
		{"json on aws", AWS, ssmErr, "ssm:GetParameter: " + site.URL + " answered HTTP 405 without an AWS error"},
		{"query on local", Local, cfnErr, "cloudformation:DescribeStacks: the local lab's endpoint answered HTTP 405 without an AWS error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &Where{Kind: tt.kind, Stack: "HealthCheckLab", Config: cfg}
			got := tg.Explain(tt.err)
			if got == nil || !strings.Contains(got.Error(), tt.want) || strings.Contains(got.Error(), "\n") {
				t.Fatalf("Explain(%v) = %v\nwant one line containing %q", tt.err, got, tt.want)
			}
		})
	}
}
