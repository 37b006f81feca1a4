package config

import (
	"strings"
	"testing"

	"healthchecklab/internal/lab"
)

func mapGetter(m map[string]any) Getter { return func(k string) any { return m[k] } }

func TestReadDefaults(t *testing.T) {
	c, err := Read(mapGetter(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c != Defaults {
		t.Errorf("Read(empty) = %+v, want %+v", c, Defaults)
	}
}

func TestReadAcceptsJSONNumbersAndFlagStrings(t *testing.T) {
	c, err := Read(mapGetter(map[string]any{
		KeyServerCode:      "healthcheck",
		KeyNamingPrefix:    "Team7",
		KeyInstanceType:    "t4g.small",
		KeyDesiredCapacity: "6",        // from -c
		KeyNatGateways:     float64(3), // from cdk.json
		KeyAllowedCidr:     "203.0.113.0/24",
		KeyAmiID:           "ami-0123456789abcdef0",
		KeyFaultInjection:  "true", // from -c
		KeyLabID:           "team-7",
		KeyAsgHealthCheck:  "ELB",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{lab.CodeHealthCheck, "Team7", "t4g.small", 6, "203.0.113.0/24", 3, "ami-0123456789abcdef0", true, "team-7", lab.AsgHealthCheckELB}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		key  string
		val  any
		want string
	}{
		{KeyServerCode, "deep", "must be one of basic, errorhandling, healthcheck"},
		{KeyServerCode, 3.0, "ServerCode must be a string"},
		{KeyNamingPrefix, "", "NamingPrefix"},
		{KeyNamingPrefix, "has space", "NamingPrefix"},
		{KeyInstanceType, "t3", "InstanceType"},
		{KeyDesiredCapacity, "2", "between 3 and 6"},
		{KeyDesiredCapacity, float64(7), "between 3 and 6"},
		{KeyDesiredCapacity, "three", "whole number"},
		{KeyDesiredCapacity, 3.5, "whole number"},
		{KeyAllowedCidr, "10.0.0.1/8", "CIDR"},
		{KeyAllowedCidr, "example.com", "CIDR"},
		{KeyNatGateways, "0", "between 1 and 3"},
		{KeyAmiID, "", "AmiId"},
		{KeyAmiID, "ami-0123", "8 or 17 hexadecimal digits"},
		{KeyAmiID, "ami-0123456789ABCDEF0", "8 or 17 hexadecimal digits"},
		{KeyAmiID, "i-0123456789abcdef0", "AmiId"},
		{KeyAmiID, true, "AmiId must be a string"},
		{KeyFaultInjection, "yes", "FaultInjection must be true or false"},
		{KeyFaultInjection, 1.0, "FaultInjection must be true or false"},
		{KeyLabID, "", "LabId"},
		{KeyLabID, "Team7", "lowercase"},
		{KeyLabID, "-a", "LabId"},
		{KeyLabID, "a-", "LabId"},
		{KeyLabID, "a_b", "LabId"},
		{KeyLabID, "abcdefghijklmnopq", "1-16"},
		{KeyLabID, 7.0, "LabId must be a string"},
		{KeyAsgHealthCheck, "elb", `invalid AsgHealthCheck "elb": must be one of EC2, ELB`},
		{KeyAsgHealthCheck, "VPC_LATTICE", "must be one of EC2, ELB"},
		{KeyAsgHealthCheck, "", "must be one of EC2, ELB"},
		{KeyAsgHealthCheck, true, "AsgHealthCheck must be a string"},
	}
	for _, tt := range tests {
		_, err := Read(mapGetter(map[string]any{tt.key: tt.val}))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%v: error %v, want it to mention %q", tt.key, tt.val, err, tt.want)
		}
	}
}

func TestReadFaultInjection(t *testing.T) {
	tests := []struct {
		val  any
		want bool
	}{{true, true}, {"true", true}, {"TRUE", true}, {false, false}, {"false", false}, {nil, false}}
	for _, tt := range tests {
		c, err := Read(mapGetter(map[string]any{KeyFaultInjection: tt.val}))
		if err != nil || c.FaultInjection != tt.want {
			t.Errorf("FaultInjection=%v: %v, %v; want %v", tt.val, c.FaultInjection, err, tt.want)
		}
	}
}

func TestReadAsgHealthCheck(t *testing.T) {
	tests := []struct {
		val  any
		want lab.AsgHealthCheck
	}{{nil, lab.AsgHealthCheckEC2}, {"EC2", lab.AsgHealthCheckEC2}, {"ELB", lab.AsgHealthCheckELB}}
	for _, tt := range tests {
		c, err := Read(mapGetter(map[string]any{KeyAsgHealthCheck: tt.val}))
		if err != nil || c.AsgHealthCheck != tt.want {
			t.Errorf("AsgHealthCheck=%v: %v, %v; want %v", tt.val, c.AsgHealthCheck, err, tt.want)
		}
	}
}

func TestReadReportsAllErrors(t *testing.T) {
	_, err := Read(mapGetter(map[string]any{KeyServerCode: "x", KeyDesiredCapacity: "9"}))
	if err == nil || !strings.Contains(err.Error(), "ServerCode") || !strings.Contains(err.Error(), "DesiredCapacity") {
		t.Errorf("error %v should name both keys", err)
	}
}

func TestArchOf(t *testing.T) {
	tests := map[string]string{
		"t3.micro":       "amd64",
		"t4g.micro":      "arm64",
		"m7g.large":      "arm64",
		"c6gn.large":     "arm64",
		"m6gd.large":     "arm64",
		"a1.medium":      "arm64",
		"g4dn.large":     "amd64", // GPU class, x86
		"g5g.xlarge":     "arm64", // GPU class on Graviton
		"m7i-flex.large": "amd64",
		"t3a.small":      "amd64",
	}
	for in, want := range tests {
		if got := ArchOf(in); got != want {
			t.Errorf("ArchOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadLabIDNames checks the names a LabId gives, and that the longest accepted prefix and
// id that still fit IAM's 64 characters pass while one more character does not.
func TestReadLabIDNames(t *testing.T) {
	c, err := Read(mapGetter(map[string]any{KeyLabID: "a1"}))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Names()
	got := []string{n.VPCStack(), n.ServiceStack(), n.Parameter(), n.Role(), n.NoDDBRole()}
	want := []string{"WebApp1-VPC-a1", "HealthCheckLab-a1", "RecommendationServiceEnabled-a1",
		"WebApp1-a1-EC2-Role-HealthCheckLab", "WebApp1-a1-EC2-noDDB-Role-HealthCheckLab"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("names with LabId a1: %v, want %v", got, want)
	}
	if d := Defaults.Names(); d.ServiceStack() != lab.ServiceStackName || d.VPCStack() != lab.VPCStackName ||
		d.Parameter() != lab.ParameterName || d.Role() != lab.RoleName(lab.DefaultNamingPrefix) {
		t.Errorf("names without LabId: %+v are not the lab's own", d)
	}

	// "-EC2-noDDB-Role-HealthCheckLab" is 30 characters and the id adds one hyphen: 33 remain.
	fits := map[string]any{KeyNamingPrefix: strings.Repeat("p", 17), KeyLabID: strings.Repeat("a", 16)}
	if _, err := Read(mapGetter(fits)); err != nil {
		t.Errorf("a 64-character role name is rejected: %v", err)
	}
	fits[KeyNamingPrefix] = strings.Repeat("p", 18)
	if _, err := Read(mapGetter(fits)); err == nil || !strings.Contains(err.Error(), "64") {
		t.Errorf("a 65-character role name: error %v, want the IAM limit", err)
	}
}
