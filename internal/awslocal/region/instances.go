package region

import (
	"fmt"
	"slices"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/imds"
	"healthchecklab/internal/targethealth"
)

var _ ec2.Backend = (*Region)(nil)

// What DescribeInstances shows of every instance: the image the lab pretends to run.
const (
	imageID      = "ami-0a1b2c3d4e5f60718"
	architecture = "x86_64"
)

// Extra EC2 instance states the model uses besides those package ec2 names.
const (
	stateStopping = "stopping"
	stateStopped  = "stopped"
)

// instance is one EC2 instance and, while it belongs to the group, its Auto Scaling view.
type instance struct {
	id, letter string
	version    int // launch template version
	code       lab.ServerCode
	state      string // EC2: pending, running, shutting-down, terminated, stopping, stopped
	launched   time.Time
	gone       time.Time // when it was terminated
	privateIP  string
	hostname   string

	// Auto Scaling
	member    bool   // listed in the group
	lifecycle string // Pending, InService, Terminating
	health    string // Healthy or Unhealthy
	inService time.Time

	// Elastic Load Balancing
	target   bool // registered with the target group (draining included)
	stopSent bool // the shell was asked to stop its processes
	exited   bool // the shell reported them stopped
}

// Auto Scaling lifecycle states and health statuses (EC2 Auto Scaling user guide, "Amazon
// EC2 Auto Scaling instance lifecycle").
const (
	lifePending     = "Pending"
	lifeInService   = "InService"
	lifeTerminating = "Terminating"
	healthy         = "Healthy"
	unhealthy       = "Unhealthy"
)

// Association states (EC2 API reference, IamInstanceProfileAssociation: associating |
// associated | disassociating | disassociated).
const (
	assocAssociating    = "associating"
	assocAssociated     = "associated"
	assocDisassociating = "disassociating"
	assocDisassociated  = "disassociated"
)

// AssociationDelay is how long an association stays associating (or disassociating, after
// a replacement) before it settles. EC2 documents the states but not their duration; a
// second is what a caller polling for "associated" sees.
const AssociationDelay = time.Second

// association is an instance's instance-profile association.
type association struct {
	id, instance, role string
	state              string
	at                 time.Time // when it was made
	settle             time.Time // when associating/disassociating ends; zero: at termination
}

func (r *Region) find(id string) *instance {
	for _, in := range r.instances {
		if in.id == id {
			return in
		}
	}
	return nil
}

// current returns an instance's association that is not disassociated, if any.
func (r *Region) current(id string) *association {
	for i := len(r.assocs) - 1; i >= 0; i-- {
		if a := r.assocs[i]; a.instance == id && (a.state == assocAssociating || a.state == assocAssociated) {
			return a
		}
	}
	return nil
}

func (r *Region) newAssociation(instanceID, role, state string) *association {
	a := &association{id: "iip-assoc-0" + r.hexID(16), instance: instanceID, role: role, state: state, at: r.now()}
	if state == assocAssociating {
		a.settle = a.at.Add(AssociationDelay)
	}
	r.assocs = append(r.assocs, a)
	return a
}

// settleAssociations ends the associating and disassociating states whose time has come.
func (r *Region) settleAssociations() {
	now := r.now()
	for _, a := range r.assocs {
		if a.settle.IsZero() || now.Before(a.settle) {
			continue
		}
		switch a.state {
		case assocAssociating:
			a.state = assocAssociated
		case assocDisassociating:
			a.state = assocDisassociated
		}
		a.settle = time.Time{}
	}
}

// launch starts a new instance in zone letter from launch template version v, as a group
// member with the normal instance profile: EC2 lists it as pending until the shell reports
// its server started. EC2 user guide, "Amazon EC2 instance state changes": a launched
// instance enters pending, then running.
func (r *Region) launch(letter string, v int) *instance {
	id := "i-0" + r.hexID(16)
	zi := zoneIndex(letter) + 1
	ip := fmt.Sprintf("10.0.%d.%d", zi, 10+r.rng.IntN(200))
	in := &instance{
		id: id, letter: letter, version: v, code: r.codes[v], state: ec2.StatePending, launched: r.now(),
		privateIP: ip, hostname: imds.New(imds.Instance{ID: id, PrivateIPv4: ip, Region: Name, Zone: ZoneName(letter)}).Instance().Hostname,
		member: true, lifecycle: lifePending, health: healthy,
	}
	r.instances = append(r.instances, in)
	role := r.Roles()[0]
	r.newAssociation(id, role, assocAssociated)
	r.intent(Intent{Kind: Launch, Instance: id, Launch: &LaunchSpec{
		ID: id, Letter: letter, Zone: ZoneName(letter), Role: role, Code: in.code,
		PrivateIP: in.privateIP, Hostname: in.hostname, AMI: imageID, Type: config.Defaults.InstanceType, Arch: architecture,
	}})
	r.notef("Auto Scaling: launching instance %s in %s (ServerCode %s, launch template version %d)", id, ZoneName(letter), in.code, v)
	return in
}

