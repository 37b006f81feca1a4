package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"healthchecklab/internal/lab"
)

// iamPrefix maps the SDK's service ids to the IAM action prefixes a policy names.
var iamPrefix = map[string]string{
	"CloudFormation":            "cloudformation",
	"EC2":                       "ec2",
	"Elastic Load Balancing v2": "elasticloadbalancing",
	"Auto Scaling":              "autoscaling",
	"SSM":                       "ssm",
}

// Action is the IAM action of an SDK operation error ("ec2:DescribeInstances"), or "".
func Action(err error) string {
	var op *smithy.OperationError
	if !errors.As(err, &op) {
		return ""
	}
	p, ok := iamPrefix[op.ServiceID]
	if !ok {
		p = strings.ToLower(strings.ReplaceAll(op.ServiceID, " ", ""))
	}
	return p + ":" + op.OperationName
}

var principalRE = regexp.MustCompile(`(?:User|principal): (arn:\S+)`)

// Explain turns an AWS SDK error into one line with the AWS error code and what to do.
// Errors that are not the SDK's pass through unchanged.
func (t *Where) Explain(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	where := "the local lab"
	if t.Kind == AWS {
		where = "region " + t.Config.Region
	}
	action := Action(err)
	var (
		signing *v4.SigningError
		api     smithy.APIError
		dns     *net.DNSError
		netErr  *net.OpError
	)
	if status, url, ok := notAWSAnswer(err); ok {
		if t.Kind == Local {
			return fmt.Errorf("%s: the local lab's endpoint answered HTTP %d without an AWS error: "+
				"is the lab that wrote the state file still running (`labctl local up`)?", action, status)
		}
		return fmt.Errorf("%s: %s answered HTTP %d without an AWS error: is AWS_ENDPOINT_URL an AWS endpoint? "+
			"(`labctl local env` prints the local lab's; unset it for AWS)", action, url, status)
	}
	switch {
	case errors.As(err, &signing):
		if t.Kind == AWS {
			return errors.New("no AWS credentials found: run `aws configure` (or `aws sso login`), " +
				"or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
		return fmt.Errorf("signing for the local lab failed: %v", signing.Err)
	case errors.As(err, &api):
		code, msg := api.ErrorCode(), oneLine(api.ErrorMessage())
		switch code {
		case "ValidationError":
			if strings.Contains(msg, "does not exist") && strings.HasPrefix(action, "cloudformation:") {
				if t.Kind == Local {
					return stackNotFound(fmt.Sprintf("stack %s not found in the local lab (ValidationError): check --stack (the lab's stack is %s)",
						t.Stack, lab.ServiceStackName))
				}
				return stackNotFound(fmt.Sprintf("stack %s not found in %s (ValidationError): deploy it (`npx cdk deploy --all`), "+
					"or name its region (AWS_REGION) or its name (--stack)", t.Stack, where))
			}
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden":
			who := "your identity"
			if m := principalRE.FindStringSubmatch(msg); m != nil {
				who = strings.TrimRight(m[1], ".,")
			}
			return fmt.Errorf("%s may not call %s (%s): allow that action in its IAM policy, or use a profile that may",
				who, action, code)
		case "InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure":
			return fmt.Errorf("the access key is not valid in %s (%s): check AWS_ACCESS_KEY_ID or the profile's keys, "+
				"and that the region is enabled for the account", where, code)
		case "SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignatureException":
			if strings.Contains(msg, "scoped to a valid region") {
				return fmt.Errorf("the endpoint refused requests signed for region %s (%s): set AWS_REGION to the endpoint's region "+
					"(`labctl local env` sets local-1 for the local lab)", t.Config.Region, code)
			}
			return fmt.Errorf("the request signature was refused (%s): the secret key does not belong to the access key; "+
				"check AWS_SECRET_ACCESS_KEY or the profile", code)
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
			return fmt.Errorf("the AWS credentials have expired (%s): renew them (`aws sso login`, or new session keys)", code)
		case "Throttling", "ThrottlingException", "RequestLimitExceeded":
			return fmt.Errorf("%s is throttled (%s) even after retries: wait a minute and try again", action, code)
		}
		return fmt.Errorf("%s: %s (%s)", action, msg, code)
	case errors.As(err, &dns):
		if t.Kind == Local {
			return fmt.Errorf("cannot resolve %s, the local lab's endpoint (%s): is the state file's lab still running (`labctl local up`)?", dns.Name, action)
		}
		if KnownRegion(t.Config.Region) || dns.IsTimeout || dns.IsTemporary {
			// The endpoint exists; this machine cannot look it up: offline, or DNS broken.
			return fmt.Errorf("cannot reach the AWS endpoint %s for %s: its name does not resolve (%s), so this machine "+
				"looks offline or its DNS is failing: check the network or a proxy, or drive the local lab instead with "+
				"--target local (`labctl local up`)", dns.Name, action, dns.Err)
		}
		return fmt.Errorf("cannot resolve %s: %q is not an AWS region labctl knows (eu-west-1, us-east-1, …): "+
			"check AWS_REGION or the profile's region", dns.Name, t.Config.Region)
	case errors.As(err, &netErr):
		if t.Kind == Local {
			return fmt.Errorf("the local lab's endpoint does not answer %s (%v): is the lab still running (`labctl local up`)?", action, netErr.Err)
		}
		return fmt.Errorf("cannot reach the AWS endpoint for %s in %s (%v): check the network, a proxy, or AWS_ENDPOINT_URL, "+
			"or drive the local lab instead with --target local", action, where, netErr.Err)
	}
	return err
}

// notAWSAnswer reports an answer that carries no AWS error (a web page, a proxy's refusal):
// its HTTP status and the endpoint that gave it.
func notAWSAnswer(err error) (status int, endpoint string, ok bool) {
	var (
		resp  *smithyhttp.ResponseError
		api   smithy.APIError
		deser *smithy.DeserializationError
	)
	if !errors.As(err, &resp) || resp.Response == nil || resp.Response.Response == nil {
		return 0, "", false
	}
	if !(errors.As(err, &api) && api.ErrorCode() == "UnknownError") && !errors.As(err, &deser) {
		return 0, "", false
	}
	endpoint = "the endpoint"
	if req := resp.Response.Request; req != nil && req.URL != nil {
		endpoint = req.URL.Scheme + "://" + req.URL.Host
	}
	return resp.HTTPStatusCode(), endpoint, true
}

// ErrStackNotFound marks the explanation of a stack that does not exist (errors.Is).
var ErrStackNotFound = errors.New("stack not found")

// stackNotFound is an explanation that is ErrStackNotFound.
type stackNotFound string

func (e stackNotFound) Error() string        { return string(e) }
func (e stackNotFound) Is(target error) bool { return target == ErrStackNotFound }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
