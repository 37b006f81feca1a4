// Package supervise keeps a process running the way systemd's Restart=always does: when the
// process exits, for whatever reason, it is started again after a delay, and the delay grows
// while the new runs keep failing. Only an exit counts: a stopped (SIGSTOP, frozen) process
// has not exited and is left alone, and a process the owner stops through Stop is not
// restarted.
//
// The local lab uses it for dynalite and for each instance's web server, whose unit file
// (assets/webserver.service) has Restart=always.
package supervise

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Process is one run of a supervised program.
type Process interface {
	// Pid is the process id of this run.
	Pid() int
	// Done is closed once the process has exited.
	Done() <-chan struct{}
	// ExitStatus says how it ended ("signal: killed", "exit status 1"); valid once Done is closed.
	ExitStatus() string
	// Stop ends the process and returns once it has exited.
	Stop()
}

// StartFunc starts a new run of the program: the same program, with the same arguments.
// It returns once the run is ready to be supervised; ctx ends when the supervisor stops.
type StartFunc func(ctx context.Context) (Process, error)

// Policy is when a program that exited is started again.
//
// It follows systemd.service(5), https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html:
// Restart=always restarts a service however it exited; RestartSec= is the time to sleep
// before restarting it; RestartSteps= and RestartMaxDelaySec= (systemd 254 and later) let
// that time grow, in steps, up to a maximum. StartLimitIntervalSec=0 turns off the start
// rate limit, so systemd never gives up; neither does a Supervisor.
type Policy struct {
	// RestartSec is the wait before the first restart (systemd's RestartSec=).
	RestartSec time.Duration
	// MaxDelay, when above RestartSec, lets the wait double at every consecutive failure up
	// to MaxDelay (the lab's stand-in for RestartSteps= and RestartMaxDelaySec=). Zero keeps
	// the wait at RestartSec, as a unit without RestartSteps= does.
	MaxDelay time.Duration
	// ResetAfter is how long a run must last for the next exit to count as a first failure
	// again, so that one crash a day is restarted after RestartSec, not after MaxDelay.
	// Zero never resets.
	ResetAfter time.Duration
}

