package labops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
)

// DefaultTimeout bounds a repair: on AWS a replacement boots, installs the server and
// passes its health checks in a few minutes; the stack allows ten for the boot alone.
const DefaultTimeout = 15 * time.Minute

// Heartbeat is the longest a wait stays silent: without a change to report, it says that it
// is still waiting and for what.
const Heartbeat = 30 * time.Second

// Progress receives one line per observed change during a long operation.
type Progress func(msg string)

// Interrupted is returned when the user stops a wait (Ctrl-C): the work goes on without
// labctl, and the message says what keeps running and how to follow it.
type Interrupted struct{ What, Follow string }

func (e *Interrupted) Error() string {
	return fmt.Sprintf("interrupted: %s; follow it with %s", e.What, e.Follow)
}

// interrupted wraps err as Interrupted when ctx was cancelled (not timed out).
func (l *Lab) interrupted(ctx context.Context, err error, what string) error {
	if !errors.Is(ctx.Err(), context.Canceled) {
		return err
	}
	if l.T.Kind == target.AWS {
		return &Interrupted{
			What:   what + " keeps going on AWS",
			Follow: fmt.Sprintf("`labctl --target aws watch` or `aws elbv2 describe-target-health --target-group-arn %s`", l.Output(lab.OutputTargetGroupArn)),
		}
	}
	return &Interrupted{What: what + " keeps going in the local lab", Follow: "`labctl watch`"}
}

