package view

import (
	"fmt"
	"strings"
	"time"

	"healthchecklab/internal/lab"
)

// Status is what the status and watch views show of a lab.
type Status struct {
	ServerCode string
	Parameter  string // value of RecommendationServiceEnabled
	// HealthCheck is the target group's configuration.
	HealthCheck lab.HealthCheck
	// ZoneNames names the zone of each letter ("c" → "eu-west-1c"), when known.
	ZoneNames map[string]string
	Targets   []Target
	// Counters are the load balancer's request metrics; nil where the target has none to
	// read at once (on AWS they are CloudWatch metrics, minutes late).
	Counters *Counters
	// Operation is a deploy or repair in flight, nil when none.
	Operation *Operation
	// Processes are the local lab's processes; nil on AWS.
	Processes []Process
	// AsgHealthCheck is the Auto Scaling group's health-check type (EC2 or ELB) and Grace
	// its grace period; "" when unknown.
	AsgHealthCheck string
	Grace          time.Duration
	// Replaced counts, by zone letter, the instances Auto Scaling replaced after a failed
	// health check (its latest activities).
	Replaced map[string]int
}

// Target is one registered target with what the lab knows of its instance.
type Target struct {
	Zone        string // letter: "a", "b", "c"
	InstanceID  string
	State       string // ALB's: initial, healthy, unhealthy, draining, unused
	Reason      string // ALB's reason code, e.g. Target.ResponseCodeMismatch
	Description string // ALB's description, e.g. "Health checks failed with these codes: [503]"
	Role        string // the instance's role (instance profile) name
	ServerCode  string
	// Current is false for an instance that is being replaced (draining or terminating).
	Current bool
	// Requests is how many requests the load balancer sent it; negative when unknown.
	Requests int64
	// Checks are its most recent health-check results, oldest first; empty when the target
	// API does not report them (ALB does not).
	Checks []Check
	// NextCheck is when the next health check is due; zero when unknown.
	NextCheck time.Time
}

// Check is one health-check result.
type Check struct {
	OK   bool
	Code int // HTTP status code; 0 when there was no answer
	At   time.Time
}

// Counters are load-balancer request metrics, split as ALB's CloudWatch metrics are.
type Counters struct {
	Requests  int64
	ELB502    int64
	ELB503    int64
	ELB504    int64
	Target5xx int64
	FailOpen  int64 // routed to a non-healthy target because none was healthy
}

// ELB5xx is the load balancer's own 5xx answers.
func (c Counters) ELB5xx() int64 { return c.ELB502 + c.ELB503 + c.ELB504 }

// Operation is a deploy or a repair in flight.
type Operation struct {
	Kind       string // "deploy" or "repair"
	ServerCode string // the ServerCode being rolled out
	Zone       string // the zone being replaced, when known
	Started    time.Time
	Last       string // its latest progress line
}

// Sample is what a run of requests through the load balancer saw.
type Sample struct {
	URL      string
	Requests int
	Codes    map[int]int
	// Zones has one row per zone of the lab (zones that got nothing included), and a row
	// with Zone "?" for answers no zone can be named for.
	Zones    []ZoneSample
	Counters *Counters // during the sample; nil when unknown
}

// ZoneSample is what one zone answered.
type ZoneSample struct {
	Zone         string
	Instances    []string
	Requests     int
	Codes        map[int]int
	Personalized int
	Static       int
	Text         string // the first recommendation it gave, as the page words it
	Diagnostic   string // the first static answer's diagnostic
}

// Recommendation words an answer as the web page does.
func Recommendation(userName, show string, personalized bool) string {
	if personalized {
		return userName + ", your recommendation is: " + show
	}
	return userName + ", everyone enjoys this classic: " + show
}

// ShortID abbreviates an instance id to its last eight characters: "i-…9abcdef0". Eight
// hex digits tell a classroom's instances apart; --json and the notes keep the full id.
func ShortID(id string) string {
	const keep = 8
	prefix, rest, ok := strings.Cut(id, "-")
	if !ok || runes(rest) <= keep+1 {
		return id
	}
	r := []rune(rest)
	return prefix + "-…" + string(r[len(r)-keep:])
}

// ShortRole names the lab's two roles "normal" and "noDDB" whatever the naming prefix.
func ShortRole(role string) string {
	switch {
	case role == "":
		return "-"
	case strings.HasSuffix(role, lab.NoDDBRoleName("")):
		return "noDDB"
	case strings.HasSuffix(role, lab.RoleName("")):
		return "normal"
	}
	return Fit(role, 12)
}

// ShortReason words ALB's reason code in a few words for a table cell; the notes under the
// table keep ALB's exact reason and description.
func ShortReason(reason, description string) string {
	switch reason {
	case "":
		return ""
	case "Target.ResponseCodeMismatch":
		if i, j := strings.Index(description, "["), strings.LastIndex(description, "]"); i >= 0 && j > i {
			return "HTTP " + description[i+1:j]
		}
		return "wrong code"
	case "Target.Timeout":
		return "timed out"
	case "Target.FailedHealthChecks":
		return "no answer"
	case "Elb.InitialHealthChecking":
		return "first checks"
	case "Elb.RegistrationInProgress":
		return "registering"
	case "Target.DeregistrationInProgress":
		return "deregistering"
	case "Target.NotRegistered":
		return "not registered"
	case "Target.HealthCheckDisabled":
		return "checks off"
	case "Elb.InternalError":
		return "ELB error"
	}
	if _, rest, ok := strings.Cut(reason, "."); ok {
		return rest
	}
	return reason
}

// seconds formats a duration the way the views do: "15s", "1.5s", "2m05s".
func seconds(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 10*time.Second && d%time.Second != 0:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
}
