package main

import (
	"bufio"
	"debug/buildinfo"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin"
	"healthchecklab/internal/standin/dynalite"
)

type pageJSON struct {
	UserID       int      `json:"user_id"`
	UserName     string   `json:"user_name"`
	Show         string   `json:"show"`
	Personalized bool     `json:"personalized"`
	Diagnostic   string   `json:"diagnostic"`
	ServerCode   string   `json:"server_code"`
	Metadata     Metadata `json:"metadata"`
}

type healthJSON struct {
	Healthy  bool     `json:"healthy"`
	Error    string   `json:"error"`
	Metadata Metadata `json:"metadata"`
}

// TestModesAndFaults is the lab's table "the three server codes" under each fault: what /
// and /healthcheck answer, seen directly and through a reverse proxy standing in for the
// load balancer.
func TestModesAndFaults(t *testing.T) {
	type want struct {
		dropped      bool   // / sends no response (the proxy answers 502)
		personalized bool   // / is personalized (else static, if not dropped)
		diagnostic   string // in the static answer
		healthStatus int
	}
	faults := []struct {
		name string
		cfg  stackConfig
		kind string // error kind in the diagnostic
	}{
		{"service up", stackConfig{}, ""},
		{"service disabled", stackConfig{disabled: true}, "ResourceNotFoundException"},
		{"noDDB credentials", stackConfig{role: noDDBRole}, "AccessDeniedException"},
		{"DynamoDB hanging", stackConfig{hang: true}, "Timeout"},
	}
	for _, code := range lab.ServerCodes {
		for _, f := range faults {
			up := f.kind == ""
			w := want{personalized: up, diagnostic: f.kind, healthStatus: http.StatusOK}
			if !up && !code.DegradesGracefully() {
				w.dropped = true
			}
			if !up && code.DeepHealthCheck() {
				w.healthStatus = http.StatusServiceUnavailable
			}
			t.Run(string(code)+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				s := startStack(t, code, f.cfg)

				// Directly: a dropped connection is an error without any response.
				resp, err := client.Get(s.URL + "/?user=1")
				if w.dropped {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("basic with a failed dependency answered %d, want a dropped connection", resp.StatusCode)
					}
					if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
						t.Errorf("err = %v, want EOF (empty reply)", err)
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					var p pageJSON
					if status := getJSON(t, s.URL+"/?user=1", &p); status != http.StatusOK {
						t.Fatalf("/ status %d, want 200", status)
					}
					if p.Personalized != w.personalized {
						t.Errorf("personalized = %v, want %v (%+v)", p.Personalized, w.personalized, p)
					}
					if w.personalized && (p.UserName != "Sarah" || p.Show != "M*A*S*H" || p.Diagnostic != "") {
						t.Errorf("personalized answer = %+v", p)
					}
					if !w.personalized && (p.UserName != lab.StaticUserName || p.Show != lab.StaticShow || !strings.HasPrefix(p.Diagnostic, w.diagnostic+": ")) {
						t.Errorf("static answer = %+v, want diagnostic %s", p, w.diagnostic)
					}
					if p.ServerCode != string(code) || p.Metadata.AvailabilityZone != "local-1c" || p.Metadata.InstanceID != s.imds.Instance().ID || p.Metadata.AccountID != standin.AccountID {
						t.Errorf("server_code/metadata = %q %+v", p.ServerCode, p.Metadata)
					}
				}

				// Through a reverse proxy, as through the load balancer.
				target, _ := url.Parse(s.URL)
				lb := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
				defer lb.Close()
				status, body, err := get(t, lb.URL+"/?user=2", "")
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case w.dropped && status != http.StatusBadGateway:
					t.Errorf("through the proxy: %d, want 502", status)
				case !w.dropped && w.personalized && !strings.Contains(body, "<b>Bob</b>, your recommendation is: <b>All in the Family</b>"):
					t.Errorf("through the proxy: %d, page lacks the personalized answer:\n%s", status, body)
				case !w.dropped && !w.personalized && !containsAll(body, "Valued Customer, everyone enjoys this classic: I Love Lucy", "Diagnostic Info", w.diagnostic):
					t.Errorf("through the proxy: %d, page lacks the static answer:\n%s", status, body)
				}

				var h healthJSON
				if status := getJSON(t, s.URL+"/healthcheck", &h); status != w.healthStatus {
					t.Errorf("/healthcheck = %d %+v, want %d", status, h, w.healthStatus)
				}
				if h.Healthy != (w.healthStatus == http.StatusOK) || (h.Healthy && h.Error != "") || (!h.Healthy && !strings.HasPrefix(h.Error, w.diagnostic)) {
					t.Errorf("/healthcheck JSON = %+v", h)
				}
				status, body, err = get(t, s.URL+"/healthcheck", "text/html")
				if err != nil {
					t.Fatal(err)
				}
				if word := map[bool]string{true: "<h1>Success</h1>", false: "<h1>Fail</h1>"}[w.healthStatus == 200]; status != w.healthStatus || !strings.Contains(body, word) || !strings.Contains(body, "local-1c") {
					t.Errorf("/healthcheck HTML %d lacks %s or the zone:\n%s", status, word, body)
				}
			})
		}
	}
}

