package locallab

import (
	"fmt"
	"sort"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/imds"
)

// maxGone bounds how many terminated instances DescribeInstances keeps listing (EC2 lists
// them for about an hour).
const maxGone = 50

// Association states, as EC2 names them.
const (
	assocAssociated     = "associated"
	assocDisassociating = "disassociating"
	assocDisassociated  = "disassociated"
)

// association is an instance's instance-profile association.
type association struct {
	id    string
	role  string // the profile, named like its role
	state string
	at    time.Time
}

func newAssociation(role string) association {
	return association{id: "iip-assoc-0" + hexID(8)[:16], role: role, state: assocAssociated, at: time.Now().UTC()}
}

// associate attaches role's instance profile to in: its metadata service serves that role's
// credentials from now on, under a new association. It returns a one-line confirmation.
func (l *Lab) associate(in *instance, role string) string {
	in.meta.SetRole(role)
	l.mu.Lock()
	in.assoc = newAssociation(role)
	l.mu.Unlock()
	msg := fmt.Sprintf("instance %s (%s) now has instance profile %s", in.id, ZoneName(in.zone), role)
	l.printf("%s", msg)
	return msg
}

// roles are the two instance profiles, named like their roles.
func (l *Lab) roles() []string { return []string{lab.RoleName(l.prefix), lab.NoDDBRoleName(l.prefix)} }

// allInstances lists every instance EC2 would show, terminated ones included. The caller
// holds l.mu.
func (l *Lab) allInstances() []*instance {
	all := append([]*instance{}, l.gone...)
	for _, in := range l.instances {
		all = append(all, in)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].launched.Before(all[j].launched) })
	return all
}

// findInstance returns the instance with id, terminated ones included.
func (l *Lab) findInstance(id string) *instance {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, in := range l.allInstances() {
		if in.id == id {
			return in
		}
	}
	return nil
}

// zoneIndex is the position of a zone letter in Letters.
func zoneIndex(letter string) int {
	for i, z := range Letters {
		if z == letter {
			return i
		}
	}
	return -1
}

// ec2Backend answers EC2's calls from the lab's instances.
type ec2Backend struct{ l *Lab }

func (b ec2Backend) Instances() []ec2.Instance {
	l := b.l
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ec2.Instance
	for _, in := range l.allInstances() {
		md := in.meta.Instance()
		x := ec2.Instance{
			ID: in.id, OwnerID: AccountID, ImageID: md.AMI, Type: md.Type, Architecture: md.Architecture, Zone: ZoneName(in.zone),
			State: in.state, PrivateIP: md.PrivateIPv4, PrivateDNS: md.Hostname,
			SubnetID: l.ids.subnets[zoneIndex(in.zone)], VpcID: l.ids.vpcID, LaunchTime: in.launched,
			Tags: []ec2.Tag{
				{Key: "Name", Value: l.names.Prefix},
				{Key: "aws:autoscaling:groupName", Value: l.ids.groupName},
				{Key: "aws:cloudformation:stack-name", Value: l.names.ServiceStack()},
				{Key: lab.ServerCodeTagKey, Value: string(in.code)},
			},
		}
		if in.assoc.state != assocDisassociated {
			x.Profile = &ec2.Profile{ARN: profileARN(in.assoc.role), ID: imds.ProfileID(in.assoc.role)}
		}
		out = append(out, x)
	}
	return out
}

func (b ec2Backend) Zones() []ec2.Zone {
	var out []ec2.Zone
	for i, z := range Letters {
		out = append(out, ec2.Zone{Name: ZoneName(z), ID: fmt.Sprintf("loc1-az%d", i+1), Region: Region})
	}
	return out
}

func (b ec2Backend) Associations() []ec2.Association {
	l := b.l
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ec2.Association
	for _, in := range l.allInstances() {
		a := in.assoc
		out = append(out, ec2.Association{
			ID: a.id, InstanceID: in.id, State: a.state, Timestamp: a.at,
			Profile: ec2.Profile{ARN: profileARN(a.role), ID: imds.ProfileID(a.role)},
		})
	}
	return out
}

func (b ec2Backend) ReplaceAssociation(id, name, arn string) (ec2.Association, error) {
	l := b.l
	role := ""
	for _, r := range l.roles() {
		if name == r || arn == profileARN(r) {
			role = r
		}
	}
	if role == "" {
		return ec2.Association{}, ec2.ProfileNotFound(name, arn)
	}
	var target *instance
	l.mu.Lock()
	for _, in := range l.allInstances() {
		if in.assoc.id == id {
			target = in
		}
	}
	state := ""
	if target != nil {
		state = target.assoc.state
	}
	l.mu.Unlock()
	switch {
	case target == nil:
		return ec2.Association{}, ec2.AssociationNotFound(id)
	case state != assocAssociated:
		return ec2.Association{}, ec2.IncorrectState(id, state)
	}
	l.associate(target, role)
	l.mu.Lock()
	a := target.assoc
	l.mu.Unlock()
	return ec2.Association{
		ID: a.id, InstanceID: target.id, State: a.state, Timestamp: a.at,
		Profile: ec2.Profile{ARN: profileARN(role), ID: imds.ProfileID(role)},
	}, nil
}

func (b ec2Backend) Terminate(ids []string) ([]ec2.StateChange, error) {
	l := b.l
	found := map[string]*instance{}
	known := map[string]bool{}
	for _, id := range ids {
		if in := l.findInstance(id); in != nil {
			found[id], known[id] = in, true
		}
	}
	if len(found) != len(query.Distinct(ids)) {
		return nil, ec2.NotFound(ids, known)
	}
	var out []ec2.StateChange
	for _, id := range query.Distinct(ids) {
		in := found[id]
		l.mu.Lock()
		prev := in.state
		l.mu.Unlock()
		if prev == ec2.StateRunning && l.terminateAsync(in) {
			l.printf("EC2: terminating instance %s (%s) at the caller's request", in.id, ZoneName(in.zone))
		}
		l.mu.Lock()
		cur := in.state
		l.mu.Unlock()
		out = append(out, ec2.StateChange{ID: id, Previous: prev, Current: cur})
	}
	return out, nil
}
