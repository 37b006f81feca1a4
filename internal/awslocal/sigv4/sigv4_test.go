package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	user = Credentials{AccessKeyID: "AKIAUSER000000000000", SecretAccessKey: "user-secret"}
	role = Credentials{AccessKeyID: "ASIAROLE000000000000", SecretAccessKey: "role-secret", SessionToken: "session-token"}
)

func lookup(id string) (Credentials, bool) {
	for _, c := range []Credentials{user, role} {
		if c.AccessKeyID == id {
			return c, true
		}
	}
	return Credentials{}, false
}

// signed returns a form POST signed as the SDK signs it, as it arrives at a server.
func signed(t testing.TB, c Credentials, body string, at time.Time, edit func(*http.Request)) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/?x=1&a=b%20c", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "test-agent")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", "local-1", at); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	return req
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	body := "Action=DescribeInstances&Version=2016-11-15"
	tests := []struct {
		name  string
		creds Credentials
		body  string // what arrives, when it differs from what was signed
		at    time.Time
		edit  func(*http.Request)
		want  Kind // 0: valid
	}{
		{name: "user key", creds: user},
		{name: "role key with its token", creds: role},
		{name: "within clock skew", creds: user, at: now.Add(-14 * time.Minute)},
		{name: "unsigned", creds: user, edit: func(r *http.Request) { r.Header.Del("Authorization") }, want: Missing},
		{name: "not sigv4", creds: user, edit: func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") }, want: Incomplete},
		{name: "unknown key", creds: Credentials{AccessKeyID: "AKIAOTHER00000000000", SecretAccessKey: "x"}, want: UnknownKey},
		{name: "wrong secret", creds: Credentials{AccessKeyID: user.AccessKeyID, SecretAccessKey: "guess"}, want: Mismatch},
		{name: "role key without token", creds: Credentials{AccessKeyID: role.AccessKeyID, SecretAccessKey: role.SecretAccessKey}, want: BadToken},
		{name: "role key with another token", creds: Credentials{AccessKeyID: role.AccessKeyID, SecretAccessKey: role.SecretAccessKey, SessionToken: "stolen"}, want: BadToken},
		{name: "user key with a token", creds: Credentials{AccessKeyID: user.AccessKeyID, SecretAccessKey: user.SecretAccessKey, SessionToken: "x"}, want: BadToken},
		{name: "body changed", creds: user, body: "Action=TerminateInstances&Version=2016-11-15", want: Mismatch},
		{name: "signed header changed", creds: user, edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, want: Mismatch},
		{name: "signed header removed", creds: user, edit: func(r *http.Request) { r.Header.Del("Content-Type") }, want: Mismatch},
		{name: "query changed", creds: user, edit: func(r *http.Request) { r.URL.RawQuery = "x=2" }, want: Mismatch},
		{name: "unsigned header added", creds: user, edit: func(r *http.Request) { r.Header.Set("User-Agent", "other") }},
		{name: "expired", creds: user, at: now.Add(-16 * time.Minute), want: Expired},
		{name: "from the future", creds: user, at: now.Add(16 * time.Minute), want: Expired},
		{name: "payload hash header wrong", creds: user, edit: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) }, want: Mismatch},
	}
	v := NewVerifier("local-1", lookup)
	v.Now = func() time.Time { return now }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = now
			}
			r := signed(t, tt.creds, body, at, tt.edit)
			got := body
			if tt.body != "" {
				got = tt.body
			}
			scope, _, err := v.Verify(r, []byte(got))
			var se *Error
			switch {
			case tt.want == 0 && err != nil:
				t.Fatalf("Verify: %v, want valid", err)
			case tt.want == 0:
				if scope.Service != "ec2" || scope.Region != "local-1" || scope.AccessKeyID != tt.creds.AccessKeyID {
					t.Errorf("scope = %+v", scope)
				}
			case !errors.As(err, &se) || se.Kind != tt.want:
				t.Fatalf("Verify: %v (%#v), want kind %d", err, se, tt.want)
			}
		})
	}
}

func TestVerifyRegion(t *testing.T) {
	now := time.Now()
	r := signed(t, user, "", now, nil)
	v := NewVerifier("us-east-1", lookup)
	_, _, err := v.Verify(r, nil)
	var se *Error
	if !errors.As(err, &se) || se.Kind != Mismatch || !strings.Contains(se.Message, "local-1") {
		t.Fatalf("Verify with another region: %v, want a region mismatch naming local-1", err)
	}
}

func TestParseAuthorization(t *testing.T) {
	h, err := ParseAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20261121/local-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	if err != nil {
		t.Fatal(err)
	}
	if h.Scope != (Scope{"AKID", "20261121", "local-1", "ssm"}) || strings.Join(h.SignedHeaders, ";") != "host;x-amz-date" || h.Signature != "abc" {
		t.Errorf("parsed %+v", h)
	}
	for _, bad := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20261121/local-1/ssm/aws4_request, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=AKID/20261121/ssm/aws4_request, SignedHeaders=host, Signature=abc",
	} {
		if _, err := ParseAuthorization(bad); err == nil {
			t.Errorf("ParseAuthorization(%q) accepted", bad)
		}
	}
}

// BenchmarkVerify is the cost of checking one signed request (the SDK's signer, run again).
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	r := signed(b, role, "Action=DescribeInstances&Version=2016-11-15", now, nil)
	v := NewVerifier("local-1", lookup)
	body := []byte("Action=DescribeInstances&Version=2016-11-15")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUnsignedPayloadRefused: the Query and JSON services sign their bodies; a request that
// declares UNSIGNED-PAYLOAD (an S3-only option) would leave the body, and so the action and
// its parameters, outside the signature, so it is refused whatever body comes with it.
func TestUnsignedPayloadRefused(t *testing.T) {
	now := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	v := NewVerifier("local-1", lookup)
	v.Now = func() time.Time { return now }
	for _, body := range []string{"Action=DescribeInstances&Version=2016-11-15", "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0"} {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		creds := aws.Credentials{AccessKeyID: user.AccessKeyID, SecretAccessKey: user.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "ec2", "local-1", now); err != nil {
			t.Fatal(err)
		}
		_, _, err := v.Verify(req, []byte(body))
		var se *Error
		if !errors.As(err, &se) || se.Kind != Mismatch {
			t.Fatalf("body %q with UNSIGNED-PAYLOAD: Verify = %v, want a signature mismatch", body, err)
		}
	}
}
