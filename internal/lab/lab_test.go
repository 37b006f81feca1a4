package lab

import (
	"strings"
	"testing"
)

func TestParseServerCode(t *testing.T) {
	tests := []struct {
		in      string
		want    ServerCode
		wantErr bool
	}{
		{"basic", CodeBasic, false},
		{"errorhandling", CodeErrorHandling, false},
		{"healthcheck", CodeHealthCheck, false},
		{"", "", true},
		{"Basic", "", true},
		{"deep", "", true},
	}
	for _, tt := range tests {
		got, err := ParseServerCode(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseServerCode(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "basic, errorhandling, healthcheck") {
			t.Errorf("error %q does not name the three codes", err)
		}
	}
}

func TestSeedMatchesLab(t *testing.T) {
	s := Seed()
	want := map[int][2]string{
		0: {"test", "test"},
		1: {"Sarah", "M*A*S*H"},
		2: {"Bob", "All in the Family"},
		3: {"Vijay", "Three's company"},
		4: {"Manuel", "Mad About You"},
	}
	if len(s.Items) != len(want) {
		t.Fatalf("seed has %d items, want %d", len(s.Items), len(want))
	}
	for _, it := range s.Items {
		w, ok := want[it.UserID]
		if !ok || w[0] != it.UserName || w[1] != it.Result {
			t.Errorf("seed row %+v, want %v", it, w)
		}
	}
}

func TestParseSeedRejects(t *testing.T) {
	tests := map[string]string{
		"not json":      `{`,
		"wrong api":     `{"serviceAPI":"x","items":[{"userID":0,"userName":"test","result":"test"}]}`,
		"no probe":      `{"serviceAPI":"getRecommendation","items":[{"userID":1,"userName":"a","result":"b"}]}`,
		"bad probe":     `{"serviceAPI":"getRecommendation","items":[{"userID":0,"userName":"x","result":"test"}]}`,
		"duplicate ids": `{"serviceAPI":"getRecommendation","items":[{"userID":0,"userName":"test","result":"test"},{"userID":0,"userName":"test","result":"test"}]}`,
	}
	for name, in := range tests {
		if _, err := ParseSeed([]byte(in)); err == nil {
			t.Errorf("%s: ParseSeed accepted %s", name, in)
		}
	}
}

func TestRoleNames(t *testing.T) {
	if got := RoleName("WebApp1"); got != "WebApp1-EC2-Role-HealthCheckLab" {
		t.Errorf("RoleName = %q", got)
	}
	if got := NoDDBRoleName("WebApp1"); got != "WebApp1-EC2-noDDB-Role-HealthCheckLab" {
		t.Errorf("NoDDBRoleName = %q", got)
	}
}
