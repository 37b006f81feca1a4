package procgroup

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sysGroup holds the job object the child runs in. The job is created with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and only this process holds its handle, so Windows ends
// the child and everything it started when this process exits, however it exits.
type sysGroup struct {
	mu  sync.Mutex
	job windows.Handle
}

func (g *Group) start() error {
	job, err := newKillOnCloseJob()
	if err != nil {
		return err
	}
	// A new process group, so that Interrupt's CTRL_BREAK reaches only this child and the
	// console's Ctrl-C reaches only the parent, which then stops its children itself.
	g.cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
	if err := g.cmd.Start(); err != nil {
		_ = windows.CloseHandle(job)
		return err
	}
	// The child joins the job just after it starts; what it started before that would stay
	// outside (the web server and dynalite start nothing, so nothing does).
	if err := assign(job, g.cmd.Process.Pid); err != nil {
		_ = g.cmd.Process.Kill()
		_ = windows.CloseHandle(job)
		return fmt.Errorf("job object for pid %d: %w", g.cmd.Process.Pid, err)
	}
	g.sys.job = job
	return nil
}

func newKillOnCloseJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("create job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		_ = windows.CloseHandle(job)
		return 0, fmt.Errorf("set job object limits: %w", err)
	}
	return job, nil
}

func assign(job windows.Handle, pid int) error {
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.AssignProcessToJobObject(job, h)
}

// interrupt sends CTRL_BREAK to the child's process group. It needs a console shared with
// the child; without one it fails and the caller's Kill ends the child.
func (g *Group) interrupt() error {
	return windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(g.cmd.Process.Pid))
}

func (g *Group) kill() error {
	g.sys.mu.Lock()
	defer g.sys.mu.Unlock()
	if g.sys.job == 0 {
		return nil
	}
	err := windows.TerminateJobObject(g.sys.job, 1)
	_ = windows.CloseHandle(g.sys.job)
	g.sys.job = 0
	return err
}
