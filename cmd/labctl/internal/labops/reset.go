package labops

import (
	"context"
	"fmt"
	"time"

	"healthchecklab/internal/lab"
)

// Reset puts the lab back to the start of its story without restarting anything: the
// parameter true, every serving instance with the normal instance profile, and ServerCode
// code, deployed only when the instances run another (a deploy brings new instances, which
// have the normal profile). progress gets one line per change. Then it checks that the lab
// is whole (VerifyWhole): a reset that leaves unhealthy targets or a dependency that does
// not answer is an error, not a success.
func (l *Lab) Reset(ctx context.Context, code lab.ServerCode, progress Progress) error {
	if err := l.reset(ctx, code, progress); err != nil {
		return err
	}
	return l.VerifyWhole(ctx, resetSettleTimeout, progress)
}

// resetSettleTimeout is how long Reset waits for the lab to be whole; 0 means settleTimeout
// of the target group's settings.
var resetSettleTimeout time.Duration

// reset does what Reset does before it checks.
func (l *Lab) reset(ctx context.Context, code lab.ServerCode, progress Progress) error {
	if _, err := lab.ParseServerCode(string(code)); err != nil {
		return err
	}
	normal := l.Output(lab.OutputInstanceProfileName)
	if normal == "" {
		return fmt.Errorf("stack %s has no output %s: deploy this version of the stack (npx cdk deploy --all) to reset its roles",
			l.Stack.Name, lab.OutputInstanceProfileName)
	}
	if _, err := l.SetDependency(ctx, true); err != nil {
		return err
	}
	progress(fmt.Sprintf("%s=true", lab.ParameterName))
	st, err := l.Status(ctx)
	if err != nil {
		return err
	}
	if st.ServerCode != string(code) {
		progress(fmt.Sprintf("the instances run ServerCode %s: deploying %s (new instances come with the normal role)", st.ServerCode, code))
		return l.Deploy(ctx, code, progress)
	}
	changed := false
	for _, t := range st.Targets {
		if !t.Current || t.Role == normal {
			continue
		}
		msg, err := l.attachProfile(ctx, t.InstanceID, t.Zone, normal)
		if err != nil {
			return err
		}
		progress(msg)
		changed = true
	}
	if !changed {
		progress("every instance has instance profile " + normal)
	}
	progress(fmt.Sprintf("ServerCode %s already runs: nothing to deploy", code))
	return nil
}
