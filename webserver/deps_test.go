package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable time source for the caches, with timers that fire when it is advanced.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan struct{}
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// add advances the clock and fires the timers it passes.
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if c.t.Before(tm.at) {
			kept = append(kept, tm)
		} else {
			close(tm.ch)
		}
	}
	c.timers = kept
}

// at returns a channel closed once the clock reaches t.
func (c *clock) at(t time.Time) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.t.Before(t) {
		c.timers = append(c.timers, fakeTimer{t, ch})
	} else {
		close(ch)
	}
	return ch
}

// concurrently calls f n times at once and waits.
func concurrently(n int, f func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}

// fakeParameterStore is GetParameter for paramCache tests: it answers the current value or
// error, and, when gated, only once the test lets each read end.
type fakeParameterStore struct {
	mu     sync.Mutex
	value  string
	err    error
	gated  bool
	gate   chan struct{}
	reads  atomic.Int64
	called chan struct{} // one token per read started
}

func newFakeParameterStore(value string) *fakeParameterStore {
	return &fakeParameterStore{value: value, gate: make(chan struct{}), called: make(chan struct{}, 1000)}
}

func (p *fakeParameterStore) set(v string, err error) {
	p.mu.Lock()
	p.value, p.err = v, err
	p.mu.Unlock()
}

// setGated makes reads wait for release (a slow Parameter Store) or answer at once.
func (p *fakeParameterStore) setGated(g bool) { p.mu.Lock(); p.gated = g; p.mu.Unlock() }

// release lets one gated read end.
func (p *fakeParameterStore) release() { p.gate <- struct{}{} }

func (p *fakeParameterStore) fetch(context.Context) (string, error) {
	p.reads.Add(1)
	p.called <- struct{}{}
	p.mu.Lock()
	gated := p.gated
	p.mu.Unlock()
	if gated {
		<-p.gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.value, p.err
}

// newTestParamCache is a cache on clk with the server's default ttl and wait.
func newTestParamCache(ps *fakeParameterStore, clk *clock) *paramCache {
	c := newParamCache(ps.fetch, 5*time.Second, parameterWait(time.Second), time.Second, quiet)
	c.now, c.at = clk.now, clk.at
	return c
}

// readAll calls c.Value n times at once and returns the values seen and whether any was stale.
func readAll(t *testing.T, c *paramCache, n int) (values map[string]int, anyStale bool) {
	t.Helper()
	var mu sync.Mutex
	values = map[string]int{}
	concurrently(n, func() {
		v, stale, err := c.Value(context.Background())
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("Value: %v", err)
		}
		values[v]++
		anyStale = anyStale || stale
	})
	return values, anyStale
}

// TestParamCacheSeesChangeAfterTTL is the cache's promise: a request that arrives more than
// ttl + 1 s after a change, while Parameter Store answers normally, sees the change, however
// long the server went without a request before it; and requests within the ttl make no read.
func TestParamCacheSeesChangeAfterTTL(t *testing.T) {
	const ttl = 5 * time.Second
	for _, idle := range []time.Duration{ttl + time.Second + time.Millisecond, 6 * time.Second, 10 * time.Second, 30 * time.Second, 10 * time.Minute} {
		t.Run(idle.String(), func(t *testing.T) {
			clk := &clock{t: time.Unix(1e9, 0)}
			ps := newFakeParameterStore("true")
			c := newTestParamCache(ps, clk)
			// Requests along the way keep the value as young as the cache lets it be.
			for range 3 {
				if v, stale, err := c.Value(context.Background()); v != "true" || stale || err != nil {
					t.Fatalf("before the change: %q stale=%v %v", v, stale, err)
				}
				clk.add(2 * time.Second)
			}
			readsBefore := ps.reads.Load()
			ps.set("false", nil)
			clk.add(idle)
			v, stale, err := c.Value(context.Background())
			if v != "false" || stale || err != nil {
				t.Errorf("first request %s after the change: %q (stale %v, %v); want the new value, not stale", idle, v, stale, err)
			}
			if n := ps.reads.Load() - readsBefore; n != 1 {
				t.Errorf("%d reads for the request after the change, want 1", n)
			}
			ps.set("true", nil)
			clk.add(ttl - time.Millisecond)
			if v, _, _ := c.Value(context.Background()); v != "false" {
				t.Errorf("within the ttl of the last read: %q, want the cached false", v)
			}
		})
	}
}

