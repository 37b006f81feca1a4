// Package region is the local lab's AWS region as one pure, deterministic model: the EC2
// instances and their instance-profile associations, the Auto Scaling group, the target
// group's health (package targethealth), and the two stacks with their outputs. Every AWS
// rule the local lab follows lives here, next to a comment naming the AWS documentation page
// it follows; see doc.go for where the lab departs from that documentation on purpose.
//
// The model holds no goroutines, sockets or processes and reads the time only from the
// clock it is given. It answers an action with its state change, and queues the intents a
// shell must carry out (launch an instance's processes, register or deregister a target,
// stop an instance) in an outbox the shell drains. The shell reports back what happened:
// an instance's server started or failed to start, its processes exited, a health check's
// result. The same model serves the AWS wire formats of package awslocal: *Region
// implements the Backend interface of ec2, elbv2, autoscaling and cloudformation.
package region

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/standin"
	"healthchecklab/internal/targethealth"
)

// Name is the local region's name; zone names append a letter, like real ones.
const Name = "local-1"

// Letters are the lab's zones, one instance each, as in the lab's Auto Scaling group.
var Letters = []string{"a", "b", "c"}

// ZoneName returns the zone name of a letter: "c" → "local-1c".
func ZoneName(letter string) string { return Name + letter }

// Health-check types of an Auto Scaling group.
const (
	HealthCheckEC2 = "EC2"
	HealthCheckELB = "ELB"
)

// Config is the region's fixed setup.
type Config struct {
	// Now is the clock; every time the model records comes from it.
	Now func() time.Time
	// Seed makes the generated ids, names and ARNs; the same seed gives the same ones.
	Seed uint64
	// HealthCheck is the target group's configuration.
	HealthCheck lab.HealthCheck
	// ServerCode is what the first instances run.
	ServerCode lab.ServerCode
	// Min, Desired and Max size the Auto Scaling group.
	Min, Desired, Max int
	// HealthCheckType is the group's: EC2 (the lab's choice) or ELB.
	HealthCheckType string
	// HealthCheckGrace is the group's health-check grace period.
	HealthCheckGrace time.Duration
	// LoadBalancerURL is where the load balancer listens ("http://127.0.0.1:8080").
	LoadBalancerURL string
	// TableName is the RecommendationService table, as the stack's output names it.
	TableName string
	// Names are the stack, parameter and role names of this copy of the lab (its LabId);
	// LabConfig sets the lab's own.
	Names labnames.Names
}

// LabConfig is the lab's stack as the CDK app declares it, with the given clock and seed;
// the caller adds the load balancer's address and the table's name.
func LabConfig(now func() time.Time, seed uint64) Config {
	desired := config.Defaults.DesiredCapacity
	return Config{
		Now: now, Seed: seed, HealthCheck: lab.TargetGroupHealthCheck, ServerCode: config.Defaults.ServerCode,
		// stacks/webtier.go: MinCapacity config.MinCapacity, MaxCapacity desired+1, health
		// check type EC2 with a 5-minute grace period.
		Min: config.MinCapacity, Desired: desired, Max: desired + 1,
		HealthCheckType: HealthCheckEC2, HealthCheckGrace: lab.HealthCheckGracePeriod,
		Names: labnames.Names{Prefix: lab.DefaultNamingPrefix},
	}
}

// Validate reports a configuration the region cannot run.
func (c Config) Validate() error {
	switch {
	case c.Now == nil:
		return errors.New("region: no clock")
	case c.Min < 0 || c.Desired < c.Min || c.Max < c.Desired:
		return fmt.Errorf("region: group sizes min %d, desired %d, max %d: want min ≤ desired ≤ max", c.Min, c.Desired, c.Max)
	case c.HealthCheckType != HealthCheckEC2 && c.HealthCheckType != HealthCheckELB:
		return fmt.Errorf("region: health check type %q: use EC2 or ELB", c.HealthCheckType)
	case c.HealthCheckGrace < 0:
		return fmt.Errorf("region: grace period %s", c.HealthCheckGrace)
	case c.Names.Prefix == "":
		return errors.New("region: no naming prefix (Names.Prefix)")
	}
	if _, err := lab.ParseServerCode(string(c.ServerCode)); err != nil {
		return err
	}
	return nil
}

// IntentKind names what the shell must do.
type IntentKind string

// The intents.
const (
	// Launch: start the instance's metadata service and web server (Intent.Launch says how)
	// and report Started or LaunchFailed.
	Launch IntentKind = "launch"
	// SetRole: the instance's metadata service serves Role's credentials from now on.
	SetRole IntentKind = "set-role"
	// Register: the load balancer starts health-checking the instance and may route to it.
	Register IntentKind = "register"
	// Deregister: the load balancer sends the target no new requests (it drains).
	Deregister IntentKind = "deregister"
	// Remove: the target's deregistration is complete; the load balancer forgets it.
	Remove IntentKind = "remove"
	// Stop: stop the instance's processes and report Stopped.
	Stop IntentKind = "stop"
)

// Intent is one thing the shell must carry out.
type Intent struct {
	Kind     IntentKind
	Instance string // the instance id
	// Launch is set for Launch intents.
	Launch *LaunchSpec
	// Role is set for SetRole intents.
	Role string
}

// LaunchSpec is what the shell needs to start an instance.
type LaunchSpec struct {
	ID, Letter, Zone    string
	Role                string // instance profile (named like its role)
	Code                lab.ServerCode
	PrivateIP, Hostname string
	AMI, Type, Arch     string
}

