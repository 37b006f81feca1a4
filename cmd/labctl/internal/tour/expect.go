package tour

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// Setup is what decides what the lab's users see: the ServerCode the instances run, the
// RecommendationServiceEnabled switch, and which zone's instance has stale credentials.
type Setup struct {
	Code         lab.ServerCode
	DependencyOn bool
	StaleLetter  string // zone letter; "" for none
}

func (s Setup) String() string {
	stale := "every instance with the normal role"
	if s.StaleLetter != "" {
		stale = "zone " + s.StaleLetter + " with the noDDB role"
	}
	return fmt.Sprintf("ServerCode %s, %s=%v, %s", s.Code, lab.ParameterName, s.DependencyOn, stale)
}

// Answer is what a zone's server answers a user with.
type Answer int

// The three kinds of answer of the lab.
const (
	Personalized Answer = iota // 200, the user's own recommendation
	Static                     // 200, the classic everyone gets, with diagnostic info
	Dropped                    // no answer: the load balancer says 502
)

func (a Answer) String() string {
	return [...]string{"personalized", "static", "502"}[a]
}

// Expect is the state a setup leads to, by the lab's rules.
type Expect struct {
	Zones    []string
	States   map[string]targethealth.State // per zone
	Answers  map[string]Answer             // per zone
	Traffic  []string                      // zones the load balancer routes to
	FailOpen bool                          // no healthy target: routed to all anyway
}

// expect applies the lab's rules: a zone is broken when the service is off or its
// credentials are stale; only a deep check turns a broken zone unhealthy; a broken zone
// answers static when its code degrades gracefully and drops the connection otherwise; the
// load balancer routes to healthy zones, and to all of them when none is healthy.
func expect(s Setup, zones []string) Expect {
	e := Expect{Zones: zones, States: map[string]targethealth.State{}, Answers: map[string]Answer{}}
	for _, z := range zones {
		broken := !s.DependencyOn || z == s.StaleLetter
		e.States[z] = targethealth.StateHealthy
		if broken && s.Code.DeepHealthCheck() {
			e.States[z] = targethealth.StateUnhealthy
		}
		switch {
		case !broken:
			e.Answers[z] = Personalized
		case s.Code.DegradesGracefully():
			e.Answers[z] = Static
		default:
			e.Answers[z] = Dropped
		}
		if e.States[z] == targethealth.StateHealthy {
			e.Traffic = append(e.Traffic, z)
		}
	}
	if len(e.Traffic) == 0 {
		e.Traffic, e.FailOpen = zones, true
	}
	return e
}

// current returns each zone's current target.
func current(st view.Status) map[string]view.Target {
	m := map[string]view.Target{}
	for _, t := range st.Targets {
		if t.Current {
			m[t.Letter] = t
		}
	}
	return m
}

// zonesOf lists the zones with a current target, sorted.
func zonesOf(st view.Status) []string {
	var zs []string
	for z := range current(st) {
		zs = append(zs, z)
	}
	slices.Sort(zs)
	return zs
}

// stateOK reports whether t is in the expected state; an expected unhealthy target must
// also fail for the deep check's reason (503, Target.ResponseCodeMismatch).
func stateOK(t view.Target, want targethealth.State) bool {
	if t.State != string(want) {
		return false
	}
	if want == targethealth.StateUnhealthy {
		return t.Reason == targethealth.ReasonResponseCodeMismatch && strings.Contains(t.Description, "[503]")
	}
	return true
}

// matchStatus compares the current targets with e: ok when all match; saw describes them.
func (e Expect) matchStatus(st view.Status) (ok bool, saw string) {
	cur := current(st)
	ok = len(cur) == len(e.Zones)
	var parts []string
	for _, z := range e.Zones {
		t, found := cur[z]
		switch {
		case !found:
			ok = false
			parts = append(parts, z+" no target")
		case !stateOK(t, e.States[z]):
			ok = false
			parts = append(parts, fmt.Sprintf("%s %s", z, describeTarget(t)))
		default:
			parts = append(parts, fmt.Sprintf("%s %s", z, describeTarget(t)))
		}
	}
	return ok, strings.Join(parts, ", ")
}

func describeTarget(t view.Target) string {
	if t.Reason == "" || t.State == string(targethealth.StateHealthy) {
		return t.State
	}
	return fmt.Sprintf("%s (%s)", t.State, view.ShortReason(t.Reason, t.Description))
}

// wantStates words e's target states: "a and b healthy, c unhealthy (503)".
func (e Expect) wantStates() string {
	return groupBy(e.Zones, func(z string) string {
		if e.States[z] == targethealth.StateUnhealthy {
			return "unhealthy (503)"
		}
		return string(e.States[z])
	})
}

