package ddbauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// ServiceUnavailableType and ServiceUnavailableMessage are what DynamoDB answers, with HTTP
// 503, while it cannot serve a request: "ServiceUnavailable: The service is currently
// unavailable or busy", a 5xx error that is OK to retry
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
// The Go SDK reads the code after the '#' and retries a 503 like any 500, 502, 503 or 504
// (aws/retry.DefaultRetryableHTTPStatusCodes).
const (
	ServiceUnavailableType    = "com.amazonaws.dynamodb.v20120810#ServiceUnavailable"
	ServiceUnavailableMessage = "The service is currently unavailable or busy."
)

// backendKey carries, in a request's context, the backend ServeHTTP chose for it, so that a
// backend swapped meanwhile never splits one request between two servers.
type backendKey struct{}

// SetTarget points the proxy at another DynamoDB API server, e.g. a restarted dynalite on
// its new port. An empty target means there is none for now: every request that would be
// forwarded gets DynamoDB's 503 ServiceUnavailable until a target is set again.
func (p *Proxy) SetTarget(target string) error {
	if target == "" {
		p.backend.Store(nil)
		return nil
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("ddbauth: bad target %q", target)
	}
	p.backend.Store(u)
	return nil
}

// Unavailable is the number of requests answered 503 ServiceUnavailable: no backend, or
// one that did not answer.
func (p *Proxy) Unavailable() int64 { return p.unavailable.Load() }

// send passes a checked request to the backend, or answers 503 when there is none.
func (p *Proxy) send(w http.ResponseWriter, r *http.Request) {
	u := p.backend.Load()
	if u == nil {
		p.writeServiceUnavailable(w)
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, u)))
}

// backendFailed answers a request the backend did not answer (it died, or its port is
// closed while it restarts) as DynamoDB answers when it cannot serve one, instead of the
// reverse proxy's bare 502 and its "http: proxy error" log line. A client that went away
// gets nothing.
func (p *Proxy) backendFailed(w http.ResponseWriter, r *http.Request, _ error) {
	if r.Context().Err() != nil {
		return
	}
	p.writeServiceUnavailable(w)
}

func (p *Proxy) writeServiceUnavailable(w http.ResponseWriter) {
	p.unavailable.Add(1)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", requestID())
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"__type":  ServiceUnavailableType,
		"message": ServiceUnavailableMessage,
	})
}
