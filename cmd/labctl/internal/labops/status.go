package labops

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
)

// Status is what `labctl status` shows; `status --json` prints it, and tools read its
// targets list.
type Status struct {
	Target      string                `json:"target"` // aws or local
	Stack       string                `json:"stack"`
	StackStatus string                `json:"stack_status"`
	Account     string                `json:"account"`
	Region      string                `json:"region"`
	ServerCode  string                `json:"server_code"` // of the serving instances; "a, b" while mixed
	Parameter   string                `json:"parameter"`   // value of RecommendationServiceEnabled
	URL         string                `json:"url"`         // the WebsiteURL output
	Endpoint    string                `json:"endpoint,omitempty"`
	HealthCheck HealthCheck           `json:"health_check"`
	Targets     []view.Target         `json:"targets"`
	Counters    *labclient.LBCounters `json:"counters,omitempty"`  // local lab only
	Busy        string                `json:"busy,omitempty"`      // what is in progress, if anything
	Operation   *labclient.Operation  `json:"operation,omitempty"` // the local lab's deploy or repair in flight
	Zones       map[string]Zone       `json:"zones"`               // by letter
	// AsgHealthCheck is the Auto Scaling group's health-check type, EC2 or ELB (the stack
	// context AsgHealthCheck), and GraceSeconds its grace period.
	AsgHealthCheck string  `json:"asg_health_check"`
	GraceSeconds   float64 `json:"grace_period_seconds"`
	// Replacements are the group's terminations of instances that failed a health check,
	// newest first, from its latest scaling activities.
	Replacements []Replacement `json:"replacements"`
	// Processes are the local lab's processes (labctl, dynalite, each web server) with their
	// supervision state and restarts; none on AWS.
	Processes []labclient.Process `json:"processes,omitempty"`
	Lab       *LabIdentity        `json:"lab,omitempty"` // which local lab answered
}

// LabIdentity names the local lab a verb acted on. Labs can run side by side, one per state
// file, and every terminal drives the one its --state or LABCTL_STATE names.
type LabIdentity struct {
	StateFile string    `json:"state_file"`
	Started   time.Time `json:"started"`
	PID       int       `json:"pid"`
	LabID     string    `json:"lab_id,omitempty"`
}

// HealthCheck is the target group's settings, in seconds for readability.
type HealthCheck struct {
	Path                string  `json:"path"`
	IntervalSeconds     float64 `json:"interval_seconds"`
	TimeoutSeconds      float64 `json:"timeout_seconds"`
	HealthyThreshold    int     `json:"healthy_threshold"`
	UnhealthyThreshold  int     `json:"unhealthy_threshold"`
	SuccessCodes        string  `json:"success_codes"`
	DeregistrationDelay float64 `json:"deregistration_delay_seconds"`
}

// Replacement is one instance Auto Scaling took out of service because it failed a health
// check: an ELB one with health-check type ELB, or an EC2 one (stopped, terminated).
type Replacement struct {
	InstanceID string    `json:"instance_id"`
	Zone       string    `json:"zone"`
	Letter     string    `json:"letter"`
	At         time.Time `json:"at"`
	Cause      string    `json:"cause"`
}

// ReplacedSince counts the replacements that started at or after t, by zone letter.
func (st Status) ReplacedSince(t time.Time) map[string]int {
	n := map[string]int{}
	for _, r := range st.Replacements {
		if !r.At.Before(t) {
			n[r.Letter]++
		}
	}
	return n
}

// replacements picks, from a group's scaling activities, the terminations caused by a
// failed health check (EC2 Auto Scaling user guide, "View the reason for health check
// failures": the cause reads "an instance was taken out of service in response to" the
// check that failed).
func replacements(acts []asgtypes.Activity, letters map[string]string) []Replacement {
	out := []Replacement{}
	for _, a := range acts {
		desc, cause := aws.ToString(a.Description), aws.ToString(a.Cause)
		id, ok := strings.CutPrefix(desc, "Terminating EC2 instance: ")
		if !ok || !strings.Contains(cause, "health check") {
			continue
		}
		var details struct {
			Zone string `json:"Availability Zone"`
		}
		_ = json.Unmarshal([]byte(aws.ToString(a.Details)), &details)
		if i := strings.IndexByte(id, ' '); i > 0 {
			id = id[:i] // "i-… (…)" on some activities
		}
		out = append(out, Replacement{InstanceID: id, Zone: details.Zone, Letter: letters[details.Zone], At: aws.ToTime(a.StartTime), Cause: cause})
	}
	return out
}

