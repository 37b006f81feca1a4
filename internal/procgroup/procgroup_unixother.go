//go:build unix && !linux

package procgroup

import "syscall"

// sysProcAttr puts the child in its own process group. These systems have no parent-death
// signal: the parent stops its children when it is interrupted or its terminal hangs up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
