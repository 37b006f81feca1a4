// Package localb is a local stand-in for an Application Load Balancer with one target group:
// it health-checks each registered target with the target group's settings, routes requests
// by the rules of package targethealth (round robin over healthy targets, fail open when none
// is healthy), answers 502 when a target drops the connection and 504 when it stays silent
// past the idle timeout, and counts load-balancer 5xx apart from target 5xx as ALB's
// CloudWatch metrics do.
//
// Proxying is net/http/httputil's ReverseProxy; only the health logic is this project's.
package localb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/targethealth"
)

// HealthCheckUserAgent is the User-Agent of health-check requests, as ALB sends it.
const HealthCheckUserAgent = "ELB-HealthChecker/2.0"

// Fast scales hc to a 1 s health-check interval with the same thresholds, so that a target
// changes state in seconds instead of minutes. The timeout becomes 80 % of the interval (a
// proportional 200 ms would fail a healthy deep check on a busy laptop) unless hc's is
// shorter; the deregistration delay shrinks in proportion to the interval.
func Fast(hc lab.HealthCheck) lab.HealthCheck {
	f := hc
	f.Interval = fastInterval
	f.Timeout = min(hc.Timeout, fastInterval*8/10)
	f.DeregistrationDelay = scaleFast(hc, hc.DeregistrationDelay)
	return f
}

const fastInterval = time.Second

// FastIdleTimeout is lab.IdleTimeout shrunk in the proportion Fast shrinks the lab's target
// group interval (15 s to 1 s): 4 s.
func FastIdleTimeout() time.Duration {
	return scaleFast(lab.TargetGroupHealthCheck, lab.IdleTimeout)
}

// FastGracePeriod is lab.HealthCheckGracePeriod, Auto Scaling's health-check grace period,
// shrunk in the proportion Fast shrinks the lab's target group interval (5 min to 20 s), so
// that a --fast lab's group waits as many health checks before acting on them as AWS's does.
func FastGracePeriod() time.Duration {
	return scaleFast(lab.TargetGroupHealthCheck, lab.HealthCheckGracePeriod)
}

// scaleFast shrinks d in the proportion Fast shrinks hc's interval.
func scaleFast(hc lab.HealthCheck, d time.Duration) time.Duration {
	if hc.Interval <= 0 {
		return d
	}
	return time.Duration(float64(d) * float64(fastInterval) / float64(hc.Interval)).Round(time.Millisecond)
}

// Matcher reports whether a health-check status code counts as success. It accepts ALB's
// matcher syntax: single codes, comma-separated lists and ranges ("200", "200,202", "200-299").
type Matcher func(code int) bool

// ParseMatcher parses an ALB success-codes string.
func ParseMatcher(s string) (Matcher, error) {
	type span struct{ lo, hi int }
	var spans []span
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 200 || b > 499 || a > b {
			return nil, fmt.Errorf("success codes %q: %q is not a code or range within 200-499", s, part)
		}
		spans = append(spans, span{a, b})
	}
	return func(code int) bool {
		for _, sp := range spans {
			if code >= sp.lo && code <= sp.hi {
				return true
			}
		}
		return false
	}, nil
}

// Target is a backend to register.
type Target struct {
	ID  string
	URL *url.URL // scheme and host of the target, e.g. http://127.0.0.1:41234
}

// TargetStatus is one target's health and traffic.
type TargetStatus struct {
	targethealth.Health
	URL      string `json:"url"`
	Requests int64  `json:"requests"` // requests routed to the target since registration
}