// TestRoleSwapSeenWithin10s swaps the instance profile as the lab does in the console, with
// the server's default settings, and waits for the server to use the new role.
func TestRoleSwapSeenWithin10s(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeErrorHandling, stackConfig{})
	personalized := func() bool {
		var p pageJSON
		getJSON(t, s.URL+"/?user=3", &p)
		return p.Personalized
	}
	if !personalized() {
		t.Fatal("not personalized with the normal role")
	}
	s.imds.SetRole(noDDBRole)
	eventually(t, 10*time.Second, "static answer after the swap to the noDDB role", func() bool { return !personalized() })
	var p pageJSON
	getJSON(t, s.URL+"/?user=3", &p)
	if !strings.Contains(p.Diagnostic, "AccessDeniedException") || !strings.Contains(p.Diagnostic, noDDBRole+"/"+s.imds.Instance().ID) {
		t.Errorf("diagnostic %q does not name AccessDenied for the noDDB role and this instance", p.Diagnostic)
	}
	s.imds.SetRole(normalRole)
	eventually(t, 10*time.Second, "personalized again after the swap back", personalized)
}

// TestMetadataOutage makes the instance metadata service hang, then fail, after start-up: the
// credentials in hand are valid for hours, so every answer stays personalized and the deep
// check healthy, long past the credentials' refresh interval.
func TestMetadataOutage(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeHealthCheck, stackConfig{args: []string{"-credentials-max-age", "500ms"}})
	var p pageJSON
	if getJSON(t, s.URL+"/?user=1", &p); !p.Personalized {
		t.Fatalf("not personalized before the outage: %+v", p)
	}
	for _, f := range []fault{faultHang, faultError} {
		s.imdsFault.SetFault(f)
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
			var p pageJSON
			getJSON(t, s.URL+"/?user=1", &p)
			var h healthJSON
			hs := getJSON(t, s.URL+"/healthcheck", &h)
			if !p.Personalized || hs != http.StatusOK {
				t.Fatalf("metadata fault %d: / personalized=%v (%s), /healthcheck %d %s; want personalized and 200", f, p.Personalized, p.Diagnostic, hs, h.Error)
			}
		}
	}
	if s.imdsFault.Faulted() == 0 {
		t.Fatal("the server never tried to refresh its credentials during the outage")
	}
	s.imdsFault.SetFault(faultNone)
	// The refresh resumes: a role swap is seen again.
	s.imds.SetRole(noDDBRole)
	eventually(t, 10*time.Second, "static answer after the swap once the metadata service is back", func() bool {
		var p pageJSON
		getJSON(t, s.URL+"/?user=1", &p)
		return !p.Personalized
	})
	if !slices.ContainsFunc(s.Logs(), func(l string) bool { return strings.Contains(l, "credentials refresh failed") }) {
		t.Error("no log line says the credentials refresh failed")
	}
}

