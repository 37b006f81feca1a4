// Package labops is what labctl's verbs (and the tour) do to a HealthCheckLab stack: read
// its status, flip the dependency, swap an instance's profile, replace an instance, deploy
// a ServerCode, sample the web site. Everything goes through the AWS SDK calls of package
// actions, so it runs unchanged against AWS and against the local lab's AWS endpoint; only
// the local lab's rolling deploy and its 5xx counters, which AWS has no API for, use the
// lab's control API.
package labops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
)

// Lab is an opened HealthCheckLab stack on one target.
type Lab struct {
	T     *target.Where
	A     *actions.Actions
	Stack actions.Stack
	// Clock is what the waits read and wait on; nil means the wall clock.
	Clock Clock
	// CDK runs the CDK CLI for a deploy on AWS; nil runs it as a process (npx, from the
	// checkout).
	CDK Runner

	hc *HealthCheck // the target group's settings, read once
}

// requiredOutputs are the stack outputs the verbs cannot work without.
var requiredOutputs = []string{
	lab.OutputWebsiteURL, lab.OutputTargetGroupArn, lab.OutputAutoScalingGroupName,
	lab.OutputParameterName, lab.OutputNoDDBProfileName,
}

// Open finds the stack on the target and checks that it has the lab's outputs.
func Open(ctx context.Context, t *target.Where) (*Lab, error) {
	l := &Lab{T: t, A: actions.New(t.Config)}
	st, err := l.A.DescribeStack(ctx, t.Stack)
	if err != nil {
		return nil, t.Explain(err)
	}
	for _, k := range requiredOutputs {
		if st.Outputs[k] == "" {
			return nil, fmt.Errorf("stack %s (%s) has no output %s: is it the HealthCheckLab stack? Deploy this version with `npx cdk deploy --all`",
				st.Name, st.Status, k)
		}
	}
	l.Stack = st
	return l, nil
}

// OpenForDeploy is Open for `deploy`, which on AWS may create the stack: there a stack that
// does not exist yet is no error, and the deploy follows the targets once it does.
func OpenForDeploy(ctx context.Context, t *target.Where) (*Lab, error) {
	l, err := Open(ctx, t)
	if t.Kind == target.AWS && errors.Is(err, target.ErrStackNotFound) {
		return &Lab{T: t, A: actions.New(t.Config), Stack: actions.Stack{Name: t.Stack, Region: t.Config.Region}}, nil
	}
	return l, err
}

// deployed reports whether the stack exists (OpenForDeploy may open one that does not).
func (l *Lab) deployed() bool { return l.Stack.ID != "" }

// Describe is the first line of every verb: what it acts on.
func (l *Lab) Describe() string {
	if l.T.Kind == target.Local {
		return "local lab at " + l.T.Lab.State.URL
	}
	if !l.deployed() {
		return fmt.Sprintf("%s in %s (not deployed yet)", l.Stack.Name, l.Stack.Region)
	}
	return fmt.Sprintf("%s in %s (account %s)", l.Stack.Name, l.Stack.Region, l.Stack.Account)
}

// Output returns one of the stack's outputs.
func (l *Lab) Output(key string) string { return l.Stack.Outputs[key] }

// ZoneLetters names the group's zones by letter, in the order of their names: the third is
// "c" on every target.
func ZoneLetters(zones []string) map[string]string {
	z := slices.Clone(zones)
	sort.Strings(z)
	m := make(map[string]string, len(z))
	for i, name := range z {
		m[name] = string(rune('a' + i))
	}
	return m
}

// ParseZone accepts a zone letter ("c") or a zone name ("eu-west-1c") of the group and
// returns the zone name; the error names the valid letters.
func ParseZone(zones []string, s string) (string, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	letters := ZoneLetters(zones)
	var valid []string
	for name, letter := range letters {
		if in == letter || in == name {
			return name, nil
		}
		valid = append(valid, letter+" ("+name+")")
	}
	sort.Strings(valid)
	return "", fmt.Errorf("unknown zone %q: use a zone letter or name of the group, %s (e.g. --az c)", s, strings.Join(valid, ", "))
}

// group reads the stack's Auto Scaling group.
func (l *Lab) group(ctx context.Context) (asgtypes.AutoScalingGroup, error) {
	g, err := l.A.Group(ctx, l.Output(lab.OutputAutoScalingGroupName))
	return g, l.T.Explain(err)
}

// current reports whether a group member is one of the group's serving instances (not
// leaving the group).
func current(in asgtypes.Instance) bool {
	s := string(in.LifecycleState)
	return !strings.HasPrefix(s, "Terminating") && !strings.HasPrefix(s, "Detach") &&
		!strings.HasPrefix(s, "Standby") && !strings.HasPrefix(s, "EnteringStandby") && s != "Terminated"
}

