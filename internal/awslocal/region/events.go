package region

import (
	"fmt"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/targethealth"
)

// The shell reports what happened to the processes it runs with the methods below. Each
// returns an error only for an id the region never launched.

func (r *Region) event(id string) (*instance, error) {
	r.settle()
	in := r.find(id)
	if in == nil {
		return nil, fmt.Errorf("region: no instance %s", id)
	}
	return in, nil
}

// Started reports that in's web server answers its liveness path: the instance is running,
// enters service in its group and is registered with the target group (EC2 user guide,
// "Amazon EC2 instance state changes": pending, then running).
func (r *Region) Started(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.event(id)
	if err != nil {
		return err
	}
	if in.state != ec2.StatePending {
		return nil // terminated meanwhile: its stop is already asked for
	}
	in.state = ec2.StateRunning
	if in.member && in.lifecycle == lifePending {
		in.lifecycle, in.inService = lifeInService, r.now()
	}
	r.notef("instance %s in %s running", in.id, ZoneName(in.letter))
	r.register(in)
	r.settle()
	return nil
}

// LaunchFailed reports that in's processes could not be started: the instance is
// terminated and the group launches another.
func (r *Region) LaunchFailed(id, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.event(id)
	if err != nil {
		return err
	}
	r.notef("instance %s in %s failed to start: %s", in.id, ZoneName(in.letter), reason)
	in.exited = true
	r.launchAfter = r.now().Add(LaunchRetryDelay)
	if in.state == ec2.StatePending {
		in.state = ec2.StateShuttingDown
	}
	r.stop(in)
	r.settle()
	return nil
}

// Stopped reports that in's processes exited, asked to or not. A terminating instance is
// then terminated and a stopping one stopped. A running one stays running, as an EC2
// instance whose application crashed does: only its failing health checks tell.
func (r *Region) Stopped(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.event(id)
	if err != nil {
		return err
	}
	in.exited = true
	switch in.state {
	case ec2.StateShuttingDown:
		if !in.target {
			r.stop(in)
		}
	case stateStopping:
		in.state = stateStopped
		r.notef("instance %s in %s stopped", in.id, ZoneName(in.letter))
	case ec2.StatePending:
		in.state = ec2.StateShuttingDown
		r.stop(in)
	case ec2.StateRunning:
		r.notef("instance %s in %s: its web server exited", in.id, ZoneName(in.letter))
	}
	r.settle()
	return nil
}

// Checked applies one health-check result of in's target at the current time (ELB user
// guide, "Health checks for Application Load Balancer target groups", thresholds and reason
// codes: package targethealth). Results for a target that is not registered or is draining
// are ignored, as ALB no longer checks it.
func (r *Region) Checked(id string, res targethealth.Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.event(id)
	if err != nil {
		return err
	}
	tr, ok, err := r.tg.Report(id, res, r.now())
	if err == nil && ok {
		msg := fmt.Sprintf("target %s (%s): %s → %s", id, ZoneName(in.letter), tr.From, tr.To)
		if tr.Reason != "" {
			msg += " (" + tr.Reason + ")"
		}
		r.out.Notes = append(r.out.Notes, Note{At: tr.At, Text: msg})
	}
	r.settle()
	return nil
}

// PowerOff stops every instance of zone (a letter or zone name) and makes launches there
// fail with InsufficientInstanceCapacity, as AWS FIS's "AZ Availability: Power Interruption"
// scenario does. Stopped instances fail the group's EC2 health check and are replaced in
// the other zones.
func (r *Region) PowerOff(zone string) error {
	l, err := ParseLetter(zone)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	r.noCapacity[l], r.iceNoted[l] = true, false
	r.notef("%s loses power: its instances stop, launches there fail (InsufficientInstanceCapacity)", ZoneName(l))
	for _, in := range r.instances {
		if in.letter != l || (in.state != ec2.StateRunning && in.state != ec2.StatePending) {
			continue
		}
		in.state = stateStopping
		if !in.stopSent {
			in.stopSent = true
			r.intent(Intent{Kind: Stop, Instance: in.id})
		}
	}
	r.settle()
	return nil
}

// PowerOn ends PowerOff: the zone can launch again, and the group rebalances into it.
func (r *Region) PowerOn(zone string) error { return r.SetZoneCapacity(zone, true) }
