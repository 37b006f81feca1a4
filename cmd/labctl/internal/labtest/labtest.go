// Package labtest opens the in-process lab (package labsim) as labctl's verbs and tour do:
// the target resolved from the state file or from the SDK's standard configuration, and the
// stack opened with the lab's fake clock and its stand-in for the CDK CLI. The lab itself is
// server code and lives outside cmd/labctl.
package labtest

import (
	"context"
	"path/filepath"
	"testing"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/tour"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labsim"
)

// Lab is a running in-process lab (labsim.Lab) that labctl's verbs and tour can open.
type Lab struct{ *labsim.Lab }

var (
	_ labops.Clock  = (*Lab)(nil)
	_ tour.Clock    = (*Lab)(nil)
	_ labops.Runner = (*labsim.Lab)(nil).CDK
)

// New starts a lab whose instances run code (labsim.New); everything stops when the test
// ends.
func New(t testing.TB, code lab.ServerCode) *Lab {
	t.Helper()
	return &Lab{labsim.New(t, code)}
}

// NewCopy is New for the copy of the lab with LabId labID (labsim.NewCopy).
func NewCopy(t testing.TB, code lab.ServerCode, labID string) *Lab {
	t.Helper()
	return &Lab{labsim.NewCopy(t, code, labID)}
}

// Target resolves the target kind as labctl does (package target): local from the state
// file, whose control API it dials; aws from the SDK's standard configuration, pointed at
// the lab's endpoint by the environment as a user would (AWS_ENDPOINT_URL, a key pair,
// AWS_REGION, no shared files). The environment is the test's (t.Setenv).
//
// The stack is found as a user of labctl finds it: on the local target --stack keeps its
// default (the lab's own name) and the state file names the copy's stack; on aws the user
// names the copy's stack with --stack.
func (h *Lab) Target(kind target.Kind) *target.Where {
	h.T.Helper()
	opts := target.Options{Flag: string(kind), Stack: lab.ServiceStackName, StatePath: h.StatePath}
	if kind == target.AWS {
		opts.Stack, opts.StackGiven = h.Names.ServiceStack(), true
		none := filepath.Join(h.T.TempDir(), "none")
		user := h.User()
		for k, v := range map[string]string{
			"AWS_ENDPOINT_URL": h.Endpoint, "AWS_ACCESS_KEY_ID": user.AccessKeyID, "AWS_SECRET_ACCESS_KEY": user.SecretAccessKey,
			"AWS_SESSION_TOKEN": "", "AWS_REGION": region.Name, "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
			"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
		} {
			h.T.Setenv(k, v)
		}
	}
	tg, err := target.Resolve(context.Background(), opts)
	if err != nil {
		h.T.Fatalf("target %s: %v", kind, err)
	}
	return tg
}

// Open opens the lab's stack on the target kind, as labctl's verbs do, with the lab's clock
// and, for deploys on AWS, its stand-in for the CDK CLI (labsim.Lab.CDK).
func (h *Lab) Open(kind target.Kind) *labops.Lab {
	h.T.Helper()
	l, err := labops.Open(context.Background(), h.Target(kind))
	if err != nil {
		h.T.Fatalf("open on %s: %v", kind, err)
	}
	l.Clock, l.CDK = h.Lab, h.CDK
	return l
}