// Delay is the wait before start attempt n (1 for the first restart after an exit, 2 if that
// one failed, and so on).
func (p Policy) Delay(n int) time.Duration {
	d := p.RestartSec
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	if p.MaxDelay > p.RestartSec && d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

// Clock is the time a Supervisor waits by; tests give it a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// State is where a supervised program is.
type State string

// The states of a supervised program.
const (
	// Running: a run is under way (it may be frozen; only an exit changes the state).
	Running State = "running"
	// Restarting: the last run exited, or a start failed; the next start is due after a delay.
	Restarting State = "restarting"
	// Stopped: the owner stopped it; nothing restarts it.
	Stopped State = "stopped"
)

// EventKind is what happened to a supervised program.
type EventKind string

// The events a Supervisor reports.
const (
	Exited      EventKind = "exited"       // a run ended; a restart follows after Event.Delay
	Restarted   EventKind = "restarted"    // a new run started
	StartFailed EventKind = "start failed" // a start failed; another follows after Event.Delay
)

// Event is one change, for the owner's log.
type Event struct {
	Name     string
	Kind     EventKind
	PID      int           // of the run that exited or started
	Detail   string        // Exited: the exit status; StartFailed: the error
	Delay    time.Duration // Exited, StartFailed: the wait before the next start
	Restarts int           // restarts so far, this one included
}

// String is the event as one log line, e.g. "dynalite (pid 42) exited (signal: killed):
// restarting in 100ms".
func (e Event) String() string {
	switch e.Kind {
	case Exited:
		return fmt.Sprintf("%s (pid %d) exited (%s): restarting in %s", e.Name, e.PID, e.Detail, e.Delay)
	case Restarted:
		return fmt.Sprintf("%s restarted (pid %d, restart %d)", e.Name, e.PID, e.Restarts)
	default:
		return fmt.Sprintf("%s did not start (%s): trying again in %s", e.Name, e.Detail, e.Delay)
	}
}

// Status is a supervised program's state, for status views.
type Status struct {
	Name     string    `json:"name"`
	State    State     `json:"state"`
	PID      int       `json:"pid,omitempty"`       // the current run's, 0 while restarting
	Restarts int       `json:"restarts"`            // runs started after an exit
	LastExit string    `json:"last_exit,omitempty"` // how the last run ended
	Since    time.Time `json:"since"`               // when it entered State
}

// Options configure Watch.
type Options struct {
	// Name names the program in events and status, e.g. "dynalite".
	Name string
	// Start starts a new run after an exit.
	Start StartFunc
	// Policy is when; its zero value restarts at once, forever.
	Policy Policy
	// Clock is nil for the real one.
	Clock Clock
	// OnEvent, when set, is called with every event, from the supervisor's goroutine; it
	// must not call Stop.
	OnEvent func(Event)
}

// Supervisor watches one program and restarts it when it exits.
type Supervisor struct {
	o      Options
	clock  Clock
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	proc    Process // the current run; nil while restarting
	status  Status
	stopped bool
}

// Watch supervises first, a run the owner started, from now until Stop.
func Watch(first Process, o Options) *Supervisor {
	s := &Supervisor{o: o, clock: o.Clock, done: make(chan struct{}), proc: first}
	if s.clock == nil {
		s.clock = realClock{}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.status = Status{Name: o.Name, State: Running, PID: first.Pid(), Since: s.clock.Now()}
	go s.loop(first)
	return s
}

// Status reports the program's state.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Process is the current run, nil while the program is restarting or stopped.
func (s *Supervisor) Process() Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// Stop ends supervision and stops the current run: an owner's stop is not an exit to
// restart. It returns once the run has exited. Stopping twice is harmless.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.stopped = true
	p := s.proc
	s.proc = nil
	s.status.State, s.status.PID, s.status.Since = Stopped, 0, s.clock.Now()
	s.mu.Unlock()
	s.cancel()
	if p != nil {
		p.Stop()
	}
	<-s.done
}

func (s *Supervisor) emit(e Event) {
	e.Name = s.o.Name
	if s.o.OnEvent != nil {
		s.o.OnEvent(e)
	}
}

// loop waits for the current run to exit, then starts new runs until one starts, and again.
func (s *Supervisor) loop(p Process) {
	defer close(s.done)
	failures := 0
	started := s.clock.Now()
	for {
		select {
		case <-p.Done():
		case <-s.ctx.Done():
			return // Stop stops the run
		}
		now := s.clock.Now()
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		if s.o.Policy.ResetAfter > 0 && now.Sub(started) >= s.o.Policy.ResetAfter {
			failures = 0
		}
		failures++
		delay := s.o.Policy.Delay(failures)
		s.proc = nil
		s.status.State, s.status.PID, s.status.LastExit, s.status.Since = Restarting, 0, p.ExitStatus(), now
		restarts := s.status.Restarts
		s.mu.Unlock()
		s.emit(Event{Kind: Exited, PID: p.Pid(), Detail: p.ExitStatus(), Delay: delay, Restarts: restarts})

		for {
			select {
			case <-s.clock.After(delay):
			case <-s.ctx.Done():
				return
			}
			np, err := s.o.Start(s.ctx)
			s.mu.Lock()
			if s.stopped {
				s.mu.Unlock()
				if err == nil {
					np.Stop()
				}
				return
			}
			if err != nil {
				failures++
				delay = s.o.Policy.Delay(failures)
				s.mu.Unlock()
				s.emit(Event{Kind: StartFailed, Detail: err.Error(), Delay: delay, Restarts: restarts})
				continue
			}
			started = s.clock.Now()
			s.proc = np
			s.status.Restarts++
			restarts = s.status.Restarts
			s.status.State, s.status.PID, s.status.Since = Running, np.Pid(), started
			s.mu.Unlock()
			s.emit(Event{Kind: Restarted, PID: np.Pid(), Restarts: restarts})
			p = np
			break
		}
	}
}