// TestParamCache walks the cache through a bad day of Parameter Store: reads are shared
// (single flight), the stale value is served only while Parameter Store fails or is slow, and
// a slow read holds a request up for at most the wait.
func TestParamCache(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	ps := newFakeParameterStore("true")
	ps.setGated(true)
	c := newTestParamCache(ps, clk)
	wait := parameterWait(time.Second)
	check := func(step string, values map[string]int, stale bool, want string, wantStale bool, wantReads int64) {
		t.Helper()
		if len(values) != 1 || values[want] == 0 || stale != wantStale || ps.reads.Load() != wantReads {
			t.Errorf("%s: got %v (stale %v) after %d reads; want all %q (stale %v) after %d", step, values, stale, ps.reads.Load(), want, wantStale, wantReads)
		}
	}
	// waitForRead waits until a read has started (it has called Parameter Store).
	waitForRead := func() { <-ps.called }

	// First read: 50 callers wait for one read, within their own deadline.
	go func() { waitForRead(); ps.release() }()
	values, stale := readAll(t, c, 50)
	check("first read", values, stale, "true", false, 1)

	// Within the ttl: the cached value, no read.
	ps.set("false", nil)
	clk.add(4 * time.Second)
	values, stale = readAll(t, c, 50)
	check("within the ttl", values, stale, "true", false, 1)

	// Past the ttl: every caller waits for one shared read and sees the change.
	clk.add(2 * time.Second)
	go func() { waitForRead(); ps.release() }()
	values, stale = readAll(t, c, 50)
	check("past the ttl, Parameter Store well", values, stale, "false", false, 2)

	// Past the ttl, Parameter Store slow: the first caller waits up to the wait, then the
	// last value, stale; callers arriving later take it at once; still one read.
	ps.set("true", nil)
	clk.add(6 * time.Second)
	first := make(chan string)
	go func() { v, _, _ := c.Value(context.Background()); first <- v }()
	waitForRead()
	clk.add(wait)
	if v := <-first; v != "false" {
		t.Errorf("caller waiting on a slow read: %q, want the last value false", v)
	}
	values, stale = readAll(t, c, 50)
	check("a slow read past the wait", values, stale, "false", true, 3)
	clk.add(time.Minute)
	values, stale = readAll(t, c, 50)
	check("a minute of slowness", values, stale, "false", true, 3)
	// Parameter Store answers again: the slow read ends, and as it started long ago, the next
	// request reads once more (at once now) and sees the change.
	ps.setGated(false)
	ps.release()
	for {
		if v, stale, _ := c.Value(context.Background()); v == "true" {
			if stale {
				t.Error("the value just read is marked stale")
			}
			break
		}
		runtime.Gosched()
	}
	if n := ps.reads.Load(); n != 4 {
		t.Errorf("%d reads after Parameter Store recovered, want 4", n)
	}

	// Parameter Store fails: the callers waiting get the last value at once, stale; no read
	// until the retry, then one.
	ps.set("", errors.New("ssm down"))
	clk.add(5 * time.Second)
	values, stale = readAll(t, c, 50)
	check("Parameter Store fails", values, stale, "true", true, 5)
	clk.add(500 * time.Millisecond)
	values, stale = readAll(t, c, 50)
	check("within the retry", values, stale, "true", true, 5)
	clk.add(600 * time.Millisecond)
	ps.set("false", nil)
	values, stale = readAll(t, c, 50)
	check("recovered at the retry", values, stale, "false", false, 6)
}

func TestParamCacheErrorWithoutValue(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	ps := newFakeParameterStore("")
	ps.set("", errors.New("ParameterNotFound"))
	c := newTestParamCache(ps, clk)
	for range 10 {
		if _, _, err := c.Value(context.Background()); err == nil {
			t.Fatal("no error without any value")
		}
	}
	clk.add(1500 * time.Millisecond)
	c.Value(context.Background())
	if n := ps.reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2 (errors reused for a second)", n)
	}
}

