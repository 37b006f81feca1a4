// Package target decides what labctl acts on, a HealthCheckLab stack on AWS or the local
// lab, and loads the AWS SDK configuration for it. labctl never calls AWS unless the user
// chose the aws target by flag or LABCTL_TARGET.
package target

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
)

// Kind names a target.
type Kind string

// The two targets.
const (
	AWS   Kind = "aws"
	Local Kind = "local"
)

// EnvVar chooses the target when --target is not given.
const EnvVar = "LABCTL_TARGET"

// Where is what the verbs act on (the --target choice: a stack on AWS or the local lab),
// with the SDK configuration that reaches it. It is not an ALB target.
type Where struct {
	Kind   Kind
	Stack  string            // CloudFormation stack name
	Config aws.Config        // standard configuration (aws) or the lab's endpoint and keys (local)
	Lab    *labclient.Client // the local lab's control API; nil on AWS
}

// Options are the command line's and the environment's choices.
type Options struct {
	Flag  string // --target: "", "aws" or "local"
	Env   string // LABCTL_TARGET
	Stack string // --stack
	// StackGiven says --stack was on the command line; otherwise the local target takes the
	// stack name the local lab wrote into its state file (it follows `local up --lab-id`).
	StackGiven bool
	StatePath  string // the local lab's state file
}

// ErrNoTarget is returned when no target was chosen and no local lab runs.
var ErrNoTarget = errors.New("no lab running here and no target chosen: start one with `labctl local up`, " +
	"or drive a deployed stack with `--target aws` (or " + EnvVar + "=aws)")

// Resolve picks the target: the flag, else LABCTL_TARGET, else the local lab when one runs.
// It never falls back to AWS.
func Resolve(ctx context.Context, o Options) (*Where, error) {
	if strings.TrimSpace(o.Stack) == "" {
		// DescribeStacks without a name lists every stack: the verbs would act on whichever came first.
		return nil, fmt.Errorf("--stack needs a stack name (the lab's is %s)", lab.ServiceStackName)
	}
	choice := o.Flag
	if choice == "" {
		choice = o.Env
	}
	switch Kind(choice) {
	case AWS:
		// The SDK's own log lines (an IMDS fallback warning, say) would break the one-line
		// errors; what matters reaches the user through the returned errors.
		cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.Nop{}))
		if err != nil {
			var noProfile config.SharedConfigProfileNotExistError
			if errors.As(err, &noProfile) {
				return nil, fmt.Errorf("AWS profile %q not found: check AWS_PROFILE (`aws configure list-profiles` lists the profiles)", noProfile.Profile)
			}
			return nil, fmt.Errorf("AWS configuration: %v", err)
		}
		if cfg.Region == "" {
			return nil, errors.New("no AWS region configured: set AWS_REGION, or a region in your profile (`aws configure`)")
		}
		// Credentials are looked up before any call, so that their absence reads as such.
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return nil, credentialsError(err)
		}
		return &Where{Kind: AWS, Stack: o.Stack, Config: cfg}, nil
	case Local:
		return local(ctx, o)
	case "":
		t, err := local(ctx, o)
		if errors.Is(err, labclient.ErrNoLab) {
			return nil, ErrNoTarget
		}
		return t, err
	default:
		return nil, fmt.Errorf("unknown target %q: use --target aws or --target local", choice)
	}
}

// credentialsError says why the standard credential chain found nothing usable.
func credentialsError(err error) error {
	const todo = "run `aws configure` (or `aws sso login`), or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	if strings.Contains(err.Error(), "no EC2 IMDS role found") {
		// The chain ran out: no variables, no profile keys, not on an instance with a role.
		return errors.New("no AWS credentials found: " + todo)
	}
	return fmt.Errorf("cannot get AWS credentials (%s): %s", strings.Join(strings.Fields(err.Error()), " "), todo)
}

// local reaches the running local lab through its AWS endpoint, with the lab's own user key
// pair and region from the state file, and nothing from the user's AWS configuration (no
// profile, no endpoint variables: the state file decides).
func local(ctx context.Context, o Options) (*Where, error) {
	c, err := labclient.Dial(ctx, o.StatePath)
	if err != nil {
		return nil, err
	}
	st := c.State
	if st.Endpoint == "" || st.AccessKeyID == "" {
		return nil, fmt.Errorf("the local lab (pid %d) has no AWS endpoint in %s: restart it with this labctl", st.PID, o.StatePath)
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(st.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(st.AccessKeyID, st.SecretAccessKey, "")),
		config.WithBaseEndpoint(st.Endpoint),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		return nil, fmt.Errorf("SDK configuration for the local lab: %v", err)
	}
	// Per-service endpoints from the environment or a profile would otherwise win over
	// BaseEndpoint; the lab's one endpoint serves every service.
	cfg.ConfigSources = nil
	stack := o.Stack
	if !o.StackGiven && st.Stack != "" {
		stack = st.Stack
	}
	return &Where{Kind: Local, Stack: stack, Config: cfg, Lab: c}, nil
}
