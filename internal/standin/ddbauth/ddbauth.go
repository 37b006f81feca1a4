// Package ddbauth is a small authorizing reverse proxy in front of a DynamoDB API server
// (dynalite, which checks no permissions). It reads the access key from each request's SigV4
// Authorization header, maps it to the role it was issued for (standin.RoleOf) and, when that
// role may not use DynamoDB, answers with DynamoDB's own AccessDeniedException, as AWS does
// for the lab's noDDB instance role. A request DynamoDB would refuse for its shape (package
// ddbcheck: too deeply nested, too large, not JSON) is answered with DynamoDB's error and never
// reaches the server, which may not survive it. Everything else is proxied unchanged. It also counts
// calls per operation, so tests can see how many DynamoDB calls a server really made, and can
// be told to hang, to simulate an unresponsive DynamoDB.
package ddbauth

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"healthchecklab/internal/standin"
	"healthchecklab/internal/standin/ddbcheck"
)

// maxBody bounds the request bodies the proxy reads to find the table name.
const maxBody = 1 << 20

// DenyRoles returns a rule that denies exactly the given roles, e.g.
// DenyRoles(lab.NoDDBRoleName(prefix)).
func DenyRoles(roles ...string) func(role string) bool {
	set := make(map[string]bool, len(roles))
	for _, r := range roles {
		set[r] = true
	}
	return func(role string) bool { return set[role] }
}

// Proxy is an http.Handler forwarding to the DynamoDB API server at its target.
type Proxy struct {
	target       *url.URL
	rp           *httputil.ReverseProxy
	targetHeader http.Header // added to every forwarded request; set before serving

	mu   sync.RWMutex
	deny func(role string) bool
	hang chan struct{} // non-nil while hanging; closed to release the waiting requests

	requests atomic.Int64
	denied   atomic.Int64
	refused  atomic.Int64
	opsMu    sync.Mutex
	ops      map[string]int64
}

// New returns a proxy to the DynamoDB API at target (e.g. dynalite's URL). deny decides which
// roles get AccessDeniedException; nil denies nobody. A request whose key names no stand-in
// role is checked as role "".
func New(target string, deny func(role string) bool) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("ddbauth: bad target %q", target)
	}
	p := &Proxy{target: u, deny: deny, ops: map[string]int64{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = u.Host
			for k, v := range p.targetHeader {
				pr.Out.Header[k] = v
			}
		},
		Transport: newTransport(),
	}
	return p, nil
}

// maxIdleConns is how many idle connections to the target the proxy keeps: more than the
// concurrency its clients bring (a web server allows 64 requests in flight), so that a busy
// client's requests reuse connections instead of opening one each (Go's default keeps 2).
const maxIdleConns = 256

// newTransport is the proxy's connection pool to its target.
func newTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = maxIdleConns
	tr.MaxIdleConnsPerHost = maxIdleConns
	return tr
}

// SetTargetHeader adds a header to every request the proxy forwards, e.g. the token a
// dynalite started with dynalite.Options.Token requires. Call it before the proxy serves.
func (p *Proxy) SetTargetHeader(name, value string) {
	if p.targetHeader == nil {
		p.targetHeader = http.Header{}
	}
	p.targetHeader.Set(name, value)
}

// SetDeny replaces the deny rule (nil denies nobody).
func (p *Proxy) SetDeny(deny func(role string) bool) {
	p.mu.Lock()
	p.deny = deny
	p.mu.Unlock()
}

// SetHang(true) makes every request wait, unanswered, until its client gives up: DynamoDB
// hanging. SetHang(false) proxies again, including the requests still waiting.
func (p *Proxy) SetHang(hang bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case hang && p.hang == nil:
		p.hang = make(chan struct{})
	case !hang && p.hang != nil:
		close(p.hang)
		p.hang = nil
	}
}

// Requests is the number of requests received, denied and hanging ones included.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Denied is the number of requests answered with AccessDeniedException.
func (p *Proxy) Denied() int64 { return p.denied.Load() }

// Refused is the number of requests answered with DynamoDB's error for their shape
// (ddbcheck), without reaching the server.
func (p *Proxy) Refused() int64 { return p.refused.Load() }

// Calls is the number of requests received for one operation, e.g. "GetItem".
func (p *Proxy) Calls(op string) int64 {
	p.opsMu.Lock()
	defer p.opsMu.Unlock()
	return p.ops[op]
}

// ServeHTTP authorizes and forwards one DynamoDB API request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if op != "" {
		p.opsMu.Lock()
		p.ops[op]++
		p.opsMu.Unlock()
	}
	p.mu.RLock()
	deny, hang := p.deny, p.hang
	p.mu.RUnlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	// Reading the whole body also lets net/http notice a client that hangs up while we wait.
	r.Body = io.NopCloser(bytes.NewReader(body))
	if hang != nil {
		select {
		case <-r.Context().Done():
			return
		case <-hang:
		}
	}
	akid, region := credentialScope(r.Header.Get("Authorization"))
	role, _ := standin.RoleOf(akid)
	if akid == "" || deny == nil || !deny(role) {
		p.forward(w, r, body)
		return
	}
	var in struct{ TableName string }
	_ = json.Unmarshal(body, &in)
	_, session, ok := standin.SessionOf(r.Header.Get("X-Amz-Security-Token"))
	if !ok {
		session = "session"
	}
	p.denied.Add(1)
	writeAccessDenied(w, role, session, op, region, in.TableName)
}

// forward proxies an authorized request, unless DynamoDB would refuse it for its shape. The
// DynamoDB API is POST only; the server answers other methods without reading the body.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method == http.MethodPost {
		if err := ddbcheck.Check(body); err != nil {
			p.refused.Add(1)
			w.Header().Set("x-amzn-RequestId", requestID())
			err.Write(w)
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

// AccessDeniedMessage is the message DynamoDB gives an assumed role without permission.
func AccessDeniedMessage(role, session, op, region, table string) string {
	resource := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, standin.AccountID, table)
	return fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/%s/%s is not authorized to perform: dynamodb:%s on resource: %s because no identity-based policy allows the dynamodb:%s action",
		standin.AccountID, role, session, op, resource, op)
}

func writeAccessDenied(w http.ResponseWriter, role, session, op, region, table string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", requestID())
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"__type":  "com.amazon.coral.service#AccessDeniedException",
		"message": AccessDeniedMessage(role, session, op, region, table),
	})
}

// credentialScope reads the access key id and region from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, …".
func credentialScope(authorization string) (akid, region string) {
	_, after, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return "", ""
	}
	scope, _, _ := strings.Cut(after, ",")
	parts := strings.Split(scope, "/")
	if len(parts) >= 3 {
		return parts[0], parts[2]
	}
	return parts[0], "us-east-1"
}

// requestID returns a request id shaped like DynamoDB's (52 upper-case alphanumerics).
func requestID() string {
	var b [26]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
