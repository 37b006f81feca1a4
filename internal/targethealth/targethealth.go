// Package targethealth models an Application Load Balancer target group's health logic:
// the target states and reason codes ALB reports, threshold counting of health-check
// results, deregistration draining, and the routing choice (round robin over healthy
// targets, fail open when none is healthy).
//
// It is pure and deterministic: callers pass the time and each health-check result in, so
// the rules can be tested without sleeping and reused by a local load balancer that does the
// actual probing and proxying.
package targethealth

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// State is a target's health state, as ALB's DescribeTargetHealth names it.
type State string

// The target states of an ALB target group.
const (
	StateInitial   State = "initial"
	StateHealthy   State = "healthy"
	StateUnhealthy State = "unhealthy"
	StateDraining  State = "draining"
	// StateUnused is reported for a target the group does not know (never registered or
	// already removed after draining).
	StateUnused State = "unused"
)

// Reason codes ALB reports with a non-healthy state.
const (
	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonNotRegistered            = "Target.NotRegistered"
)

// Kind classifies one health-check attempt.
type Kind int

// The outcomes of a health check.
const (
	// Success: the target answered with one of the success codes in time.
	Success Kind = iota
	// CodeMismatch: the target answered, with a status code outside the success codes.
	CodeMismatch
	// Timeout: no complete answer within the health-check timeout.
	Timeout
	// ConnError: the connection failed or was closed without an answer.
	ConnError
)

// Result is the outcome of one health check of one target.
type Result struct {
	Kind Kind
	// Code is the HTTP status code the target answered with (CodeMismatch and Success).
	Code int
}

// Settings are the parts of a target group's configuration the health logic needs.
type Settings struct {
	HealthyThreshold    int
	UnhealthyThreshold  int
	DeregistrationDelay time.Duration
	// InitialHealthyThreshold is how many consecutive passing checks take a newly
	// registered target from initial to healthy; 0 means HealthyThreshold. ALB's user
	// guide ("Health checks for Application Load Balancer target groups") says a
	// registered target "must pass one health check to be considered healthy", which is 1.
	InitialHealthyThreshold int
}

// Validate reports settings ALB would refuse.
func (s Settings) Validate() error {
	switch {
	case s.HealthyThreshold < 2 || s.HealthyThreshold > 10:
		return fmt.Errorf("healthy threshold %d: must be 2..10", s.HealthyThreshold)
	case s.UnhealthyThreshold < 2 || s.UnhealthyThreshold > 10:
		return fmt.Errorf("unhealthy threshold %d: must be 2..10", s.UnhealthyThreshold)
	case s.DeregistrationDelay < 0:
		return fmt.Errorf("deregistration delay %s: must not be negative", s.DeregistrationDelay)
	case s.InitialHealthyThreshold < 0 || s.InitialHealthyThreshold > 10:
		return fmt.Errorf("initial healthy threshold %d: must be 0..10", s.InitialHealthyThreshold)
	}
	return nil
}

