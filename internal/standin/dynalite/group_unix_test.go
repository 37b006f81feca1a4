//go:build unix

package dynalite

import (
	"errors"
	"syscall"
	"testing"
)

// assertGroupGone fails t if any process of dynalite's process group still runs.
func assertGroupGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after Close (kill 0: %v)", pid, err)
	}
}
