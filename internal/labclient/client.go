// Package labclient is the client side of a running local lab: the state file that `labctl
// local up` writes, the control client the other verbs use, and the control API's contract
// (contract.go). labctl's verbs import this package, never the lab itself (internal/locallab).
package labclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// State is what `labctl local up` writes so the other verbs can find the running lab.
type State struct {
	PID        int    `json:"pid"`
	ControlURL string `json:"control_url"`
	Token      string `json:"token"`
	URL        string `json:"url"` // the load balancer
	// Stack is the lab's service stack name, as its CloudFormation endpoint answers it
	// (HealthCheckLab, or HealthCheckLab-<id> under `local up --lab-id`).
	Stack       string    `json:"stack,omitempty"`
	SSMEndpoint string    `json:"ssm_endpoint"`
	Region      string    `json:"region"`
	Started     time.Time `json:"started"`
	// Endpoint is the lab's AWS endpoint (every service: AWS_ENDPOINT_URL), and
	// AccessKeyID/SecretAccessKey the key pair of its user, which may call every operation.
	Endpoint        string `json:"endpoint"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	// RoleCredentials are a session of each instance role (session name "labctl"), for
	// trying what the roles may and may not do.
	RoleCredentials map[string]RoleCredentials `json:"role_credentials,omitempty"`
	// LabID is the name the user gave this lab (`local up --lab-id`), as a deployed stack's
	// LabId context names it; empty when none was given.
	LabID string `json:"lab_id,omitempty"`
}

// RoleCredentials are temporary credentials of an instance role.
type RoleCredentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
}

// DefaultStatePath is where the state file lives unless --state or LABCTL_STATE say
// otherwise: $XDG_RUNTIME_DIR/healthchecklab/local.json, else a per-user directory under the
// system temporary directory (see tempStateDir).
func DefaultStatePath(getenv func(string) string) string {
	if p := getenv("LABCTL_STATE"); p != "" {
		return p
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "healthchecklab", "local.json")
	}
	return filepath.Join(tempStateDir(), "local.json")
}

// RemoveState deletes the state file if it still belongs to process pid.
func RemoveState(path string, pid int) {
	if st, err := ReadState(path); err == nil && st.PID == pid {
		_ = os.Remove(path)
	}
}

// ReadState reads the state file; a missing or unreadable one is ErrNoLab. A state file in a
// directory that others may change is refused, as WriteState refuses to write there.
func ReadState(path string) (State, error) {
	if err := privateDir(filepath.Dir(path), false); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return State{}, ErrNoLab
		}
		return State{}, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, ErrNoLab
	}
	if err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrNoLab, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.ControlURL == "" {
		return State{}, fmt.Errorf("%w: state file %s is damaged", ErrNoLab, path)
	}
	return st, nil
}

// Client talks to a running lab's control API.
type Client struct {
	State State
	Path  string // the state file it was read from
}

// Dial reads the state file at path and checks that the lab answers.
func Dial(ctx context.Context, path string) (*Client, error) {
	st, err := ReadState(path)
	if err != nil {
		return nil, err
	}
	c := &Client{State: st, Path: path}
	if _, err := c.Counters(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.State.ControlURL+path, &buf)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.State.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w (the lab at %s does not answer)", ErrNoLab, c.State.ControlURL)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		defer resp.Body.Close()
		var ev Event
		if json.NewDecoder(resp.Body).Decode(&ev) == nil && ev.Error != "" {
			return nil, errors.New(ev.Error)
		}
		return nil, fmt.Errorf("the local lab's control API at %s answered %s: is the lab that wrote the state file still running (labctl local up)?", c.State.ControlURL, resp.Status)
	}
	return resp, nil
}

// Counters fetches the load balancer's counters and the operation in progress.
func (c *Client) Counters(ctx context.Context) (Counters, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, PathCounters, nil)
	if err != nil {
		return Counters{}, err
	}
	defer resp.Body.Close()
	var k Counters
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
		return Counters{}, fmt.Errorf("counters: %w", err)
	}
	return k, nil
}

// Deploy rolls all instances to code; progress gets each step.
func (c *Client) Deploy(ctx context.Context, code string, progress func(Event)) error {
	return c.DeployWith(ctx, Request{ServerCode: code}, progress)
}

// DeployWith is Deploy with every field of the request (the group's health-check type too).
func (c *Client) DeployWith(ctx context.Context, req Request, progress func(Event)) error {
	return c.stream(ctx, PathDeploy, req, progress)
}

// Shutdown asks the lab to stop.
func (c *Client) Shutdown(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodPost, PathShutdown, nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (c *Client) stream(ctx context.Context, path string, req Request, progress func(Event)) error {
	resp, err := c.do(ctx, http.MethodPost, path, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("control API: %w", err)
		}
		switch {
		case ev.Error != "":
			return errors.New(ev.Error)
		case ev.Done:
			return nil
		default:
			progress(ev)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New("the lab stopped before the operation finished: start it again with labctl local up")
}
