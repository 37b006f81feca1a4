// Package sigv4 verifies AWS Signature Version 4 on requests that reach the local lab's AWS
// endpoint. It rebuilds the request from exactly the headers the client says it signed, signs
// that with the secret key the access key id names (using the AWS SDK's own signer, so the
// canonical form is AWS's), and compares the signatures. Only the header form of SigV4 is
// accepted; that is what the SDKs and the AWS CLI send.
package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	dateFormat = "20060102T150405Z"
	terminator = "aws4_request"
)

// MaxSkew is how far a request's signing time may be from the server's clock, as on AWS.
const MaxSkew = 15 * time.Minute

// Credentials are a key pair, with the session token of temporary credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // empty for a long-term key pair
}

// Scope is what a verified request was signed for.
type Scope struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string // signing name: ec2, elasticloadbalancing, ssm, dynamodb, …
}

// Kind classifies why a request was refused; each protocol words it its own way.
type Kind int

// Why a signature check fails.
const (
	// Missing: no Authorization header (an unsigned request).
	Missing Kind = iota + 1
	// Incomplete: an Authorization header that is not a complete SigV4 header.
	Incomplete
	// UnknownKey: the access key id is not one this endpoint issued.
	UnknownKey
	// BadToken: a temporary key without its session token, or with another one.
	BadToken
	// Mismatch: the signature, the signed headers, the region or the service do not match.
	Mismatch
	// Expired: signed too long ago, or too far in the future.
	Expired
)

// Error says why a request was refused, in words close to AWS's own.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// MismatchMessage is AWS's message for a signature that does not match.
const MismatchMessage = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// Verifier checks requests against the key pairs Lookup knows.
type Verifier struct {
	// Lookup returns the key pair of an access key id.
	Lookup func(accessKeyID string) (Credentials, bool)
	// Region is the only region requests may be signed for; empty accepts any.
	Region string
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time

	signer *v4.Signer
}

// NewVerifier returns a verifier for the keys lookup knows, accepting only region.
func NewVerifier(region string, lookup func(string) (Credentials, bool)) *Verifier {
	return &Verifier{Lookup: lookup, Region: region, signer: v4.NewSigner()}
}

// Header is a parsed SigV4 Authorization header.
type Header struct {
	Scope         Scope
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization parses "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex".
func ParseAuthorization(h string) (Header, error) {
	if h == "" {
		return Header{}, &Error{Missing, "Missing Authentication Token"}
	}
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return Header{}, &Error{Incomplete, "Unsupported authorization type: only " + algorithm + " is accepted"}
	}
	var out Header
	var cred, signed string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			out.Signature = v
		}
	}
	if cred == "" || signed == "" || out.Signature == "" {
		return Header{}, &Error{Incomplete, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=" + algorithm}
	}
	p := strings.Split(cred, "/")
	if len(p) != 5 || p[0] == "" || p[4] != terminator {
		return Header{}, &Error{Incomplete, fmt.Sprintf("Credential should be scoped to a valid region, service and terminator: '%s'", cred)}
	}
	out.Scope = Scope{AccessKeyID: p[0], Date: p[1], Region: p[2], Service: p[3]}
	out.SignedHeaders = strings.Split(signed, ";")
	return out, nil
}

// Verify checks r's signature over body (the whole request body, already read) and returns
// what it was signed for and the key pair that signed it.
func (v *Verifier) Verify(r *http.Request, body []byte) (Scope, Credentials, error) {
	h, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return Scope{}, Credentials{}, err
	}
	creds, ok := v.Lookup(h.Scope.AccessKeyID)
	if !ok {
		return h.Scope, Credentials{}, &Error{UnknownKey, "The security token included in the request is invalid."}
	}
	tok := r.Header.Get("X-Amz-Security-Token")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(creds.SessionToken)) != 1 {
		return h.Scope, Credentials{}, &Error{BadToken, "The security token included in the request is invalid."}
	}
	if v.Region != "" && h.Scope.Region != v.Region {
		return h.Scope, Credentials{}, &Error{Mismatch, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", h.Scope.Region)}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(dateFormat, amzDate)
	if err != nil {
		return h.Scope, Credentials{}, &Error{Incomplete, "Authorization header requires existence of a valid 'X-Amz-Date' header."}
	}
	if h.Scope.Date != amzDate[:8] {
		return h.Scope, Credentials{}, &Error{Mismatch, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", h.Scope.Date, amzDate[:8], amzDate)}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	switch {
	case t.Before(n.Add(-MaxSkew)):
		return h.Scope, Credentials{}, &Error{Expired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, n.Add(-MaxSkew).Format(dateFormat), n.Format(dateFormat))}
	case t.After(n.Add(MaxSkew)):
		return h.Scope, Credentials{}, &Error{Expired, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, n.Add(MaxSkew).Format(dateFormat), n.Format(dateFormat))}
	}

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if declared := r.Header.Get("X-Amz-Content-Sha256"); declared != "" {
		// UNSIGNED-PAYLOAD is S3's; these services sign the body (the action and its parameters).
		if declared != payloadHash {
			return h.Scope, Credentials{}, &Error{Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}

	// The request as signed: only the headers the client listed, with the values that arrived.
	req := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	signing := aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}
	for _, name := range h.SignedHeaders {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		case "x-amz-security-token":
			signing.SessionToken = tok
		default:
			vals := r.Header.Values(name)
			if len(vals) == 0 {
				return h.Scope, Credentials{}, &Error{Mismatch, MismatchMessage}
			}
			req.Header[textproto.CanonicalMIMEHeaderKey(name)] = vals
		}
	}
	signer := v.signer
	if signer == nil {
		signer = v4.NewSigner()
	}
	if err := signer.SignHTTP(context.Background(), signing, req, payloadHash, h.Scope.Service, h.Scope.Region, t); err != nil {
		return h.Scope, Credentials{}, &Error{Mismatch, MismatchMessage}
	}
	want, err := ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil ||
		strings.Join(want.SignedHeaders, ";") != strings.Join(h.SignedHeaders, ";") ||
		subtle.ConstantTimeCompare([]byte(want.Signature), []byte(h.Signature)) != 1 {
		return h.Scope, Credentials{}, &Error{Mismatch, MismatchMessage}
	}
	return h.Scope, creds, nil
}