// beginTerminate starts terminating in: EC2 shows it shutting-down at once (EC2 user guide,
// "Amazon EC2 instance state changes": terminating enters shutting-down, then terminated),
// from pending as from running (TerminateInstances accepts both). A group member turns
// Terminating and its target is deregistered first; its processes stop once the target has
// drained for the deregistration delay (EC2 Auto Scaling user guide, "Health checks for
// instances in an Auto Scaling group"; ELB user guide, "Deregistration delay"). It reports
// whether anything changed.
func (r *Region) beginTerminate(in *instance, why string) bool {
	switch in.state {
	case ec2.StateShuttingDown, ec2.StateTerminated:
		return false
	}
	in.state = ec2.StateShuttingDown
	if a := r.current(in.id); a != nil {
		a.state, a.settle = assocDisassociating, time.Time{}
	}
	if in.member {
		in.lifecycle = lifeTerminating
		r.beginRepair(in)
	}
	r.notef("%s: terminating instance %s in %s", why, in.id, ZoneName(in.letter))
	if in.target && r.tg.Get(in.id).State != targethealth.StateDraining {
		if _, err := r.tg.Deregister(in.id, r.now()); err == nil {
			r.intent(Intent{Kind: Deregister, Instance: in.id})
			r.notef("target %s (%s) draining (deregistration delay %s)", in.id, ZoneName(in.letter), r.cfg.HealthCheck.DeregistrationDelay)
		}
	}
	if !in.target {
		r.stop(in)
	}
	return true
}

// stop asks the shell to stop in's processes; the instance leaves the group now (its
// replacement may launch) and is terminated once the shell reports them stopped.
func (r *Region) stop(in *instance) {
	in.member = false
	switch {
	case in.exited:
		r.terminated(in)
	case !in.stopSent:
		in.stopSent = true
		r.intent(Intent{Kind: Stop, Instance: in.id})
	}
}

// terminated records that in's processes are gone: it is terminated, its association
// disassociated. EC2 keeps listing it (TerminateInstances: "Terminated instances remain
// visible after termination (for approximately one hour)").
func (r *Region) terminated(in *instance) {
	if in.state == ec2.StateTerminated {
		return
	}
	in.member = false
	in.state, in.gone = ec2.StateTerminated, r.now()
	if i, ok := r.activityOf[in.id]; ok {
		r.activities[i].StatusCode, r.activities[i].Progress = "Successful", 100
		delete(r.activityOf, in.id)
	}
	for _, a := range r.assocs {
		if a.instance == in.id && a.state != assocDisassociated {
			a.state, a.settle = assocDisassociated, time.Time{}
		}
	}
	r.notef("instance %s in %s terminated", in.id, ZoneName(in.letter))
	if in.target {
		// A target whose instance is gone before it drained is removed with it.
		_, _ = r.tg.Deregister(in.id, r.now())
	}
}

// TerminatedVisible is how long EC2 keeps listing a terminated instance (TerminateInstances:
// "Terminated instances remain visible after termination (for approximately one hour)").
const TerminatedVisible = time.Hour

// forgetTerminated drops the instances terminated more than TerminatedVisible ago, with
// their associations.
func (r *Region) forgetTerminated() {
	now := r.now()
	old := func(in *instance) bool {
		return in.state == ec2.StateTerminated && !now.Before(in.gone.Add(TerminatedVisible))
	}
	if !slices.ContainsFunc(r.instances, old) {
		return
	}
	gone := map[string]bool{}
	r.instances = slices.DeleteFunc(r.instances, func(in *instance) bool {
		gone[in.id] = old(in)
		return gone[in.id]
	})
	r.assocs = slices.DeleteFunc(r.assocs, func(a *association) bool { return gone[a.instance] })
}