// TestAccessDeniedRefreshesCredentials: with a refresh interval far away, an AccessDenied
// answer alone makes the server re-read its role's credentials, so swapping the noDDB role
// back for the normal one is seen at once.
func TestAccessDeniedRefreshesCredentials(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeErrorHandling, stackConfig{role: noDDBRole, args: []string{"-credentials-max-age", "1h"}})
	var p pageJSON
	if getJSON(t, s.URL+"/?user=2", &p); p.Personalized || !strings.HasPrefix(p.Diagnostic, "AccessDeniedException") {
		t.Fatalf("with the noDDB role: %+v, want AccessDeniedException", p)
	}
	s.imds.SetRole(normalRole)
	eventually(t, 10*time.Second, "personalized after the swap back to the normal role", func() bool {
		var p pageJSON
		getJSON(t, s.URL+"/?user=2", &p)
		return p.Personalized
	})
}

// TestSlowParameterStore makes GetParameter slower than the dependency timeout after warm-up:
// the last value keeps being served (and logged as stale) while refreshes run in the
// background, so answers stay personalized and the deep check healthy; once Parameter Store
// answers again, a flip is seen.
func TestSlowParameterStore(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeHealthCheck, stackConfig{args: []string{"-parameter-ttl", "300ms", "-health-ttl", "0s"}})
	var p pageJSON
	if getJSON(t, s.URL+"/?user=3", &p); !p.Personalized {
		t.Fatalf("not personalized before the slowdown: %+v", p)
	}
	s.ssm.SetDelay(1500 * time.Millisecond)
	calls := s.ssm.GetParameterCalls()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		var p pageJSON
		getJSON(t, s.URL+"/?user=3", &p)
		var h healthJSON
		hs := getJSON(t, s.URL+"/healthcheck", &h)
		if !p.Personalized || hs != http.StatusOK {
			t.Fatalf("slow Parameter Store: / personalized=%v (%s), /healthcheck %d %s; want personalized and 200", p.Personalized, p.Diagnostic, hs, h.Error)
		}
	}
	if n := s.ssm.GetParameterCalls() - calls; n < 1 || n > 4 {
		t.Errorf("%d GetParameter calls in 3 s of slowness; want 1..4 (one refresh at a time)", n)
	}
	eventually(t, 5*time.Second, "a request log line marks the parameter as stale", func() bool {
		return slices.ContainsFunc(s.Logs(), func(l string) bool { return strings.Contains(l, `"parameter_stale":true`) })
	})
	s.ssm.SetDelay(0)
	if _, err := s.ssm.Set(lab.ParameterName, "false"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "static answer after Parameter Store recovers and the service is disabled", func() bool {
		var p pageJSON
		getJSON(t, s.URL+"/?user=3", &p)
		return !p.Personalized
	})
}

// TestParameterCache sends many requests and counts Parameter Store calls; then flips the
// parameter and waits for the flip to take effect within the cache's lifetime.
func TestParameterCache(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeErrorHandling, stackConfig{args: []string{"-parameter-ttl", "2s"}})
	start := time.Now()
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if status, _, err := get(t, s.URL+"/?user=4", ""); err != nil || status != 200 {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d of 200 requests failed", failures.Load())
	}
	// One read per started 2 s window, plus one in flight at a window's edge.
	limit := int64(time.Since(start)/(2*time.Second)) + 2
	if n := s.ssm.GetParameterCalls(); n < 1 || n > limit {
		t.Errorf("200 requests made %d GetParameter calls, want 1..%d", n, limit)
	}

	if _, err := s.ssm.Set(lab.ParameterName, "false"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second+time.Second, "static answer after disabling the service", func() bool {
		var p pageJSON
		getJSON(t, s.URL+"/?user=4", &p)
		return !p.Personalized && strings.HasPrefix(p.Diagnostic, "ResourceNotFoundException")
	})
}

