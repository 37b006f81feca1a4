package procgroup

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel kill it when the
// thread that started it dies, which covers a parent killed with SIGKILL or by a closed
// terminal. (Go keeps its threads alive, so in practice that is the parent's death.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
