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
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/procgroup"
	"healthchecklab/internal/repo"
)

// DeployCommand is the command line that deploys the stack with a ServerCode on AWS; a copy
// deployed with -c LabId=<id> (labID, from its LabId output) gets the same id again, without
// which the app would not even know the stack's name.
func DeployCommand(stack, labID string, code lab.ServerCode) []string {
	argv := []string{"npx", "cdk", "deploy", stack, "-c", "ServerCode=" + string(code)}
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
	if _, err := lab.ParseServerCode(string(code)); err != nil {
		return err
	}
	if l.T.Kind == target.Local {
		start := time.Now()
		err := l.T.Lab.Deploy(ctx, string(code), func(ev locallab.Event) {
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
	return l.runCDK(ctx, root, DeployCommand(l.Stack.Name, l.Stack.Outputs[labnames.OutputLabID], code), progress)
}

// runCDK runs argv in dir, passing its output on line by line (prefixed "cdk │") while
// target-health changes are reported beside it, and fails when the command fails.
func (l *Lab) runCDK(ctx context.Context, dir string, argv []string, progress Progress) error {
	start := time.Now()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		progress(fmt.Sprintf("%6.1fs  %s", time.Since(start).Seconds(), fmt.Sprintf(format, args...)))
	}
	say("running %s in %s", strings.Join(argv, " "), dir)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	// Its own process group: no process is left behind when labctl stops, and Ctrl-C
	// reaches cdk only through labctl, which says what goes on without it.
	group, err := procgroup.Start(cmd)
	if err != nil {
		return fmt.Errorf("%s: %v (the CDK CLI comes with `npm ci` in the checkout)", argv[0], err)
	}
	defer group.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
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

	select {
	case err = <-exited:
	case <-ctx.Done():
		// Stop cdk (CloudFormation carries on), then say so.
		_ = group.Interrupt()
		select {
		case err = <-exited:
		case <-time.After(10 * time.Second):
			_ = group.Kill()
			err = <-exited
		}
	}
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
		if sleep(ctx, poll) != nil {
			return
		}
	}
}
