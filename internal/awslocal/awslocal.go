// Package awslocal is the local lab's AWS endpoint: one HTTP handler on loopback that serves
// every AWS service the lab touches, dispatching as AWS does (X-Amz-Target for the JSON
// protocols, Action= and the SigV4 credential scope's service for the Query protocols), so
// that AWS_ENDPOINT_URL alone points the AWS SDKs and the AWS CLI at it. Every request must
// carry a valid SigV4 signature made with a key pair the lab issued (package sigv4 checks it),
// and instance roles may only do what their policy allows. The wire formats live in one
// package per service (ec2, elbv2, autoscaling, cloudformation); the lab's state stays with
// the lab.
package awslocal

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/awslocal/sigv4"
)

// maxBody bounds request bodies; the lab's calls are far smaller.
const maxBody = 1 << 20

// JSONService is a JSON-protocol service (SSM, DynamoDB) behind the endpoint. Its handler
// gets the request once the signature and the policy allowed it.
type JSONService struct {
	// TargetPrefix selects the service by X-Amz-Target, e.g. "AmazonSSM.".
	TargetPrefix string
	// SigningName is the service of its credential scope, e.g. "ssm".
	SigningName string
	// ContentType is its JSON version's media type, e.g. "application/x-amz-json-1.1".
	ContentType string
	// Resource returns the ARN an operation acts on, read from the request body; "*" when none.
	Resource func(op string, body []byte) string
	// DeniedType is the __type of its AccessDeniedException answer.
	DeniedType string
	Handler    http.Handler
}

// Options configure an Endpoint.
type Options struct {
	// Region is the only region requests may be signed for.
	Region string
	// Keys issued the key pairs that may sign (and know the account).
	Keys *Keys
	// Policy holds what each instance role may do.
	Policy Policy
	JSON   []*JSONService
	Query  []*query.Service
}

// Endpoint is the AWS endpoint; it is an http.Handler.
type Endpoint struct {
	o        Options
	verifier *sigv4.Verifier
}

// New returns an endpoint serving the given services with the keys and policy given.
func New(o Options) *Endpoint {
	return &Endpoint{o: o, verifier: sigv4.NewVerifier(o.Region, o.Keys.Lookup)}
}

// ServeHTTP verifies, authorizes and dispatches one AWS API request.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := query.RequestID()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		e.serveJSON(w, r, body, target, reqID)
		return
	}
	e.serveQuery(w, r, body, reqID)
}

func (e *Endpoint) serveJSON(w http.ResponseWriter, r *http.Request, body []byte, target, reqID string) {
	var svc *JSONService
	for _, s := range e.o.JSON {
		if strings.HasPrefix(target, s.TargetPrefix) {
			svc = s
		}
	}
	if svc == nil {
		writeJSONError(w, "application/x-amz-json-1.1", reqID, http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("X-Amz-Target %q names no service of this endpoint", target))
		return
	}
	op := strings.TrimPrefix(target, svc.TargetPrefix)
	scope, creds, err := e.verifier.Verify(r, body)
	if err == nil && scope.Service != svc.SigningName {
		err = &sigv4.Error{Kind: sigv4.Mismatch, Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", svc.SigningName)}
	}
	if err != nil {
		status, code, msg := jsonAuthError(err)
		writeJSONError(w, svc.ContentType, reqID, status, code, msg)
		return
	}
	who, _ := e.o.Keys.Principal(creds.AccessKeyID)
	action := svc.SigningName + ":" + op
	resource := svc.Resource(op, body)
	if !e.o.Policy.Allows(who, action, resource) {
		writeJSONError(w, svc.ContentType, reqID, http.StatusBadRequest, svc.DeniedType, DeniedMessage(who, action, resource))
		return
	}
	svc.Handler.ServeHTTP(w, r)
}

// jsonAuthError words a signature failure as the JSON-protocol services do.
func jsonAuthError(err error) (status int, code, msg string) {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return http.StatusBadRequest, "InvalidSignatureException", err.Error()
	}
	switch se.Kind {
	case sigv4.Missing:
		return http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"
	case sigv4.Incomplete:
		return http.StatusBadRequest, "IncompleteSignatureException", se.Message
	case sigv4.UnknownKey, sigv4.BadToken:
		return http.StatusBadRequest, "UnrecognizedClientException", se.Message
	default:
		return http.StatusBadRequest, "InvalidSignatureException", se.Message
	}
}

