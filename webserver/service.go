package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/singleflight"

	"healthchecklab/internal/lab"
)

// Recommendation is one answer of the RecommendationService.
type Recommendation struct {
	UserID   int
	UserName string
	Show     string
}

// getItemAPI is the part of the DynamoDB client the server uses.
type getItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// service calls the RecommendationService: the parameter decides the table, then GetItem.
type service struct {
	table     string
	timeout   time.Duration
	params    *paramCache
	ddb       getItemAPI // for visitors' requests
	healthDDB getItemAPI // for the deep health check, on its own connection pool
}

// Recommend asks the service for userID's recommendation, within the dependency timeout.
func (s *service) Recommend(ctx context.Context, userID int) (Recommendation, error) {
	return s.recommend(ctx, s.ddb, userID)
}

// probe is the deep health check: the probe row must read test/test.
func (s *service) probe(ctx context.Context) error {
	r, err := s.recommend(ctx, s.healthDDB, lab.ProbeUserID)
	if err != nil {
		return err
	}
	if r.Show != lab.ProbeValue || r.UserName != lab.ProbeValue {
		return &depError{Kind: "UnexpectedProbeResult", Message: fmt.Sprintf("probe user %d reads %q/%q, want %q/%q", lab.ProbeUserID, r.UserName, r.Show, lab.ProbeValue, lab.ProbeValue)}
	}
	return nil
}

// recommend runs detached from the caller's cancellation, within the dependency timeout: net/http
// cancels a request whose client half-closes its connection, and such a client still waits
// for its answer. A client that is really gone costs at most one bounded call.
func (s *service) recommend(ctx context.Context, c getItemAPI, userID int) (Recommendation, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	enabled, stale, err := s.params.Value(ctx)
	if err != nil {
		return Recommendation{}, describe("GetParameter", s.timeout, err)
	}
	if stale {
		if ri := requestInfoFrom(ctx); ri != nil {
			ri.parameterStale = true
		}
	}
	table := s.table
	if enabled != "true" {
		// The lab's simulated outage: ask a table that does not exist, so the call fails for real.
		table = lab.DecoyTableName
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: strconv.Itoa(userID)},
		},
	})
	if err != nil {
		return Recommendation{}, describe("GetItem "+table, s.timeout, err)
	}
	name, okName := out.Item[lab.UserNameAttribute].(*types.AttributeValueMemberS)
	show, okShow := out.Item[lab.ResultAttribute].(*types.AttributeValueMemberS)
	if !okName || !okShow {
		return Recommendation{}, &depError{Kind: "ItemNotFound", Message: fmt.Sprintf("no recommendation for user %d in table %s", userID, table)}
	}
	return Recommendation{UserID: userID, UserName: name.Value, Show: show.Value}, nil
}

// depError is a failed dependency call as the page and the logs show it: the error's kind
// (the AWS error code, or Timeout) and its message.
type depError struct {
	Kind    string
	Message string
	Err     error
}

func (e *depError) Error() string { return e.Kind + ": " + e.Message }
func (e *depError) Unwrap() error { return e.Err }

// describe turns an SDK error into a depError naming what failed and why.
func describe(op string, timeout time.Duration, err error) *depError {
	var de *depError
	if errors.As(err, &de) {
		return de
	}
	var apiErr smithy.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &depError{Kind: "Timeout", Message: fmt.Sprintf("%s: no answer within %s", op, timeout), Err: err}
	case errors.Is(err, context.Canceled):
		return &depError{Kind: "Canceled", Message: op + ": request canceled", Err: err}
	case errors.As(err, &apiErr):
		return &depError{Kind: apiErr.ErrorCode(), Message: op + ": " + apiErr.ErrorMessage(), Err: err}
	default:
		return &depError{Kind: "Error", Message: err.Error(), Err: err}
	}
}

// errorKind is the kind of a dependency error, for logs and metrics.
func errorKind(err error) string {
	var de *depError
	if errors.As(err, &de) {
		return de.Kind
	}
	return "Error"
}

// healthResult is one deep health-check outcome.
type healthResult struct {
	Err error
	At  time.Time
}

// healthChecker runs the deep check for many concurrent /healthcheck requests at once: they
// share one dependency call (single flight), and a result is reused for at most ttl. The
// check runs detached from any one request and is bounded by timeout, so /healthcheck answers
// within about timeout even when the dependency hangs, and a caller that goes away (or
// half-closes its connection, which net/http reports as a cancellation) neither cancels the
// check for the others nor turns into a failed result.
type healthChecker struct {
	check   func(context.Context) error
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	sf   singleflight.Group
	mu   sync.Mutex
	last *healthResult
}

func newHealthChecker(check func(context.Context) error, ttl, timeout time.Duration) *healthChecker {
	return &healthChecker{check: check, ttl: ttl, timeout: timeout, now: time.Now}
}

// Check returns a result at most ttl old, running the check if needed. It waits for the
// shared check even when ctx is canceled: the wait is bounded by timeout.
func (h *healthChecker) Check(ctx context.Context) healthResult {
	h.mu.Lock()
	if h.last != nil && h.now().Sub(h.last.At) < h.ttl {
		r := *h.last
		h.mu.Unlock()
		return r
	}
	h.mu.Unlock()
	ch := h.sf.DoChan("", func() (any, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
		defer cancel()
		err := h.check(cctx)
		r := &healthResult{Err: err, At: h.now()}
		h.mu.Lock()
		h.last = r
		h.mu.Unlock()
		return r, nil
	})
	r := <-ch
	return *r.Val.(*healthResult)
}