// TestCoalescedHealthChecks floods /healthcheck and counts the DynamoDB calls it caused.
func TestCoalescedHealthChecks(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeHealthCheck, stackConfig{})
	before := s.proxy.Calls("GetItem")
	start := time.Now()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if status, _, err := get(t, s.URL+"/healthcheck", ""); err != nil || status != 200 {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d of 500 health checks failed", bad.Load())
	}
	// At most one check per started second of result reuse, plus one at the edge.
	limit := int64(time.Since(start)/time.Second) + 2
	if n := s.proxy.Calls("GetItem") - before; n < 1 || n > limit {
		t.Errorf("500 health checks made %d GetItem calls, want 1..%d", n, limit)
	}
}

// TestHealthCheckWhileSaturated keeps / busier than its concurrency limit and checks that
// the excess is shed with 503 while every health check still answers 200.
func TestHealthCheckWhileSaturated(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeHealthCheck, stackConfig{args: []string{"-max-in-flight", "2"}})
	var shed, served atomic.Int64
	stop := saturate(client, s.URL+"/", 32, func(resp *http.Response) {
		switch resp.StatusCode {
		case http.StatusServiceUnavailable:
			if resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			shed.Add(1)
		case http.StatusOK:
			served.Add(1)
		}
	})
	eventually(t, 10*time.Second, "some / requests shed while saturated", func() bool { return shed.Load() > 0 })
	for range 20 {
		if status, _, err := get(t, s.URL+"/healthcheck", ""); err != nil || status != http.StatusOK {
			t.Errorf("health check under load: %d %v", status, err)
		}
	}
	stop()
	if served.Load() == 0 {
		t.Error("no / request served at all")
	}
}

// TestDynamoDBConnectionReuse keeps as many clients on / as the server lets in at once and
// counts the connections the server opened to DynamoDB: its pool must keep one per request in
// flight, so nearly every GetItem reuses a connection.
func TestDynamoDBConnectionReuse(t *testing.T) {
	t.Parallel()
	const clients, each = 64, 20
	s := startStack(t, lab.CodeErrorHandling, stackConfig{args: []string{"-max-in-flight", strconv.Itoa(clients)}})
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer c.CloseIdleConnections()
	before := s.ddbConns.Load()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				resp, err := c.Get(s.URL + "/?user=1")
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	n := s.ddbConns.Load() - before
	t.Logf("%d answers, %d new connections to DynamoDB (%.1f%%)", ok.Load(), n, 100*float64(n)/float64(ok.Load()))
	if n > clients+clients/4 {
		t.Errorf("%d requests from %d clients opened %d connections to DynamoDB; want about one per request in flight", ok.Load(), clients, n)
	}
}

