package main

import (
	"context"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/labnames"
)

// TestLocalUpUnderLabID checks that `labctl local up --lab-id c1` wires the id through to the
// real local lab, as the copy `cdk deploy -c LabId=c1` would make: the state file names the
// copy's stack, its CloudFormation endpoint answers that copy's stack names and outputs and
// not the lab's own, the parameter exists under that copy's name only, and an explicit
// --stack still wins. The tour on a copy runs on the in-process lab
// (TestTourUnderLabIDOnModel); this test only starts the processes and reads the names.
func TestLocalUpUnderLabID(t *testing.T) {
	labTest(t)
	names := labnames.Names{Prefix: lab.DefaultNamingPrefix, LabID: "c1"}
	l := startLab(t, labOptions{upFlags: []string{"--lab-id", names.LabID}})

	st, err := labclient.ReadState(l.state)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stack != names.ServiceStack() {
		t.Fatalf("state file names stack %q, want %s", st.Stack, names.ServiceStack())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tg, err := target.Resolve(ctx, target.Options{Flag: string(target.Local), Stack: lab.ServiceStackName, StatePath: l.state})
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
	// An explicit --stack still wins over the state file's name.
	if out, err := labctl(t, l.state, "--stack", lab.ServiceStackName, "status"); err == nil {
		t.Errorf("status --stack %s on the copy succeeded:\n%s", lab.ServiceStackName, out)
	}
}