// Options configure a load balancer.
type Options struct {
	// HealthCheck holds the target group's settings (lab.TargetGroupHealthCheck or Fast of it).
	HealthCheck lab.HealthCheck
	// Logger receives state changes; nil discards them.
	Logger *slog.Logger
	// OnTransition, when set, is called after every target state change.
	OnTransition func(targethealth.Transition)
	// IdleTimeout bounds the silence of a target while a request waits on it (ALB's idle
	// timeout); zero means lab.IdleTimeout.
	IdleTimeout time.Duration
	// Health, when set, keeps the targets' health instead of the load balancer's own
	// targethealth.Group: the load balancer reports every check to it and routes where it
	// says. Registration, draining and removal are then Health's decisions, which its owner
	// carries out with Register, Deregister and Remove (OnTransition is not called).
	Health Health
}

// Health is a target group's health kept outside the load balancer, such as the local
// region's model (package region).
type Health interface {
	// Checked applies one health check's result of target id, at the current time.
	Checked(id string, r targethealth.Result) error
	// Pick chooses the target of the next request (see targethealth.Group.Pick).
	Pick() (id string, failOpen, ok bool)
	// Targets lists the registered targets' health, in registration order.
	Targets() []targethealth.Health
	// Target returns one target's health (unused when it is not registered).
	Target(id string) targethealth.Health
}

type backend struct {
	target   Target
	proxy    *httputil.ReverseProxy
	tr       *http.Transport
	stop     context.CancelFunc
	requests atomic.Int64
}

// LB is the load balancer; it is an http.Handler. Create it with New and Close it when done.
type LB struct {
	hc       lab.HealthCheck
	idle     time.Duration
	match    Matcher
	group    *targethealth.Group
	health   Health // when set, in place of group
	log      *slog.Logger
	onChange func(targethealth.Transition)
	checker  *http.Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	backends map[string]*backend
	timers   []*time.Timer

	requests, elb502, elb503, elb504, target5xx, failOpen atomic.Int64
}

// New returns a load balancer with no targets.
func New(o Options) (*LB, error) {
	hc := o.HealthCheck
	if hc.Interval <= 0 || hc.Timeout <= 0 || hc.Timeout >= hc.Interval {
		return nil, fmt.Errorf("health check: need 0 < timeout (%s) < interval (%s)", hc.Timeout, hc.Interval)
	}
	if !strings.HasPrefix(hc.Path, "/") {
		return nil, fmt.Errorf("health check path %q must start with /", hc.Path)
	}
	match, err := ParseMatcher(hc.SuccessCodes)
	if err != nil {
		return nil, err
	}
	g, err := targethealth.NewGroup(targethealth.Settings{
		HealthyThreshold:    hc.HealthyThreshold,
		UnhealthyThreshold:  hc.UnhealthyThreshold,
		DeregistrationDelay: hc.DeregistrationDelay,
	})
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idle := o.IdleTimeout
	if idle == 0 {
		idle = lab.IdleTimeout
	}
	if idle < 0 {
		return nil, fmt.Errorf("idle timeout %s: must be positive", idle)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &LB{
		hc: hc, idle: idle, match: match, group: g, health: o.Health, log: log, onChange: o.OnTransition,
		// A fresh connection per check, like ALB's checker, so a target that stops
		// listening is noticed at once rather than through a stale pooled connection.
		checker:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		ctx:      ctx,
		cancel:   cancel,
		backends: map[string]*backend{},
	}, nil
}

// HealthCheck returns the settings in use.
func (lb *LB) HealthCheck() lab.HealthCheck { return lb.hc }

// IdleTimeout returns the idle timeout in use.
func (lb *LB) IdleTimeout() time.Duration { return lb.idle }

// Register adds a target (state initial) and starts health-checking it at once.
func (lb *LB) Register(t Target) error {
	if t.URL == nil || t.URL.Host == "" {
		return fmt.Errorf("target %s: URL needs a host", t.ID)
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.ctx.Err() != nil {
		return errors.New("load balancer closed")
	}
	if _, ok := lb.backends[t.ID]; ok {
		return fmt.Errorf("%s: %w", t.ID, targethealth.ErrDuplicate)
	}
	if lb.health == nil {
		if err := lb.group.Register(t.ID, time.Now()); err != nil {
			return err
		}
	}
	b := &backend{target: t, tr: &http.Transport{
		DialContext:         idleDialer(lb.idle),
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     30 * time.Second,
	}}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(t.URL)
			pr.SetXForwarded()
		},
		Transport: b.tr,
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set(labclient.TargetHeader, t.ID)
			if resp.StatusCode >= 500 {
				lb.target5xx.Add(1)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			lb.proxyError(w, r, t.ID, err)
		},
	}
	ctx, stop := context.WithCancel(lb.ctx)
	b.stop = stop
	lb.backends[t.ID] = b
	lb.wg.Add(1)
	go lb.checkLoop(ctx, t)
	lb.log.Info("target registered", "target", t.ID, "url", t.URL.String())
	return nil
}

