package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// writeCounter counts the writes on the connections it dials.
type writeCounter struct {
	net.Conn
	writes *atomic.Int64
}

func (c writeCounter) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestOneWriteRequests sends GetItems with the real SDK client and counts the writes on the
// connection: through oneWriteRequests each request goes out in one write; the transport
// alone needs two (headers, then the SDK's body).
func TestOneWriteRequests(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer ts.Close()
	for _, tt := range []struct {
		name     string
		oneWrite bool
		want     int64
	}{
		{"oneWriteRequests", true, 1},
		{"transport alone", false, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var writes atomic.Int64
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				return writeCounter{c, &writes}, err
			}}
			defer tr.CloseIdleConnections()
			var hc aws.HTTPClient = &http.Client{Transport: tr}
			if tt.oneWrite {
				hc = oneWriteRequests{hc}
			}
			c := dynamodb.New(dynamodb.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(ts.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
				HTTPClient:   hc,
			})
			const calls = 10
			for range calls {
				_, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
					TableName: aws.String("T"),
					Key:       map[string]types.AttributeValue{"K": &types.AttributeValueMemberS{Value: "v"}},
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := writes.Load(); got != calls*tt.want {
				t.Errorf("%d writes for %d GetItems, want %d each", got, calls, tt.want)
			}
		})
	}
}
