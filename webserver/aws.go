package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Metadata is what the page shows about the serving instance, read once at start-up.
type Metadata struct {
	AccountID        string `json:"account_id"`
	AMIID            string `json:"ami_id"`
	AvailabilityZone string `json:"availability_zone"`
	InstanceID       string `json:"instance_id"`
	InstanceType     string `json:"instance_type"`
	PrivateHostname  string `json:"private_hostname"`
	PrivateIPv4      string `json:"private_ipv4"`
	// OutsideAWS is true when no instance metadata could be read ("Running outside AWS").
	OutsideAWS bool   `json:"running_outside_aws"`
	Region     string `json:"-"`
}

// connect loads the SDK's standard configuration and builds the server's dependencies.
func connect(ctx context.Context, o options, getenv func(string) string, logger *slog.Logger) (deps, error) {
	var loadOpts []func(*config.LoadOptions) error
	if o.region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return deps{}, fmt.Errorf("load AWS configuration: %w", err)
	}

	md := readMetadata(ctx, cfg, o.metadataTimeout, getenv, logger)
	if cfg.Region == "" {
		cfg.Region = md.Region
	}
	if cfg.Region == "" {
		logger.Warn("no region: set -region or AWS_REGION")
	}
	if cfg.Credentials != nil {
		creds := newRefreshingCredentials(cfg.Credentials, o.credentialsMaxAge, logger)
		go creds.run(ctx)
		cfg.Credentials = creds
		cfg.APIOptions = append(cfg.APIOptions, refreshOnCredentialError(creds))
	}

	// Visitors' GetItems on a pool of -max-in-flight connections; the deep health check on a
	// small pool of its own: reserved capacity that traffic on / cannot exhaust.
	ddb := newDynamoDBClient(cfg, o.maxInFlight)
	healthDDB := newDynamoDBClient(cfg, 2)
	ssmClient := ssm.NewFromConfig(cfg, func(opt *ssm.Options) { opt.Retryer = newRetryer() })

	params := newParamCache(func(ctx context.Context) (string, error) {
		out, err := ssmClient.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(o.parameter)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Parameter.Value), nil
	}, o.parameterTTL, parameterWait(o.dependencyTimeout), parameterRefreshTimeout, logger)

	svc := &service{
		table:     o.table,
		timeout:   o.dependencyTimeout,
		params:    params,
		ddb:       ddb,
		healthDDB: healthDDB,
	}
	return deps{
		logger:      logger,
		code:        o.serverCode,
		metadata:    md,
		region:      cfg.Region,
		service:     svc,
		health:      newHealthChecker(svc.probe, o.healthTTL, o.dependencyTimeout),
		maxInFlight: o.maxInFlight,
	}, nil
}

// newRetryer is the server's retry policy: bounded retries without the client-side retry
// quota. Every call already has a deadline, and a quota error would hide the dependency's real
// error from the diagnostic.
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 2
		so.MaxBackoff = 100 * time.Millisecond
		so.RateLimiter = ratelimit.None
	})
}

// newDynamoDBClient is a DynamoDB client with the server's retry policy and a connection pool
// keeping idle connections for inFlight concurrent calls: under load each call reuses one
// (the SDK's default pool keeps 10 and would open new ones).
func newDynamoDBClient(cfg aws.Config, inFlight int) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(opt *dynamodb.Options) {
		opt.Retryer = newRetryer()
		opt.HTTPClient = oneWriteRequests{awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConns = inFlight
			tr.MaxIdleConnsPerHost = inFlight
		})}
	})
}

// maxOneWriteBody bounds the request bodies oneWriteRequests reads into memory.
const maxOneWriteBody = 64 << 10

// oneWriteRequests hands the transport small request bodies as in-memory readers. The SDK
// wraps its body in a reader net/http does not recognize, so the transport flushes the
// headers in one write and the body in another; with a known in-memory body it sends the
// whole request (a GetItem is a few hundred bytes) in one write: one system call less per call,
// and one TCP segment less for DynamoDB to read.
type oneWriteRequests struct{ next aws.HTTPClient }

func (c oneWriteRequests) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength > 0 && req.ContentLength <= maxOneWriteBody {
		body := make([]byte, req.ContentLength)
		_, err := io.ReadFull(req.Body, body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.next.Do(req)
}

// readMetadata reads the instance metadata through IMDSv2, once, within timeout. Outside AWS
// (or with AWS_EC2_METADATA_DISABLED=true) it returns Metadata{OutsideAWS: true}.
func readMetadata(ctx context.Context, cfg aws.Config, timeout time.Duration, getenv func(string) string, logger *slog.Logger) Metadata {
	if strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return Metadata{OutsideAWS: true}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := imds.NewFromConfig(cfg, func(o *imds.Options) {
		o.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(), 2)
	})
	doc, err := c.GetInstanceIdentityDocument(ctx, nil)
	if err != nil {
		logger.Warn("no instance metadata: running outside AWS", "error", err.Error())
		return Metadata{OutsideAWS: true}
	}
	md := Metadata{
		AccountID:        doc.AccountID,
		AMIID:            doc.ImageID,
		AvailabilityZone: doc.AvailabilityZone,
		InstanceID:       doc.InstanceID,
		InstanceType:     doc.InstanceType,
		PrivateIPv4:      doc.PrivateIP,
		Region:           doc.Region,
	}
	if out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "local-hostname"}); err == nil {
		b, _ := io.ReadAll(io.LimitReader(out.Content, 1024))
		out.Content.Close()
		md.PrivateHostname = strings.TrimSpace(string(b))
	}
	return md
}
