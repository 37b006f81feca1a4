package labops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/procgroup"
	"healthchecklab/internal/repo"
)

// DeployCommand is the command line that deploys the stack with a ServerCode on AWS; a copy
// deployed with -c LabId=<id> (labID, from its LabId output) gets the same id again, without
// which the app would not even know the stack's name.
// The group's health-check type is passed only when it is not the context's default (EC2):
// without the key the app deploys EC2.
func DeployCommand(stack, labID string, code lab.ServerCode, hc lab.AsgHealthCheck) []string {
	argv := []string{"npx", "cdk", "deploy", stack, "-c", "ServerCode=" + string(code)}
	if hc != "" && hc != lab.AsgHealthChecks[0] {
		argv = append(argv, "-c", "AsgHealthCheck="+string(hc))
	}
	if labID != "" {
		argv = append(argv, "-c", "LabId="+labID)
	}
	return append(argv, "--require-approval", "never")
}

// Deploy rolls every instance to a ServerCode. On AWS it runs the CDK CLI from the
// checkout (CloudFormation's rolling update replaces the instances) and reports target
// health changes while it runs; on the local lab it asks the lab for its rolling
// replacement. progress gets each line.
func (l *Lab) Deploy(ctx context.Context, code lab.ServerCode, progress Progress) error {
	return l.DeployWith(ctx, code, "", progress)
}

// DeployWith is Deploy with the Auto Scaling group's health-check type (the stack context
// AsgHealthCheck): EC2, the lab's choice, or ELB, the trap of chapter 11. As with `cdk
// deploy`, a deploy without it ("") deploys the default, EC2, on both targets.
func (l *Lab) DeployWith(ctx context.Context, code lab.ServerCode, hc lab.AsgHealthCheck, progress Progress) error {
	if _, err := lab.ParseServerCode(string(code)); err != nil {
		return err
	}
	if hc == "" {
		hc = lab.AsgHealthChecks[0]
	}
	if _, err := lab.ParseAsgHealthCheck(string(hc)); err != nil {
		return err
	}
	if l.T.Kind == target.Local {
		start := l.now()
		req := labclient.Request{ServerCode: string(code), HealthCheckType: string(hc)}
		err := l.T.Lab.DeployWith(ctx, req, func(ev labclient.Event) {
			progress(fmt.Sprintf("%6.1fs  %s", ev.Time.Sub(start).Seconds(), ev.Message))
		})
		if err != nil && ctx.Err() != nil {
			return l.interrupted(ctx, err, "the rolling update to "+string(code))
		}
		return err
	}
	root, err := repo.Root(".")
	if err != nil {
		return fmt.Errorf("deploying on AWS runs the CDK app: run labctl inside the healthchecklab checkout (%v)", err)
	}
	return l.runCDK(ctx, root, DeployCommand(l.Stack.Name, l.Stack.Outputs[labnames.OutputLabID], code, hc), progress)
}

// runCDK runs argv in dir, passing its output on line by line (prefixed "cdk │") while
// target-health changes are reported beside it, and fails when the command fails.
func (l *Lab) runCDK(ctx context.Context, dir string, argv []string, progress Progress) error {
	start := l.now()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		progress(fmt.Sprintf("%6.1fs  %s", l.since(start).Seconds(), fmt.Sprintf(format, args...)))
	}
	say("running %s in %s", strings.Join(argv, " "), dir)
	run := l.CDK
	if run == nil {
		run = runProcess
	}
	pr, pw := io.Pipe()
	wait, err := run(ctx, dir, argv, pw)
	if err != nil {
		pw.Close()
		return fmt.Errorf("%s: %v (the CDK CLI comes with `npm ci` in the checkout)", argv[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- wait(); pw.Close() }()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if line := strings.TrimRight(sc.Text(), " \r"); line != "" {
				say("cdk │ %s", line)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	follower := &targetFollower{l: l, say: say}
	go func() { defer close(watched); follower.follow(wctx) }()

	err = <-exited
	stopWatch()
	<-watched
	<-copied
	if ctx.Err() != nil {
		return &Interrupted{
			What: fmt.Sprintf("CloudFormation keeps updating stack %s on AWS (stopping cdk does not stop the update)", l.Stack.Name),
			Follow: fmt.Sprintf("`labctl --target aws watch` or `aws cloudformation describe-stack-events --stack-name %s`",
				l.Stack.Name),
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%s failed (exit %d): see cdk's output above", strings.Join(argv[:3], " "), exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("%s: %v", strings.Join(argv[:3], " "), err)
	}
	follower.step(ctx) // the targets as the deploy leaves them
	say("deployed")
	return nil
}

// Runner starts the command line argv in dir with its output (stdout and stderr) to out;
// wait returns once it has exited, with its exit error. When ctx ends first, the runner
// stops the command (wait still returns only once it has exited).
type Runner func(ctx context.Context, dir string, argv []string, out io.Writer) (wait func() error, err error)

// runProcess is the Runner of labctl: the command runs as a process in its own process
// group, so that no process is left behind when labctl stops, and Ctrl-C reaches cdk only
// through labctl, which says what goes on without it.
func runProcess(ctx context.Context, dir string, argv []string, out io.Writer) (func() error, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	group, err := procgroup.Start(cmd)
	if err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return func() error {
		defer group.Kill()
		select {
		case err := <-exited:
			return err
		case <-ctx.Done():
			// Stop cdk (CloudFormation carries on); the caller says so.
			_ = group.Interrupt()
			select {
			case err := <-exited:
				return err
			case <-time.After(10 * time.Second):
				_ = group.Kill()
				return <-exited
			}
		}
	}, nil
}

// targetFollower reports each change of the targets' states. Read errors are reported
// once each, not fatal: the deploy's own result decides.
type targetFollower struct {
	l       *Lab
	say     func(string, ...any)
	last    map[string]string
	lastErr string
}

// step reads the status once and reports what changed since the last step. A stack that
// the deploy is creating is followed from when it has its outputs.
func (f *targetFollower) step(ctx context.Context) {
	if !f.l.deployed() {
		st, err := f.l.A.DescribeStack(ctx, f.l.Stack.Name)
		if err != nil || st.Outputs[lab.OutputTargetGroupArn] == "" || st.Outputs[lab.OutputAutoScalingGroupName] == "" {
			return
		}
		f.l.Stack = st
		f.say("stack %s created (%s, account %s)", st.Name, st.Status, st.Account)
	}
	st, err := f.l.Status(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		if err.Error() != f.lastErr {
			f.lastErr = err.Error()
			f.say("target health: %v", err)
		}
		return
	}
	now := map[string]string{}
	for _, t := range st.Targets {
		s := t.State
		if t.Reason != "" {
			s += " (" + t.Reason + ")"
		}
		if t.ServerCode != "" {
			s += ", " + t.ServerCode
		}
		now[t.InstanceID] = s
		if f.last[t.InstanceID] != s {
			f.say("target %s (%s): %s", t.InstanceID, t.Zone, s)
		}
	}
	for id := range f.last {
		if _, ok := now[id]; !ok {
			f.say("target %s: deregistered", id)
		}
	}
	f.last = now
}

// follow steps every poll interval until ctx ends.
func (f *targetFollower) follow(ctx context.Context) {
	poll := f.l.pollInterval(ctx)
	for {
		f.step(ctx)
		if f.l.sleep(ctx, poll) != nil {
			return
		}
	}
}