// Instances lists every instance, terminated ones included, for DescribeInstances.
func (r *Region) Instances() []ec2.Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	out := make([]ec2.Instance, 0, len(r.instances))
	for _, in := range r.instances {
		x := ec2.Instance{
			ID: in.id, OwnerID: AccountID, ImageID: imageID, Type: config.Defaults.InstanceType, Architecture: architecture,
			Zone: ZoneName(in.letter), State: in.state, PrivateIP: in.privateIP, PrivateDNS: in.hostname,
			SubnetID: r.ids.subnets[zoneIndex(in.letter)], VpcID: r.ids.vpcID, LaunchTime: in.launched,
			Tags: []ec2.Tag{
				{Key: "Name", Value: r.cfg.Names.Prefix},
				{Key: "aws:autoscaling:groupName", Value: r.ids.groupName},
				{Key: "aws:cloudformation:stack-name", Value: r.cfg.Names.ServiceStack()},
				{Key: lab.ServerCodeTagKey, Value: string(in.code)},
			},
		}
		if a := r.current(in.id); a != nil {
			x.Profile = &ec2.Profile{ARN: ProfileARN(a.role), ID: imds.ProfileID(a.role)}
		}
		out = append(out, x)
	}
	return out
}

// Zones lists the region's Availability Zones.
func (r *Region) Zones() []ec2.Zone {
	out := make([]ec2.Zone, 0, len(Letters))
	for i, z := range Letters {
		out = append(out, ec2.Zone{Name: ZoneName(z), ID: fmt.Sprintf("loc1-az%d", i+1), Region: Name})
	}
	return out
}

func (r *Region) associationOut(a *association) ec2.Association {
	return ec2.Association{ID: a.id, InstanceID: a.instance, State: a.state, Timestamp: a.at,
		Profile: ec2.Profile{ARN: ProfileARN(a.role), ID: imds.ProfileID(a.role)}}
}

// Associations lists every instance-profile association, disassociated ones included.
func (r *Region) Associations() []ec2.Association {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	out := make([]ec2.Association, 0, len(r.assocs))
	for _, a := range r.assocs {
		out = append(out, r.associationOut(a))
	}
	return out
}

// ReplaceAssociation follows EC2's ReplaceIamInstanceProfileAssociation ("Replaces an IAM
// instance profile for the specified running instance ... without having to disassociate the
// existing IAM instance profile first"): the old association turns disassociating, then
// disassociated; a new one, with a new id, is associating, then associated
// (IamInstanceProfileAssociation's states). The instance's metadata serves the new role's
// credentials at once (SetRole).
func (r *Region) ReplaceAssociation(id, name, arn string) (ec2.Association, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	role, ok := r.profileNamed(name, arn)
	if !ok {
		return ec2.Association{}, ec2.ProfileNotFound(name, arn)
	}
	i := slices.IndexFunc(r.assocs, func(a *association) bool { return a.id == id })
	if i < 0 {
		return ec2.Association{}, ec2.AssociationNotFound(id)
	}
	old := r.assocs[i]
	if old.state != assocAssociated {
		return ec2.Association{}, ec2.IncorrectState(id, old.state)
	}
	if in := r.find(old.instance); in == nil || in.state != ec2.StateRunning {
		state := "unknown"
		if in != nil {
			state = in.state
		}
		return ec2.Association{}, ec2.IncorrectInstanceState(old.instance, state)
	}
	old.state, old.settle = assocDisassociating, r.now().Add(AssociationDelay)
	a := r.newAssociation(old.instance, role, assocAssociating)
	r.intent(Intent{Kind: SetRole, Instance: old.instance, Role: role})
	r.notef("instance %s now has instance profile %s", old.instance, role)
	r.settle()
	return r.associationOut(a), nil
}

// Terminate follows EC2's TerminateInstances: every id must name an instance, else nothing
// is terminated ("If you specify multiple instances and the request fails ... none of the
// instances are terminated"); it is idempotent ("if you terminate an instance more than
// once, each call succeeds"); a pending or running instance goes to shutting-down. A group
// member that stops running fails Auto Scaling's EC2 health check and is replaced (EC2 Auto
// Scaling user guide, "Health checks for instances in an Auto Scaling group").
func (r *Region) Terminate(ids []string) ([]ec2.StateChange, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	known := map[string]bool{}
	for _, in := range r.instances {
		known[in.id] = true
	}
	ids = query.Distinct(ids)
	for _, id := range ids {
		if !known[id] {
			return nil, ec2.NotFound(ids, known)
		}
	}
	out := make([]ec2.StateChange, 0, len(ids))
	for _, id := range ids {
		in := r.find(id)
		prev := in.state
		if in.member && in.health == healthy {
			in.health = unhealthy
			r.notef("Auto Scaling: instance %s in %s is unhealthy: its instance is %s", in.id, ZoneName(in.letter), ec2.StateShuttingDown)
		}
		r.beginTerminate(in, "EC2: at the caller's request")
		out = append(out, ec2.StateChange{ID: id, Previous: prev, Current: in.state})
	}
	r.settle()
	return out, nil
}
