// Package labsim runs a whole HealthCheckLab in-process for tests of labctl's verbs and tour
// (cmd/labctl/internal/labtest opens it as labctl does): the region model (package region)
// behind the lab's AWS endpoint (package awslocal, real HTTP and real SigV4), the Parameter
// Store stand-in, the local lab's control API (counters and the local rolling deploy) and a
// load balancer that answers as the lab's web servers would, all on one fake clock. No Node,
// no processes and no real sleeps: the clock moves only when a verb or the tour waits on it,
// and each move runs the lab's health checks that fall due.
//
// A lab can be a copy with a LabId (NewCopy), as `labctl local up --lab-id` and `cdk deploy
// -c LabId=<id>` make one: every stack, parameter and role name it answers is that copy's
// (package labnames), and the lab's own names do not exist in it.
//
// The web servers are modelled, not run. Their rule is the lab's (see the README's
// ServerCode table): an instance whose role reaches DynamoDB while the parameter is "true"
// answers personalized and passes its health check; otherwise basic drops the connection
// (the load balancer answers 502), errorhandling and healthcheck answer static with the
// error as diagnostic, and only healthcheck fails its (deep) health check, with 503.
package labsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"healthchecklab/internal/awslocal"
	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/cloudformation"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/elbv2"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/awslocal/region/regiontest"
	"healthchecklab/internal/awslocal/sigv4"
	"healthchecklab/internal/clock"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/ssmstub"
	"healthchecklab/internal/targethealth"
)

// Lab is a running in-process lab. It is the clock of the verbs and the tour that drive it
// (internal/clock's Clock): Sleep moves the lab on.
type Lab struct {
	T         testing.TB
	Clock     *regiontest.Clock
	R         *region.Region
	SSM       *ssmstub.Server
	Endpoint  string // the AWS endpoint
	URL       string // the load balancer
	StatePath string // the state file of the local target
	// Names are this copy's stack, parameter and role names: the lab's own unless NewCopy
	// gave a LabId.
	Names labnames.Names

	keys    *awslocal.Keys
	user    sigv4.Credentials
	control string // the control API
	token   string

	mu        sync.Mutex // serializes driving the model: the shell, the counters, the checks
	shell     *regiontest.Shell
	nextCheck time.Time
	lb        labclient.LBCounters
	requests  map[string]int64     // per target
	users     int                  // personalized answers so far, to walk through the users
	notesSent int                  // shell notes already streamed by a deploy
	shutdowns int                  // the control API's shutdown calls
	stuck     lab.ServerCode       // see Break
	powerOn   map[string]time.Time // zones without power (zone-power), when they get it back
	down      bool                 // see Break
}

var _ clock.Clock = (*Lab)(nil)

// New starts a lab whose instances run code and have all passed their first health check;
// everything stops when the test ends. The lab's shell (regiontest.Shell) fails the test on
// a model error, which is a bug in the model or here.
func New(t testing.TB, code lab.ServerCode) *Lab {
	t.Helper()
	return NewCopy(t, code, "")
}

