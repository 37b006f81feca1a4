package labops

import (
	"strings"
	"testing"

	"healthchecklab/internal/lab"
)

// TestDeployCommand checks the CDK command labctl runs on AWS: the lab's own stack as before,
// and a LabId copy with its id, without which the app would synthesize other stack names.
func TestDeployCommand(t *testing.T) {
	for _, tt := range []struct {
		stack, id string
		hc        lab.AsgHealthCheck
		want      string
	}{
		{"HealthCheckLab", "", "", "npx cdk deploy HealthCheckLab -c ServerCode=errorhandling --require-approval never"},
		{"HealthCheckLab-team7", "team7", "", "npx cdk deploy HealthCheckLab-team7 -c ServerCode=errorhandling -c LabId=team7 --require-approval never"},
		// The group's health-check type: the default (EC2) needs no key.
		{"HealthCheckLab", "", lab.AsgHealthCheckEC2, "npx cdk deploy HealthCheckLab -c ServerCode=errorhandling --require-approval never"},
		{"HealthCheckLab", "", lab.AsgHealthCheckELB, "npx cdk deploy HealthCheckLab -c ServerCode=errorhandling -c AsgHealthCheck=ELB --require-approval never"},
	} {
		if got := strings.Join(DeployCommand(tt.stack, tt.id, lab.CodeErrorHandling, tt.hc), " "); got != tt.want {
			t.Errorf("DeployCommand(%s, %q) = %s, want %s", tt.stack, tt.id, got, tt.want)
		}
	}
}