// Deregister starts draining a target: no new requests and no more health checks; it is
// removed after the deregistration delay.
func (lb *LB) Deregister(id string) error {
	lb.mu.Lock()
	b, ok := lb.backends[id]
	if !ok {
		lb.mu.Unlock()
		return fmt.Errorf("%s: %w", id, targethealth.ErrNotRegistered)
	}
	if lb.health != nil {
		// The health model drains the target; Remove ends it.
		b.stop()
		lb.mu.Unlock()
		return nil
	}
	tr, err := lb.group.Deregister(id, time.Now())
	if err != nil {
		lb.mu.Unlock()
		return err
	}
	b.stop()
	if tr.To != "" {
		lb.timers = append(lb.timers, time.AfterFunc(lb.hc.DeregistrationDelay, lb.expire))
	}
	lb.mu.Unlock()
	if tr.To != "" {
		lb.transition(tr)
	}
	return nil
}

// expire removes the targets whose draining has ended.
func (lb *LB) expire() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, id := range lb.group.Expire(time.Now()) {
		if b, ok := lb.backends[id]; ok {
			b.tr.CloseIdleConnections()
			delete(lb.backends, id)
		}
		lb.log.Info("target removed", "target", id)
	}
}

// Remove forgets a target whose deregistration the health model has completed (with
// Options.Health only; the load balancer's own group removes drained targets itself).
func (lb *LB) Remove(id string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if b, ok := lb.backends[id]; ok {
		b.stop()
		b.tr.CloseIdleConnections()
		delete(lb.backends, id)
		lb.log.Info("target removed", "target", id)
	}
}

