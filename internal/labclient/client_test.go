package labclient

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