// zoneInstance returns the serving instance of the group in zone (InService preferred).
func zoneInstance(g asgtypes.AutoScalingGroup, zone string) (asgtypes.Instance, bool) {
	var found *asgtypes.Instance
	for i, in := range g.Instances {
		if aws.ToString(in.AvailabilityZone) != zone || !current(in) {
			continue
		}
		if found == nil || in.LifecycleState == asgtypes.LifecycleStateInService {
			found = &g.Instances[i]
		}
	}
	if found == nil {
		return asgtypes.Instance{}, false
	}
	return *found, true
}

// SetDependency sets the stack's parameter to "true" (on) or "false" (off) and returns
// the parameter's new version.
func (l *Lab) SetDependency(ctx context.Context, on bool) (int64, error) {
	v, err := l.A.PutParameter(ctx, l.Output(lab.OutputParameterName), fmt.Sprint(on))
	return v, l.T.Explain(err)
}

// StaleCredentials attaches the noDDB instance profile to the serving instance of one zone
// and returns a one-line confirmation.
func (l *Lab) StaleCredentials(ctx context.Context, az string) (string, error) {
	g, err := l.group(ctx)
	if err != nil {
		return "", err
	}
	zone, err := ParseZone(g.AvailabilityZones, az)
	if err != nil {
		return "", err
	}
	in, ok := zoneInstance(g, zone)
	if !ok {
		return "", fmt.Errorf("zone %s has no serving instance in group %s: see `labctl status`", zone, aws.ToString(g.AutoScalingGroupName))
	}
	return l.attachProfile(ctx, aws.ToString(in.InstanceId), zone, l.Output(lab.OutputNoDDBProfileName))
}

// How often, and how many times, attachProfile looks again at an association that is still
// associating (EC2 documents no duration; the local lab's lasts a second).
const (
	associatingPoll     = 250 * time.Millisecond
	maxAssociatingPolls = 120
)

// attachProfile replaces the instance-profile association of one instance with profile and
// returns a one-line confirmation (also when it already had that profile).
func (l *Lab) attachProfile(ctx context.Context, id, zone, profile string) (string, error) {
	assocs, err := l.A.ProfileAssociations(ctx, id)
	if err != nil {
		return "", l.T.Explain(err)
	}
	if len(assocs) == 0 {
		return "", fmt.Errorf("instance %s (%s) has no instance profile association, so there is no role to swap: "+
			"labctl repair --az %s replaces it with one that has the normal profile", id, zone, zone)
	}
	a := assocs[0]
	if a.IamInstanceProfile != nil && actions.ProfileName(aws.ToString(a.IamInstanceProfile.Arn)) == profile {
		return fmt.Sprintf("instance %s (%s) already has instance profile %s", id, zone, profile), nil
	}
	// A replacement made moments ago is still associating, and EC2 replaces only an
	// associated association (ReplaceIamInstanceProfileAssociation answers IncorrectState):
	// wait for it to settle, as a console user would.
	for tries := 0; a.State == ec2types.IamInstanceProfileAssociationStateAssociating; tries++ {
		if tries == maxAssociatingPolls {
			return "", fmt.Errorf("instance %s (%s): association %s still associating after %s", id, zone,
				aws.ToString(a.AssociationId), maxAssociatingPolls*associatingPoll)
		}
		if err := l.sleep(ctx, associatingPoll); err != nil {
			return "", err
		}
		if assocs, err = l.A.ProfileAssociations(ctx, id); err != nil {
			return "", l.T.Explain(err)
		}
		if len(assocs) == 0 {
			return "", fmt.Errorf("instance %s (%s) has no instance profile association", id, zone)
		}
		a = assocs[0]
	}
	if _, err := l.A.ReplaceProfile(ctx, aws.ToString(a.AssociationId), profile); err != nil {
		return "", l.T.Explain(err)
	}
	return fmt.Sprintf("instance %s (%s) now has instance profile %s (association %s replaced); its next credentials come from that role",
		id, zone, profile, aws.ToString(a.AssociationId)), nil
}

// pollInterval is how often waits look: a third of the health-check interval, between
// half a second and five seconds.
func (l *Lab) pollInterval(ctx context.Context) time.Duration {
	hc, err := l.HealthCheck(ctx)
	if err != nil || hc.IntervalSeconds <= 0 {
		return 5 * time.Second
	}
	d := time.Duration(hc.IntervalSeconds * float64(time.Second) / 3)
	return min(max(d, 500*time.Millisecond), 5*time.Second)
}
