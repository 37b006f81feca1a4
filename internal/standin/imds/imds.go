// Package imds is an EC2 instance metadata service stand-in that speaks IMDSv2: a session token
// from PUT /latest/api/token is required on every read (401 without), as on an instance whose
// launch template requires IMDSv2. It serves the metadata the lab's page shows, the instance
// identity document, and the credentials of the attached role, which SetRole swaps at run time
// the way the lab swaps the instance profile in the EC2 console.
package imds

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"healthchecklab/internal/standin"
)

// Token headers of IMDSv2.
const (
	tokenHeader    = "X-aws-ec2-metadata-token"
	tokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
)

// CredentialLifetime is how long the credentials served stay valid, as on EC2 (about six
// hours). A client that wants to see a role swap sooner must re-read them itself.
const CredentialLifetime = 6 * time.Hour

// Instance describes the instance the stand-in pretends to be. New fills empty fields with
// plausible values.
type Instance struct {
	ID           string // i-…
	AMI          string // ami-…
	Type         string // t3.micro
	Zone         string // e.g. us-east-2a or local-1a
	Region       string // default: Zone without its last letter
	Hostname     string // private DNS name
	PrivateIPv4  string
	AccountID    string // default standin.AccountID
	Role         string // attached instance profile's role; empty: no instance profile
	Architecture string // x86_64 or arm64
}

// Credentials are the temporary credentials served for the attached role.
type Credentials struct {
	AccessKeyID, SecretAccessKey, Token string
}

// CredentialSource returns the credentials of role's session for instance id, as STS issues
// them to an instance profile. The default source is the stand-ins' deterministic keys
// (package standin).
type CredentialSource func(role, instanceID string) Credentials

func standinCredentials(role, instanceID string) Credentials {
	return Credentials{
		AccessKeyID:     standin.AccessKeyID(role),
		SecretAccessKey: standin.SecretAccessKey(role),
		Token:           standin.SessionToken(role, instanceID),
	}
}

// Server is an IMDSv2 stand-in for one instance.
type Server struct {
	mu     sync.Mutex
	inst   Instance
	creds  CredentialSource
	tokens map[string]time.Time // token -> expiry
	now    func() time.Time

	credentialRequests atomic.Int64
	unauthorized       atomic.Int64
}

// NewInstanceID returns a random instance id in EC2's format (i- and 17 hex digits).
func NewInstanceID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "i-" + hex.EncodeToString(b[:])[:17]
}

// New returns a stand-in for inst.
func New(inst Instance) *Server {
	if inst.ID == "" {
		inst.ID = NewInstanceID()
	}
	if inst.AMI == "" {
		inst.AMI = "ami-0a1b2c3d4e5f60718"
	}
	if inst.Type == "" {
		inst.Type = "t3.micro"
	}
	if inst.Zone == "" {
		inst.Zone = "local-1a"
	}
	if inst.Region == "" {
		inst.Region = inst.Zone[:len(inst.Zone)-1]
	}
	if inst.PrivateIPv4 == "" {
		inst.PrivateIPv4 = "10.0.1.10"
	}
	if inst.Hostname == "" {
		inst.Hostname = "ip-" + strings.ReplaceAll(inst.PrivateIPv4, ".", "-") + "." + inst.Region + ".compute.internal"
	}
	if inst.AccountID == "" {
		inst.AccountID = standin.AccountID
	}
	if inst.Architecture == "" {
		inst.Architecture = "x86_64"
	}
	return &Server{inst: inst, tokens: map[string]time.Time{}, now: time.Now, creds: standinCredentials}
}

// UseCredentials makes the server hand out the credentials src issues (nil restores the
// default), e.g. key pairs that a signature-checking endpoint knows.
func (s *Server) UseCredentials(src CredentialSource) {
	if src == nil {
		src = standinCredentials
	}
	s.mu.Lock()
	s.creds = src
	s.mu.Unlock()
}

// Instance returns the instance as currently described (with its current role).
func (s *Server) Instance() Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inst
}

// SetRole attaches the instance profile of role (empty detaches it). From now on the
// credentials path serves that role's credentials.
func (s *Server) SetRole(role string) {
	s.mu.Lock()
	s.inst.Role = role
	s.mu.Unlock()
}

// Role is the role currently attached.
func (s *Server) Role() string { return s.Instance().Role }

