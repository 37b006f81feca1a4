package supervise

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only when the test says so. Waiting tells the test
// how long the supervisor asked to wait, so that the test never guesses with real time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []fakeTimer
	waiting chan time.Duration // each After call's duration
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), waiting: make(chan time.Duration, 16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	t := fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.waiting <- d
	return t.c
}

// Advance moves the clock by d and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

// fakeProc is a run that exits when the test says so; stopping it makes it exit too.
type fakeProc struct {
	pid      int
	done     chan struct{}
	once     sync.Once
	status   string
	stopped  bool
	stopOnce sync.Once
}

func newFakeProc(pid int) *fakeProc { return &fakeProc{pid: pid, done: make(chan struct{})} }

func (p *fakeProc) Pid() int              { return p.pid }
func (p *fakeProc) Done() <-chan struct{} { return p.done }
func (p *fakeProc) ExitStatus() string    { return p.status }
func (p *fakeProc) exit(status string) {
	p.once.Do(func() { p.status = status; close(p.done) })
}
func (p *fakeProc) Stop() { p.stopOnce.Do(func() { p.stopped = true; p.exit("signal: terminated") }) }

// starter hands out new runs, or the errors the test queued first.
type starter struct {
	mu     sync.Mutex
	nextID int
	fail   []error
	procs  []*fakeProc
	calls  chan struct{}
}

func newStarter() *starter { return &starter{nextID: 100, calls: make(chan struct{}, 16)} }

func (s *starter) start(ctx context.Context) (Process, error) {
	defer func() { s.calls <- struct{}{} }()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		err := s.fail[0]
		s.fail = s.fail[1:]
		return nil, err
	}
	s.nextID++
	p := newFakeProc(s.nextID)
	s.procs = append(s.procs, p)
	return p, nil
}

func (s *starter) last() *fakeProc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[len(s.procs)-1]
}

// events collects a supervisor's events in order.
type events struct {
	c chan Event
}

func (e *events) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-e.c:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event after 10 s")
		return Event{}
	}
}

func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing after 10 s", what)
		var zero T
		return zero
	}
}

func TestPolicyDelay(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		n    int
		want time.Duration
	}{
		// The web server's unit: RestartSec=2, no steps: the same wait every time.
		{Policy{RestartSec: 2 * time.Second}, 1, 2 * time.Second},
		{Policy{RestartSec: 2 * time.Second}, 9, 2 * time.Second},
		// Growing waits: doubling up to the maximum.
		{Policy{RestartSec: 100 * time.Millisecond, MaxDelay: time.Second}, 1, 100 * time.Millisecond},
		{Policy{RestartSec: 100 * time.Millisecond, MaxDelay: time.Second}, 2, 200 * time.Millisecond},
		{Policy{RestartSec: 100 * time.Millisecond, MaxDelay: time.Second}, 4, 800 * time.Millisecond},
		{Policy{RestartSec: 100 * time.Millisecond, MaxDelay: time.Second}, 5, time.Second},
		{Policy{RestartSec: 100 * time.Millisecond, MaxDelay: time.Second}, 50, time.Second},
		{Policy{}, 3, 0},
	} {
		if got := tc.p.Delay(tc.n); got != tc.want {
			t.Errorf("%+v.Delay(%d) = %s, want %s", tc.p, tc.n, got, tc.want)
		}
	}
}

// TestRestartAfterExit: a run that exits is started again after RestartSec, not before,
// and the status says so at every step; the restart is counted.
func TestRestartAfterExit(t *testing.T) {
	clock, st := newFakeClock(), newStarter()
	ev := &events{c: make(chan Event, 16)}
	first := newFakeProc(7)
	s := Watch(first, Options{Name: "web", Start: st.start, Clock: clock,
		Policy: Policy{RestartSec: 2 * time.Second}, OnEvent: func(e Event) { ev.c <- e }})
	defer s.Stop()
	if got := s.Status(); got.State != Running || got.PID != 7 || got.Restarts != 0 {
		t.Fatalf("status at start: %+v", got)
	}

	first.exit("signal: killed")
	e := ev.next(t)
	if e.Kind != Exited || e.PID != 7 || e.Detail != "signal: killed" || e.Delay != 2*time.Second {
		t.Fatalf("event %+v, want web (pid 7) exited (signal: killed), restart in 2s", e)
	}
	if got := e.String(); got != "web (pid 7) exited (signal: killed): restarting in 2s" {
		t.Errorf("event line %q", got)
	}
	if d := wait(t, clock.waiting, "the wait before the restart"); d != 2*time.Second {
		t.Fatalf("waits %s before restarting, want RestartSec 2s", d)
	}
	if got := s.Status(); got.State != Restarting || got.PID != 0 || got.LastExit != "signal: killed" {
		t.Fatalf("status while restarting: %+v", got)
	}
	clock.Advance(time.Second)
	select {
	case <-st.calls:
		t.Fatal("restarted after 1 s, before RestartSec")
	default:
	}
	clock.Advance(time.Second)
	wait(t, st.calls, "restart")
	e = ev.next(t)
	if e.Kind != Restarted || e.PID != 101 || e.Restarts != 1 {
		t.Fatalf("event %+v, want restarted pid 101, restart 1", e)
	}
	if got := s.Status(); got.State != Running || got.PID != 101 || got.Restarts != 1 || got.LastExit != "signal: killed" {
		t.Fatalf("status after the restart: %+v", got)
	}
	if s.Process() != Process(st.last()) {
		t.Error("Process is not the new run")
	}

	// And again: supervision goes on after a restart.
	st.last().exit("exit status 2")
	if e := ev.next(t); e.Kind != Exited || e.PID != 101 {
		t.Fatalf("second exit: %+v", e)
	}
	wait(t, clock.waiting, "second wait")
	clock.Advance(2 * time.Second)
	if e := ev.next(t); e.Kind != Restarted || e.Restarts != 2 {
		t.Fatalf("second restart: %+v", e)
	}
}