// Zone names the instance serving a zone.
type Zone struct {
	Name       string `json:"name"`
	InstanceID string `json:"instance_id"`
}

// HealthCheck reads the target group's health-check settings once.
func (l *Lab) HealthCheck(ctx context.Context) (HealthCheck, error) {
	if l.hc != nil {
		return *l.hc, nil
	}
	arn := l.Output(lab.OutputTargetGroupArn)
	var (
		tg    elbtypes.TargetGroup
		delay float64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { tg, err = l.A.TargetGroup(gctx, arn); return err })
	g.Go(func() (err error) { delay, err = l.A.DeregistrationDelay(gctx, arn); return err })
	if err := g.Wait(); err != nil {
		return HealthCheck{}, l.T.Explain(err)
	}
	hc := HealthCheck{
		Path:                aws.ToString(tg.HealthCheckPath),
		IntervalSeconds:     float64(aws.ToInt32(tg.HealthCheckIntervalSeconds)),
		TimeoutSeconds:      float64(aws.ToInt32(tg.HealthCheckTimeoutSeconds)),
		HealthyThreshold:    int(aws.ToInt32(tg.HealthyThresholdCount)),
		UnhealthyThreshold:  int(aws.ToInt32(tg.UnhealthyThresholdCount)),
		DeregistrationDelay: delay,
	}
	if tg.Matcher != nil {
		hc.SuccessCodes = aws.ToString(tg.Matcher.HttpCode)
	}
	l.hc = &hc
	return hc, nil
}

// snapshot is one consistent read of the group, the target health and the instances.
type snapshot struct {
	group   asgtypes.AutoScalingGroup
	health  []elbtypes.TargetHealthDescription
	inst    map[string]ec2types.Instance
	profile map[string]string // instance id → instance-profile name
	letters map[string]string // zone name → letter
}

// read takes a snapshot: the group and the target health together, then the instances
// and profile associations of every id either names.
func (l *Lab) read(ctx context.Context) (snapshot, error) {
	var s snapshot
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		s.group, err = l.A.Group(gctx, l.Output(lab.OutputAutoScalingGroupName))
		return err
	})
	g.Go(func() (err error) {
		s.health, err = l.A.TargetHealth(gctx, l.Output(lab.OutputTargetGroupArn))
		return err
	})
	if err := g.Wait(); err != nil {
		return s, l.T.Explain(err)
	}
	var ids []string
	for _, h := range s.health {
		ids = append(ids, aws.ToString(h.Target.Id))
	}
	for _, in := range s.group.Instances {
		if id := aws.ToString(in.InstanceId); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var (
		insts  []ec2types.Instance
		assocs []ec2types.IamInstanceProfileAssociation
	)
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() (err error) { insts, err = l.A.Instances(gctx, ids...); return err })
	g.Go(func() (err error) { assocs, err = l.A.ProfileAssociations(gctx, ids...); return err })
	if err := g.Wait(); err != nil {
		return s, l.T.Explain(err)
	}
	s.inst = map[string]ec2types.Instance{}
	for _, in := range insts {
		s.inst[aws.ToString(in.InstanceId)] = in
	}
	s.profile = map[string]string{}
	for _, a := range assocs {
		if a.IamInstanceProfile != nil {
			s.profile[aws.ToString(a.InstanceId)] = actions.ProfileName(aws.ToString(a.IamInstanceProfile.Arn))
		}
	}
	s.letters = ZoneLetters(s.group.AvailabilityZones)
	return s, nil
}