// Repair terminates the serving instance of one zone through Auto Scaling without lowering
// the desired capacity, then waits, with progress, until the replacement in that zone is a
// healthy target and the old target has left the target group.
func (l *Lab) Repair(ctx context.Context, az string, timeout time.Duration, progress Progress) error {
	g, err := l.group(ctx)
	if err != nil {
		return err
	}
	zone, err := ParseZone(g.AvailabilityZones, az)
	if err != nil {
		return err
	}
	old, ok := zoneInstance(g, zone)
	if !ok {
		return fmt.Errorf("zone %s has no serving instance in group %s: see `labctl status`", zone, aws.ToString(g.AutoScalingGroupName))
	}
	oldID := aws.ToString(old.InstanceId)
	activity, err := l.A.TerminateInGroup(ctx, oldID)
	if err != nil {
		return l.T.Explain(err)
	}
	start := l.now()
	lastSaid := start
	say := func(format string, args ...any) {
		lastSaid = l.now()
		progress(fmt.Sprintf("%6.1fs  %s", l.since(start).Seconds(), fmt.Sprintf(format, args...)))
	}
	// still keeps a long, unchanging wait visibly alive (on AWS a boot takes minutes).
	still := func(what string) {
		if l.since(lastSaid) >= Heartbeat {
			say("still waiting: %s", what)
		}
	}
	say("Auto Scaling: %s", orDefault(activity, "terminating "+oldID))
	// The timeout holds on the wall clock (the context) and on the lab's clock (deadline).
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline := start.Add(timeout)
	what := fmt.Sprintf("the replacement of %s in %s", oldID, zone)
	stopped := func(err error) bool { return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) }
	fail := func(err error) error {
		if ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: not done after %s (%v); see `labctl status`", what, timeout, err)
		}
		return l.interrupted(ctx, err, what)
	}
	poll := l.pollInterval(ctx)

	// 1. The group launches a replacement in the same zone (no waiter exists for this).
	newID, lastLife := "", ""
	for newID == "" {
		g, err := l.A.Group(ctx, l.Output(lab.OutputAutoScalingGroupName))
		if err != nil {
			if stopped(err) {
				return fail(err)
			}
			return l.T.Explain(err)
		}
		for _, in := range g.Instances {
			id := aws.ToString(in.InstanceId)
			switch {
			case id == oldID:
				if s := string(in.LifecycleState); s != lastLife {
					say("%s: %s", oldID, s)
					lastLife = s
				}
			case aws.ToString(in.AvailabilityZone) == zone && current(in):
				newID = id
				say("replacement %s in %s: %s", id, zone, in.LifecycleState)
			}
		}
		if newID == "" {
			still("Auto Scaling has not launched a replacement in " + zone + " yet")
			if err := l.sleepBefore(ctx, poll, deadline); err != nil {
				return fail(err)
			}
		}
	}

	// 2. The replacement passes its health checks: the SDK's TargetInService waiter's rules, with
	// each observed state reported, and a target that turns unhealthy ending the wait.
	lastState := ""
	report := func(out *elb.DescribeTargetHealthOutput, id string) (elbtypes.TargetHealthStateEnum, error) {
		if out == nil || len(out.TargetHealthDescriptions) == 0 || out.TargetHealthDescriptions[0].TargetHealth == nil {
			return "", nil
		}
		th := out.TargetHealthDescriptions[0].TargetHealth
		s := fmt.Sprintf("%s %s", th.State, th.Reason)
		if s != lastState {
			lastState = s
			msg := fmt.Sprintf("target %s: %s", id, th.State)
			if th.Reason != "" {
				msg += " (" + string(th.Reason) + ")"
			}
			say("%s", msg)
		} else {
			still(fmt.Sprintf("target %s is %s %s", id, th.State, th.Reason))
		}
		if th.State == elbtypes.TargetHealthStateEnumUnhealthy {
			return th.State, fmt.Errorf("target %s in %s is unhealthy: %s %s; the instance runs but fails its health check (see `labctl status`)",
				id, zone, th.Reason, aws.ToString(th.Description))
		}
		return th.State, nil
	}
	in := &elb.DescribeTargetHealthInput{
		TargetGroupArn: aws.String(l.Output(lab.OutputTargetGroupArn)),
		Targets:        []elbtypes.TargetDescription{{Id: aws.String(newID)}},
	}
	var inService acceptor
	elb.NewTargetInServiceWaiter(l.A.ELB, func(o *elb.TargetInServiceWaiterOptions) { inService = o.Retryable })
	err = l.waitTargets(ctx, in, poll, deadline, func(ctx context.Context, in *elb.DescribeTargetHealthInput, out *elb.DescribeTargetHealthOutput, err error) (bool, error) {
		if err == nil {
			if _, bad := report(out, newID); bad != nil {
				return false, bad
			}
		}
		return inService(ctx, in, out, err)
	})
	if err != nil {
		if stopped(err) {
			return fail(err)
		}
		return l.T.Explain(err)
	}
	say("%s in %s is healthy", newID, zone)

	// 3. The old target drains and leaves the target group: the TargetDeregistered waiter's rules.
	in.Targets = []elbtypes.TargetDescription{{Id: aws.String(oldID)}}
	lastState = ""
	var deregistered acceptor
	elb.NewTargetDeregisteredWaiter(l.A.ELB, func(o *elb.TargetDeregisteredWaiterOptions) { deregistered = o.Retryable })
	err = l.waitTargets(ctx, in, poll, deadline, func(ctx context.Context, in *elb.DescribeTargetHealthInput, out *elb.DescribeTargetHealthOutput, err error) (bool, error) {
		if err == nil {
			if len(out.TargetHealthDescriptions) == 0 {
				return false, nil // nothing left to describe: gone
			}
			// Reported for progress only; the old target is expected to be unhealthy or draining.
			_, _ = report(out, oldID)
		}
		return deregistered(ctx, in, out, err)
	})
	if err != nil {
		if stopped(err) {
			return fail(err)
		}
		return l.T.Explain(err)
	}
	say("old target %s deregistered; zone %s is served by %s", oldID, zone, newID)
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// acceptor is an SDK waiter's Retryable: whether to describe again, or the error that ends
// the wait.
type acceptor = func(context.Context, *elb.DescribeTargetHealthInput, *elb.DescribeTargetHealthOutput, error) (bool, error)

// waitTargets is the SDK's DescribeTargetHealth waiter loop on the lab's clock: it describes
// in every poll until retryable (the waiter's modeled acceptors, with the verb's own checks)
// says it is done, ctx ends or the lab's clock reaches deadline (context.DeadlineExceeded).
// The SDK's waiters sleep on the wall clock, which a test cannot move on.
func (l *Lab) waitTargets(ctx context.Context, in *elb.DescribeTargetHealthInput, poll time.Duration, deadline time.Time, retryable acceptor) error {
	for {
		out, err := l.A.ELB.DescribeTargetHealth(ctx, in)
		more, err := retryable(ctx, in, out, err)
		if err != nil || !more {
			return err
		}
		if err := l.sleepBefore(ctx, poll, deadline); err != nil {
			return err
		}
	}
}
