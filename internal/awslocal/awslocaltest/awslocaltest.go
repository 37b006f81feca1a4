// Package awslocaltest serves awslocal services over real HTTP for protocol tests, and
// gives AWS SDK configurations that sign as the lab's user or as an instance role.
package awslocaltest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	"healthchecklab/internal/awslocal"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/awslocal/sigv4"
)

// Region and AccountID of the test endpoint.
const (
	Region    = "local-1"
	AccountID = "123456789012"
	// Role is an instance role the policy grants nothing on the Query services.
	Role = "WebApp1-EC2-Role-HealthCheckLab"
)

// Endpoint is a running test endpoint.
type Endpoint struct {
	URL  string
	Keys *awslocal.Keys
	User sigv4.Credentials
}

// Serve runs an endpoint with services until the test ends.
func Serve(t testing.TB, services ...*query.Service) *Endpoint {
	t.Helper()
	e := &Endpoint{Keys: awslocal.NewKeys(AccountID)}
	e.User = e.Keys.NewUser("labctl")
	srv := httptest.NewServer(awslocal.New(awslocal.Options{
		Region: Region, Keys: e.Keys, Policy: awslocal.Policy{Role: nil}, Query: services,
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// Config returns an SDK configuration for the endpoint signing with c, without retries.
func (e *Endpoint) Config(c sigv4.Credentials) aws.Config {
	return aws.Config{
		Region:           Region,
		BaseEndpoint:     aws.String(e.URL),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		}),
	}
}

// UserConfig signs as the lab's user, who may do everything.
func (e *Endpoint) UserConfig() aws.Config { return e.Config(e.User) }

// RoleConfig signs as an instance role's session.
func (e *Endpoint) RoleConfig() aws.Config {
	return e.Config(e.Keys.ForRole(Role, "i-0123456789abcdef0"))
}

// StrangerConfig signs with a key pair the endpoint never issued.
func (e *Endpoint) StrangerConfig() aws.Config {
	return e.Config(sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
}

// WrongSecretConfig signs with the user's key id and another secret.
func (e *Endpoint) WrongSecretConfig() aws.Config {
	return e.Config(sigv4.Credentials{AccessKeyID: e.User.AccessKeyID, SecretAccessKey: "not-the-secret"})
}

// Post sends a Query-protocol form signed as the user for service (its signing name), the
// way the SDK would if it did not check required parameters itself, and returns the status
// and body.
func (e *Endpoint) Post(t testing.TB, service string, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, e.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: e.User.AccessKeyID, SecretAccessKey: e.User.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Code asserts err is an AWS API error with code and a 4xx status, and returns its message.
func Code(t testing.TB, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	if !errors.As(err, &re) || re.HTTPStatusCode() < 400 || re.HTTPStatusCode() > 499 {
		t.Fatalf("error %v: want a 4xx status", err)
	}
	return ae.ErrorMessage()
}
