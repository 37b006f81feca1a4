// Package ssmstub is a Parameter Store stand-in that speaks the SSM JSON 1.1 protocol, so the
// real AWS SDK (and `aws ssm … --endpoint-url`) can read and write the lab's switch
// RecommendationServiceEnabled on a machine without AWS. It implements GetParameter,
// GetParameters and PutParameter with SSM's error shapes (ParameterNotFound,
// ParameterAlreadyExists, ValidationException for a value outside the AllowedPattern) and
// counts GetParameter calls so tests can see whether a cache works.
package ssmstub

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin"
)

// LabAllowedPattern is the allowed pattern of RecommendationServiceEnabled, as the stack
// declares it.
const LabAllowedPattern = "^(true|false)$"

// Parameter is one stored parameter.
type Parameter struct {
	Name           string
	Value          string
	Type           string // String, StringList or SecureString
	AllowedPattern string
	Version        int64
	LastModified   time.Time
}

// Error is an SSM error: Code is the wire __type (e.g. "ParameterNotFound").
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Server holds parameters in memory and serves the SSM API. The zero value is not usable; use New.
type Server struct {
	mu     sync.Mutex
	params map[string]*Parameter
	delay  time.Duration

	getCalls atomic.Int64
}

// New returns an empty Parameter Store.
func New() *Server { return &Server{params: map[string]*Parameter{}} }

// NewLab returns a Parameter Store holding lab.ParameterName = value (String, allowed pattern
// ^(true|false)$), as the stack creates it with value "true".
func NewLab(value string) (*Server, error) {
	s := New()
	if _, err := s.Put(lab.ParameterName, value, LabAllowedPattern, false); err != nil {
		return nil, err
	}
	return s, nil
}

// Put creates or (with overwrite) updates a String parameter, as PutParameter does; an empty
// allowedPattern keeps the existing one. It returns the new version.
func (s *Server) Put(name, value, allowedPattern string, overwrite bool) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putLocked(name, value, "", allowedPattern, overwrite)
}

// Set overwrites (or creates) name with value, keeping its allowed pattern, which the value
// must match. It is what `labctl dependency on|off` does.
func (s *Server) Set(name, value string) (int64, error) { return s.Put(name, value, "", true) }

// Get returns a copy of the stored parameter. It does not count as a GetParameter call.
func (s *Server) Get(name string) (Parameter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.params[name]
	if !ok {
		return Parameter{}, false
	}
	return *p, true
}

// GetParameterCalls is the number of GetParameter and GetParameters API calls served so far.
func (s *Server) GetParameterCalls() int64 { return s.getCalls.Load() }

// SetDelay makes every API answer wait d first (0 restores prompt answers): a slow
// Parameter Store, for timeout tests.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

func (s *Server) putLocked(name, value, typ, allowedPattern string, overwrite bool) (int64, error) {
	if name == "" {
		return 0, &Error{"ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"}
	}
	if value == "" {
		return 0, &Error{"ValidationException", "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1"}
	}
	p, exists := s.params[name]
	if exists && !overwrite {
		return 0, &Error{"ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."}
	}
	pattern := allowedPattern
	if pattern == "" && exists {
		pattern = p.AllowedPattern
	}
	if pattern != "" {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return 0, &Error{"InvalidAllowedPatternException", "The request does not meet the regular expression requirement."}
		}
		if !re.MatchString(value) {
			return 0, &Error{"ValidationException", "Parameter value, cannot be validated against allowedPattern: " + pattern}
		}
	}
	switch typ {
	case "", "String", "StringList", "SecureString":
	default:
		return 0, &Error{"ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", typ)}
	}
	if !exists {
		p = &Parameter{Name: name, Type: "String"}
		s.params[name] = p
	}
	if typ != "" {
		p.Type = typ
	}
	p.Value = value
	p.AllowedPattern = pattern
	p.Version++
	p.LastModified = time.Now()
	return p.Version, nil
}

// ServeHTTP answers SSM JSON 1.1 requests (POST / with X-Amz-Target: AmazonSSM.<Operation>).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("x-amzn-RequestId", requestID())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, &Error{"UnknownOperationException", "only POST is supported"})
		return
	}
	if r.Header.Get("Authorization") == "" {
		writeError(w, http.StatusBadRequest, &Error{"MissingAuthenticationTokenException", "Missing Authentication Token"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, &Error{"SerializationException", err.Error()})
		return
	}
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	region := regionOf(r.Header.Get("Authorization"))
	switch op {
	case "GetParameter":
		s.getCalls.Add(1)
		var in struct{ Name string }
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, http.StatusBadRequest, &Error{"SerializationException", err.Error()})
			return
		}
		p, ok := s.Get(in.Name)
		if !ok {
			writeError(w, http.StatusBadRequest, &Error{"ParameterNotFound", ""})
			return
		}
		writeJSON(w, map[string]any{"Parameter": wire(p, region)})
	case "GetParameters":
		s.getCalls.Add(1)
		var in struct{ Names []string }
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, http.StatusBadRequest, &Error{"SerializationException", err.Error()})
			return
		}
		found, invalid := []map[string]any{}, []string{}
		for _, n := range in.Names {
			if p, ok := s.Get(n); ok {
				found = append(found, wire(p, region))
			} else {
				invalid = append(invalid, n)
			}
		}
		writeJSON(w, map[string]any{"Parameters": found, "InvalidParameters": invalid})
	case "PutParameter":
		var in struct {
			Name, Value, Type, AllowedPattern string
			Overwrite                         bool
		}
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, http.StatusBadRequest, &Error{"SerializationException", err.Error()})
			return
		}
		s.mu.Lock()
		v, err := s.putLocked(in.Name, in.Value, in.Type, in.AllowedPattern, in.Overwrite)
		s.mu.Unlock()
		if err != nil {
			writeError(w, http.StatusBadRequest, err.(*Error))
			return
		}
		writeJSON(w, map[string]any{"Version": v, "Tier": "Standard"})
	default:
		writeError(w, http.StatusBadRequest, &Error{"UnknownOperationException", fmt.Sprintf("operation %q is not supported by this stand-in", op)})
	}
}

// wire renders a parameter as GetParameter returns it.
func wire(p Parameter, region string) map[string]any {
	name := p.Name
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return map[string]any{
		"ARN":              fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, standin.AccountID, name),
		"DataType":         "text",
		"LastModifiedDate": float64(p.LastModified.UnixMilli()) / 1000,
		"Name":             p.Name,
		"Type":             p.Type,
		"Value":            p.Value,
		"Version":          p.Version,
	}
}

// regionOf reads the region from a SigV4 credential scope (Credential=AKID/date/region/ssm/…).
func regionOf(authorization string) string {
	_, after, ok := strings.Cut(authorization, "Credential=")
	if ok {
		parts := strings.Split(strings.SplitN(after, ",", 2)[0], "/")
		if len(parts) >= 3 && parts[2] != "" {
			return parts[2]
		}
	}
	return "us-east-1"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, e *Error) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(status)
	body := map[string]string{"__type": e.Code}
	if e.Message != "" {
		body["message"] = e.Message
	}
	_ = json.NewEncoder(w).Encode(body)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