// TestBackoff: starts that fail are tried again with a doubling wait, up to MaxDelay, and a
// run that lasted ResetAfter starts the backoff over.
func TestBackoff(t *testing.T) {
	clock, st := newFakeClock(), newStarter()
	st.fail = []error{errors.New("no port"), errors.New("no port"), errors.New("no port")}
	ev := &events{c: make(chan Event, 16)}
	first := newFakeProc(7)
	p := Policy{RestartSec: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond, ResetAfter: time.Minute}
	s := Watch(first, Options{Name: "dynalite", Start: st.start, Clock: clock, Policy: p, OnEvent: func(e Event) { ev.c <- e }})
	defer s.Stop()

	first.exit("signal: killed")
	ev.next(t)
	var waits []time.Duration
	for i := 0; i < 4; i++ {
		d := wait(t, clock.waiting, "wait")
		waits = append(waits, d)
		clock.Advance(d)
		wait(t, st.calls, "start")
		e := ev.next(t)
		if i < 3 && (e.Kind != StartFailed || e.Detail != "no port") {
			t.Fatalf("attempt %d: %+v, want start failed", i+1, e)
		}
		if i == 3 && e.Kind != Restarted {
			t.Fatalf("attempt 4: %+v, want restarted", e)
		}
	}
	if want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}; fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if got := s.Status(); got.Restarts != 1 || got.State != Running {
		t.Errorf("status %+v: one restart, running", got)
	}

	// A run that crashes at once keeps the backoff where it was...
	st.last().exit("exit status 1")
	if e := ev.next(t); e.Delay != 300*time.Millisecond {
		t.Errorf("crash right after a restart: restart in %s, want 300ms", e.Delay)
	}
	clock.Advance(wait(t, clock.waiting, "wait"))
	ev.next(t)
	// ...and one that ran for ResetAfter is restarted after RestartSec again.
	clock.Advance(time.Minute)
	st.last().exit("signal: killed")
	if e := ev.next(t); e.Delay != 100*time.Millisecond {
		t.Errorf("crash after a minute's run: restart in %s, want 100ms", e.Delay)
	}
}

// TestStopIsNotAnExit: a program its owner stops is never restarted, whether it was running
// or waiting for a restart; Stop stops the current run.
func TestStopIsNotAnExit(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		clock, st := newFakeClock(), newStarter()
		first := newFakeProc(7)
		var got []Event
		s := Watch(first, Options{Name: "web", Start: st.start, Clock: clock, Policy: Policy{RestartSec: time.Second},
			OnEvent: func(e Event) { got = append(got, e) }})
		s.Stop()
		if !first.stopped {
			t.Error("Stop did not stop the run")
		}
		if len(got) != 0 || len(st.calls) != 0 {
			t.Errorf("events %v, %d starts after Stop: want none", got, len(st.calls))
		}
		if s.Status().State != Stopped || s.Process() != nil {
			t.Errorf("status after Stop: %+v", s.Status())
		}
		s.Stop() // twice is harmless
	})
	t.Run("restarting", func(t *testing.T) {
		clock, st := newFakeClock(), newStarter()
		first := newFakeProc(7)
		s := Watch(first, Options{Name: "web", Start: st.start, Clock: clock, Policy: Policy{RestartSec: time.Second}})
		first.exit("signal: killed")
		wait(t, clock.waiting, "wait")
		s.Stop()
		clock.Advance(time.Hour)
		if len(st.calls) != 0 {
			t.Error("started after Stop")
		}
		if s.Status().State != Stopped {
			t.Errorf("status %+v", s.Status())
		}
	})
}

// TestStopDuringStart: a run that starts while its owner stops the program is stopped, not
// left behind.
func TestStopDuringStart(t *testing.T) {
	clock := newFakeClock()
	first := newFakeProc(7)
	entered, release := make(chan struct{}), make(chan struct{})
	late := newFakeProc(8)
	s := Watch(first, Options{Name: "web", Clock: clock, Start: func(ctx context.Context) (Process, error) {
		close(entered)
		<-release
		return late, nil
	}})
	first.exit("signal: killed")
	clock.Advance(wait(t, clock.waiting, "wait"))
	<-entered
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	// Stop has marked the program stopped once it no longer reports running.
	for s.Status().State != Stopped {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wait(t, stopped, "Stop")
	if !late.stopped {
		t.Error("the run that started during Stop is still running")
	}
}
