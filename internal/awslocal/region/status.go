package region

import (
	"cmp"
	"slices"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// InstanceStatus is what a live view shows of one instance: its EC2, Auto Scaling and
// target-group sides together.
type InstanceStatus struct {
	ID, Letter, Zone string
	State            string // EC2 state
	Lifecycle        string // Auto Scaling lifecycle state; "" when not a member
	Health           string // Auto Scaling health status; "" when not a member
	Role             string // the associated instance profile; "" when none
	Code             lab.ServerCode
	Version          int  // launch template version
	Current          bool // a member launching or in service, not one on its way out
	Target           targethealth.Health
}

// Status lists the instances that are not terminated, by zone, then launch order.
func (r *Region) Status() []InstanceStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	var out []InstanceStatus
	for _, in := range r.instances {
		if in.state == ec2.StateTerminated {
			continue
		}
		st := InstanceStatus{
			ID: in.id, Letter: in.letter, Zone: ZoneName(in.letter), State: in.state, Code: in.code, Version: in.version,
			Current: in.member && in.lifecycle != lifeTerminating, Target: r.tg.Get(in.id),
		}
		if in.member {
			st.Lifecycle, st.Health = in.lifecycle, in.health
		}
		if a := r.current(in.id); a != nil {
			st.Role = a.role
		}
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b InstanceStatus) int { return cmp.Compare(a.Letter, b.Letter) })
	return out
}