// CredentialRequests counts reads of a role's credentials.
func (s *Server) CredentialRequests() int64 { return s.credentialRequests.Load() }

// Unauthorized counts reads refused for a missing or invalid token.
func (s *Server) Unauthorized() int64 { return s.unauthorized.Load() }

// ServeHTTP answers IMDSv2 requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "EC2ws")
	if r.URL.Path == "/latest/api/token" {
		s.serveToken(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.validToken(r.Header.Get(tokenHeader)) {
		s.unauthorized.Add(1)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	inst := s.Instance()
	switch p := r.URL.Path; p {
	case "/latest/meta-data", "/latest/meta-data/":
		text(w, "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\n")
	case "/latest/meta-data/instance-id":
		text(w, inst.ID)
	case "/latest/meta-data/ami-id":
		text(w, inst.AMI)
	case "/latest/meta-data/instance-type":
		text(w, inst.Type)
	case "/latest/meta-data/placement/availability-zone":
		text(w, inst.Zone)
	case "/latest/meta-data/placement/region":
		text(w, inst.Region)
	case "/latest/meta-data/local-hostname", "/latest/meta-data/hostname":
		text(w, inst.Hostname)
	case "/latest/meta-data/local-ipv4":
		text(w, inst.PrivateIPv4)
	case "/latest/meta-data/iam/info":
		if inst.Role == "" {
			notFound(w)
			return
		}
		writeJSON(w, map[string]string{
			"Code":               "Success",
			"LastUpdated":        s.now().UTC().Format(time.RFC3339),
			"InstanceProfileArn": fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", inst.AccountID, inst.Role),
			"InstanceProfileId":  ProfileID(inst.Role),
		})
	case "/latest/meta-data/iam/security-credentials", "/latest/meta-data/iam/security-credentials/":
		if inst.Role == "" {
			notFound(w)
			return
		}
		text(w, inst.Role)
	case "/latest/dynamic/instance-identity/document":
		writeJSON(w, map[string]any{
			"accountId":        inst.AccountID,
			"architecture":     inst.Architecture,
			"availabilityZone": inst.Zone,
			"imageId":          inst.AMI,
			"instanceId":       inst.ID,
			"instanceType":     inst.Type,
			"pendingTime":      "2024-01-01T00:00:00Z",
			"privateIp":        inst.PrivateIPv4,
			"region":           inst.Region,
			"version":          "2017-09-30",
		})
	default:
		role, ok := strings.CutPrefix(p, "/latest/meta-data/iam/security-credentials/")
		if !ok || inst.Role == "" || role != inst.Role {
			notFound(w)
			return
		}
		s.credentialRequests.Add(1)
		now := s.now().UTC()
		s.mu.Lock()
		src := s.creds
		s.mu.Unlock()
		c := src(role, inst.ID)
		writeJSON(w, map[string]string{
			"Code":            "Success",
			"LastUpdated":     now.Format(time.RFC3339),
			"Type":            "AWS-HMAC",
			"AccessKeyId":     c.AccessKeyID,
			"SecretAccessKey": c.SecretAccessKey,
			"Token":           c.Token,
			"Expiration":      now.Add(CredentialLifetime).Format(time.RFC3339),
		})
	}
}

// ProfileID returns the instance profile id (AIPA and 17 of [A-Z2-7], as IAM's unique ids
// look) the stand-in gives the profile named like role: every answer about one profile
// carries the same id, and profiles whose names share a prefix still get different ones.
func ProfileID(role string) string {
	sum := sha256.Sum256([]byte("instance-profile/" + role))
	return "AIPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "PUT")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		// IMDS refuses tokens to requests that went through a proxy.
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(tokenTTLHeader))
	if err != nil || ttl < 1 || ttl > 21600 {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	now := s.now()
	for t, exp := range s.tokens { // forget expired tokens so the map stays small
		if now.After(exp) {
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = now.Add(time.Duration(ttl) * time.Second)
	s.mu.Unlock()
	w.Header().Set(tokenTTLHeader, strconv.Itoa(ttl))
	text(w, tok)
}

func (s *Server) validToken(tok string) bool {
	if tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

func text(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(body))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/plain") // IMDS labels its JSON documents text/plain
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) { http.Error(w, "Not Found", http.StatusNotFound) }
