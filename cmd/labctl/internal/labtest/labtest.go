// Package labtest opens the in-process lab (package labsim) as labctl's verbs and tour do:
// the target resolved from the state file or from the SDK's standard configuration, and the
// stack opened with the lab's fake clock and its stand-in for the CDK CLI. The lab itself is
// server code and lives outside cmd/labctl.
package labtest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labsim"
)

// Lab is a running in-process lab (labsim.Lab) that labctl's verbs and tour can open.
type Lab struct{ *labsim.Lab }

// labsim.Lab is a clock.Clock, which labops.Clock and tour.Clock name; its CDK stands in
// for the CDK CLI in deploys.
var _ labops.Runner = (*labsim.Lab)(nil).CDK

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
// file, whose control API it dials, and the stack the state file names; aws with the lab's
// endpoint, region and user key pair, and the copy's stack named as a user names it with
// --stack.
//
// The aws configuration is built here, not read from the environment, so that tests on
// separate labs run side by side (t.Setenv would forbid t.Parallel). How labctl reads the
// SDK's standard configuration is tested by package target and by cmd/labctl's real-lab
// runs of --target aws in the environment of `labctl local env`.
func (h *Lab) Target(kind target.Kind) *target.Where {
	h.T.Helper()
	if kind == target.AWS {
		user := h.User()
		return &target.Where{Kind: target.AWS, Stack: h.Names.ServiceStack(), Config: aws.Config{
			Region:       region.Name,
			Credentials:  credentials.NewStaticCredentialsProvider(user.AccessKeyID, user.SecretAccessKey, ""),
			BaseEndpoint: aws.String(h.Endpoint),
		}}
	}
	tg, err := target.Resolve(context.Background(), target.Options{Flag: string(kind), Stack: lab.ServiceStackName, StatePath: h.StatePath})
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
