// Command healthchecklab is the CDK app of the health-check lab: `npx cdk synth|diff|deploy`
// runs it (see cdk.json). Context keys (ServerCode, NamingPrefix, InstanceType,
// DesiredCapacity, AllowedCidr, NatGateways, FaultInjection, and the optional AmiId and
// LabId) have their defaults in cdk.json and are validated in internal/config. LabId names a
// side-by-side copy: without it every name is the lab's own. `make workshop` (cmd/workshop)
// builds the same stacks as a CloudFormation-only package.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	// No account or region: the templates are environment-agnostic and deploy to whatever
	// region the CLI is configured for.
	if _, err := stacks.NewLab(app, nil); err != nil {
		fmt.Fprintln(os.Stderr, "healthchecklab:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}
