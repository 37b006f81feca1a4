package region

import (
	"slices"
	"time"

	"healthchecklab/internal/awslocal/cloudformation"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/targethealth"
)

var _ cloudformation.Backend = (*Region)(nil)

// Stacks describes the two stacks with the service stack's outputs, for DescribeStacks.
func (r *Region) Stacks() []cloudformation.Stack {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	url, names := r.cfg.LoadBalancerURL, r.cfg.Names
	stacks := []cloudformation.Stack{
		{Name: names.VPCStack(), ID: r.ids.vpcStackID, Status: "CREATE_COMPLETE", Created: r.ids.created},
		{
			Name: names.ServiceStack(), ID: r.ids.serviceStackID, Status: r.stackStatus, Created: r.ids.created, Updated: r.stackUpdated,
			Outputs: []cloudformation.Output{
				{Key: lab.OutputWebsiteURL, Value: url},
				{Key: lab.OutputHealthCheckURL, Value: url + r.cfg.HealthCheck.Path},
				{Key: lab.OutputTargetGroupArn, Value: r.ids.targetGroupARN},
				{Key: lab.OutputAutoScalingGroupName, Value: r.ids.groupName},
				{Key: lab.OutputParameterName, Value: names.Parameter()},
				{Key: lab.OutputNoDDBProfileName, Value: names.NoDDBRole()},
				{Key: lab.OutputInstanceProfileName, Value: names.Role()},
				{Key: lab.OutputTableName, Value: r.cfg.TableName},
			},
		},
	}
	if names.LabID != "" { // as the stack declares it: only on a copy with an id
		stacks[1].Outputs = append(stacks[1].Outputs, cloudformation.Output{Key: labnames.OutputLabID, Value: names.LabID})
	}
	return stacks
}

// rollout is a rolling update of the group in flight.
type rollout struct {
	code     lab.ServerCode
	version  int
	started  time.Time
	queue    []string // zone letters still to update
	letter   string   // the zone being updated
	newID    string   // its new instance
	olds     []string // the instances it replaces
	settled  bool     // the new target has left initial
	attempts int
	last     string // latest note, for live views
}

// maxLaunchAttempts bounds how often a rolling update relaunches an instance that failed.
const maxLaunchAttempts = 3

// Deploy starts a stack update to code: a new launch template version and a rolling update
// of the group, one zone at a time. It follows the stack's UpdatePolicy (CloudFormation user
// guide, "UpdatePolicy attribute", AutoScalingRollingUpdate with MaxBatchSize 1 and
// MinInstancesInService equal to the desired capacity): each zone's new instance launches
// first; once its target has passed or failed its initial health checks (the instance
// signals on liveness, not on the deep check) the old instance is deregistered, drains and
// is terminated; then the next zone. Auto Scaling's own replacing waits meanwhile. Drain and
// Operation follow its progress.
func (r *Region) Deploy(code lab.ServerCode) error {
	if _, err := lab.ParseServerCode(string(code)); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	if r.rollout != nil {
		return ErrBusy
	}
	r.version++
	r.codes[r.version] = code
	r.stackStatus = "UPDATE_IN_PROGRESS"
	r.rollout = &rollout{code: code, version: r.version, started: r.now(), queue: slices.Clone(Letters)}
	r.notef("rolling update to ServerCode %s (launch template version %d), one zone at a time", code, r.version)
	r.settle()
	return nil
}

