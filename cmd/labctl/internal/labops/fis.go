package labops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
)

// FISPoll is how often a followed experiment is read.
var FISPoll = 5 * time.Second

// FISFaults are the faults `fault --via fis` knows, in the order the help lists them.
func FISFaults() []string {
	names := make([]string, 0, len(lab.FaultExperimentOutputs))
	for name := range lab.FaultExperimentOutputs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// FaultViaFIS starts the stack's AWS FIS experiment for a lab fault and follows it to its end,
// reporting each change of the experiment's or its action's state. It returns nil when the
// experiment completed; a stopped (stop condition), failed or cancelled experiment is an
// error that says why. The experiment undoes its fault itself, so Ctrl-C only stops following.
func (l *Lab) FaultViaFIS(ctx context.Context, fault, clientToken string, progress Progress) (actions.Experiment, error) {
	if l.T.Kind != target.AWS {
		return actions.Experiment{}, fmt.Errorf("--via fis needs --target aws: the local lab has no Fault Injection Service (leave out --via to inject the fault directly)")
	}
	key, ok := lab.FaultExperimentOutputs[fault]
	if !ok {
		return actions.Experiment{}, fmt.Errorf("unknown fault %q for --via fis: use one of %s", fault, strings.Join(FISFaults(), ", "))
	}
	templateID := l.Output(key)
	if templateID == "" {
		return actions.Experiment{}, fmt.Errorf("stack %s has no output %s: deploy it with `-c FaultInjection=true` to add the FIS experiments", l.Stack.Name, key)
	}
	exp, err := l.A.StartExperiment(ctx, templateID, clientToken)
	if err != nil {
		return actions.Experiment{}, l.T.Explain(err)
	}
	progress(fmt.Sprintf("experiment %s started from template %s (%s); it undoes its fault after %s",
		exp.ID, templateID, fault, lab.FaultDuration))
	started, last := l.now(), ""
	for {
		if line := describeExperiment(exp); line != last {
			progress(fmt.Sprintf("%3.0fs %s", l.since(started).Seconds(), line))
			last = line
		}
		if exp.Ended() {
			break
		}
		if err := l.sleep(ctx, FISPoll); err != nil {
			return exp, followInterrupted(ctx, exp, err)
		}
		next, err := l.A.GetExperiment(ctx, exp.ID)
		if err != nil {
			if ctx.Err() != nil {
				return exp, followInterrupted(ctx, exp, err)
			}
			return exp, l.T.Explain(err)
		}
		exp = next
	}
	if exp.Status != "completed" {
		return exp, fmt.Errorf("experiment %s %s: %s", exp.ID, exp.Status, orDefault(exp.Reason, "FIS gave no reason"))
	}
	return exp, nil
}

// describeExperiment is one progress line: the experiment's state and each action's.
func describeExperiment(e actions.Experiment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "experiment %s: %s", e.ID, e.Status)
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	names := make([]string, 0, len(e.Actions))
	for name := range e.Actions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := e.Actions[name]
		fmt.Fprintf(&b, "; %s %s: %s", name, a.ActionID, a.Status)
		if a.Reason != "" {
			fmt.Fprintf(&b, " (%s)", a.Reason)
		}
	}
	return b.String()
}

// followInterrupted says, when the user stopped following, that the experiment goes on and
// how to watch or end it.
func followInterrupted(ctx context.Context, e actions.Experiment, err error) error {
	if !errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("experiment %s still %s: %w", e.ID, e.Status, err)
	}
	return &Interrupted{
		What:   fmt.Sprintf("experiment %s keeps running on AWS and undoes its fault at its end", e.ID),
		Follow: fmt.Sprintf("`aws fis get-experiment --id %s` (end it early with `aws fis stop-experiment --id %s`)", e.ID, e.ID),
	}
}
