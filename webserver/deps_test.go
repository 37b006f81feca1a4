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
	c := newParamCache(func(context.Context) (string, error) {
		fetches.Add(1)
		time.Sleep(10 * time.Millisecond) // let concurrent callers pile up
		mu.Lock()
		defer mu.Unlock()
		return value, fail
	}, 5*time.Second, time.Second, quiet)
	c.now = clk.now
	set := func(v string, err error) { mu.Lock(); value, fail = v, err; mu.Unlock() }
	read := func() (string, error) { return c.Value(context.Background()) }

	steps := []struct {
		name        string
		advance     time.Duration
		setValue    string
		setErr      error
		want        string
		wantErr     bool
		wantFetches int64
	}{
		{"first read fetches once for 50 callers", 0, "true", nil, "true", false, 1},
		{"fresh: cached", 4 * time.Second, "false", nil, "true", false, 1},
		{"after ttl: the flip is seen", 2 * time.Second, "false", nil, "false", false, 2},
		{"fetch fails: last value kept", 6 * time.Second, "", errors.New("ssm down"), "false", false, 3},
		{"retried after a second, not five", time.Second + time.Millisecond, "true", nil, "true", false, 4},
	}
	for _, st := range steps {
		clk.add(st.advance)
		set(st.setValue, st.setErr)
		var got string
		var gotErr error
		var once sync.Mutex
		concurrently(50, func() {
			v, err := read()
			once.Lock()
			got, gotErr = v, err
			once.Unlock()
		})
		if got != st.want || (gotErr != nil) != st.wantErr || fetches.Load() != st.wantFetches {
			t.Errorf("%s: got %q, %v after %d fetches; want %q (err %v) after %d", st.name, got, gotErr, fetches.Load(), st.want, st.wantErr, st.wantFetches)
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
		if _, err := c.Value(context.Background()); err == nil {
			t.Fatal("no error without any value")
		}
	}
	clk.add(1500 * time.Millisecond)
	c.Value(context.Background())
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (errors reused for a second)", n)
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

// fakeCache stands in for the SDK's credentials cache.
type fakeCache struct {
	mu          sync.Mutex
	key         string
	fail        error
	invalidated int
	retrieved   int
	cached      *aws.Credentials
}

func (f *fakeCache) Invalidate() { f.mu.Lock(); f.cached = nil; f.invalidated++; f.mu.Unlock() }
func (f *fakeCache) Retrieve(context.Context) (aws.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached != nil {
		return *f.cached, nil
	}
	if f.fail != nil {
		return aws.Credentials{}, f.fail
	}
	f.retrieved++
	c := aws.Credentials{AccessKeyID: f.key, SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(6 * time.Hour)}
	f.cached = &c
	return c, nil
}

func TestFreshCredentials(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	inner := &fakeCache{key: "ROLE-A"}
	f := newFreshCredentials(inner, 5*time.Second, quiet)
	f.now = clk.now
	key := func() string {
		c, err := f.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return c.AccessKeyID
	}
	if key() != "ROLE-A" {
		t.Fatal("first key")
	}
	inner.mu.Lock()
	inner.key = "ROLE-B" // the instance profile is swapped; the SDK cache still holds ROLE-A
	inner.mu.Unlock()
	clk.add(4 * time.Second)
	if k := key(); k != "ROLE-A" {
		t.Errorf("within max age: %s, want the cached ROLE-A", k)
	}
	clk.add(2 * time.Second)
	if k := key(); k != "ROLE-B" {
		t.Errorf("after max age: %s, want the swapped ROLE-B", k)
	}
	inner.mu.Lock()
	inner.fail = errors.New("imds down")
	inner.mu.Unlock()
	clk.add(6 * time.Second)
	if k := key(); k != "ROLE-B" {
		t.Errorf("refresh failing: %s, want the previous, still valid ROLE-B", k)
	}
	if inner.retrieved != 2 {
		t.Errorf("inner source read %d times, want 2", inner.retrieved)
	}
}
