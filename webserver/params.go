package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// paramCache holds the RecommendationServiceEnabled value for ttl and reads it again when a
// request finds it older, so that every request arriving more than ttl after a change sees the
// change, as long as Parameter Store answers within wait.
//
// It waits briefly for the read rather than keeping the value fresh on a timer:
//   - A request that finds the value older than ttl starts one read (single flight: the
//     requests that arrive meanwhile share it) and waits for it up to wait from the read's
//     start, then answers with the value read. A server that got no request for an hour answers
//     its next one with the current value, not the one from an hour ago, and an idle server
//     makes no calls at all.
//   - A timer would keep every idle server calling Parameter Store each ttl, and would still
//     answer with an old value whenever the timer runs late (a process stopped and continued,
//     a saturated CPU): the freshness would depend on scheduling, not on the request.
//
// The last value is served, at once and marked stale, only while Parameter Store is failing or
// slow, which is what the cache is for: after a failed read until the next retry (every retry),
// and while a read has been running longer than wait. Such a read goes on in the background,
// bounded by timeout; as its value counts from its start, the request after it ends reads
// again if that start is more than ttl ago. A parameter that has
// never been read makes its callers wait within their own deadline; a failure to read it is then
// reused until the next retry, so a failing Parameter Store is not hammered.
//
// A value's age counts from the start of the read that returned it: Parameter Store answered
// after that moment, so the value is at least that new. Hence the bound: a change made at t is
// seen by every request from t+ttl on, provided Parameter Store answers within wait.
type paramCache struct {
	fetch   func(context.Context) (string, error)
	ttl     time.Duration
	wait    time.Duration // how long a request waits for a read once the value is older than ttl
	timeout time.Duration // bound on one read; only a never-read parameter waits that long
	retry   time.Duration // wait after a failed read
	logger  *slog.Logger
	now     func() time.Time
	// at returns a channel that is closed at the given time of now's clock.
	at func(time.Time) <-chan struct{}

	mu      sync.Mutex
	value   string
	hasVal  bool
	readAt  time.Time // start of the read that returned value
	err     error     // last read's error, nil after a success
	nextTry time.Time // no read starts before this
	flight  *paramRead
}

// paramRead is one read of the parameter, shared by every caller that waits for it.
type paramRead struct {
	started  time.Time
	done     chan struct{}   // closed when value and err are set
	waitOver <-chan struct{} // closed at started+wait: later callers take the last value at once
	value    string
	err      error
}

// parameterRefreshTimeout bounds one read of the parameter. It is longer than a request's
// dependency timeout: after wait nobody waits on it, and a slow Parameter Store that answers in
// a few seconds should still bring the value up to date.
const parameterRefreshTimeout = 10 * time.Second

// parameterWait is how long a request waits for a read of a value older than its ttl, as a
// share of the dependency timeout (the parameter read and the GetItem share that timeout):
// 250 ms of the default 1 s. Parameter Store answers in tens of milliseconds when it is well.
func parameterWait(dependencyTimeout time.Duration) time.Duration {
	return dependencyTimeout / 4
}

func newParamCache(fetch func(context.Context) (string, error), ttl, wait, timeout time.Duration, logger *slog.Logger) *paramCache {
	return &paramCache{
		fetch: fetch, ttl: ttl, wait: wait, timeout: timeout, retry: min(ttl, time.Second), logger: logger,
		now: time.Now, at: realAt,
	}
}

// realAt is paramCache.at on the wall clock.
func realAt(t time.Time) <-chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(time.Until(t), func() { close(ch) })
	return ch
}

// Value returns the parameter's value and whether it is stale: older than the ttl because
// Parameter Store is failing or slow.
func (c *paramCache) Value(ctx context.Context) (value string, stale bool, err error) {
	c.mu.Lock()
	now := c.now()
	if c.hasVal && c.err == nil && now.Before(c.readAt.Add(c.ttl)) {
		value = c.value
		c.mu.Unlock()
		return value, false, nil
	}
	r := c.flight
	if r == nil && !now.Before(c.nextTry) {
		r = c.startRead(now)
	}
	value, hasVal, lastErr := c.value, c.hasVal, c.err
	c.mu.Unlock()

	if !hasVal {
		if r == nil {
			return "", false, lastErr
		}
		select {
		case <-r.done:
			if r.err != nil {
				return "", false, r.err
			}
			return r.value, false, nil
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	if r != nil {
		select {
		case <-r.done:
		case <-r.waitOver:
		case <-ctx.Done():
		}
		select {
		case <-r.done:
			if r.err == nil {
				return r.value, false, nil
			}
		default:
		}
	}
	return value, true, nil
}

// startRead starts a read in the background; c.mu is held.
func (c *paramCache) startRead(now time.Time) *paramRead {
	r := &paramRead{started: now, done: make(chan struct{}), waitOver: c.at(now.Add(c.wait))}
	c.flight = r
	go c.read(r)
	return r
}

// read runs r, detached from any request and bounded by timeout, and keeps its outcome.
func (c *paramCache) read(r *paramRead) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	v, err := c.fetch(ctx)
	c.mu.Lock()
	now := c.now()
	if err != nil {
		c.err, c.nextTry = err, now.Add(c.retry)
		if c.hasVal {
			c.logger.Warn("parameter read failed, serving the last value", "value", c.value,
				"age_s", now.Sub(c.readAt).Round(time.Second).Seconds(), "error", err.Error())
		}
	} else {
		if c.err != nil && c.hasVal {
			c.logger.Info("parameter read recovered", "value", v)
		}
		c.value, c.hasVal, c.readAt, c.err, c.nextTry = v, true, r.started, nil, r.started.Add(c.ttl)
	}
	r.value, r.err = v, err
	c.flight = nil
	c.mu.Unlock()
	close(r.done)
}
