package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin"
	"healthchecklab/internal/standin/ddbauth"
	"healthchecklab/internal/standin/dynalite"
)

// Benchmarks of the real server process against the stand-ins (dynalite behind ddbauth,
// ssmstub, the IMDS stand-in), over loopback HTTP with keep-alive clients. Each reports
// requests per second and the p50/p99 latency of its requests. Run:
//
//	go test ./webserver -run '^$' -bench . -benchtime 3s
//
// WEBSERVER_BIN runs them against a prebuilt server (e.g. an older version, to compare);
// WEBSERVER_CPUPROFILE=FILE makes BenchmarkRecommendation's server write a CPU profile.

// benchClient keeps enough idle connections for the parallel clients.
var benchClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256},
}

// latencies collects request durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// report adds req/s, p50 and p99 (in milliseconds) to the benchmark's output.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	q := func(p float64) float64 {
		return float64(l.d[min(len(l.d)-1, int(p*float64(len(l.d))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// fetch does one GET and fails the benchmark on anything but wantStatus.
func fetch(b *testing.B, url string, wantStatus int) {
	resp, err := benchClient.Get(url)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != wantStatus {
		b.Errorf("GET %s = %d, want %d", url, resp.StatusCode, wantStatus)
	}
}

// parallelGets runs b.N GETs of path on s from 16 goroutines (8 per CPU on 2 CPUs) and
// reports, with the server process's own CPU time per request.
func parallelGets(b *testing.B, s *stack, path string) {
	cpu0, ok0 := s.cpuTime()
	timedParallel(b, func() { fetch(b, s.URL+path, http.StatusOK) })
	cpu1, ok1 := s.cpuTime()
	if ok0 && ok1 {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/req")
	}
}

// timedParallel runs op b.N times from 16 goroutines (8 per CPU on 2 CPUs) and reports
// throughput and latency percentiles.
func timedParallel(b *testing.B, op func()) {
	var lat latencies
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			op()
			mine = append(mine, time.Since(t0))
		}
		lat.add(mine)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
}

// BenchmarkRecommendation: / with the service up (parameter cached, one GetItem per request).
func BenchmarkRecommendation(b *testing.B) {
	var args []string
	if f := os.Getenv("WEBSERVER_CPUPROFILE"); f != "" {
		args = []string{"-cpuprofile", f} // the server's own profile, written when it stops
	}
	s := startStack(b, lab.CodeHealthCheck, stackConfig{args: args})
	parallelGets(b, s, "/?user=1")
}

// BenchmarkRecommendationStatic: / with the service disabled (a failing GetItem, static page).
func BenchmarkRecommendationStatic(b *testing.B) {
	s := startStack(b, lab.CodeErrorHandling, stackConfig{disabled: true})
	parallelGets(b, s, "/?user=1")
}

// BenchmarkHealthCheck: the deep /healthcheck, coalesced and reused for 1 s.
func BenchmarkHealthCheck(b *testing.B) {
	s := startStack(b, lab.CodeHealthCheck, stackConfig{})
	parallelGets(b, s, "/healthcheck")
}

// BenchmarkHealthCheckWhileSaturated: one health-check client, measured, while 128 clients keep
// / busier than its 64-request limit (the excess is shed with 503).
func BenchmarkHealthCheckWhileSaturated(b *testing.B) {
	s := startStack(b, lab.CodeHealthCheck, stackConfig{})
	var shed, served atomic.Int64
	stop := saturate(benchClient, s.URL+"/", 128, func(resp *http.Response) {
		if resp.StatusCode == http.StatusServiceUnavailable {
			shed.Add(1)
		} else {
			served.Add(1)
		}
	})
	time.Sleep(300 * time.Millisecond) // let the load build up
	var lat latencies
	var mine []time.Duration
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		t0 := time.Now()
		fetch(b, s.URL+"/healthcheck", http.StatusOK)
		mine = append(mine, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	lat.add(mine)
	lat.report(b, elapsed)
	b.ReportMetric(float64(served.Load())/elapsed.Seconds(), "root-served/s")
	b.ReportMetric(float64(shed.Load())/elapsed.Seconds(), "root-shed/s")
}

// BenchmarkDynaliteGetItem is the floor: the SDK's GetItem straight against dynalite, from 16
// goroutines, without the server or the proxy.
func BenchmarkDynaliteGetItem(b *testing.B) {
	c := dynalite.NewClient(dynaliteURL, "us-east-1", normalRole)
	in := &dynamodb.GetItemInput{
		TableName: aws.String(dynalite.DefaultTableName),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: strconv.Itoa(1)},
		},
	}
	timedParallel(b, func() {
		if _, err := c.GetItem(context.Background(), in); err != nil {
			b.Error(err)
		}
	})
}

// BenchmarkProxyGetItem is the fair floor for /: the SDK's GetItem with the server's own
// client settings (newDynamoDBClient: retry policy, pool) through the same authorizing proxy
// in front of dynalite, from the same 16 goroutines, without the web server.
func BenchmarkProxyGetItem(b *testing.B) {
	proxy, err := ddbauth.New(dynaliteURL, ddbauth.DenyRoles(noDDBRole))
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(proxy)
	defer ts.Close()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithBaseEndpoint(ts.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(standin.AccessKeyID(normalRole), standin.SecretAccessKey(normalRole), "")))
	if err != nil {
		b.Fatal(err)
	}
	c := newDynamoDBClient(cfg, 64)
	in := &dynamodb.GetItemInput{
		TableName: aws.String(dynalite.DefaultTableName),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: strconv.Itoa(1)},
		},
	}
	timedParallel(b, func() {
		if _, err := c.GetItem(context.Background(), in); err != nil {
			b.Error(err)
		}
	})
}