// stepRollout moves the rolling update on as far as the current state allows.
func (r *Region) stepRollout() {
	ro := r.rollout
	for ro != nil {
		if ro.newID == "" {
			if len(ro.queue) == 0 {
				r.code, r.stackStatus, r.stackUpdated, r.rollout = ro.code, "UPDATE_COMPLETE", r.now(), nil
				r.notef("rolling update to %s complete", ro.code)
				return
			}
			ro.letter, ro.queue, ro.olds, ro.settled, ro.attempts = ro.queue[0], ro.queue[1:], nil, false, 0
			for _, in := range r.instances {
				if in.member && in.letter == ro.letter && in.version < ro.version && in.lifecycle != lifeTerminating {
					ro.olds = append(ro.olds, in.id)
				}
			}
			if !r.rolloutLaunch(ro) {
				return
			}
			continue
		}
		in := r.find(ro.newID)
		if !ro.settled {
			if in == nil || (in.state != ec2.StatePending && in.state != ec2.StateRunning) {
				r.notef("%s: new instance %s failed to start", ZoneName(ro.letter), ro.newID)
				if ro.attempts >= maxLaunchAttempts {
					// The stack rolls back to the previous launch template version.
					r.stackStatus, r.stackUpdated, r.rollout, r.version = "UPDATE_ROLLBACK_COMPLETE", r.now(), nil, ro.version-1
					r.notef("rolling update to %s failed: %s could not launch an instance; rolled back", ro.code, ZoneName(ro.letter))
					return
				}
				if !r.rolloutLaunch(ro) {
					return
				}
				continue
			}
			switch r.tg.Get(in.id).State {
			case targethealth.StateHealthy, targethealth.StateUnhealthy:
			default:
				return
			}
			ro.settled = true
			h := r.tg.Get(in.id)
			r.notef("%s: target %s %s %s", ZoneName(in.letter), in.id, h.State, h.Reason)
			for _, id := range ro.olds {
				if old := r.find(id); old != nil {
					r.beginTerminate(old, "rolling update")
				}
			}
		}
		for _, id := range ro.olds {
			if old := r.find(id); old != nil && old.member {
				return
			}
		}
		ro.newID = ""
	}
}

// rolloutLaunch launches the rolling update's instance in its zone, or in another when that
// zone has no capacity.
func (r *Region) rolloutLaunch(ro *rollout) bool {
	z := ro.letter
	if r.noCapacity[z] {
		var ok bool
		if z, ok = r.chooseZone(); !ok {
			return false
		}
	}
	ro.attempts++
	ro.newID = r.launch(z, ro.version).id
	return true
}

// Operation is the stack update in flight, for live views.
type Operation struct {
	Kind       string    `json:"kind"` // deploy
	ServerCode string    `json:"server_code"`
	Zone       string    `json:"zone,omitempty"` // the zone letter being updated
	Started    time.Time `json:"started"`
	Last       string    `json:"last_message,omitempty"`
}

// Operation kinds.
const (
	OpDeploy = "deploy" // a rolling update of the stack (Deploy)
	OpRepair = "repair" // the group replacing a member that is terminating
)

// Operation returns the deploy in progress, else the group's replacing of an instance in
// progress, or nil.
func (r *Region) Operation() *Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	if ro := r.rollout; ro != nil {
		return &Operation{Kind: OpDeploy, ServerCode: string(ro.code), Zone: ro.letter, Started: ro.started, Last: ro.last}
	}
	if rp := r.repair; rp != nil {
		return &Operation{Kind: OpRepair, ServerCode: string(r.codes[r.version]), Zone: rp.letter, Started: rp.started, Last: rp.last}
	}
	return nil
}

// repair is the group replacing members, for live views: from a member's termination
// outside a rolling update until the group is whole again.
type repair struct {
	letter  string // the zone of the first member terminated
	started time.Time
	last    string // latest note
}

// beginRepair records that member in is being terminated, unless a rolling update (which
// replaces instances itself) or a repair is already in progress.
func (r *Region) beginRepair(in *instance) {
	if r.rollout == nil && r.repair == nil {
		r.repair = &repair{letter: in.letter, started: r.now()}
	}
}

// endRepair ends the repair once the group is whole: as many members as desired, each in
// service and healthy, and each target past its initial health checks.
func (r *Region) endRepair() {
	if r.repair == nil {
		return
	}
	if r.rollout != nil {
		r.repair = nil
		return
	}
	members := 0
	for _, in := range r.instances {
		if !in.member {
			continue
		}
		members++
		if in.lifecycle != lifeInService || in.health != healthy {
			return
		}
		switch r.tg.Get(in.id).State {
		case targethealth.StateHealthy, targethealth.StateUnhealthy:
		default:
			return
		}
	}
	if members == r.desired {
		r.repair = nil
	}
}

// ServerCode is the stack's ServerCode (the one its last complete deploy rolled out).
func (r *Region) ServerCode() lab.ServerCode {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code
}
