package ssmstub

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"healthchecklab/internal/lab"
)

func client(t *testing.T, s *Server) *ssm.Client {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ssm.New(ssm.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
}

// TestSDKAgainstStub drives the stand-in with the real SDK client, as the web server and
// labctl do, and checks the answers and error shapes SSM gives.
func TestSDKAgainstStub(t *testing.T) {
	ctx := context.Background()
	s, err := NewLab("true")
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, s)

	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(lab.ParameterName)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Parameter.Value); got != "true" || out.Parameter.Version != 1 ||
		out.Parameter.Type != types.ParameterTypeString || out.Parameter.LastModifiedDate == nil ||
		aws.ToString(out.Parameter.ARN) != "arn:aws:ssm:eu-west-1:123456789012:parameter/"+lab.ParameterName {
		t.Errorf("GetParameter = %+v", *out.Parameter)
	}

	tests := []struct {
		name      string
		in        ssm.PutParameterInput
		wantCode  string
		wantValue string
		wantVer   int64
	}{
		{"no overwrite", ssm.PutParameterInput{Name: aws.String(lab.ParameterName), Value: aws.String("false")}, "ParameterAlreadyExists", "true", 1},
		{"outside pattern", ssm.PutParameterInput{Name: aws.String(lab.ParameterName), Value: aws.String("False"), Overwrite: aws.Bool(true)}, "ValidationException", "true", 1},
		{"flip off", ssm.PutParameterInput{Name: aws.String(lab.ParameterName), Value: aws.String("false"), Overwrite: aws.Bool(true)}, "", "false", 2},
		{"flip on", ssm.PutParameterInput{Name: aws.String(lab.ParameterName), Value: aws.String("true"), Overwrite: aws.Bool(true)}, "", "true", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put, err := c.PutParameter(ctx, &tt.in)
			var apiErr smithy.APIError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("PutParameter: %v", err)
			case tt.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode):
				t.Fatalf("PutParameter err = %v, want %s", err, tt.wantCode)
			case tt.wantCode == "" && put.Version != tt.wantVer:
				t.Errorf("version = %d, want %d", put.Version, tt.wantVer)
			}
			got, _ := s.Get(lab.ParameterName)
			if got.Value != tt.wantValue || got.Version != tt.wantVer {
				t.Errorf("stored %q v%d, want %q v%d", got.Value, got.Version, tt.wantValue, tt.wantVer)
			}
		})
	}

	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("nope")})
	var nf *types.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Errorf("GetParameter(nope) err = %v, want ParameterNotFound", err)
	}
	if n := s.GetParameterCalls(); n != 2 {
		t.Errorf("GetParameterCalls = %d, want 2", n)
	}
}

func TestGoAccessors(t *testing.T) {
	s, err := NewLab("true")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(lab.ParameterName, "maybe"); err == nil {
		t.Error("Set accepted a value outside ^(true|false)$")
	}
	if v, err := s.Set(lab.ParameterName, "false"); err != nil || v != 2 {
		t.Errorf("Set = %d, %v", v, err)
	}
	if p, ok := s.Get(lab.ParameterName); !ok || p.Value != "false" || p.AllowedPattern != LabAllowedPattern {
		t.Errorf("Get = %+v, %v", p, ok)
	}
	if _, err := NewLab("yes"); err == nil {
		t.Error("NewLab accepted yes")
	}
	if s.GetParameterCalls() != 0 {
		t.Error("Go accessors counted as API calls")
	}
}
