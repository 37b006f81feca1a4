package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/singleflight"
)

// Bounds of the credentials refresh.
const (
	credentialsRefreshTimeout = 5 * time.Second  // one read of the credentials source
	credentialsMinBackoff     = time.Second      // first wait after a failed refresh, doubling…
	credentialsMaxBackoff     = 30 * time.Second // …up to this
	credentialsMinKickGap     = time.Second      // an auth error refreshes at most this often
)

// refreshingCredentials keeps the credentials of a source (the SDK's cached provider chain:
// instance role, environment, shared files) fresh in the background, so that a role swapped
// on the instance is used within seconds instead of when the old role's credentials expire
// (up to hours later), and so that no request ever waits on the metadata service while the
// credentials in hand are still valid.
//
// The SDK's aws.CredentialsCache re-reads its source only inside a caller's Retrieve once the
// credentials have expired (ExpiryWindow just moves that moment earlier), so the caller pays
// for the read and, when the metadata service hangs, waits for it. Here a goroutine refreshes
// every interval; a failed refresh keeps the last credentials, is remembered and retried with
// a doubling backoff; and RefreshSoon (called on AccessDenied and friends) refreshes at once.
// Requests wait only when there are no valid credentials at all.
type refreshingCredentials struct {
	inner    aws.CredentialsProvider
	interval time.Duration
	logger   *slog.Logger
	now      func() time.Time

	minBackoff, maxBackoff time.Duration // after failed refreshes: first wait, doubling to the max
	minKickGap             time.Duration // RefreshSoon refreshes at most this often

	kick chan struct{}
	sf   singleflight.Group

	mu       sync.Mutex
	cur      aws.Credentials
	lastErr  error     // the last refresh's error, nil after a success
	retryAt  time.Time // when a failed refresh may be tried again
	backoff  time.Duration
	failures int
}

func newRefreshingCredentials(inner aws.CredentialsProvider, interval time.Duration, logger *slog.Logger) *refreshingCredentials {
	return &refreshingCredentials{
		inner: inner, interval: interval, logger: logger, now: time.Now,
		minBackoff: credentialsMinBackoff, maxBackoff: credentialsMaxBackoff, minKickGap: credentialsMinKickGap,
		kick: make(chan struct{}, 1),
	}
}

// Retrieve returns the current credentials at once while they are valid. Without valid ones
// it waits for a refresh (within ctx), unless one failed within its backoff: then it returns
// that failure without asking the source again.
func (c *refreshingCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c.mu.Lock()
	cur, lastErr, retryAt := c.cur, c.lastErr, c.retryAt
	c.mu.Unlock()
	if cur.HasKeys() && !cur.Expired() {
		return cur, nil
	}
	if lastErr != nil && c.now().Before(retryAt) {
		return aws.Credentials{}, lastErr
	}
	select {
	case r := <-c.refresh():
		if r.Err != nil {
			return aws.Credentials{}, r.Err
		}
		return r.Val.(aws.Credentials), nil
	case <-ctx.Done():
		return aws.Credentials{}, ctx.Err()
	}
}

// RefreshSoon asks the background loop for a refresh now (at most one per minKickGap, and
// not while backing off after a failed refresh), e.g. because AWS answered AccessDenied: the
// role may have been swapped.
func (c *refreshingCredentials) RefreshSoon() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// run refreshes every interval until ctx ends, sooner when kicked, later after failures.
func (c *refreshingCredentials) run(ctx context.Context) {
	var lastKick time.Time
	for {
		r := <-c.refresh()
		wait := c.interval
		if r.Err != nil {
			c.mu.Lock()
			wait = c.backoff
			c.mu.Unlock()
		}
		timer := time.NewTimer(wait)
	waiting:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
				break waiting
			case <-c.kick:
				// After a failure the backoff rules: an AccessDenied answer says nothing
				// about whether the credentials source is back.
				if r.Err == nil && c.now().Sub(lastKick) >= c.minKickGap {
					lastKick = c.now()
					timer.Stop()
					break waiting
				}
			}
		}
	}
}

// refresh reads the source once, however many callers ask at the same time.
func (c *refreshingCredentials) refresh() <-chan singleflight.Result {
	return c.sf.DoChan("", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), credentialsRefreshTimeout)
		defer cancel()
		if inv, ok := c.inner.(interface{ Invalidate() }); ok {
			inv.Invalidate()
		}
		creds, err := c.inner.Retrieve(ctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.failures++
			c.backoff = min(max(2*c.backoff, c.minBackoff), c.maxBackoff)
			c.lastErr, c.retryAt = err, c.now().Add(c.backoff)
			valid := c.cur.HasKeys() && !c.cur.Expired()
			c.logger.Warn("credentials refresh failed", "error", err.Error(), "failures", c.failures,
				"retry_in", c.backoff.String(), "using_previous", valid)
			return aws.Credentials{}, err
		}
		if c.failures > 0 {
			c.logger.Info("credentials refresh recovered", "failures", c.failures)
		}
		if c.cur.HasKeys() && c.cur.AccessKeyID != creds.AccessKeyID {
			// Only the fact is logged; keys never are.
			c.logger.Info("credentials changed", "source", creds.Source)
		}
		c.cur, c.lastErr, c.backoff, c.failures = creds, nil, 0, 0
		return creds, nil
	})
}

// credentialErrorCodes are the AWS error codes that mean the credentials in use are not (or no
// longer) the right ones: worth reading them again at once.
var credentialErrorCodes = map[string]bool{
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"UnrecognizedClient":          true,
	"UnrecognizedClientException": true,
	"InvalidClientTokenId":        true,
}

// isCredentialError reports whether err is an AWS answer naming a credentials problem.
func isCredentialError(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && credentialErrorCodes[apiErr.ErrorCode()]
}

// refreshOnCredentialError is an SDK middleware for every client: an operation that ends in a
// credentials error asks creds for a refresh.
func refreshOnCredentialError(creds *refreshingCredentials) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("RefreshOnCredentialError",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil && isCredentialError(err) {
					creds.RefreshSoon()
				}
				return out, md, err
			}), middleware.Before)
	}
}
