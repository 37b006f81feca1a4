package labops

import (
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
)

func TestSettleTimeout(t *testing.T) {
	for _, tc := range []struct {
		hc   HealthCheck
		want time.Duration
	}{
		// The stack's target group: 15 s checks, healthy after 2, unhealthy after 3.
		{HealthCheck{IntervalSeconds: 15, HealthyThreshold: 2, UnhealthyThreshold: 3}, 105 * time.Second},
		// --fast: 1 s checks; never under 30 s.
		{HealthCheck{IntervalSeconds: 1, HealthyThreshold: 2, UnhealthyThreshold: 3}, 30 * time.Second},
	} {
		if got := settleTimeout(tc.hc); got != tc.want {
			t.Errorf("settleTimeout(%+v) = %s, want %s", tc.hc, got, tc.want)
		}
	}
}

// TestWholeProblem: the lab is whole only when every zone of the group has a serving
// instance with a healthy target; an old instance that drains does not count.
func TestWholeProblem(t *testing.T) {
	zones := map[string]string{"eu-west-1a": "a", "eu-west-1b": "b", "eu-west-1c": "c"}
	healthy := func(letter, id string) view.Target {
		return view.Target{Zone: "eu-west-1" + letter, Letter: letter, InstanceID: id, State: "healthy", Current: true}
	}
	whole := []view.Target{healthy("a", "i-a"), healthy("b", "i-b"), healthy("c", "i-c")}
	for _, tc := range []struct {
		name    string
		targets []view.Target
		want    string
	}{
		{"whole", whole, ""},
		{"draining old one", append(whole, view.Target{Zone: "eu-west-1c", Letter: "c", InstanceID: "i-old", State: "draining"}), ""},
		{"unhealthy", []view.Target{healthy("a", "i-a"),
			{Zone: "eu-west-1b", Letter: "b", InstanceID: "i-b", State: "unhealthy", Reason: "Target.Timeout", Current: true},
			healthy("c", "i-c")}, "zone b: target i-b unhealthy (Target.Timeout)"},
		{"zone without instance", whole[:2], "zone c: no serving instance"},
		{"two problems", []view.Target{healthy("a", "i-a"), {Zone: "eu-west-1b", Letter: "b", InstanceID: "i-b", State: "initial", Current: true}},
			"zone b: target i-b initial; zone c: no serving instance"},
	} {
		if got := wholeProblem(zones, tc.targets); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestAnswerProblem: the dependency answers only when every answer is personalized.
func TestAnswerProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		sm   Sample
		want string
	}{
		{"personalized", Sample{Requests: 4, Zones: []ZoneSample{
			{Zone: "eu-west-1a", Letter: "a", Requests: 2, Personalized: 2, Codes: map[string]int{"200": 2}},
			{Zone: "eu-west-1b", Letter: "b", Requests: 2, Personalized: 2, Codes: map[string]int{"200": 2}},
			{Zone: "eu-west-1c", Letter: "c", Codes: map[string]int{}}}}, ""},
		{"static", Sample{Requests: 2, Zones: []ZoneSample{
			{Zone: "eu-west-1a", Letter: "a", Requests: 2, Static: 2, Codes: map[string]int{"200": 2},
				Diagnostics: []string{"ServiceUnavailable: The service is currently unavailable or busy."}}}},
			"zone a: 0 of 2 answers personalized (200×2): ServiceUnavailable: The service is currently unavailable or busy."},
		{"502s", Sample{Requests: 3, Zones: []ZoneSample{
			{Zone: "eu-west-1a", Letter: "a", Requests: 3, Personalized: 1, Codes: map[string]int{"200": 1, "502": 2}}}},
			"zone a: 1 of 3 answers personalized (200×1 502×2)"},
		{"nothing", Sample{}, "no answer from the web site"},
	} {
		if got := answerProblem(tc.sm); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
