package locallab

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/labclient"
)

// TestControlAPI: every route of the control API refuses calls without the state file's
// token, and only deploy, zone power, counters and shutdown remain (the lab's AWS endpoint serves the
// rest).
func TestControlAPI(t *testing.T) {
	l := &Lab{}
	srv := httptest.NewServer(l.Handler("secret", func() {}))
	defer srv.Close()
	call := func(method, path, auth string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, route := range [][2]string{{"GET", labclient.PathCounters}, {"POST", labclient.PathDeploy}, {"POST", labclient.PathZonePower}, {"POST", labclient.PathShutdown}} {
		for _, auth := range []string{"", "Bearer wrong", "secret"} {
			if code := call(route[0], route[1], auth); code != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %q: %d, want 401", route[0], route[1], auth, code)
			}
		}
	}
	for _, route := range [][2]string{{"GET", "/v1/status"}, {"POST", "/v1/fault"}, {"POST", "/v1/repair"}} {
		if code := call(route[0], route[1], "Bearer secret"); code != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404 (served by the AWS endpoint now)", route[0], route[1], code)
		}
	}
	c := &labclient.Client{State: labclient.State{ControlURL: srv.URL, Token: "secret"}}
	if err := c.Deploy(context.Background(), "deep", func(labclient.Event) {}); err == nil || !strings.Contains(err.Error(), "basic, errorhandling, healthcheck") {
		t.Fatalf("deploy deep: %v", err)
	}
	err := c.DeployWith(context.Background(), labclient.Request{ServerCode: "healthcheck", HealthCheckType: "TCP"}, func(labclient.Event) {})
	if err == nil || !strings.Contains(err.Error(), "EC2, ELB") {
		t.Fatalf("deploy with health check type TCP: %v", err)
	}
	for _, tt := range []struct {
		zone string
		d    time.Duration
		want string
	}{
		{"d", time.Minute, "the local lab's zones are a, b, c"},
		{"c", 0, "bad --duration 0s"},
		{"c", 2 * labclient.MaxZonePower, "up to 1h0m0s"},
	} {
		if _, err := c.ZonePower(context.Background(), tt.zone, tt.d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("zone power %s for %s: %v, want %q", tt.zone, tt.d, err, tt.want)
		}
	}
}