// NewCopy is New for the copy of the lab with LabId labID ("" for the lab's own names): its
// stacks, parameter and roles take the names labnames gives them with the lab's naming
// prefix, as `labctl local up --lab-id` names them, and the state file says so.
func NewCopy(t testing.TB, code lab.ServerCode, labID string) *Lab {
	t.Helper()
	h := &Lab{T: t, requests: map[string]int64{}, powerOn: map[string]time.Time{}, token: labclient.NewToken(),
		Names: labnames.Names{Prefix: lab.DefaultNamingPrefix, LabID: labID}}
	// The parameter as the copy's stack creates it: a String that only takes true or false.
	h.SSM = ssmstub.New()
	if _, err := h.SSM.Put(h.Names.Parameter(), "true", ssmstub.LabAllowedPattern, false); err != nil {
		t.Fatal(err)
	}
	lbSrv := httptest.NewServer(http.HandlerFunc(h.serveLB))
	t.Cleanup(lbSrv.Close)
	h.URL = lbSrv.URL
	h.shell = regiontest.New(t, func(c *region.Config) {
		c.LoadBalancerURL, c.TableName, c.ServerCode, c.Names = h.URL, dynalite.DefaultTableName, code, h.Names
	})
	h.Clock, h.R = h.shell.C, h.shell.R

	h.keys = awslocal.NewKeys(region.AccountID)
	h.user = h.keys.NewUser(labclient.UserName)
	ep := awslocal.New(awslocal.Options{
		Region: region.Name, Keys: h.keys, Policy: awslocal.Policy{},
		JSON: []*awslocal.JSONService{{
			TargetPrefix: "AmazonSSM.", SigningName: "ssm", ContentType: "application/x-amz-json-1.1",
			DeniedType: "AccessDeniedException", Handler: h.SSM,
			Resource: func(string, []byte) string { return "*" },
		}},
		Query: []*query.Service{
			cloudformation.Service(h.R), ec2.Service(h.R), elbv2.Service(h.R), autoscaling.Service(h.R),
		},
	})
	// The shell carries out what a call asked for before the caller reads again, as the
	// local lab's shell does within moments.
	epSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep.ServeHTTP(w, r)
		h.mu.Lock()
		h.shell.Run()
		h.mu.Unlock()
	}))
	t.Cleanup(epSrv.Close)
	h.Endpoint = epSrv.URL
	ctl := httptest.NewServer(h.controlHandler())
	t.Cleanup(ctl.Close)
	h.control = ctl.URL

	h.mu.Lock()
	h.checkAll()
	h.nextCheck = h.Clock.Now().Add(h.interval())
	h.mu.Unlock()

	h.StatePath = filepath.Join(t.TempDir(), "local.json")
	if err := labclient.WriteState(h.StatePath, labclient.State{
		PID: 1, ControlURL: h.control, Token: h.token, URL: h.URL, Stack: h.Names.ServiceStack(), LabID: labID,
		SSMEndpoint: h.Endpoint, Region: region.Name, Started: h.Clock.Now(), Endpoint: h.Endpoint,
		AccessKeyID: h.user.AccessKeyID, SecretAccessKey: h.user.SecretAccessKey,
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// User is the key pair of the lab's user, which may call every operation.
func (h *Lab) User() sigv4.Credentials { return h.user }

func (h *Lab) interval() time.Duration { return lab.TargetGroupHealthCheck.Interval }

// Now is the lab's time.
func (h *Lab) Now() time.Time { return h.Clock.Now() }

// Sleep moves the lab's clock on by d, running every health check that falls due on the
// way (all registered targets every interval) and carrying out what follows. It never
// waits for real time.
func (h *Lab) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.Clock.Now().Add(d)
	for {
		h.powerOnDue()
		if h.nextCheck.After(end) {
			break
		}
		if on, ok := h.nextPowerOn(); ok && on.Before(h.nextCheck) {
			h.shell.Wait(on.Sub(h.Clock.Now()))
			continue
		}
		h.shell.Wait(h.nextCheck.Sub(h.Clock.Now()))
		h.checkAll()
		h.nextCheck = h.nextCheck.Add(h.interval())
	}
	if on, ok := h.nextPowerOn(); ok && !on.After(end) {
		h.shell.Wait(on.Sub(h.Clock.Now()))
		h.powerOnDue()
	}
	h.shell.Wait(end.Sub(h.Clock.Now()))
	return nil
}

// nextPowerOn is when the next zone without power gets it back. The caller holds mu.
func (h *Lab) nextPowerOn() (time.Time, bool) {
	var next time.Time
	for _, t := range h.powerOn {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}

// powerOnDue gives the power back to the zones whose window has passed. The caller holds mu.
func (h *Lab) powerOnDue() {
	for z, t := range h.powerOn {
		if !t.After(h.Clock.Now()) {
			delete(h.powerOn, z)
			if err := h.R.PowerOn(z); err != nil {
				h.T.Error(err)
			}
			h.shell.Run()
		}
	}
}

// SetParameter sets the copy's RecommendationServiceEnabled directly (not through the verbs).
func (h *Lab) SetParameter(v string) {
	h.T.Helper()
	if _, err := h.SSM.Set(h.Names.Parameter(), v); err != nil {
		h.T.Fatal(err)
	}
}

// Break makes a lab that deploys and resets cannot mend: with stuck set, every web server
// answers as that ServerCode whatever its instance was launched with (an image that ignores
// its launch template); with down, the RecommendationService table does not answer.
func (h *Lab) Break(stuck lab.ServerCode, down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stuck, h.down = stuck, down
}

// FailLaunches makes every launch in zone letter fail to start, as an instance whose web
// server exits at once.
func (h *Lab) FailLaunches(letter string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shell.FailLaunch[letter] = true
}

// server is what the web server of one instance is: its zone, ServerCode and role.
type server struct {
	id, zone string
	code     lab.ServerCode
	role     string
}

// servers returns the instances' web servers by instance id. The caller may hold mu.
func (h *Lab) servers() map[string]server {
	out := map[string]server{}
	for _, st := range h.R.Status() {
		code := st.Code
		if h.stuck != "" {
			code = h.stuck
		}
		out[st.ID] = server{id: st.ID, zone: st.Zone, code: code, role: st.Role}
	}
	return out
}

// dependencyError is what a server's GetItem on the RecommendationService fails with, ""
// when it succeeds: a connection error while the table is down (Break), AccessDenied with a role that has no DynamoDB access (stale
// credentials), ResourceNotFound while the parameter is not "true" (the server then reads
// a table that does not exist, lab.DecoyTableName).
func (h *Lab) dependencyError(s server) string {
	if h.down {
		return "operation error DynamoDB: GetItem, https response error: dial tcp 127.0.0.1:4567: connect: connection refused"
	}
	if s.role != h.R.Roles()[0] {
		c := h.keys.ForRole(s.role, s.id)
		who, _ := h.keys.Principal(c.AccessKeyID)
		return "operation error DynamoDB: GetItem, api error AccessDeniedException: " + awslocal.DeniedMessage(who, "dynamodb:GetItem",
			fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region.Name, region.AccountID, dynalite.DefaultTableName))
	}
	if p, ok := h.SSM.Get(h.Names.Parameter()); !ok || p.Value != "true" {
		return "operation error DynamoDB: GetItem, api error ResourceNotFoundException: Requested resource not found"
	}
	return ""
}

// checkAll runs one health check of every registered target that is not draining, with the
// answer its server gives. The caller holds mu.
func (h *Lab) checkAll() {
	servers := h.servers()
	for _, t := range h.R.Targets() {
		if t.State == targethealth.StateDraining {
			continue
		}
		res := regiontest.OK200
		if s := servers[t.ID]; s.code.DeepHealthCheck() && h.dependencyError(s) != "" {
			res = regiontest.Bad503
		}
		h.shell.Check(res, t.ID)
	}
}

// serveLB is the load balancer with the web servers behind it: / and the health-check path,
// routed by the model (Pick), answered by the servers' rule.
func (h *Lab) serveLB(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lb.Requests++
	id, failOpen, ok := h.R.Pick()
	if !ok {
		h.lb.ELB5xx++
		h.lb.ELB503++
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	if failOpen {
		h.lb.FailOpen++
	}
	h.requests[id]++
	s := h.servers()[id]
	meta := map[string]string{"availability_zone": s.zone, "instance_id": s.id}
	derr := h.dependencyError(s)
	if r.URL.Path == lab.TargetGroupHealthCheck.Path {
		deep := s.code.DeepHealthCheck()
		status, healthy := http.StatusOK, !deep || derr == ""
		if !healthy {
			status = http.StatusServiceUnavailable
			h.lb.Target5xx++
		}
		writeJSON(w, status, map[string]any{"healthy": healthy, "deep": deep, "server_code": s.code, "metadata": meta})
		return
	}
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	page := map[string]any{"server_code": s.code, "metadata": meta}
	switch {
	case derr == "":
		seed := lab.Seed().Items
		var rec lab.Recommendation
		for n := 0; ; n++ {
			rec = seed[(h.users+n)%len(seed)]
			if rec.UserID >= lab.FirstUserID && rec.UserID <= lab.LastUserID {
				h.users += n + 1
				break
			}
		}
		page["user_id"], page["user_name"], page["show"], page["personalized"] = rec.UserID, rec.UserName, rec.Result, true
	case s.code.DegradesGracefully():
		page["user_name"], page["show"], page["personalized"], page["diagnostic"] = lab.StaticUserName, lab.StaticShow, false, derr
	default:
		// basic drops the connection; the load balancer answers 502 for it.
		h.lb.ELB5xx++
		h.lb.ELB502++
		w.Header().Set(labclient.TargetHeader, id)
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Shutdowns counts the control API's shutdown calls (`labctl local down`).
func (h *Lab) Shutdowns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shutdowns
}