// wantAnswers words e's answers: "200 personalized from a and b, none from c".
func (e Expect) wantAnswers() string {
	s := groupBy(e.Traffic, func(z string) string {
		if e.Answers[z] == Dropped {
			return "502 for"
		}
		return "200 " + e.Answers[z].String() + " from"
	})
	var idle []string
	for _, z := range e.Zones {
		if !slices.Contains(e.Traffic, z) {
			idle = append(idle, z)
		}
	}
	if len(idle) > 0 {
		s += ", nothing from " + and(idle)
	}
	if e.FailOpen {
		s += " (failing open)"
	}
	return s
}

// groupBy joins zones that share a label: "a and b healthy, c unhealthy". Labels ending in
// a preposition ("from", "for") put the zones after it.
func groupBy(zones []string, label func(string) string) string {
	var order []string
	by := map[string][]string{}
	for _, z := range zones {
		l := label(z)
		if _, ok := by[l]; !ok {
			order = append(order, l)
		}
		by[l] = append(by[l], z)
	}
	var parts []string
	for _, l := range order {
		if strings.HasSuffix(l, " from") || strings.HasSuffix(l, " for") {
			parts = append(parts, l+" "+and(by[l]))
		} else {
			parts = append(parts, and(by[l])+" "+l)
		}
	}
	return strings.Join(parts, ", ")
}

func and(zs []string) string {
	switch len(zs) {
	case 0:
		return "no zone"
	case 1:
		return zs[0]
	}
	return strings.Join(zs[:len(zs)-1], ", ") + " and " + zs[len(zs)-1]
}

// matchSample compares a sample with e: every answer from a zone the load balancer should
// route to, of the kind that zone gives, and something from each of those zones. Answers
// that name no zone (a 502 on AWS carries no instance) count only where 502s are expected.
func (e Expect) matchSample(sm view.Sample) (ok bool, saw string) {
	ok = sm.Requests > 0
	anonymous := 0
	for _, zs := range sm.Zones {
		if zs.Requests == 0 {
			continue
		}
		if zs.Letter == "?" {
			anonymous = zs.Requests
			if zs.Codes[502] != zs.Requests || !slices.ContainsFunc(e.Traffic, func(z string) bool { return e.Answers[z] == Dropped }) {
				ok = false
			}
			continue
		}
		if !slices.Contains(e.Traffic, zs.Letter) || !answered(zs, e.Answers[zs.Letter]) {
			ok = false
		}
	}
	for _, z := range e.Traffic {
		if zoneSample(sm, z).Requests == 0 && !(anonymous > 0 && e.Answers[z] == Dropped) {
			ok = false
		}
	}
	return ok, describeSample(sm)
}

// answered reports whether every answer of a zone was of kind a.
func answered(zs view.ZoneSample, a Answer) bool {
	switch a {
	case Personalized:
		return zs.Codes[200] == zs.Requests && zs.Personalized == zs.Requests
	case Static:
		return zs.Codes[200] == zs.Requests && zs.Static == zs.Requests
	}
	return zs.Codes[502] == zs.Requests
}

func zoneSample(sm view.Sample, z string) view.ZoneSample {
	for _, zs := range sm.Zones {
		if zs.Letter == z {
			return zs
		}
	}
	return view.ZoneSample{Letter: z}
}

// describeSample words a sample per zone: "a 200×4 (4 personalized), c nothing".
func describeSample(sm view.Sample) string {
	var parts []string
	for _, zs := range sm.Zones {
		if zs.Requests == 0 {
			parts = append(parts, zs.Letter+" nothing")
			continue
		}
		kinds := []string{}
		if zs.Personalized > 0 {
			kinds = append(kinds, fmt.Sprintf("%d personalized", zs.Personalized))
		}
		if zs.Static > 0 {
			kinds = append(kinds, fmt.Sprintf("%d static", zs.Static))
		}
		p := zs.Letter + " " + view.Codes(zs.Codes)
		if len(kinds) > 0 {
			p += " (" + strings.Join(kinds, ", ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// deadline is how long the lab may take to reach a new state after a change: the servers'
// few seconds of parameter and credential caching, then enough health checks to cross
// either threshold, twice over, plus margin for a busy machine or a slow API.
func deadline(hc lab.HealthCheck) time.Duration {
	const caches = 5 * time.Second
	checks := max(time.Duration(hc.UnhealthyThreshold)*hc.Interval+hc.Timeout, time.Duration(hc.HealthyThreshold)*hc.Interval)
	return 2*(checks+caches) + 30*time.Second
}

// pollEvery is how often a wait looks at the lab: a quarter of the check interval, between
// 250 ms and 2 s.
func pollEvery(hc lab.HealthCheck) time.Duration {
	return min(max(hc.Interval/4, 250*time.Millisecond), 2*time.Second)
}
