package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/dynalite"
)

// Benchmarks of the real server process against the stand-ins (dynalite behind ddbauth,
// ssmstub, the IMDS stand-in), over loopback HTTP with keep-alive clients. Each reports
// requests per second and the p50/p99 latency of its requests. Run:
//
//	go test ./webserver -run '^$' -bench . -benchtime 3s

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

// parallelGets runs b.N GETs of url from 16 goroutines (8 per CPU on 2 CPUs) and reports.
func parallelGets(b *testing.B, url string) {
	timedParallel(b, func() { fetch(b, url, http.StatusOK) })
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
	s := startStack(b, lab.CodeHealthCheck, stackConfig{})
	parallelGets(b, s.URL+"/?user=1")
}

// BenchmarkRecommendationStatic: / with the service disabled (a failing GetItem, static page).
func BenchmarkRecommendationStatic(b *testing.B) {
	s := startStack(b, lab.CodeErrorHandling, stackConfig{disabled: true})
	parallelGets(b, s.URL+"/?user=1")
}

// BenchmarkHealthCheck: the deep /healthcheck, coalesced and reused for 1 s.
func BenchmarkHealthCheck(b *testing.B) {
	s := startStack(b, lab.CodeHealthCheck, stackConfig{})
	parallelGets(b, s.URL+"/healthcheck")
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
