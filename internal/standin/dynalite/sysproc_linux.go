package dynalite

import "syscall"

// sysProcAttr puts dynalite in its own process group and kills it when its parent dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
