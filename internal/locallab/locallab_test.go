package locallab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultStatePath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LABCTL_STATE": "/x/s.json", "XDG_RUNTIME_DIR": "/run/user/1"}, "/x/s.json"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1"}, "/run/user/1/healthchecklab/local.json"},
	}
	for _, tt := range tests {
		if got := DefaultStatePath(env(tt.env)); got != tt.want {
			t.Errorf("DefaultStatePath(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
	if got := DefaultStatePath(env(nil)); !strings.HasPrefix(got, os.TempDir()) {
		t.Errorf("fallback %q not under the temporary directory", got)
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "local.json")
	if _, err := ReadState(path); !errors.Is(err, ErrNoLab) {
		t.Fatalf("missing state file: %v, want ErrNoLab", err)
	}
	st := State{PID: 42, ControlURL: "http://127.0.0.1:1", Token: "t", Started: time.Unix(1, 0).UTC(),
		Endpoint: "http://127.0.0.1:2", AccessKeyID: "AKIA", SecretAccessKey: "s",
		RoleCredentials: map[string]RoleCredentials{"r": {AccessKeyID: "ASIA", SecretAccessKey: "s2", SessionToken: "t2"}}}
	if err := WriteState(path, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v: it holds the control token, want 0600", fi.Mode(), err)
	}
	got, err := ReadState(path)
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("ReadState = %+v, %v", got, err)
	}
	RemoveState(path, 7) // another process's lab: left alone
	if _, err := os.Stat(path); err != nil {
		t.Fatal("RemoveState removed another process's state file")
	}
	RemoveState(path, 42)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("state file not removed")
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(path); !errors.Is(err, ErrNoLab) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged state file: %v", err)
	}
}

// TestDialUnreachable: a state file left by a lab that is gone is "no lab running".
func TestDialUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	path := filepath.Join(t.TempDir(), "local.json")
	if err := WriteState(path, State{PID: 1, ControlURL: url, Token: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), path); !errors.Is(err, ErrNoLab) {
		t.Fatalf("Dial = %v, want ErrNoLab", err)
	}
}

// TestControlAPI: every route of the control API refuses calls without the state file's
// token, and only deploy, counters and shutdown remain (the lab's AWS endpoint serves the
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
	for _, route := range [][2]string{{"GET", pathCounters}, {"POST", pathDeploy}, {"POST", pathZonePower}, {"POST", pathShutdown}} {
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
	c := &Client{State: State{ControlURL: srv.URL, Token: "secret"}, http: http.DefaultClient}
	if err := c.Deploy(context.Background(), "deep", func(Event) {}); err == nil || !strings.Contains(err.Error(), "basic, errorhandling, healthcheck") {
		t.Fatalf("deploy deep: %v", err)
	}
	err := c.DeployWith(context.Background(), Request{ServerCode: "healthcheck", HealthCheckType: "TCP"}, func(Event) {})
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
		{"c", 2 * MaxZonePower, "up to 1h0m0s"},
	} {
		if _, err := c.ZonePower(context.Background(), tt.zone, tt.d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("zone power %s for %s: %v, want %q", tt.zone, tt.d, err, tt.want)
		}
	}
}
