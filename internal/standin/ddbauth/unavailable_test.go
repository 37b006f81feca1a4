package ddbauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/dynalite"
)

// TestBackendGone: while the DynamoDB API server behind the proxy is gone (its port closed,
// a connection cut before it answered, or no backend set while it restarts), a request gets
// DynamoDB's 503 ServiceUnavailable, which the Go SDK understands and retries, and never the
// reverse proxy's bare 502 or its "http: proxy error" log line. With the backend set again,
// requests go through.
func TestBackendGone(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	// cut reads the request and hangs up without an answer, as a server killed mid-request does.
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer cut.Close()

	for _, tc := range []struct {
		name   string
		target string
	}{
		{"port closed", closedURL},
		{"connection cut", cut.URL},
		{"no backend", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(ddbURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			p.rp.ErrorLog = log.New(&logged, "", 0)
			if err := p.SetTarget(tc.target); err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(p)
			defer ts.Close()

			c := dynamodb.New(dynalite.NewClient(ts.URL, "eu-west-1", lab.RoleName("WebApp1")).Options(), func(o *dynamodb.Options) {
				o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = time.Millisecond })
			})
			err = getItem(context.Background(), c, dynalite.DefaultTableName)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ServiceUnavailable" || apiErr.ErrorMessage() != ServiceUnavailableMessage {
				t.Fatalf("GetItem: %v, want ServiceUnavailable", err)
			}
			var respErr *smithyhttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusServiceUnavailable {
				t.Errorf("GetItem: %v, want HTTP 503", err)
			}
			if got := p.Requests(); got != 3 {
				t.Errorf("the SDK sent %d requests, want 3: it retries a 503 (its default attempts)", got)
			}
			if got := p.Unavailable(); got != 3 {
				t.Errorf("Unavailable() = %d, want 3", got)
			}
			if logged.Len() > 0 {
				t.Errorf("the proxy logged %q", logged.String())
			}

			// The raw answer is DynamoDB's JSON error.
			resp, err := http.Post(ts.URL, "application/x-amz-json-1.0", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusServiceUnavailable ||
				body["__type"] != ServiceUnavailableType || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
				t.Errorf("raw answer %s %v %v", resp.Status, body, err)
			}

			// The backend back (a restarted dynalite): requests go through again.
			if err := p.SetTarget(ddbURL); err != nil {
				t.Fatal(err)
			}
			if err := getItem(context.Background(), c, dynalite.DefaultTableName); err != nil {
				t.Errorf("GetItem with the backend back: %v", err)
			}
		})
	}
	p, _ := New(ddbURL, nil)
	if err := p.SetTarget("not a url"); err == nil {
		t.Error("SetTarget accepted a bad URL")
	}
}