// TestParamCacheFirstReadWaitsWithinDeadline: a never-read parameter is the one case that
// waits longer than the wait, and only within the caller's deadline; the read goes on for the
// next caller.
func TestParamCacheFirstReadWaitsWithinDeadline(t *testing.T) {
	release := make(chan struct{})
	c := newParamCache(func(context.Context) (string, error) { <-release; return "true", nil }, 5*time.Second, parameterWait(time.Second), 10*time.Second, quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := c.Value(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first read against a hanging Parameter Store: %v, want the caller's deadline", err)
	}
	close(release)
	if v, _, err := c.Value(context.Background()); err != nil || v != "true" {
		t.Errorf("next read: %q %v, want the value the first read fetched", v, err)
	}
}

func TestHealthCheckerCoalescesAndBounds(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	var calls atomic.Int64
	release := make(chan struct{})
	h := newHealthChecker(func(ctx context.Context) error {
		calls.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return describe("GetItem", time.Second, ctx.Err())
		}
	}, time.Second, 200*time.Millisecond)
	h.now = clk.now

	// 100 concurrent checks against a hanging dependency: one call, every one answered
	// with the timeout error.
	var timeouts atomic.Int64
	concurrently(100, func() {
		if r := h.Check(context.Background()); r.Err != nil && errorKind(r.Err) == "Timeout" {
			timeouts.Add(1)
		}
	})
	if calls.Load() != 1 || timeouts.Load() != 100 {
		t.Errorf("calls %d, timeouts %d; want 1, 100", calls.Load(), timeouts.Load())
	}
	// Within the second the result is reused; after it the check runs again.
	close(release)
	clk.add(999 * time.Millisecond)
	if r := h.Check(context.Background()); r.Err == nil || calls.Load() != 1 {
		t.Errorf("within 1 s: err %v, calls %d; want the cached failure, 1 call", r.Err, calls.Load())
	}
	clk.add(2 * time.Millisecond)
	if r := h.Check(context.Background()); r.Err != nil || calls.Load() != 2 {
		t.Errorf("after 1 s: err %v, calls %d; want healthy, 2 calls", r.Err, calls.Load())
	}
}

// TestHealthCheckerIgnoresCallerCancellation: a caller that goes away neither cancels the
// shared check nor gets a failure of its own; it gets the check's result.
func TestHealthCheckerIgnoresCallerCancellation(t *testing.T) {
	release := make(chan struct{})
	var checkErr atomic.Value
	h := newHealthChecker(func(ctx context.Context) error {
		<-release
		if ctx.Err() != nil {
			checkErr.Store(ctx.Err())
		}
		return ctx.Err()
	}, time.Second, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan healthResult)
	go func() { done <- h.Check(ctx) }()
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if r := <-done; r.Err != nil {
		t.Errorf("canceled caller got %v, want the check's own (healthy) result", r.Err)
	}
	if err := checkErr.Load(); err != nil {
		t.Errorf("the shared check saw %v", err)
	}
}

// fakeCache stands in for the SDK's credentials cache: Retrieve reads the "source" (counted)
// unless cached; hang makes the source block until released.
type fakeCache struct {
	mu        sync.Mutex
	key       string
	fail      error
	hang      chan struct{}
	retrieved int
	attempts  int
	cached    *aws.Credentials
}

func (f *fakeCache) set(fn func(*fakeCache)) { f.mu.Lock(); fn(f); f.mu.Unlock() }
func (f *fakeCache) Invalidate()             { f.set(func(f *fakeCache) { f.cached = nil }) }
func (f *fakeCache) Retrieve(ctx context.Context) (aws.Credentials, error) {
	f.mu.Lock()
	if f.cached != nil {
		defer f.mu.Unlock()
		return *f.cached, nil
	}
	f.attempts++
	hang := f.hang
	f.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return aws.Credentials{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return aws.Credentials{}, f.fail
	}
	f.retrieved++
	c := aws.Credentials{AccessKeyID: f.key, SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(6 * time.Hour)}
	f.cached = &c
	return c, nil
}

func (f *fakeCache) counts() (attempts, retrieved int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, f.retrieved
}

// startRefresher runs a refreshingCredentials over inner until the test ends.
func startRefresher(t *testing.T, inner *fakeCache, interval time.Duration) *refreshingCredentials {
	c := newRefreshingCredentials(inner, interval, quiet)
	c.minBackoff, c.maxBackoff, c.minKickGap = 10*time.Millisecond, 80*time.Millisecond, 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func keyOf(t *testing.T, c *refreshingCredentials, ctx context.Context) string {
	t.Helper()
	creds, err := c.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return creds.AccessKeyID
}

// TestRefreshingCredentialsSeesSwap: the source is re-read in the background every interval,
// so a swapped role shows without any caller waiting for it.
func TestRefreshingCredentialsSeesSwap(t *testing.T) {
	inner := &fakeCache{key: "ROLE-A"}
	c := startRefresher(t, inner, 20*time.Millisecond)
	if k := keyOf(t, c, context.Background()); k != "ROLE-A" {
		t.Fatalf("first key %s", k)
	}
	inner.set(func(f *fakeCache) { f.key = "ROLE-B" })
	eventually(t, 5*time.Second, "the swapped ROLE-B in use", func() bool { return keyOf(t, c, context.Background()) == "ROLE-B" })
}

// TestRefreshingCredentialsNeverWaitWhileValid: with the source hanging, callers holding valid
// credentials get them at once, even with a deadline far shorter than the hang.
func TestRefreshingCredentialsNeverWaitWhileValid(t *testing.T) {
	inner := &fakeCache{key: "ROLE-A"}
	c := startRefresher(t, inner, 10*time.Millisecond)
	keyOf(t, c, context.Background())
	release := make(chan struct{})
	defer close(release)
	inner.set(func(f *fakeCache) { f.hang = release })
	eventually(t, 5*time.Second, "a refresh hanging on the source", func() bool { a, r := inner.counts(); return a > r })
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		if k := keyOf(t, c, ctx); k != "ROLE-A" {
			t.Fatalf("key %s while the source hangs, want ROLE-A", k)
		}
		cancel()
	}
}

