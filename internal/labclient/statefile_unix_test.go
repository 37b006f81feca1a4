//go:build unix

package labclient

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateDirRefused: a state directory that another user could have prepared (writable
// by others, owned by someone else, or a symbolic link) is refused by every state-file
// operation, and nothing is written through a link planted in it.
func TestStateDirRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"world-writable", func(t *testing.T, dir string) {
			mustMkdir(t, dir, 0o777)
		}, "writable by other users"},
		{"group-writable", func(t *testing.T, dir string) {
			mustMkdir(t, dir, 0o770)
		}, "writable by other users"},
		{"another user's", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a directory to another user")
			}
			mustMkdir(t, dir, 0o700)
			if err := os.Chown(dir, 54321, 54321); err != nil {
				t.Fatal(err)
			}
		}, "belongs to uid 54321"},
		{"symbolic link", func(t *testing.T, dir string) {
			real := dir + "-real"
			mustMkdir(t, real, 0o700)
			if err := os.Symlink(real, dir); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "healthchecklab-1000")
			tt.setup(t, dir)
			victim := filepath.Join(base, "victim")
			if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "local.json")
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				// The attack: links where labctl writes, pointing at a file of the user's.
				for _, name := range []string{"local.json", "local.json.tmp"} {
					_ = os.Symlink(victim, filepath.Join(dir, name))
				}
			}

			err := WriteState(path, State{PID: 1, ControlURL: "http://127.0.0.1:1", Token: "secret"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteState: %v, want an error saying %q", err, tt.want)
			}
			if _, err := ReadState(path); err == nil || errors.Is(err, ErrNoLab) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadState: %v, want an error saying %q", err, tt.want)
			}
			if _, err := LockState(path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LockState: %v, want an error saying %q", err, tt.want)
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious" {
				t.Errorf("the link's target was written: %q", b)
			}
		})
	}
}

// TestWriteStateDoesNotFollowLinks: even in a private directory, links at the state file's
// path or at its old temporary name are replaced or ignored, never written through.
func TestWriteStateDoesNotFollowLinks(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "state")
	mustMkdir(t, dir, 0o700)
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "local.json")
	for _, p := range []string{path, path + ".tmp"} {
		if err := os.Symlink(victim, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteState(path, State{PID: 1, ControlURL: "http://127.0.0.1:1", Token: "secret"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target was written: %q", b)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v: want a regular file with mode 0600", fi.Mode(), err)
	}
	if st, err := ReadState(path); err != nil || st.Token != "secret" {
		t.Fatalf("ReadState = %+v, %v", st, err)
	}
}

func mustMkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}
