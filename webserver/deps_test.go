package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable time source for the caches.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// concurrently calls f n times at once and waits.
func concurrently(n int, f func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}

func TestParamCache(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	var fetches atomic.Int64
	var mu sync.Mutex
	value, fail := "true", error(nil)
	gate := make(chan struct{}) // each fetch waits for one token: the test decides when it ends
	c := newParamCache(func(context.Context) (string, error) {
		fetches.Add(1)
		<-gate
		mu.Lock()
		defer mu.Unlock()
		return value, fail
	}, 5*time.Second, time.Second, quiet)
	c.now = clk.now
	set := func(v string, err error) { mu.Lock(); value, fail = v, err; mu.Unlock() }
	// finishFetch lets the running fetch end and waits until the cache has taken its result
	// (a finished refresh always pushes the next try into the future).
	finishFetch := func() {
		gate <- struct{}{}
		for {
			c.mu.Lock()
			done := c.now().Before(c.nextTry)
			c.mu.Unlock()
			if done {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}

	// First read: 50 callers wait for one fetch.
	var got atomic.Value
	go finishFetch()
	concurrently(50, func() {
		v, _, err := c.Value(context.Background())
		if err != nil {
			t.Error(err)
		}
		got.Store(v)
	})
	if got.Load() != "true" || fetches.Load() != 1 {
		t.Fatalf("first read: %v after %d fetches, want true after 1", got.Load(), fetches.Load())
	}

	steps := []struct {
		name        string
		advance     time.Duration
		setValue    string
		setErr      error
		finish      bool // let the background fetch end before the next step
		want        string
		wantStale   bool
		wantFetches int64
	}{
		{"fresh: cached", 4 * time.Second, "false", nil, false, "true", false, 1},
		{"after ttl: the old value at once, one refresh started", 2 * time.Second, "false", nil, false, "true", false, 2},
		{"refresh still running: the old value, now stale, no second refresh", 500 * time.Millisecond, "false", nil, true, "true", true, 2},
		{"refresh done: the flip is seen", 0, "false", nil, false, "false", false, 2},
		{"Parameter Store fails: last value, one refresh", 6 * time.Second, "", errors.New("ssm down"), true, "false", false, 3},
		{"after the failure: stale, no refresh within the retry", 500 * time.Millisecond, "", errors.New("ssm down"), false, "false", true, 3},
		{"retried after a second, still stale while slow", 600 * time.Millisecond, "true", nil, false, "false", true, 4},
		{"a minute of slowness: still the last value, still one refresh", time.Minute, "true", nil, true, "false", true, 4},
		{"recovered", 0, "true", nil, false, "true", false, 4},
	}
	for _, st := range steps {
		clk.add(st.advance)
		set(st.setValue, st.setErr)
		var gotStale atomic.Bool
		concurrently(50, func() {
			v, stale, err := c.Value(context.Background())
			if err != nil {
				t.Errorf("%s: %v", st.name, err)
			}
			got.Store(v)
			if stale {
				gotStale.Store(true)
			}
		})
		// A refresh starts in its own goroutine: give it a moment to call fetch.
		for deadline := time.Now().Add(time.Second); fetches.Load() < st.wantFetches && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if got.Load() != st.want || gotStale.Load() != st.wantStale || fetches.Load() != st.wantFetches {
			t.Errorf("%s: got %q (stale %v) after %d fetches; want %q (stale %v) after %d", st.name, got.Load(), gotStale.Load(), fetches.Load(), st.want, st.wantStale, st.wantFetches)
		}
		if st.finish {
			finishFetch()
		}
	}
}

func TestParamCacheErrorWithoutValue(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	var fetches atomic.Int64
	c := newParamCache(func(context.Context) (string, error) {
		fetches.Add(1)
		return "", errors.New("ParameterNotFound")
	}, 5*time.Second, time.Second, quiet)
	c.now = clk.now
	for range 10 {
		if _, _, err := c.Value(context.Background()); err == nil {
			t.Fatal("no error without any value")
		}
	}
	clk.add(1500 * time.Millisecond)
	c.Value(context.Background())
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (errors reused for a second)", n)
	}
}

// TestParamCacheFirstReadWaitsWithinDeadline: a never-read parameter is the one case that
// waits, and only within the caller's deadline; the read goes on for the next caller.
func TestParamCacheFirstReadWaitsWithinDeadline(t *testing.T) {
	release := make(chan struct{})
	c := newParamCache(func(context.Context) (string, error) { <-release; return "true", nil }, 5*time.Second, 10*time.Second, quiet)
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
