package locallab

import (
	"context"
	"net/url"
	"sync"
	"time"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/localb"
)

// The shell carries out what the region (package region) decides and tells it what
// happened; it holds no AWS rule of its own. One pump goroutine moves the region's clock on,
// drains its outbox, prints its notes and carries out its intents:
//
//   - Launch starts the instance's metadata service and supervised web server, in a
//     goroutine of its own (a server takes a while to answer), then reports Started, or
//     LaunchFailed when the server never answered.
//   - SetRole switches the instance's metadata service to another role's credentials.
//   - Register, Deregister and Remove are the load balancer's.
//   - Stop stops the instance's processes (a launch still in progress first) and reports
//     Stopped.
//
// A web server that crashes is not a Stop: its supervisor starts it again, as the unit's
// Restart=always does on EC2, and only its health checks tell the region.

// pumpInterval is how often the pump moves the region's clock on when nothing wakes it.
const pumpInterval = 50 * time.Millisecond

// watcher queues the region's notes for a deploy that follows them; done is closed once the
// region has no deploy in flight and every note up to then is queued. The pump never waits
// for the deploy's reader: a client that stops reading cannot stall the lab.
type watcher struct {
	mu    sync.Mutex
	notes []string
	more  chan struct{} // a note was queued
	done  chan struct{}
}

func newWatcher() *watcher {
	return &watcher{more: make(chan struct{}, 1), done: make(chan struct{})}
}

// say queues one note.
func (w *watcher) say(msg string) {
	w.mu.Lock()
	w.notes = append(w.notes, msg)
	w.mu.Unlock()
	select {
	case w.more <- struct{}{}:
	default:
	}
}

// take returns the queued notes and empties the queue.
func (w *watcher) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.notes
	w.notes = nil
	return n
}

// wake asks the pump for a round now, after an event reached the region.
func (l *Lab) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// pump runs until the lab closes.
func (l *Lab) pump() {
	defer l.wg.Done()
	tick := time.NewTicker(pumpInterval)
	defer tick.Stop()
	for {
		l.r.Tick()
		l.mu.Lock()
		// The operation first, then the outbox: once no deploy is in flight, the notes that
		// ended it are in this outbox.
		op := l.r.Operation()
		idle := op == nil || op.Kind != region.OpDeploy
		out := l.r.Drain()
		ws := append([]*watcher(nil), l.watchers...)
		if idle {
			l.watchers = nil
		}
		l.mu.Unlock()
		for _, n := range out.Notes {
			l.printAt(n.At, n.Text)
			for _, w := range ws {
				w.say(n.Text)
			}
		}
		if idle {
			for _, w := range ws {
				close(w.done)
			}
		}
		for _, i := range out.Intents {
			l.carry(i)
		}
		if len(out.Intents) > 0 {
			continue // what was just done may already ask for more
		}
		select {
		case <-l.ctx.Done():
			return
		case <-l.kick:
		case <-tick.C:
		}
	}
}

// carry carries out one intent.
func (l *Lab) carry(i region.Intent) {
	switch i.Kind {
	case region.Launch:
		l.launch(*i.Launch)
	case region.SetRole:
		if in := l.proc(i.Instance); in != nil {
			in.meta.SetRole(i.Role)
		}
	case region.Register:
		in := l.proc(i.Instance)
		if in == nil || in.url == nil {
			l.printf("register %s: no running instance", i.Instance)
			return
		}
		u := *in.url
		if err := l.lb.Register(localb.Target{ID: in.id, URL: &url.URL{Scheme: u.Scheme, Host: u.Host}}); err != nil {
			l.printf("register %s with the load balancer: %v", in.id, err)
		}
	case region.Deregister:
		_ = l.lb.Deregister(i.Instance) // not registered with it: nothing to drain
	case region.Remove:
		l.lb.Remove(i.Instance)
	case region.Stop:
		l.stopInstance(i.Instance)
	}
}

// proc returns the processes of instance id, nil when none run.
func (l *Lab) proc(id string) *instance {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.procs[id]
}

// launch starts spec's processes in the background and reports to the region how it went.
func (l *Lab) launch(spec region.LaunchSpec) {
	in := l.newInstance(spec)
	ctx, cancel := context.WithCancel(l.ctx)
	in.cancel = cancel
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cancel()
		return
	}
	l.procs[in.id] = in
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		defer close(in.launched)
		err := l.start(ctx, in)
		switch {
		case ctx.Err() != nil:
			// Stopped while launching, or the lab is closing: stopInstance reports it.
		case err != nil:
			l.mu.Lock()
			delete(l.procs, in.id)
			l.launchErrs = append(l.launchErrs, err)
			l.mu.Unlock()
			_ = l.r.LaunchFailed(in.id, err.Error())
		default:
			_ = l.r.Started(in.id)
		}
		cancel()
		l.wake()
	}()
}

// stopInstance stops instance id's processes in the background, then reports Stopped.
func (l *Lab) stopInstance(id string) {
	l.mu.Lock()
	in := l.procs[id]
	if in == nil || l.closed {
		l.mu.Unlock()
		_ = l.r.Stopped(id)
		return
	}
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		in.cancel()
		<-in.launched
		in.stop()
		l.mu.Lock()
		delete(l.procs, id)
		l.mu.Unlock()
		_ = l.r.Stopped(id)
		l.wake()
	}()
}

// stopAll stops every instance's processes, for Close; the region is not told any more.
func (l *Lab) stopAll() {
	l.mu.Lock()
	ins := make([]*instance, 0, len(l.procs))
	for _, in := range l.procs {
		ins = append(ins, in)
	}
	l.procs = map[string]*instance{}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.cancel()
			<-in.launched
			in.stop()
		}()
	}
	wg.Wait()
}
