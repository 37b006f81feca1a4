package ddbauth

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestProxyReusesUpstreamConnections sends requests from 64 concurrent clients through the
// proxy and counts the connections it opened to its target: the idle pool must hold one per
// client, so nearly every request after the first round reuses a connection.
func TestProxyReusesUpstreamConnections(t *testing.T) {
	var upstreamConns atomic.Int64
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{}`)
	}))
	target.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			upstreamConns.Add(1)
		}
	}
	target.Start()
	defer target.Close()
	p, err := New(target.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()

	const clients, each = 64, 30
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				resp, err := c.Post(front.URL, "application/x-amz-json-1.0", nil)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	n := upstreamConns.Load()
	t.Logf("%d requests opened %d upstream connections (%.1f%%)", clients*each, n, 100*float64(n)/float64(clients*each))
	if n > clients+clients/4 {
		t.Errorf("%d requests from %d clients opened %d upstream connections; want about one per client", clients*each, clients, n)
	}
}
