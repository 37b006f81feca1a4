package labops

import (
	"context"
	"fmt"
	"time"

	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
)

// ZonePower cuts one zone's power for d on the local lab (chapter 12): its instance stops,
// the group cannot launch there and replaces it in the other zones, and when d has passed
// the zone recovers and the group rebalances into it. The lab ends the window itself, as
// the FIS experiment does on AWS; ZonePower returns once it has begun, with the lab's
// account of it. On AWS the fault is the stack's FIS experiment (FaultViaFIS).
func (l *Lab) ZonePower(ctx context.Context, az string, d time.Duration) (string, error) {
	if l.T.Kind != target.Local {
		return "", fmt.Errorf("on AWS, %s runs as the stack's FIS experiment: labctl --target aws fault %s --via fis (stack deployed with -c FaultInjection=true)",
			lab.FaultZonePower, lab.FaultZonePower)
	}
	return l.T.Lab.ZonePower(ctx, az, d)
}
