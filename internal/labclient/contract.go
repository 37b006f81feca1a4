package labclient

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// The control API is JSON over HTTP on loopback, guarded by a bearer token that only the
// state file (mode 0600) holds, so other local users cannot drive someone's lab. It serves
// only what has no AWS API: the local rolling deploy, the load balancer's counters and
// shutdown. Everything else goes through the lab's AWS endpoint. This file is the contract
// between the lab (internal/locallab serves it) and its clients (labctl's verbs).
const (
	PathCounters = "/v1/counters"
	PathDeploy   = "/v1/deploy"
	PathShutdown = "/v1/shutdown"
	// PathZonePower starts chapter 12's fault, which AWS runs as the FIS scenario "AZ
	// Availability: Power Interruption" and has no other API for.
	PathZonePower = "/v1/zone-power"
)

// TargetHeader names the response header in which the local load balancer gives the ID of
// the target that served (or failed) a request, so tools can attribute even a load-balancer
// 502 to a target. ALB has no such header; it is a convenience of the local lab.
const TargetHeader = "X-Localb-Target"

// UserName is the IAM user whose key pair the state file holds and `labctl local env`
// hands out.
const UserName = "labctl"

// Request is the body of the mutating control calls.
type Request struct {
	ServerCode string `json:"server_code,omitempty"`
	// HealthCheckType is the Auto Scaling group's health-check type a deploy sets (EC2 or
	// ELB, as the stack context AsgHealthCheck); empty keeps the group's.
	HealthCheckType string `json:"health_check_type,omitempty"`
}

// Deploy reads a deploy request: its ServerCode, and the health-check type (zero when the
// request keeps the group's). The errors name the valid values.
func (r Request) Deploy() (lab.ServerCode, lab.AsgHealthCheck, error) {
	code, err := lab.ParseServerCode(r.ServerCode)
	if err != nil {
		return "", "", err
	}
	var typ lab.AsgHealthCheck
	if r.HealthCheckType != "" {
		if typ, err = lab.ParseAsgHealthCheck(r.HealthCheckType); err != nil {
			return "", "", err
		}
	}
	return code, typ, nil
}

// Event is one line of a streamed operation (deploy): progress, then Done or Error.
type Event struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message,omitempty"`
	Error   string    `json:"error,omitempty"`
	Done    bool      `json:"done,omitempty"`
}

// Counters is what the local lab knows and AWS offers no API for (CloudWatch metrics
// aside): the load balancer's 5xx counters, each target's requests, recent health-check
// results and next check, the deploy or repair in flight and the lab's processes.
type Counters struct {
	LB        LBCounters              `json:"counters"`
	Targets   map[string]TargetCounts `json:"targets"` // by target (instance) id
	Busy      string                  `json:"busy,omitempty"`
	Operation *Operation              `json:"operation,omitempty"`
	// Processes are the lab's processes and their supervision (state, restarts).
	Processes []Process `json:"processes,omitempty"`
}

// LBCounters are the load balancer's request counts, split as ALB's CloudWatch metrics
// are (HTTPCode_ELB_5XX_Count and its 502/503/504 parts, HTTPCode_Target_5XX_Count).
type LBCounters struct {
	Requests  int64 `json:"requests"`
	ELB5xx    int64 `json:"elb_5xx"`    // answered by the load balancer itself: 502, 503, 504
	ELB502    int64 `json:"elb_502"`    // target dropped the connection or was unreachable
	ELB503    int64 `json:"elb_503"`    // no target to route to
	ELB504    int64 `json:"elb_504"`    // target did not answer in time
	Target5xx int64 `json:"target_5xx"` // 5xx answers that came from a target
	FailOpen  int64 `json:"fail_open"`  // requests routed while no target was healthy
}

// TargetCounts is one target's part of Counters.
type TargetCounts struct {
	Requests  int64                `json:"requests"`
	Checks    []targethealth.Check `json:"checks,omitempty"`
	NextCheck *time.Time           `json:"next_check,omitempty"`
}

// Operation is the deploy or repair in flight, for live views.
type Operation struct {
	Kind       string    `json:"kind"` // deploy or repair
	ServerCode string    `json:"server_code"`
	Letter     string    `json:"zone,omitempty"` // the zone being updated, by letter
	Started    time.Time `json:"started"`
	Last       string    `json:"last_message,omitempty"`
}

// Process is one process of the lab and its supervision state, for `labctl status`.
type Process struct {
	Name     string    `json:"name"`
	State    string    `json:"state"`               // running, restarting, stopped (supervise's states)
	PID      int       `json:"pid,omitempty"`       // the current run's, 0 while restarting
	Restarts int       `json:"restarts"`            // runs started after an exit
	LastExit string    `json:"last_exit,omitempty"` // how the last run ended
	Since    time.Time `json:"since"`               // when it entered State
	// InstanceID is a web server's instance, and Zone its zone name.
	InstanceID string `json:"instance_id,omitempty"`
	Zone       string `json:"zone,omitempty"`
	// Frozen is a running process that is stopped (SIGSTOP): not dead, so not restarted, but
	// silent. Linux only.
	Frozen bool `json:"frozen,omitempty"`
}

// NewToken returns a random control-API token.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ErrNoLab means no local lab answers at the address the state file gives (or there is none).
var ErrNoLab = errors.New("no lab running (start one with `labctl local up`)")
