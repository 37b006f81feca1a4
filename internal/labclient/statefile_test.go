package labclient

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWriteStateCreatesPrivateDir: a missing state directory is created for the owner only.
func TestWriteStateCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "healthchecklab-test")
	if err := WriteState(filepath.Join(dir, "local.json"), State{PID: 1, ControlURL: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		t.Fatalf("state directory: %v", err)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		t.Errorf("state directory mode %v, want 0700", perm)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestLockState: while one lab holds the state file's lock, a second `local up` on the
// same state file is refused, naming the running lab; once released, the lock is free.
func TestLockState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local.json")
	unlock, err := LockState(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockState(path); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second lock while starting: %v, want ErrRunning naming %s", err, path)
	}
	if err := WriteState(path, State{PID: 4242, ControlURL: "http://127.0.0.1:1", URL: "http://127.0.0.1:8080", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := LockState(path); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "pid 4242") {
		t.Fatalf("second lock while running: %v, want ErrRunning naming pid 4242", err)
	}
	unlock()
	unlock2, err := LockState(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}