// Note is one progress line about what the region did, for the shell to print.
type Note struct {
	At   time.Time
	Text string
}

// Outbox is what the region asks of the shell, and says, since the last Drain.
type Outbox struct {
	Intents []Intent
	Notes   []Note
}

// Region is the model. It is safe for concurrent use; create it with New.
type Region struct {
	mu  sync.Mutex
	cfg Config
	rng *rand.Rand
	ids identity
	out Outbox

	// EC2
	instances  []*instance // every instance, in launch order (terminated ones for TerminatedVisible)
	assocs     []*association
	noCapacity map[string]bool // zone letters where launches fail: InsufficientInstanceCapacity

	// Auto Scaling
	desired     int
	version     int                    // the launch template's latest version
	codes       map[int]lab.ServerCode // ServerCode by launch template version
	code        lab.ServerCode         // the stack's ServerCode
	iceNoted    map[string]bool        // zones whose failed launch has been noted
	launchAfter time.Time              // no launch before this, after a failed one
	activities  []autoscaling.Activity // the group's terminations, oldest first (DescribeScalingActivities)
	activityOf  map[string]int         // index in activities of an instance's termination

	// Elastic Load Balancing
	tg *targethealth.Group

	// CloudFormation
	stackStatus  string
	stackUpdated time.Time
	rollout      *rollout
	repair       *repair // the group replacing instances, outside a rolling update
}

// ErrBusy is returned by Deploy while a rolling update is in progress.
var ErrBusy = errors.New("a deploy is already in progress; wait for it (labctl watch)")

// New returns a region with the stack deployed: the group launches its first instances at
// once (see Drain).
func New(cfg Config) (*Region, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tg, err := targethealth.NewGroup(targethealth.Settings{
		HealthyThreshold: cfg.HealthCheck.HealthyThreshold, UnhealthyThreshold: cfg.HealthCheck.UnhealthyThreshold,
		DeregistrationDelay: cfg.HealthCheck.DeregistrationDelay,
		// ELB user guide, "Health checks for Application Load Balancer target groups":
		// "After your target is registered, it must pass one health check to be considered
		// healthy."
		InitialHealthyThreshold: 1,
	})
	if err != nil {
		return nil, err
	}
	r := &Region{
		cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		noCapacity: map[string]bool{}, iceNoted: map[string]bool{}, activityOf: map[string]int{},
		desired: cfg.Desired, version: 1, codes: map[int]lab.ServerCode{1: cfg.ServerCode}, code: cfg.ServerCode,
		tg: tg, stackStatus: "CREATE_COMPLETE",
	}
	r.ids = newIdentity(r.rng, cfg.Now().UTC(), cfg.Names)
	r.mu.Lock()
	r.settle()
	r.mu.Unlock()
	return r, nil
}

// AccountID is the account the region belongs to.
const AccountID = standin.AccountID

func (r *Region) now() time.Time { return r.cfg.Now().UTC() }

func (r *Region) intent(i Intent) { r.out.Intents = append(r.out.Intents, i) }

func (r *Region) notef(format string, args ...any) {
	r.out.Notes = append(r.out.Notes, Note{At: r.now(), Text: fmt.Sprintf(format, args...)})
	last := r.out.Notes[len(r.out.Notes)-1].Text
	if r.rollout != nil {
		r.rollout.last = last
	} else if r.repair != nil {
		r.repair.last = last
	}
}

// Drain returns and clears the outbox.
func (r *Region) Drain() Outbox {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	o := r.out
	r.out = Outbox{}
	return o
}

// Tick applies what the passage of time decides: targets whose deregistration delay has
// passed, associations that settle, grace periods that end. The shell calls it now and
// then; every other method does the same first.
func (r *Region) Tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
}

// settle applies the time-driven and state-driven rules until nothing changes. The caller
// holds mu.
func (r *Region) settle() {
	for range 16 { // each round can only move things forward; a few rounds reach a fixpoint
		before := len(r.out.Intents) + len(r.out.Notes)
		r.settleAssociations()
		r.forgetTerminated()
		r.expireTargets()
		r.checkGroupHealth()
		r.stepRollout()
		r.reconcile()
		r.endRepair()
		if len(r.out.Intents)+len(r.out.Notes) == before {
			return
		}
	}
}

// hexID returns n random hex digits from the region's seeded source.
func (r *Region) hexID(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.rng.IntN(16)]
	}
	return string(b)
}

func upperID(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (r *Region) uuid() string { return uuid(r.rng) }

func uuid(rng *rand.Rand) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 32)
	for i := range b {
		b[i] = digits[rng.IntN(16)]
	}
	h := string(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ParseLetter accepts a zone letter ("c") or a full zone name ("local-1c") and returns the
// letter (labops.ParseZone does the same for any group's zones and returns the name). The error is one line naming the valid letters.
func ParseLetter(s string) (string, error) {
	if l := letterOf(s); l != "" {
		return l, nil
	}
	return "", fmt.Errorf("unknown zone %q: the local lab's zones are %s (e.g. --az c)", s, strings.Join(Letters, ", "))
}

// letterOf returns the letter of a zone name or a letter ("local-1c", "c"), or "".
func letterOf(zone string) string {
	l := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(zone)), Name)
	if slices.Contains(Letters, l) {
		return l
	}
	return ""
}

func zoneIndex(letter string) int { return slices.Index(Letters, letter) }
