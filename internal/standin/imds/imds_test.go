package imds

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	sdkimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin"
)

// TestSDKReadsMetadataAndRoleSwap uses the SDK's own IMDS client and EC2 role provider, as the
// web server does, and swaps the role as the lab does in the console.
func TestSDKReadsMetadataAndRoleSwap(t *testing.T) {
	ctx := context.Background()
	normal, noDDB := lab.RoleName("WebApp1"), lab.NoDDBRoleName("WebApp1")
	s := New(Instance{ID: "i-0123456789abcdef0", Zone: "local-1c", Role: normal})
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := sdkimds.New(sdkimds.Options{Endpoint: ts.URL})

	doc, err := c.GetInstanceIdentityDocument(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc.InstanceID != "i-0123456789abcdef0" || doc.AvailabilityZone != "local-1c" || doc.Region != "local-1" || doc.AccountID != standin.AccountID {
		t.Errorf("identity document = %+v", doc)
	}
	for path, want := range map[string]string{
		"placement/availability-zone": "local-1c",
		"instance-id":                 "i-0123456789abcdef0",
		"local-ipv4":                  "10.0.1.10",
		"iam/security-credentials/":   normal,
	} {
		out, err := c.GetMetadata(ctx, &sdkimds.GetMetadataInput{Path: path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, _ := io.ReadAll(out.Content)
		if string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}

	roleOf := func() string {
		p := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = c })
		creds, err := p.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		role, _ := standin.RoleOf(creds.AccessKeyID)
		return role
	}
	if got := roleOf(); got != normal {
		t.Errorf("credentials for %q, want %q", got, normal)
	}
	s.SetRole(noDDB)
	if got := roleOf(); got != noDDB {
		t.Errorf("after SetRole: credentials for %q, want %q", got, noDDB)
	}
	if n := s.CredentialRequests(); n != 2 {
		t.Errorf("CredentialRequests = %d, want 2", n)
	}
	var _ aws.CredentialsProvider = (*ec2rolecreds.Provider)(nil)

	// iam/info names the attached profile by its id: the swap changes it.
	out, err := c.GetIAMInfo(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.IAMInfo.InstanceProfileID, ProfileID(noDDB); got != want || got == ProfileID(normal) {
		t.Errorf("iam/info InstanceProfileId after the swap = %q, want the noDDB profile's %q (normal: %q)", got, want, ProfileID(normal))
	}
}

// TestProfileID: each profile has one id shaped like IAM's, and the lab's two profiles,
// whose names share their first dozen characters, have different ones.
func TestProfileID(t *testing.T) {
	shape := regexp.MustCompile(`^AIPA[A-Z2-7]{17}$`)
	seen := map[string]string{}
	for _, prefix := range []string{lab.DefaultNamingPrefix, "Lab"} {
		for _, role := range []string{lab.RoleName(prefix), lab.NoDDBRoleName(prefix)} {
			id := ProfileID(role)
			if !shape.MatchString(id) || id != ProfileID(role) {
				t.Errorf("ProfileID(%q) = %q: want one stable id matching %s", role, id, shape)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("profiles %q and %q share the id %s", other, role, id)
			}
			seen[id] = role
		}
	}
}

// TestTokenRequired checks the IMDSv2 rules: no token, a bad token or a bad TTL are refused.
func TestTokenRequired(t *testing.T) {
	ts := httptest.NewServer(New(Instance{}))
	defer ts.Close()
	do := func(method, path string, hdr map[string]string) int {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		want   int
	}{
		{"v1 read without token", "GET", "/latest/meta-data/instance-id", nil, 401},
		{"bad token", "GET", "/latest/meta-data/instance-id", map[string]string{tokenHeader: "nope"}, 401},
		{"token without ttl", "PUT", "/latest/api/token", nil, 400},
		{"token ttl too long", "PUT", "/latest/api/token", map[string]string{tokenTTLHeader: "21601"}, 400},
		{"token through a proxy", "PUT", "/latest/api/token", map[string]string{tokenTTLHeader: "60", "X-Forwarded-For": "1.2.3.4"}, 403},
		{"token GET", "GET", "/latest/api/token", nil, 405},
		{"token", "PUT", "/latest/api/token", map[string]string{tokenTTLHeader: "60"}, 200},
	}
	for _, tt := range tests {
		if got := do(tt.method, tt.path, tt.hdr); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestNoInstanceProfile(t *testing.T) {
	ts := httptest.NewServer(New(Instance{}))
	defer ts.Close()
	c := sdkimds.New(sdkimds.Options{Endpoint: ts.URL})
	if _, err := c.GetMetadata(context.Background(), &sdkimds.GetMetadataInput{Path: "iam/security-credentials/"}); err == nil {
		t.Error("credentials listed without an instance profile")
	}
}

// TestUseCredentials checks that the SDK's role provider receives the key pairs of the
// configured source, per role and instance, and that a role swap changes them.
func TestUseCredentials(t *testing.T) {
	normal, noDDB := lab.RoleName("WebApp1"), lab.NoDDBRoleName("WebApp1")
	s := New(Instance{ID: "i-0123456789abcdef0", Role: normal})
	s.UseCredentials(func(role, id string) Credentials {
		return Credentials{AccessKeyID: "ASIA-" + role, SecretAccessKey: "secret-" + id, Token: "token-" + role + "/" + id}
	})
	ts := httptest.NewServer(s)
	defer ts.Close()
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = sdkimds.New(sdkimds.Options{Endpoint: ts.URL}) })
	for _, role := range []string{normal, noDDB} {
		s.SetRole(role)
		c, err := p.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.AccessKeyID != "ASIA-"+role || c.SecretAccessKey != "secret-i-0123456789abcdef0" || c.SessionToken != "token-"+role+"/i-0123456789abcdef0" {
			t.Errorf("role %s: got %+v", role, c)
		}
	}
}