// TestRefreshingCredentialsBackoff: a failing source is retried with a doubling backoff, not
// every interval, and keeps the previous credentials in use.
func TestRefreshingCredentialsBackoff(t *testing.T) {
	inner := &fakeCache{key: "ROLE-A"}
	c := startRefresher(t, inner, time.Millisecond)
	keyOf(t, c, context.Background())
	inner.set(func(f *fakeCache) { f.fail = errors.New("imds down") })
	before, _ := inner.counts()
	time.Sleep(500 * time.Millisecond)
	after, _ := inner.counts()
	// Backoff 10, 20, 40, 80, 80, … ms: about 8 attempts in 500 ms; every interval: ~500.
	if n := after - before; n < 2 || n > 20 {
		t.Errorf("%d refresh attempts in 500 ms of failures, want a backed-off handful", n)
	}
	if k := keyOf(t, c, context.Background()); k != "ROLE-A" {
		t.Errorf("key %s while refreshes fail, want the previous ROLE-A", k)
	}
	inner.set(func(f *fakeCache) { f.fail = nil; f.key = "ROLE-B" })
	eventually(t, 5*time.Second, "ROLE-B after the source recovers", func() bool { return keyOf(t, c, context.Background()) == "ROLE-B" })
}

// TestRefreshingCredentialsRemembersFailure: without valid credentials a caller waits for a
// refresh, but a failure is then reused until its retry time instead of asking again.
func TestRefreshingCredentialsRemembersFailure(t *testing.T) {
	inner := &fakeCache{key: "ROLE-A", fail: errors.New("imds down")}
	c := newRefreshingCredentials(inner, time.Hour, quiet)
	for range 10 {
		if _, err := c.Retrieve(context.Background()); err == nil {
			t.Fatal("credentials without any source")
		}
	}
	if a, _ := inner.counts(); a != 1 {
		t.Errorf("%d source reads for 10 callers within the backoff, want 1", a)
	}
}

// TestRefreshingCredentialsKickRespectsBackoff: while refreshes fail and back off, a stream of
// RefreshSoon calls (every request answered AccessDenied) does not hammer the source.
func TestRefreshingCredentialsKickRespectsBackoff(t *testing.T) {
	inner := &fakeCache{key: "ROLE-A"}
	c := newRefreshingCredentials(inner, time.Hour, quiet)
	c.minBackoff, c.maxBackoff, c.minKickGap = 5*time.Second, 10*time.Second, 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	keyOf(t, c, context.Background())
	inner.set(func(f *fakeCache) { f.fail = errors.New("imds down") })
	c.RefreshSoon()
	eventually(t, 5*time.Second, "a failed refresh", func() bool { a, r := inner.counts(); return a > r })
	before, _ := inner.counts()
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		c.RefreshSoon()
		time.Sleep(time.Millisecond)
	}
	if after, _ := inner.counts(); after != before {
		t.Errorf("%d source reads from RefreshSoon within the 5 s backoff, want none", after-before)
	}
}

// TestRefreshingCredentialsRefreshSoon: with the interval an hour away, RefreshSoon (an
// AccessDenied answer) re-reads the source at once.
func TestRefreshingCredentialsRefreshSoon(t *testing.T) {
	inner := &fakeCache{key: "ROLE-A"}
	c := startRefresher(t, inner, time.Hour)
	keyOf(t, c, context.Background())
	inner.set(func(f *fakeCache) { f.key = "ROLE-B" })
	c.RefreshSoon()
	eventually(t, 5*time.Second, "ROLE-B after RefreshSoon", func() bool { return keyOf(t, c, context.Background()) == "ROLE-B" })
}