// Health is what DescribeTargetHealth would say about one target.
type Health struct {
	ID          string    `json:"id"`
	State       State     `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Description string    `json:"description,omitempty"`
	Since       time.Time `json:"since"` // when State last changed
	// Recent holds the latest health-check results, oldest first, at most RecentChecks.
	// ALB does not report them; the local lab shows them so a class can watch the count
	// towards a threshold.
	Recent []Check `json:"recent,omitempty"`
}

// RecentChecks is how many results Health.Recent keeps.
const RecentChecks = 8

// Check is one health-check result as Health.Recent records it.
type Check struct {
	OK   bool      `json:"ok"`
	Code int       `json:"code,omitempty"` // HTTP status; 0 for a timeout or a failed connection
	At   time.Time `json:"at"`
}

// Transition records a state change, for logs and live views.
type Transition struct {
	ID       string
	From, To State
	Reason   string
	At       time.Time
}

type target struct {
	Health
	order      int       // registration order, for stable listing and routing
	checked    bool      // at least one health-check result arrived
	successes  int       // consecutive successes
	failures   int       // consecutive failures
	drainUntil time.Time // set while draining
}

// Errors returned by Group's mutating methods.
var (
	ErrDuplicate     = errors.New("target already registered")
	ErrNotRegistered = errors.New("target not registered")
)

// Group is a target group's health state. It is safe for concurrent use.
type Group struct {
	mu       sync.Mutex
	settings Settings
	targets  map[string]*target
	next     int // registration counter
	rr       int // round-robin cursor
}

// NewGroup returns an empty group with the given settings.
func NewGroup(s Settings) (*Group, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &Group{settings: s, targets: map[string]*target{}}, nil
}

// Register adds a target in state initial (Elb.RegistrationInProgress until the first
// health-check result arrives).
func (g *Group) Register(id string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.targets[id]; ok {
		return fmt.Errorf("%s: %w", id, ErrDuplicate)
	}
	g.targets[id] = &target{
		Health: Health{ID: id, State: StateInitial, Reason: ReasonRegistrationInProgress,
			Description: "Target registration is in progress", Since: now},
		order: g.next,
	}
	g.next++
	return nil
}

// Deregister moves a target to draining: it receives no new requests and is removed by
// Expire once the deregistration delay has passed.
func (g *Group) Deregister(id string, now time.Time) (Transition, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.targets[id]
	if !ok {
		return Transition{}, fmt.Errorf("%s: %w", id, ErrNotRegistered)
	}
	if t.State == StateDraining {
		return Transition{}, nil
	}
	tr := Transition{ID: id, From: t.State, To: StateDraining, Reason: ReasonDeregistrationInProgress, At: now}
	t.State, t.Reason, t.Description, t.Since = StateDraining, ReasonDeregistrationInProgress,
		"Target deregistration is in progress", now
	t.drainUntil = now.Add(g.settings.DeregistrationDelay)
	return tr, nil
}

// Expire removes the draining targets whose deregistration delay has elapsed at now and
// returns their IDs.
func (g *Group) Expire(now time.Time) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var gone []string
	for id, t := range g.targets {
		if t.State == StateDraining && !now.Before(t.drainUntil) {
			gone = append(gone, id)
			delete(g.targets, id)
		}
	}
	sort.Strings(gone)
	return gone
}

// Report applies one health-check result for target id at time now, following ALB's rules:
//
//   - initial → healthy after InitialHealthyThreshold (else HealthyThreshold) consecutive
//     successes;
//   - initial → unhealthy after UnhealthyThreshold consecutive failures;
//   - healthy → unhealthy after UnhealthyThreshold consecutive failures;
//   - unhealthy → healthy after HealthyThreshold consecutive successes;
//   - a result of the other kind resets the count; draining targets are no longer checked.
//
// It returns the transition when the state changed (ok reports whether one happened).
func (g *Group) Report(id string, r Result, now time.Time) (tr Transition, ok bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, found := g.targets[id]
	if !found {
		return Transition{}, false, fmt.Errorf("%s: %w", id, ErrNotRegistered)
	}
	if t.State == StateDraining {
		return Transition{}, false, nil
	}
	from := t.State
	t.checked = true
	// A new backing array each time, so Health values handed out earlier never change.
	t.Recent = append(slices.Clip(t.Recent[max(0, len(t.Recent)-RecentChecks+1):]),
		Check{OK: r.Kind == Success, Code: r.Code, At: now})
	if r.Kind == Success {
		t.successes++
		t.failures = 0
	} else {
		t.failures++
		t.successes = 0
	}
	switch t.State {
	case StateInitial:
		t.Reason, t.Description = ReasonInitialHealthChecking, "Initial health checks in progress"
		if t.successes >= g.initialHealthy() {
			t.State, t.Reason, t.Description = StateHealthy, "", ""
		} else if t.failures >= g.settings.UnhealthyThreshold {
			t.State = StateUnhealthy
			t.Reason, t.Description = failureReason(r)
		}
	case StateHealthy:
		if t.failures >= g.settings.UnhealthyThreshold {
			t.State = StateUnhealthy
			t.Reason, t.Description = failureReason(r)
		}
	case StateUnhealthy:
		if t.successes >= g.settings.HealthyThreshold {
			t.State, t.Reason, t.Description = StateHealthy, "", ""
		} else if r.Kind != Success {
			// ALB keeps reporting the latest failure while the target stays unhealthy.
			t.Reason, t.Description = failureReason(r)
		}
	}
	if t.State == from {
		return Transition{}, false, nil
	}
	t.Since = now
	return Transition{ID: id, From: from, To: t.State, Reason: t.Reason, At: now}, true, nil
}

// initialHealthy is the number of passing checks that end the initial state.
func (g *Group) initialHealthy() int {
	if n := g.settings.InitialHealthyThreshold; n > 0 {
		return n
	}
	return g.settings.HealthyThreshold
}

// failureReason gives ALB's reason code and description for a failed health check.
func failureReason(r Result) (reason, description string) {
	switch r.Kind {
	case CodeMismatch:
		return ReasonResponseCodeMismatch, fmt.Sprintf("Health checks failed with these codes: [%d]", r.Code)
	case Timeout:
		return ReasonTimeout, "Request timed out"
	default:
		return ReasonFailedHealthChecks, "Health checks failed"
	}
}

// Get returns the health of one target; an unknown target is unused/Target.NotRegistered.
func (g *Group) Get(id string) Health {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.targets[id]; ok {
		return t.Health
	}
	return Health{ID: id, State: StateUnused, Reason: ReasonNotRegistered,
		Description: "Target is not registered to the target group"}
}

// Snapshot lists every registered target (draining ones included) in registration order.
func (g *Group) Snapshot() []Health {
	g.mu.Lock()
	defer g.mu.Unlock()
	ts := g.sorted()
	out := make([]Health, len(ts))
	for i, t := range ts {
		out[i] = t.Health
	}
	return out
}

func (g *Group) sorted() []*target {
	ts := make([]*target, 0, len(g.targets))
	for _, t := range g.targets {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].order < ts[j].order })
	return ts
}

// candidates lists the targets a new request may go to: the healthy ones; if none is
// healthy, every registered target that is not draining (ALB fails open, initial and
// unhealthy alike). failOpen reports the second case.
func (g *Group) candidates() (ids []string, failOpen bool) {
	var healthy, open []string
	for _, t := range g.sorted() {
		switch t.State {
		case StateHealthy:
			healthy = append(healthy, t.ID)
		case StateInitial, StateUnhealthy:
			open = append(open, t.ID)
		}
	}
	if len(healthy) > 0 {
		return healthy, false
	}
	return open, len(open) > 0
}

// Pick chooses the target for the next request, round robin over candidates. ok is false
// when the group has no target to route to (the load balancer then answers 503).
func (g *Group) Pick() (id string, failOpen, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids, failOpen := g.candidates()
	if len(ids) == 0 {
		return "", false, false
	}
	id = ids[g.rr%len(ids)]
	g.rr++
	return id, failOpen, true
}
