//go:build unix

package procgroup

import (
	"errors"
	"syscall"
)

type sysGroup struct{}

func (g *Group) start() error {
	g.cmd.SysProcAttr = sysProcAttr()
	return g.cmd.Start()
}

// signal sends sig to the child's process group (a negative pid names the group).
func (g *Group) signal(sig syscall.Signal) error {
	err := syscall.Kill(-g.cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // the whole group has exited already
	}
	return err
}

func (g *Group) interrupt() error { return g.signal(syscall.SIGTERM) }

func (g *Group) kill() error { return g.signal(syscall.SIGKILL) }
