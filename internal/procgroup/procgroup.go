// Package procgroup starts child processes so that none outlives the lab: each child runs
// in a group of its own (a process group on Unix, a job object on Windows), so stopping it
// reaches everything it started, and the operating system ends it when its parent dies
// where the system offers that (Linux's parent-death signal, Windows' kill-on-close jobs).
// A child in its own group also no longer receives the terminal's Ctrl-C or hang-up: the
// parent stops it, after its own cleanup.
package procgroup

import "os/exec"

// Group is a started child process and everything it starts.
type Group struct {
	cmd *exec.Cmd
	sys sysGroup
}

// Start starts cmd in a group of its own. cmd.SysProcAttr is replaced.
func Start(cmd *exec.Cmd) (*Group, error) {
	g := &Group{cmd: cmd}
	if err := g.start(); err != nil {
		return nil, err
	}
	return g, nil
}

// Pid is the child's process id.
func (g *Group) Pid() int { return g.cmd.Process.Pid }

// Interrupt asks the whole group to shut down gracefully: SIGTERM on Unix, CTRL_BREAK on
// Windows (Go programs see it as os.Interrupt). The caller waits and then calls Kill.
func (g *Group) Interrupt() error { return g.interrupt() }

// Kill ends the whole group at once. It is safe to call more than once and after the child
// has exited; on Windows it also releases the job.
func (g *Group) Kill() error { return g.kill() }