// TestBadInputs checks what the server answers to requests it must refuse.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeHealthCheck, stackConfig{args: []string{"-read-header-timeout", "300ms"}})
	tests := []struct {
		method, path string
		header       map[string]string
		status       int
		allow        string
	}{
		{"GET", "/?user=0", nil, 400, ""},
		{"GET", "/?user=5", nil, 400, ""},
		{"GET", "/?user=abc", nil, 400, ""},
		{"GET", "/?user=", nil, 400, ""},
		{"GET", "/?user=01", nil, 400, ""},
		{"GET", "/?user=1&user=2", nil, 400, ""},
		{"GET", "/?user=%zz", nil, 400, ""},
		{"GET", "/?user=1;x=2", nil, 400, ""},
		{"GET", "/?user=1&x=%zz", nil, 400, ""},
		{"GET", "/?user=%31", nil, 200, ""},
		{"GET", "/?user=4", nil, 200, ""},
		{"GET", "/?other=1", nil, 200, ""},
		{"POST", "/", nil, 405, "GET, HEAD"},
		{"DELETE", "/healthcheck", nil, 405, "GET, HEAD"},
		{"PUT", "/livez", nil, 405, "GET, HEAD"},
		{"GET", "/nope", nil, 404, ""},
		{"GET", "/healthcheck/", nil, 404, ""},
		{"GET", "/index.html", nil, 404, ""},
		{"GET", "/livez", nil, 200, ""},
		{"GET", "/", map[string]string{"X-Huge": strings.Repeat("a", 64<<10)}, 431, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, s.URL+tt.path, nil)
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if got := resp.Header.Get("Allow"); tt.allow != "" && got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}

	for _, path := range []string{"/?user=1", "/healthcheck", "/livez"} {
		resp, err := client.Head(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes, want 200 without body", path, resp.StatusCode, len(b))
		}
	}

	// The request head (request line and headers) may be exactly -max-header-bytes long, the
	// figure the README gives; one byte more is 431.
	for _, tt := range []struct {
		size   int
		status string
	}{{defaultMaxHeaderBytes, "200"}, {defaultMaxHeaderBytes + 1, "431"}} {
		if got := rawHeadStatus(t, s.URL, tt.size); got != tt.status {
			t.Errorf("request head of %d bytes: %s, want %s", tt.size, got, tt.status)
		}
	}

	// A slow client that never finishes its headers is disconnected.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Error("slow client still connected after 10 s; want it cut off after the header timeout")
	}
}

// rawHeadStatus sends GET /livez with a request head (request line, headers, blank line) of
// exactly size bytes over a raw connection and returns the status code answered.
func rawHeadStatus(t *testing.T, baseURL string, size int) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
	const end = "\r\n\r\n"
	head += strings.Repeat("a", size-len(head)-len(end)) + end
	if len(head) != size {
		t.Fatalf("built a head of %d bytes, want %d", len(head), size)
	}
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("head of %d bytes: %v", size, err)
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		t.Fatalf("status line %q", line)
	}
	return fields[1]
}

// TestHalfClosedClient sends a request and half-closes its side of the connection (as
// `nc -N` or a shell script does) before any result is cached: it still gets the real answer,
// not a "Canceled" dependency failure.
func TestHalfClosedClient(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code lab.ServerCode
		path string
		want string // in the body
	}{
		{lab.CodeHealthCheck, "/healthcheck", `"healthy":true`},
		{lab.CodeErrorHandling, "/?user=1", `"personalized":true`},
	} {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			s := startStack(t, tt.code, stackConfig{})
			conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "GET " + tt.path + " HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tt.want) {
				t.Errorf("half-closed GET %s = %d %s, want 200 with %s", tt.path, resp.StatusCode, b, tt.want)
			}
		})
	}
}

// TestPageEscapesAndLogs serves a user whose data is HTML and checks the page escapes it, and
// that the request log is one JSON line per request that carries no credentials.
func TestPageEscapesAndLogs(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeErrorHandling, stackConfig{table: escapeTable})
	status, body, err := get(t, s.URL+"/?user=1", "")
	if err != nil || status != 200 {
		t.Fatalf("GET: %d %v", status, err)
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") || !strings.Contains(body, "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;") {
		t.Errorf("page does not escape the item's HTML:\n%s", body)
	}
	get(t, s.URL+"/healthcheck", "")
	var logs []string
	eventually(t, 5*time.Second, "two request log lines", func() bool {
		logs = nil
		for _, l := range s.Logs() {
			if strings.Contains(l, `"msg":"request"`) {
				logs = append(logs, l)
			}
		}
		return len(logs) >= 2
	})
	if !containsAll(logs[0], `"path":"/"`, `"status":200`, `"mode":"errorhandling"`, `"dependency":"ok"`, `"duration_ms":`, `"user":1`) {
		t.Errorf("request log line lacks fields: %s", logs[0])
	}
	for _, l := range s.Logs() {
		if strings.Contains(l, standin.SecretAccessKey(normalRole)) || strings.Contains(l, standin.AccessKeyID(normalRole)) || strings.Contains(l, "STANDIN") {
			t.Errorf("log line carries credentials: %s", l)
		}
	}
}

