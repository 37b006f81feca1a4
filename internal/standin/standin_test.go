package standin

import (
	"strings"
	"testing"

	"healthchecklab/internal/lab"
)

func TestAccessKeyIDNamesTheRole(t *testing.T) {
	roles := []string{lab.RoleName(lab.DefaultNamingPrefix), lab.NoDDBRoleName(lab.DefaultNamingPrefix), "r"}
	seen := map[string]string{}
	for _, role := range roles {
		id := AccessKeyID(role)
		if !strings.HasPrefix(id, "ASIA") || strings.ContainsAny(id, "/=") {
			t.Errorf("AccessKeyID(%q) = %q: want ASIA… without / or =", role, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("roles %q and %q share key %q", role, other, id)
		}
		seen[id] = role
		if got, ok := RoleOf(id); !ok || got != role {
			t.Errorf("RoleOf(AccessKeyID(%q)) = %q, %v", role, got, ok)
		}
	}
	for _, bad := range []string{"", "ASIA", "AKIAIOSFODNN7EXAMPLE", "ASIA!!!"} {
		if role, ok := RoleOf(bad); ok {
			t.Errorf("RoleOf(%q) = %q, true; want false", bad, role)
		}
	}
}

func TestSessionToken(t *testing.T) {
	role, session, ok := SessionOf(SessionToken("WebApp1-EC2-Role-HealthCheckLab", "i-0abc"))
	if !ok || role != "WebApp1-EC2-Role-HealthCheckLab" || session != "i-0abc" {
		t.Errorf("SessionOf = %q %q %v", role, session, ok)
	}
	if _, _, ok := SessionOf("FwoGZXIvYXdzEJr"); ok {
		t.Error("SessionOf accepted a foreign token")
	}
}