func writeJSONError(w http.ResponseWriter, contentType, reqID string, status int, code, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// DeniedMessage is AWS's explanation of an implicit deny for an identity policy.
func DeniedMessage(who Principal, action, resource string) string {
	on := ""
	if resource != "" && resource != "*" {
		on = " on resource: " + resource
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s%s because no identity-based policy allows the %s action",
		who.ARN, action, on, action)
}

func (e *Endpoint) serveQuery(w http.ResponseWriter, r *http.Request, body []byte, reqID string) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			query.WriteError(w, "", reqID, query.Errorf(http.StatusBadRequest, "MalformedQueryString", "the request body is not a form: %v", err))
			return
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	p := query.Params{Values: params}
	action := p.Get("Action")

	scope, creds, err := e.verifier.Verify(r, body)
	svc := e.queryService(scope.Service, p.Get("Version"))
	if err != nil {
		writeQueryAuthError(w, svc, reqID, err)
		return
	}
	if svc == nil {
		query.WriteError(w, "", reqID, query.Errorf(http.StatusBadRequest, "InvalidAction",
			"The local lab's endpoint does not serve the service %s", scope.Service))
		return
	}
	if action == "" {
		svc.WriteError(w, reqID, svc.Missing("Action"))
		return
	}
	act, ok := svc.Actions[action]
	if !ok {
		svc.WriteError(w, reqID, query.InvalidAction(action))
		return
	}
	who, _ := e.o.Keys.Principal(creds.AccessKeyID)
	iamAction := svc.SigningName + ":" + action
	if !e.o.Policy.Allows(who, iamAction, "*") {
		if svc.EC2 {
			svc.WriteError(w, reqID, query.Errorf(http.StatusForbidden, "UnauthorizedOperation",
				"You are not authorized to perform this operation. %s", DeniedMessage(who, iamAction, "*")))
		} else {
			svc.WriteError(w, reqID, query.Errorf(http.StatusForbidden, "AccessDenied", "%s", DeniedMessage(who, iamAction, "*")))
		}
		return
	}
	result, err := act(r.Context(), p)
	if err != nil {
		var qe *query.Error
		if !errors.As(err, &qe) {
			qe = query.Errorf(http.StatusInternalServerError, "InternalFailure", "%v", err)
		}
		svc.WriteError(w, reqID, qe)
		return
	}
	buf := &bufferedWriter{header: w.Header()}
	svc.WriteResult(buf, action, reqID, result)
	buf.sendTo(w, r)
}

// bufferedWriter holds a rendered answer so that it can be sent compressed.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// gzipAbove is the answer size from which answers go gzip-compressed to clients that accept it.
// Besides saving bytes, it keeps the usual answers inside one read of Go's HTTP client: the
// AWS SDK for Go closes a request's body as soon as the response headers arrive, and when the
// transport is still checking that body (a loaded machine), it drops the connection with the
// unread rest of a large answer ("use of closed network connection").
const gzipAbove = 1024

// gzipWriters are reused across answers: a new gzip.Writer allocates its compressor's
// tables, about a megabyte, which a lab polled several times a second would otherwise
// allocate and collect on every large answer.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// sendTo writes the answer to w, gzip-compressed when it is large and r accepts gzip.
func (b *bufferedWriter) sendTo(w http.ResponseWriter, r *http.Request) {
	body := b.body.Bytes()
	if len(body) > gzipAbove && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		var z bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&z)
		if _, err := zw.Write(body); err == nil && zw.Close() == nil {
			body = z.Bytes()
			w.Header().Set("Content-Encoding", "gzip")
		}
		gzipWriters.Put(zw)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(body)
}

func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// queryService finds the service by the signing name of the credential scope, or, for a
// request without a usable signature, by its API version, so the error is in its dialect.
func (e *Endpoint) queryService(signingName, version string) *query.Service {
	for _, s := range e.o.Query {
		if signingName != "" && s.SigningName == signingName {
			return s
		}
	}
	if signingName == "" {
		for _, s := range e.o.Query {
			if s.Version == version {
				return s
			}
		}
	}
	return nil
}

// writeQueryAuthError words a signature failure as the Query services (and EC2) do.
func writeQueryAuthError(w http.ResponseWriter, svc *query.Service, reqID string, err error) {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		se = &sigv4.Error{Kind: sigv4.Mismatch, Message: err.Error()}
	}
	var qe *query.Error
	ec2 := svc != nil && svc.EC2
	switch {
	case se.Kind == sigv4.Missing && ec2:
		qe = query.Errorf(http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case se.Kind == sigv4.Missing:
		qe = query.Errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case se.Kind == sigv4.Incomplete:
		qe = query.Errorf(http.StatusBadRequest, "IncompleteSignature", "%s", se.Message)
	case se.Kind == sigv4.Expired && ec2:
		qe = query.Errorf(http.StatusBadRequest, "RequestExpired", "Request has expired. %s", se.Message)
	case ec2:
		qe = query.Errorf(http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case se.Kind == sigv4.UnknownKey || se.Kind == sigv4.BadToken:
		qe = query.Errorf(http.StatusForbidden, "InvalidClientTokenId", "%s", se.Message)
	default:
		qe = query.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "%s", se.Message)
	}
	if svc == nil {
		query.WriteError(w, "", reqID, qe)
		return
	}
	svc.WriteError(w, reqID, qe)
}