// TestGracefulShutdown sends SIGTERM while a request waits on a hanging DynamoDB: the request
// still gets its answer, and the process exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := startStack(t, lab.CodeErrorHandling, stackConfig{hang: true, args: []string{"-dependency-timeout", "1500ms"}})
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		status, _, err := get(t, s.URL+"/?user=1", "")
		done <- result{status, err}
	}()
	eventually(t, 5*time.Second, "request reached DynamoDB", func() bool { return s.proxy.Requests() > 0 })
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.status != http.StatusOK {
		t.Errorf("in-flight request during shutdown: %d %v, want the static 200", r.status, r.err)
	}
	select {
	case <-s.exited:
	case <-time.After(lab.TargetGroupHealthCheck.DeregistrationDelay):
		t.Fatal("not stopped within the deregistration delay")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestOutsideAWS starts without any metadata service: the page says so and still works.
func TestOutsideAWS(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	s := startStack(t, lab.CodeBasic, stackConfig{
		args: []string{"-region", "us-east-2", "-metadata-timeout", "500ms"},
		env:  []string{"AWS_ACCESS_KEY_ID=" + standin.AccessKeyID(normalRole), "AWS_SECRET_ACCESS_KEY=x", "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + closed},
	})
	status, body, err := get(t, s.URL+"/?user=2", "")
	if err != nil || status != 200 || !strings.Contains(body, "Running outside AWS") || !strings.Contains(body, "<b>Bob</b>") {
		t.Errorf("GET outside AWS: %d %v\n%s", status, err, body)
	}
	var p pageJSON
	getJSON(t, s.URL+"/?user=2", &p)
	if !p.Metadata.OutsideAWS || p.Metadata.InstanceID != "" {
		t.Errorf("metadata = %+v, want running_outside_aws", p.Metadata)
	}
}

// TestServerBuiltLikeTestBinary checks that the server processes the tests start are built
// with the race detector exactly when the test binary is, so `go test -race` checks them too.
func TestServerBuiltLikeTestBinary(t *testing.T) {
	info, err := buildinfo.ReadFile(serverBin)
	if err != nil {
		t.Fatal(err)
	}
	race := false
	for _, s := range info.Settings {
		if s.Key == "-race" && s.Value == "true" {
			race = true
		}
	}
	if race != raceEnabled {
		t.Errorf("server binary built with -race=%v, test binary with -race=%v", race, raceEnabled)
	}
}

// TestFlags checks the command line: -h, a bad ServerCode, a missing table.
func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"webserver", "-h"}, "help requested"},
		{[]string{"webserver", "-server-code", "deep", "-table", "T"}, "must be one of basic, errorhandling, healthcheck"},
		{[]string{"webserver", "-server-code", "basic"}, "-table is required"},
		{[]string{"webserver", "-server-code", "basic", "-table", "T", "extra"}, "unexpected arguments"},
		{[]string{"webserver", "-server-code", "basic", "-table", "T", "-max-in-flight", "0"}, "max-in-flight"},
		{[]string{"webserver", "-server-code", "basic", "-table", "T", "-max-header-bytes", "4096"}, "max-header-bytes must be more than"},
	}
	for _, tt := range tests {
		err := run(t.Context(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("run(%v) = %v, want %q", tt.args, err, tt.wantErr)
		}
	}
	o, err := parseOptions([]string{}, func(k string) string {
		return map[string]string{"SERVER_CODE": "healthcheck", "TABLE_NAME": "T", "LISTEN_ADDR": ":8080"}[k]
	}, io.Discard)
	if err != nil || o.serverCode != lab.CodeHealthCheck || o.table != "T" || o.listen != ":8080" || o.parameter != lab.ParameterName || o.parameterTTL != 5*time.Second || o.dependencyTimeout != time.Second {
		t.Errorf("env fallbacks: %+v, %v", o, err)
	}
	_ = dynalite.DefaultTableName
}
