// Package query reads AWS Query-protocol requests (a form body with Action=…&Version=…) and
// writes their XML answers and errors in both dialects: the one CloudFormation, Elastic Load
// Balancing and Auto Scaling speak (<XResponse><XResult>…), and EC2's own (<XResponse>
// without a result wrapper, errors under <Response><Errors>).
package query

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// Params are a request's form parameters.
type Params struct{ url.Values }

// List returns the values of prefix.1, prefix.2, … in order, stopping at the first gap. Query
// services name lists "Names.member" (pass that), EC2 names them "InstanceId".
func (p Params) List(prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if !p.Has(k) {
			return out
		}
		out = append(out, p.Get(k))
	}
}

// Filter is one Name/Values filter of a Describe call.
type Filter struct {
	Name   string
	Values []string
}

// Filters reads filters in EC2's form (Filter.N.Name, Filter.N.Value.M).
func (p Params) Filters() []Filter {
	var out []Filter
	for i := 1; ; i++ {
		k := "Filter." + strconv.Itoa(i)
		if !p.Has(k + ".Name") {
			return out
		}
		out = append(out, Filter{Name: p.Get(k + ".Name"), Values: p.List(k + ".Value")})
	}
}

// Match reports whether s matches one of the filter's values; values may use the * and ?
// wildcards, as EC2's filters do.
func (f Filter) Match(s string) bool {
	for _, v := range f.Values {
		if v == s {
			return true
		}
		if ok, err := path.Match(v, s); err == nil && ok {
			return true
		}
	}
	return false
}

// Error is an AWS error answer: the HTTP status, the error code and its message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// RequestID returns a new request id in AWS's UUID form.
func RequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// WriteResult answers a Query-protocol action: <ActionResponse xmlns><ActionResult>result
// </ActionResult><ResponseMetadata><RequestId/></ResponseMetadata></ActionResponse>.
func WriteResult(w http.ResponseWriter, xmlns, action, requestID string, result any) {
	send(w, http.StatusOK, requestID, func(enc *xml.Encoder) error {
		root := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
		if err := enc.EncodeToken(root); err != nil {
			return err
		}
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return err
		}
		if err := enc.EncodeElement(struct {
			RequestID string `xml:"RequestId"`
		}{requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
			return err
		}
		return enc.EncodeToken(root.End())
	})
}

// send renders an answer completely before writing it, so that it goes out with its
// Content-Length, and an answer that cannot be rendered is a 500, not a truncated 200.
func send(w http.ResponseWriter, status int, requestID string, encode func(*xml.Encoder) error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	if err := encode(enc); err == nil {
		err = enc.Close()
	} else {
		status = http.StatusInternalServerError
		b.Reset()
		fmt.Fprintf(&b, "%s<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>rendering the answer: %s</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
			xml.Header, html.EscapeString(err.Error()), requestID)
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// WriteError answers a Query-protocol error: <ErrorResponse><Error><Type/><Code/><Message/>
// </Error><RequestId/></ErrorResponse>.
func WriteError(w http.ResponseWriter, xmlns, requestID string, e *Error) {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	body := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr,omitempty"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}{Xmlns: xmlns, RequestID: requestID}
	body.Error.Type, body.Error.Code, body.Error.Message = typ, e.Code, e.Message
	writeXML(w, e.Status, requestID, body)
}

// EC2Namespace is the XML namespace of EC2's answers.
const EC2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// EC2Response carries the request id every EC2 answer starts with; EC2 result types embed it.
type EC2Response struct {
	RequestID string `xml:"requestId"`
}

func (r *EC2Response) setRequestID(id string) { r.RequestID = id }

// EC2Result is a pointer to an EC2 result type (one that embeds EC2Response).
type EC2Result interface{ setRequestID(string) }

// WriteEC2Result answers an EC2 action: <ActionResponse xmlns><requestId/>…result's
// fields…</ActionResponse>.
func WriteEC2Result(w http.ResponseWriter, action, requestID string, result EC2Result) {
	result.setRequestID(requestID)
	send(w, http.StatusOK, requestID, func(enc *xml.Encoder) error {
		return enc.EncodeElement(result, xml.StartElement{
			Name: xml.Name{Local: action + "Response"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: EC2Namespace}},
		})
	})
}

// WriteEC2Error answers an EC2 error: <Response><Errors><Error><Code/><Message/></Error>
// </Errors><RequestID/></Response>.
func WriteEC2Error(w http.ResponseWriter, requestID string, e *Error) {
	type ec2Error struct {
		Code    string
		Message string
	}
	body := struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []ec2Error `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}{Errors: []ec2Error{{e.Code, e.Message}}, RequestID: requestID}
	writeXML(w, e.Status, requestID, body)
}

func writeXML(w http.ResponseWriter, status int, requestID string, v any) {
	send(w, status, requestID, func(enc *xml.Encoder) error { return enc.Encode(v) })
}

// Page picks the window of n items that a paging token and a page size select, and returns
// the token of the next page ("" on the last). size 0 means everything after the token.
func Page(n int, token string, size int) (start, end int, next string, ok bool) {
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return 0, 0, "", false
		}
		s, found := strings.CutPrefix(string(b), "offset:")
		if start, err = strconv.Atoi(s); !found || err != nil || start < 0 || start > n {
			return 0, 0, "", false
		}
	}
	end = n
	if size > 0 && start+size < n {
		end = start + size
		next = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	return start, end, next, true
}

// Int reads an optional integer parameter; absent is def.
func (p Params) Int(name string, def int) (int, bool) {
	if !p.Has(name) {
		return def, true
	}
	v, err := strconv.Atoi(p.Get(name))
	return v, err == nil
}

// Distinct returns list without repeated values, in first-seen order.
func Distinct(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Action answers one action of a Query-protocol service: a result value to render, or an
// error (an *Error is answered as such, anything else as an internal failure).
type Action func(ctx context.Context, p Params) (any, error)

// Service is one Query-protocol AWS service as the local endpoint serves it.
type Service struct {
	// SigningName is the service name in a SigV4 credential scope, e.g. "elasticloadbalancing".
	SigningName string
	// Version is the API version its requests carry, e.g. "2015-12-01".
	Version string
	// Namespace is the XML namespace of its answers.
	Namespace string
	// EC2 selects EC2's dialect of the protocol.
	EC2 bool
	// Actions are the operations served, by name.
	Actions map[string]Action
}

// WriteResult answers action with result in the service's dialect.
func (s *Service) WriteResult(w http.ResponseWriter, action, requestID string, result any) {
	if s.EC2 {
		if r, ok := result.(EC2Result); ok {
			WriteEC2Result(w, action, requestID, r)
			return
		}
		s.WriteError(w, requestID, Errorf(http.StatusInternalServerError, "InternalError", "result of %s is not an EC2 answer", action))
		return
	}
	WriteResult(w, s.Namespace, action, requestID, result)
}

// WriteError answers an error in the service's dialect.
func (s *Service) WriteError(w http.ResponseWriter, requestID string, e *Error) {
	if s.EC2 {
		WriteEC2Error(w, requestID, e)
		return
	}
	WriteError(w, s.Namespace, requestID, e)
}

// InvalidAction is the answer to an action the service does not have.
func InvalidAction(action string) *Error {
	return Errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action)
}

// Missing is the answer to a request without a required parameter, in the service's words.
func (s *Service) Missing(name string) *Error {
	if s.EC2 {
		return Errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s", name)
	}
	return Errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
