package view

import (
	"fmt"
	"strings"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/targethealth"
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
	Counters *labclient.LBCounters
	// Operation is a deploy or repair in flight (Kind alone when only that much is known),
	// nil when none.
	Operation *labclient.Operation
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

// Target is one ALB target (a registered instance, or a group member not yet registered,
// Target.NotRegistered) with what the lab knows of its instance: the one target type of
// labctl, which `status --json` prints (tools read its field names) and the screens draw.
type Target struct {
	Zone        string `json:"zone"`                  // zone name, e.g. eu-west-1c
	Letter      string `json:"letter"`                // a, b, c
	InstanceID  string `json:"instance_id"`           //
	State       string `json:"state"`                 // ALB's: initial, healthy, unhealthy, draining, unused
	Reason      string `json:"reason,omitempty"`      // ALB's reason code, e.g. Target.ResponseCodeMismatch
	Description string `json:"description,omitempty"` // ALB's, e.g. "Health checks failed with these codes: [503]"
	Role        string `json:"role"`                  // the attached instance profile's name
	ServerCode  string `json:"server_code"`
	Lifecycle   string `json:"lifecycle,omitempty"` // in the Auto Scaling group; "" when no longer a member
	// Requests is how many requests the local load balancer sent it (local lab only).
	Requests int64 `json:"requests"`
	// Current is one of the group's serving instances (false while an old one drains or
	// terminates).
	Current bool `json:"current"`
	// Checks are the latest health-check results, oldest first, and NextCheck when the next
	// is due: the local lab shows what ALB keeps to itself (on AWS both are empty).
	Checks    []targethealth.Check `json:"checks,omitempty"`
	NextCheck *time.Time           `json:"next_check,omitempty"`
}

// AZ is the target's zone as the tables show it: its letter, else its zone name.
func (t Target) AZ() string {
	if t.Letter != "" {
		return t.Letter
	}
	return t.Zone
}

// Sample is what a run of requests through the load balancer saw.
type Sample struct {
	URL      string
	Requests int
	Codes    map[int]int
	// Zones has one row per zone of the lab (zones that got nothing included), and a row
	// with Letter "?" for answers no zone can be named for.
	Zones    []ZoneSample
	Counters *labclient.LBCounters // during the sample; nil when unknown
}

// ZoneSample is what one zone answered.
type ZoneSample struct {
	Letter       string // the zone's letter; "?" for answers no zone can be named for
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