// faultDuration is how long the fault benchmarks keep their fault on: FAULT_DURATION
// (e.g. 30s), default 10 s.
func faultDuration(b *testing.B) time.Duration {
	if v := os.Getenv("FAULT_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("FAULT_DURATION: %v", err)
		}
		return d
	}
	return 10 * time.Second
}

// faultRun starts a healthcheck server with default settings, warms it up, calls inject, and
// then for faultDuration keeps 16 clients on / and one load-balancer-like health checker
// (one /healthcheck a second, 3 s timeout). It reports the share of personalized answers, /
// throughput and the health-check answers by status. Run once each:
//
//	FAULT_DURATION=30s go test ./webserver -run '^$' -bench Fault -benchtime 1x
func faultRun(b *testing.B, inject func(s *stack)) {
	s := startStack(b, lab.CodeHealthCheck, stackConfig{})
	for range 20 {
		fetch(b, s.URL+"/?user=1", http.StatusOK)
	}
	inject(s)
	b.ResetTimer()
	d := faultDuration(b)
	var total, personalized atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var p pageJSON
				req, _ := http.NewRequest(http.MethodGet, s.URL+"/?user=1", nil)
				req.Header.Set("Accept", "application/json")
				resp, err := benchClient.Do(req)
				if err != nil {
					total.Add(1)
					continue
				}
				_ = json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				total.Add(1)
				if p.Personalized {
					personalized.Add(1)
				}
			}
		}()
	}
	codes := map[string]int{}
	start := time.Now()
	tick := time.NewTicker(time.Second)
	for time.Since(start) < d {
		<-tick.C
		status, _, err := get(b, s.URL+"/healthcheck", "")
		switch {
		case err != nil:
			codes["error"]++
		default:
			codes[strconv.Itoa(status)]++
		}
	}
	tick.Stop()
	close(done)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if total.Load() > 0 {
		b.ReportMetric(100*float64(personalized.Load())/float64(total.Load()), "personalized-%")
	}
	b.ReportMetric(float64(total.Load())/elapsed.Seconds(), "root-req/s")
	for _, c := range []string{"200", "503", "error"} {
		b.ReportMetric(float64(codes[c]), "hc-"+c)
	}
}

// BenchmarkFaultMetadataOutage: the instance metadata service hangs after start-up.
func BenchmarkFaultMetadataOutage(b *testing.B) {
	faultRun(b, func(s *stack) { s.imdsFault.SetFault(faultHang) })
}

// BenchmarkFaultMetadataErrors: the instance metadata service answers 500 after start-up.
func BenchmarkFaultMetadataErrors(b *testing.B) {
	faultRun(b, func(s *stack) { s.imdsFault.SetFault(faultError) })
}

// BenchmarkFaultSlowParameter: GetParameter takes 1.5 s after warm-up.
func BenchmarkFaultSlowParameter(b *testing.B) {
	faultRun(b, func(s *stack) { s.ssm.SetDelay(1500 * time.Millisecond) })
}

// fixedRecommender answers every user at once, without any dependency.
type fixedRecommender struct{}

func (fixedRecommender) Recommend(_ context.Context, userID int) (Recommendation, error) {
	return Recommendation{UserID: userID, UserName: "Sarah", Show: "M*A*S*H"}, nil
}

// BenchmarkHandlerOverhead is the server's own work for one GET / in-process, without any
// dependency or network: routing, load shedding, the page and the JSON log line (to a
// discarding writer, so the write itself is not counted).
func BenchmarkHandlerOverhead(b *testing.B) {
	h := newServer(deps{
		logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		code:        lab.CodeHealthCheck,
		metadata:    Metadata{AvailabilityZone: "local-1a", InstanceID: "i-0123456789abcdef0"},
		service:     fixedRecommender{},
		maxInFlight: 64,
	})
	req := httptest.NewRequest(http.MethodGet, "/?user=1", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
