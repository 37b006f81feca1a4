package targethealth

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// labSettings are the lab's target-group numbers: healthy 2, unhealthy 3, delay 10 s.
var labSettings = Settings{
	HealthyThreshold:    lab.TargetGroupHealthCheck.HealthyThreshold,
	UnhealthyThreshold:  lab.TargetGroupHealthCheck.UnhealthyThreshold,
	DeregistrationDelay: lab.TargetGroupHealthCheck.DeregistrationDelay,
}

var (
	ok200   = Result{Kind: Success, Code: 200}
	bad503  = Result{Kind: CodeMismatch, Code: 503}
	bad404  = Result{Kind: CodeMismatch, Code: 404}
	timeout = Result{Kind: Timeout}
	refused = Result{Kind: ConnError}
)

func newGroup(t *testing.T, s Settings) *Group {
	t.Helper()
	g, err := NewGroup(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestThresholds feeds sequences of results to one new target and checks the state and
// reason after each, against ALB's threshold rules.
func TestThresholds(t *testing.T) {
	type step struct {
		r      Result
		state  State
		reason string
		desc   string // checked when not empty
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"initial to healthy after 2 successes", []step{
			{ok200, StateInitial, ReasonInitialHealthChecking, "Initial health checks in progress"},
			{ok200, StateHealthy, "", ""},
		}},
		{"a failure in initial resets the success count", []step{
			{ok200, StateInitial, ReasonInitialHealthChecking, ""},
			{bad503, StateInitial, ReasonInitialHealthChecking, ""},
			{ok200, StateInitial, ReasonInitialHealthChecking, ""},
			{ok200, StateHealthy, "", ""},
		}},
		{"new target failing 3 times becomes unhealthy", []step{
			{bad503, StateInitial, ReasonInitialHealthChecking, ""},
			{bad503, StateInitial, ReasonInitialHealthChecking, ""},
			{bad503, StateUnhealthy, ReasonResponseCodeMismatch, "Health checks failed with these codes: [503]"},
		}},
		{"healthy stays healthy through 2 failures", []step{
			{ok200, StateInitial, ReasonInitialHealthChecking, ""},
			{ok200, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
			{ok200, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
		}},
		{"healthy to unhealthy after 3 consecutive 503s", []step{
			{ok200, StateInitial, ReasonInitialHealthChecking, ""},
			{ok200, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
			{bad503, StateUnhealthy, ReasonResponseCodeMismatch, "Health checks failed with these codes: [503]"},
		}},
		{"the reason is the last failure's kind", []step{
			{ok200, StateInitial, ReasonInitialHealthChecking, ""},
			{ok200, StateHealthy, "", ""},
			{bad503, StateHealthy, "", ""},
			{refused, StateHealthy, "", ""},
			{timeout, StateUnhealthy, ReasonTimeout, "Request timed out"},
			{refused, StateUnhealthy, ReasonFailedHealthChecks, "Health checks failed"},
			{bad404, StateUnhealthy, ReasonResponseCodeMismatch, "Health checks failed with these codes: [404]"},
		}},
		{"connection errors count as failures", []step{
			{refused, StateInitial, ReasonInitialHealthChecking, ""},
			{refused, StateInitial, ReasonInitialHealthChecking, ""},
			{refused, StateUnhealthy, ReasonFailedHealthChecks, ""},
		}},
		{"unhealthy back to healthy after 2 successes", []step{
			{bad503, StateInitial, ReasonInitialHealthChecking, ""},
			{bad503, StateInitial, ReasonInitialHealthChecking, ""},
			{bad503, StateUnhealthy, ReasonResponseCodeMismatch, ""},
			{ok200, StateUnhealthy, ReasonResponseCodeMismatch, ""},
			{ok200, StateHealthy, "", ""},
		}},
		{"a failure while recovering restarts the count", []step{
			{timeout, StateInitial, ReasonInitialHealthChecking, ""},
			{timeout, StateInitial, ReasonInitialHealthChecking, ""},
			{timeout, StateUnhealthy, ReasonTimeout, ""},
			{ok200, StateUnhealthy, ReasonTimeout, ""},
			{bad503, StateUnhealthy, ReasonResponseCodeMismatch, ""},
			{ok200, StateUnhealthy, ReasonResponseCodeMismatch, ""},
			{ok200, StateHealthy, "", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGroup(t, labSettings)
			if err := g.Register("i-1", t0); err != nil {
				t.Fatal(err)
			}
			if h := g.Get("i-1"); h.State != StateInitial || h.Reason != ReasonRegistrationInProgress {
				t.Fatalf("after Register: %+v", h)
			}
			for i, s := range tt.steps {
				now := t0.Add(time.Duration(i+1) * 15 * time.Second)
				if _, _, err := g.Report("i-1", s.r, now); err != nil {
					t.Fatal(err)
				}
				h := g.Get("i-1")
				if h.State != s.state || h.Reason != s.reason || (s.desc != "" && h.Description != s.desc) {
					t.Fatalf("step %d (%+v): got %s/%s %q, want %s/%s %q",
						i+1, s.r, h.State, h.Reason, h.Description, s.state, s.reason, s.desc)
				}
			}
		})
	}
}

func TestReportTransitions(t *testing.T) {
	g := newGroup(t, labSettings)
	_ = g.Register("i-1", t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	if _, changed, _ := g.Report("i-1", ok200, at(15)); changed {
		t.Fatal("first success should not change the state")
	}
	tr, changed, _ := g.Report("i-1", ok200, at(30))
	want := Transition{ID: "i-1", From: StateInitial, To: StateHealthy, At: at(30)}
	if !changed || tr != want {
		t.Fatalf("got %+v %v, want %+v", tr, changed, want)
	}
	if h := g.Get("i-1"); !h.Since.Equal(at(30)) {
		t.Fatalf("Since = %s, want %s", h.Since, at(30))
	}
}

func TestHigherThresholds(t *testing.T) {
	g := newGroup(t, Settings{HealthyThreshold: 5, UnhealthyThreshold: 2})
	_ = g.Register("x", t0)
	for i := 1; i <= 4; i++ {
		_, _, _ = g.Report("x", ok200, t0)
		if s := g.Get("x").State; s != StateInitial {
			t.Fatalf("after %d successes: %s", i, s)
		}
	}
	_, _, _ = g.Report("x", ok200, t0)
	if s := g.Get("x").State; s != StateHealthy {
		t.Fatalf("after 5 successes: %s", s)
	}
	_, _, _ = g.Report("x", bad503, t0)
	_, _, _ = g.Report("x", bad503, t0)
	if s := g.Get("x").State; s != StateUnhealthy {
		t.Fatalf("after 2 failures: %s", s)
	}
}

// TestInitialHealthyThreshold: with InitialHealthyThreshold 1 (ALB's user guide: a
// registered target "must pass one health check to be considered healthy") one passing
// check ends the initial state, while an unhealthy target still needs HealthyThreshold.
func TestInitialHealthyThreshold(t *testing.T) {
	s := labSettings
	s.InitialHealthyThreshold = 1
	g := newGroup(t, s)
	_ = g.Register("x", t0)
	if _, ok, _ := g.Report("x", ok200, t0); !ok || g.Get("x").State != StateHealthy {
		t.Fatalf("after one success: %+v", g.Get("x"))
	}
	for range s.UnhealthyThreshold {
		_, _, _ = g.Report("x", bad503, t0)
	}
	if st := g.Get("x").State; st != StateUnhealthy {
		t.Fatalf("after %d failures: %s", s.UnhealthyThreshold, st)
	}
	_, _, _ = g.Report("x", ok200, t0)
	if st := g.Get("x").State; st != StateUnhealthy {
		t.Fatalf("an unhealthy target healthy after one success")
	}
	_, _, _ = g.Report("x", ok200, t0)
	if st := g.Get("x").State; st != StateHealthy {
		t.Fatalf("after HealthyThreshold successes: %s", st)
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		s       Settings
		wantErr string
	}{
		{labSettings, ""},
		{Settings{HealthyThreshold: 1, UnhealthyThreshold: 3}, "healthy threshold 1"},
		{Settings{HealthyThreshold: 2, UnhealthyThreshold: 11}, "unhealthy threshold 11"},
		{Settings{HealthyThreshold: 2, UnhealthyThreshold: 2, DeregistrationDelay: -1}, "deregistration delay"},
		{Settings{HealthyThreshold: 2, UnhealthyThreshold: 2, InitialHealthyThreshold: 11}, "initial healthy threshold"},
	}
	for _, tt := range tests {
		_, err := NewGroup(tt.s)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("NewGroup(%+v) = %v, want error containing %q", tt.s, err, tt.wantErr)
		}
	}
}

func TestErrors(t *testing.T) {
	g := newGroup(t, labSettings)
	_ = g.Register("a", t0)
	if err := g.Register("a", t0); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second Register: %v", err)
	}
	if _, _, err := g.Report("zz", ok200, t0); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Report unknown: %v", err)
	}
	if _, err := g.Deregister("zz", t0); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Deregister unknown: %v", err)
	}
	if h := g.Get("zz"); h.State != StateUnused || h.Reason != ReasonNotRegistered {
		t.Errorf("Get unknown: %+v", h)
	}
}

func TestDraining(t *testing.T) {
	g := newGroup(t, labSettings)
	for _, id := range []string{"a", "b"} {
		_ = g.Register(id, t0)
		_, _, _ = g.Report(id, ok200, t0)
		_, _, _ = g.Report(id, ok200, t0)
	}
	tr, err := g.Deregister("a", t0)
	if err != nil || tr.From != StateHealthy || tr.To != StateDraining {
		t.Fatalf("Deregister: %+v %v", tr, err)
	}
	h := g.Get("a")
	if h.State != StateDraining || h.Reason != ReasonDeregistrationInProgress {
		t.Fatalf("after Deregister: %+v", h)
	}
	// Draining targets are not health checked any more and get no new requests.
	if _, changed, _ := g.Report("a", bad503, t0); changed || g.Get("a").State != StateDraining {
		t.Fatal("a draining target changed state on a health-check result")
	}
	for range 4 {
		if id, _, _ := g.Pick(); id != "b" {
			t.Fatalf("picked %q while a drains", id)
		}
	}
	// A second Deregister does not restart the delay.
	_, _ = g.Deregister("a", t0.Add(5*time.Second))
	if gone := g.Expire(t0.Add(10*time.Second - time.Nanosecond)); len(gone) != 0 {
		t.Fatalf("removed before the delay: %v", gone)
	}
	if gone := g.Expire(t0.Add(10 * time.Second)); !reflect.DeepEqual(gone, []string{"a"}) {
		t.Fatalf("Expire at delay = %v", gone)
	}
	if s := g.Get("a").State; s != StateUnused {
		t.Fatalf("after removal: %s", s)
	}
	if n := len(g.Snapshot()); n != 1 {
		t.Fatalf("snapshot has %d targets", n)
	}
	// A removed target can be registered again (a new registration, initial).
	if err := g.Register("a", t0.Add(11*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestZeroDelayDrainsAtOnce(t *testing.T) {
	g := newGroup(t, Settings{HealthyThreshold: 2, UnhealthyThreshold: 2})
	_ = g.Register("a", t0)
	_, _ = g.Deregister("a", t0)
	if gone := g.Expire(t0); len(gone) != 1 {
		t.Fatalf("Expire = %v", gone)
	}
}

// TestRouting covers the routing choice for mixes of target states.
func TestRouting(t *testing.T) {
	// mk builds a group with targets in the given states, registered in order a, b, c...
	mk := func(t *testing.T, states ...State) *Group {
		g := newGroup(t, labSettings)
		for i, s := range states {
			id := string(rune('a' + i))
			_ = g.Register(id, t0)
			var r Result
			switch s {
			case StateHealthy:
				r = ok200
			case StateUnhealthy:
				r = bad503
			}
			if s == StateHealthy || s == StateUnhealthy {
				for range 3 {
					_, _, _ = g.Report(id, r, t0)
				}
			}
			if s == StateDraining {
				_, _ = g.Deregister(id, t0)
			}
			if got := g.Get(id).State; got != s {
				t.Fatalf("setup %s: %s, want %s", id, got, s)
			}
		}
		return g
	}
	tests := []struct {
		name     string
		states   []State
		want     string // the picks of six requests
		failOpen bool
	}{
		{"all healthy: round robin", []State{StateHealthy, StateHealthy, StateHealthy}, "abcabc", false},
		{"one unhealthy gets nothing", []State{StateHealthy, StateHealthy, StateUnhealthy}, "ababab", false},
		{"initial gets nothing while one is healthy", []State{StateInitial, StateHealthy, StateHealthy}, "bcbcbc", false},
		{"only one healthy", []State{StateUnhealthy, StateHealthy, StateUnhealthy}, "bbbbbb", false},
		{"none healthy: fail open to all", []State{StateUnhealthy, StateUnhealthy, StateUnhealthy}, "abcabc", true},
		{"fail open includes initial", []State{StateInitial, StateUnhealthy}, "ababab", true},
		{"fail open never to draining", []State{StateDraining, StateUnhealthy, StateUnhealthy}, "bcbcbc", true},
		{"draining not routed while healthy exist", []State{StateDraining, StateHealthy}, "bbbbbb", false},
		{"only draining: nothing", []State{StateDraining}, "", false},
		{"empty group: nothing", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mk(t, tt.states...)
			var got strings.Builder
			for range 6 {
				id, fo, ok := g.Pick()
				if !ok {
					break
				}
				if fo != tt.failOpen {
					t.Fatalf("failOpen = %v, want %v", fo, tt.failOpen)
				}
				got.WriteString(id)
			}
			if got.String() != tt.want {
				t.Fatalf("picks %q, want %q", got.String(), tt.want)
			}
		})
	}
}

// TestLabCheckpointTimeline replays checkpoint 7 of the lab at the lab's 15 s interval:
// zone c's deep check starts failing and the target turns unhealthy on the third failure,
// 30 s after the first, inside LAB.md's "about 30–45 s".
func TestLabCheckpointTimeline(t *testing.T) {
	g := newGroup(t, labSettings)
	for _, id := range []string{"a", "b", "c"} {
		_ = g.Register(id, t0)
		_, _, _ = g.Report(id, ok200, t0)
		_, _, _ = g.Report(id, ok200, t0.Add(15*time.Second))
	}
	start := t0.Add(time.Minute)
	var unhealthyAt time.Time
	for i := range 5 {
		now := start.Add(time.Duration(i) * lab.TargetGroupHealthCheck.Interval)
		if tr, changed, _ := g.Report("c", bad503, now); changed && tr.To == StateUnhealthy {
			unhealthyAt = now
			break
		}
	}
	if got := unhealthyAt.Sub(start); got != 30*time.Second {
		t.Fatalf("unhealthy %s after the first failed check, want 30s", got)
	}
	seen := map[string]int{}
	for range 10 {
		id, _, _ := g.Pick()
		seen[id]++
	}
	if fmt.Sprint(seen) != "map[a:5 b:5]" {
		t.Fatalf("routing after c unhealthy: %v", seen)
	}
}

func TestSnapshotOrder(t *testing.T) {
	g := newGroup(t, labSettings)
	for _, id := range []string{"z", "a", "m"} {
		_ = g.Register(id, t0)
	}
	var ids []string
	for _, h := range g.Snapshot() {
		ids = append(ids, h.ID)
	}
	if !reflect.DeepEqual(ids, []string{"z", "a", "m"}) {
		t.Fatalf("snapshot order %v, want registration order", ids)
	}
}

// BenchmarkPick measures one routing decision over three healthy targets.
func BenchmarkPick(b *testing.B) {
	g, _ := NewGroup(labSettings)
	for _, id := range []string{"a", "b", "c"} {
		_ = g.Register(id, t0)
		_, _, _ = g.Report(id, ok200, t0)
		_, _, _ = g.Report(id, ok200, t0)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := g.Pick(); !ok {
			b.Fatal("no target")
		}
	}
}

// TestRecentChecks checks the history a live view shows: the latest results, oldest first,
// bounded, and snapshots taken earlier left unchanged by later results.
func TestRecentChecks(t *testing.T) {
	g, err := NewGroup(Settings{HealthyThreshold: 2, UnhealthyThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(0, 0)
	if err := g.Register("i-1", base); err != nil {
		t.Fatal(err)
	}
	var early Health
	for i := range RecentChecks + 3 {
		r := Result{Kind: Success, Code: 200}
		if i%2 == 1 {
			r = Result{Kind: CodeMismatch, Code: 503}
		}
		if _, _, err := g.Report("i-1", r, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			early = g.Get("i-1")
		}
	}
	if len(early.Recent) != 2 || !early.Recent[0].OK || early.Recent[1].OK || early.Recent[1].Code != 503 {
		t.Fatalf("snapshot after two checks changed or wrong: %+v", early.Recent)
	}
	got := g.Get("i-1").Recent
	if len(got) != RecentChecks {
		t.Fatalf("%d recent checks, want %d", len(got), RecentChecks)
	}
	for i, c := range got {
		n := 3 + i // the first three results fell off
		if !c.At.Equal(base.Add(time.Duration(n)*time.Second)) || c.OK != (n%2 == 0) {
			t.Errorf("check %d: %+v, want result %d", i, c, n)
		}
	}
}
