package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/labtest"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/tour"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/labnames"
)

// TestTourUnderLabIDOnModel runs the in-process lab as the copy `cdk deploy -c LabId=c1` (or
// `labctl local up --lab-id c1`) makes: the state file names the copy's stack, its
// CloudFormation answers that copy's stack names and outputs and not the lab's own, the
// parameter exists under the copy's name only, an explicit --stack still wins over the state
// file, and the whole tour passes on it, finding every name through the state file (local)
// or --stack (aws) and the stack's outputs; on aws its deploys pass the LabId back to the
// CDK app, without which the app knows no stack of that name.
func TestTourUnderLabIDOnModel(t *testing.T) {
	t.Parallel() // its own in-process lab; no environment of the process
	names := labnames.Names{Prefix: lab.DefaultNamingPrefix, LabID: "c1"}
	for _, kind := range []target.Kind{target.Local, target.AWS} {
		t.Run(string(kind), func(t *testing.T) {
			h := labtest.NewCopy(t, lab.CodeErrorHandling, names.LabID)
			ctx := context.Background()

			st, err := labclient.ReadState(h.StatePath)
			if err != nil {
				t.Fatal(err)
			}
			if st.Stack != names.ServiceStack() {
				t.Fatalf("state file names stack %q, want %s", st.Stack, names.ServiceStack())
			}
			// As labctl resolves the local target with --stack left at its default.
			tg, err := target.Resolve(ctx, target.Options{Flag: string(target.Local), Stack: lab.ServiceStackName, StatePath: h.StatePath})
			if err != nil {
				t.Fatal(err)
			}
			if tg.Stack != names.ServiceStack() {
				t.Errorf("the local target acts on %q, want the copy's %s", tg.Stack, names.ServiceStack())
			}
			a := actions.New(tg.Config)
			service, err := a.DescribeStack(ctx, names.ServiceStack())
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{
				lab.OutputParameterName:       names.Parameter(),
				lab.OutputInstanceProfileName: names.Role(),
				lab.OutputNoDDBProfileName:    names.NoDDBRole(),
				labnames.OutputLabID:          names.LabID,
			} {
				if got := service.Outputs[key]; got != want {
					t.Errorf("output %s = %q, want %q", key, got, want)
				}
			}
			if _, err := a.DescribeStack(ctx, names.VPCStack()); err != nil {
				t.Errorf("network stack %s: %v", names.VPCStack(), err)
			}
			for _, other := range []string{lab.ServiceStackName, lab.VPCStackName} {
				if _, err := a.DescribeStack(ctx, other); err == nil {
					t.Errorf("the copy also answers the lab's own stack name %s", other)
				}
			}
			if v, err := a.GetParameter(ctx, names.Parameter()); err != nil || v != "true" {
				t.Errorf("parameter %s = %q, %v; want true", names.Parameter(), v, err)
			}
			if _, err := a.GetParameter(ctx, lab.ParameterName); err == nil {
				t.Errorf("the copy also has the lab's own parameter %s", lab.ParameterName)
			}
			// An explicit --stack still wins over the state file's name (status does not
			// wait, so the command's wall clock does not matter).
			var out, errOut bytes.Buffer
			if code := run(ctx, []string{"--stack", lab.ServiceStackName, "status", "--state", h.StatePath}, &out, &errOut, noEnv); code == 0 {
				t.Errorf("status --stack %s on the copy succeeded:\n%s", lab.ServiceStackName, out.String())
			}

			// The whole tour, on the lab's fake clock (the command's clock is the wall clock).
			var text, md bytes.Buffer
			err = tour.Run(ctx, tourLab{h.Open(kind)}, tour.Options{
				Out: &text, Style: view.Style{}, Yes: true, AWS: kind == target.AWS, Transcript: &md, Clock: h,
			})
			if err != nil || !strings.Contains(text.String(), "✓ All 10 checkpoints met") || strings.Contains(text.String(), "✗") {
				t.Fatalf("tour on LabId %s: %v\n%s", names.LabID, err, text.String())
			}
		})
	}
}