// Targets lists every registered target (draining ones included) in registration order.
func (lb *LB) Targets() []TargetStatus {
	var hs []targethealth.Health
	if lb.health != nil {
		hs = lb.health.Targets()
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.health == nil {
		hs = lb.group.Snapshot()
	}
	out := make([]TargetStatus, 0, len(hs))
	for _, h := range hs {
		st := TargetStatus{Health: h}
		if b, ok := lb.backends[h.ID]; ok {
			st.URL = b.target.URL.String()
			st.Requests = b.requests.Load()
		}
		out = append(out, st)
	}
	return out
}

// Target returns one target's status; its state is unused when the ID is unknown.
func (lb *LB) Target(id string) TargetStatus {
	for _, t := range lb.Targets() {
		if t.ID == id {
			return t
		}
	}
	if lb.health != nil {
		return TargetStatus{Health: lb.health.Target(id)}
	}
	return TargetStatus{Health: lb.group.Get(id)}
}

// Counters returns the request metrics so far.
func (lb *LB) Counters() labclient.LBCounters {
	c := labclient.LBCounters{
		Requests:  lb.requests.Load(),
		ELB502:    lb.elb502.Load(),
		ELB503:    lb.elb503.Load(),
		ELB504:    lb.elb504.Load(),
		Target5xx: lb.target5xx.Load(),
		FailOpen:  lb.failOpen.Load(),
	}
	c.ELB5xx = c.ELB502 + c.ELB503 + c.ELB504
	return c
}

// ServeHTTP routes one request to a target, or answers 503 when there is none.
func (lb *LB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb.requests.Add(1)
	pick := lb.group.Pick
	if lb.health != nil {
		pick = lb.health.Pick
	}
	id, failOpen, ok := pick()
	var b *backend
	if ok {
		lb.mu.Lock()
		b = lb.backends[id]
		lb.mu.Unlock()
	}
	if b == nil {
		lb.elb503.Add(1)
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	if failOpen {
		lb.failOpen.Add(1)
	}
	b.requests.Add(1)
	b.proxy.ServeHTTP(w, r)
}

// proxyError answers a request whose target failed to respond, as ALB does: 504 when the
// target timed out (silent past the idle timeout), 502 otherwise (connection refused, reset
// or closed without a response).
func (lb *LB) proxyError(w http.ResponseWriter, r *http.Request, id string, err error) {
	if r.Context().Err() != nil {
		// The client went away; there is nobody to answer and nothing to count.
		return
	}
	w.Header().Set(labclient.TargetHeader, id)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		lb.elb504.Add(1)
		http.Error(w, "504 Gateway Time-out", http.StatusGatewayTimeout)
		return
	}
	lb.elb502.Add(1)
	lb.log.Debug("target failed to respond", "target", id, "err", err)
	http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
}

// checkLoop health-checks one target at once and then every interval until ctx ends.
func (lb *LB) checkLoop(ctx context.Context, t Target) {
	defer lb.wg.Done()
	u := *t.URL
	u.Path = lb.hc.Path
	u.RawQuery = ""
	tick := time.NewTicker(lb.hc.Interval)
	defer tick.Stop()
	for {
		res := lb.check(ctx, u.String())
		if ctx.Err() != nil {
			return
		}
		if lb.health != nil {
			_ = lb.health.Checked(t.ID, res)
		} else if tr, changed, err := lb.group.Report(t.ID, res, time.Now()); err == nil && changed {
			lb.transition(tr)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check performs one health check and classifies it.
func (lb *LB) check(ctx context.Context, u string) targethealth.Result {
	ctx, cancel := context.WithTimeout(ctx, lb.hc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return targethealth.Result{Kind: targethealth.ConnError}
	}
	req.Header.Set("User-Agent", HealthCheckUserAgent)
	resp, err := lb.checker.Do(req)
	if err == nil {
		// The answer counts only once the body has arrived within the timeout.
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return targethealth.Result{Kind: targethealth.Timeout}
	case err != nil:
		return targethealth.Result{Kind: targethealth.ConnError}
	case !lb.match(resp.StatusCode):
		return targethealth.Result{Kind: targethealth.CodeMismatch, Code: resp.StatusCode}
	}
	return targethealth.Result{Kind: targethealth.Success, Code: resp.StatusCode}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (lb *LB) transition(tr targethealth.Transition) {
	lb.log.Info("target state", "target", tr.ID, "from", tr.From, "to", tr.To, "reason", tr.Reason)
	if lb.onChange != nil {
		lb.onChange(tr)
	}
}

// Close stops every health checker and timer and closes idle proxy connections. It does
// not stop an http.Server serving the LB; shut that down first.
func (lb *LB) Close() {
	lb.cancel()
	lb.wg.Wait()
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, t := range lb.timers {
		t.Stop()
	}
	for _, b := range lb.backends {
		b.tr.CloseIdleConnections()
	}
}

// idleDialer dials targets with connections that time out after idle without a byte read or
// written, as ALB's idle timeout does: a frozen target's request fails with a timeout error
// (answered 504 before the response has started, or cut off after), while a target that
// keeps sending, however slowly, is never cut off.
func idleDialer(idle time.Duration) func(context.Context, string, string) (net.Conn, error) {
	d := &net.Dialer{Timeout: idle}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: idle}, nil
	}
}

// idleConn pushes its deadline idle into the future before every read and write.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