// targets joins the snapshot into one row per target, sorted by zone, serving instances
// first. Group members the target group does not list yet appear as unused,
// Target.NotRegistered: what the load balancer answers when asked about them.
func (s snapshot) targets() []view.Target {
	members := map[string]asgtypes.Instance{}
	for _, in := range s.group.Instances {
		members[aws.ToString(in.InstanceId)] = in
	}
	var ts []view.Target
	row := func(id string) view.Target {
		t := view.Target{InstanceID: id, Role: s.profile[id]}
		if in, ok := s.inst[id]; ok {
			if in.Placement != nil {
				t.Zone = aws.ToString(in.Placement.AvailabilityZone)
			}
			t.ServerCode = actions.Tag(in, lab.ServerCodeTagKey)
		}
		if m, ok := members[id]; ok {
			t.Lifecycle = string(m.LifecycleState)
			t.Current = current(m)
			if t.Zone == "" {
				t.Zone = aws.ToString(m.AvailabilityZone)
			}
		}
		t.Letter = s.letters[t.Zone]
		return t
	}
	seen := map[string]bool{}
	for _, h := range s.health {
		id := aws.ToString(h.Target.Id)
		seen[id] = true
		t := row(id)
		if th := h.TargetHealth; th != nil {
			t.State, t.Reason, t.Description = string(th.State), string(th.Reason), aws.ToString(th.Description)
		}
		ts = append(ts, t)
	}
	for _, in := range s.group.Instances {
		id := aws.ToString(in.InstanceId)
		if seen[id] || !current(in) {
			continue
		}
		t := row(id)
		t.State, t.Reason = string(elbtypes.TargetHealthStateEnumUnused), string(elbtypes.TargetHealthReasonEnumNotRegistered)
		t.Description = "Auto Scaling: " + string(in.LifecycleState)
		ts = append(ts, t)
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Zone != ts[j].Zone {
			return ts[i].Zone < ts[j].Zone
		}
		return ts[i].Current && !ts[j].Current
	})
	return ts
}

// Status reads the stack's state: target health joined with the group's instances, their
// profiles and ServerCode tags, the parameter, and on the local lab its counters.
func (l *Lab) Status(ctx context.Context) (Status, error) {
	st := Status{
		Target: string(l.T.Kind), Stack: l.Stack.Name, Account: l.Stack.Account, Region: l.Stack.Region,
		URL: l.Output(lab.OutputWebsiteURL), Zones: map[string]Zone{}, Targets: []view.Target{},
	}
	if l.T.Kind == target.Local {
		ls := l.T.Lab.State
		st.Endpoint = ls.Endpoint
		st.Lab = &LabIdentity{StateFile: l.T.Lab.Path, Started: ls.Started, PID: ls.PID, LabID: ls.LabID}
	}
	var (
		snap     snapshot
		counters labclient.Counters
		stack    actions.Stack
		acts     []asgtypes.Activity
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { snap, err = l.read(gctx); return err })
	g.Go(func() (err error) {
		acts, err = l.A.Activities(gctx, l.Output(lab.OutputAutoScalingGroupName))
		return l.T.Explain(err)
	})
	g.Go(func() (err error) { st.HealthCheck, err = l.HealthCheck(gctx); return err })
	g.Go(func() (err error) {
		st.Parameter, err = l.A.GetParameter(gctx, l.Output(lab.OutputParameterName))
		return l.T.Explain(err)
	})
	g.Go(func() (err error) { stack, err = l.A.DescribeStack(gctx, l.Stack.Name); return l.T.Explain(err) })
	if l.T.Kind == target.Local {
		g.Go(func() (err error) { counters, err = l.T.Lab.Counters(gctx); return err })
	}
	if err := g.Wait(); err != nil {
		return Status{}, err
	}
	st.StackStatus = stack.Status
	if strings.HasSuffix(stack.Status, "_IN_PROGRESS") {
		st.Busy = "stack " + stack.Status
	}
	st.Targets = snap.targets()
	st.AsgHealthCheck = aws.ToString(snap.group.HealthCheckType)
	st.GraceSeconds = float64(aws.ToInt32(snap.group.HealthCheckGracePeriod))
	st.Replacements = replacements(acts, snap.letters)
	var codes []string
	for i := range st.Targets {
		t := &st.Targets[i]
		k := counters.Targets[t.InstanceID]
		t.Requests, t.Checks, t.NextCheck = k.Requests, k.Checks, k.NextCheck
		if t.Current {
			if !slices.Contains(codes, t.ServerCode) {
				codes = append(codes, t.ServerCode)
			}
			st.Zones[t.Letter] = Zone{Name: t.Zone, InstanceID: t.InstanceID}
		}
	}
	sort.Strings(codes)
	st.ServerCode = strings.Join(codes, ", ")
	if l.T.Kind == target.Local {
		st.Counters = &counters.LB
		st.Operation = counters.Operation
		st.Processes = counters.Processes
		if counters.Busy != "" {
			st.Busy = counters.Busy
		}
	}
	return st, nil
}
