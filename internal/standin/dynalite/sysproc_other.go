//go:build unix && !linux

package dynalite

import "syscall"

// sysProcAttr puts dynalite in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
