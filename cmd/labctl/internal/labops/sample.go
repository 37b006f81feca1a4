package labops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
)

// page is the part of the web server's JSON answer that sample reads.
type page struct {
	UserName     string         `json:"user_name"`
	Show         string         `json:"show"`
	Personalized bool           `json:"personalized"`
	Diagnostic   string         `json:"diagnostic"`
	ServerCode   string         `json:"server_code"`
	Metadata     map[string]any `json:"metadata"`
}

// ZoneSample is what one zone answered during a sample.
type ZoneSample struct {
	Zone         string         `json:"zone"`
	Letter       string         `json:"letter,omitempty"`
	Instances    []string       `json:"instances"`
	Requests     int            `json:"requests"`
	Codes        map[string]int `json:"status_codes"`
	Personalized int            `json:"personalized"`
	Static       int            `json:"static"`
	Shows        map[string]int `json:"shows,omitempty"`       // the recommendations served, with counts
	Text         string         `json:"text,omitempty"`        // the first answer, worded as the page words it
	Diagnostics  []string       `json:"diagnostics,omitempty"` // the first static answer's diagnostic
}

// Sample is the result of `labctl sample`.
type Sample struct {
	URL      string                `json:"url"`
	Requests int                   `json:"requests"`
	Codes    map[string]int        `json:"status_codes"`
	Zones    []ZoneSample          `json:"zones"`
	Counters *labclient.LBCounters `json:"counters,omitempty"` // load-balancer counters during the sample (local lab only)
}

// Sample sends n sequential GET requests (Accept: application/json) to the WebsiteURL
// output and sorts the answers by zone: the page's metadata names it, and on the local lab
// a load-balancer error carries the target's instance id in labclient.TargetHeader. On the
// local lab it also reports the load balancer's counters during the sample.
func (l *Lab) Sample(ctx context.Context, n int) (Sample, error) {
	before, err := l.Status(ctx)
	if err != nil {
		return Sample{}, err
	}
	zoneOf := map[string]string{}
	for _, t := range before.Targets {
		zoneOf[t.InstanceID] = t.Zone
	}
	url := strings.TrimRight(l.Output(lab.OutputWebsiteURL), "/")
	client := &http.Client{Timeout: 10 * time.Second}
	s := Sample{URL: url, Codes: map[string]int{}}
	zones := map[string]*ZoneSample{}
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
		if err != nil {
			return Sample{}, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return Sample{}, ctx.Err()
			}
			return Sample{}, fmt.Errorf("load balancer %s: %w", url, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()

		var p page
		parsed := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Unmarshal(body, &p) == nil
		id := resp.Header.Get(labclient.TargetHeader)
		zone := ""
		if parsed {
			zone, _ = p.Metadata["availability_zone"].(string)
			if v, ok := p.Metadata["instance_id"].(string); ok && v != "" {
				id = v
			}
		}
		if zone == "" {
			zone = zoneOf[id]
		}
		if zone == "" {
			zone = "unknown"
		}
		z := zones[zone]
		if z == nil {
			z = &ZoneSample{Zone: zone, Codes: map[string]int{}}
			zones[zone] = z
		}
		code := strconv.Itoa(resp.StatusCode)
		s.Requests++
		s.Codes[code]++
		z.Requests++
		z.Codes[code]++
		if id != "" && !slices.Contains(z.Instances, id) {
			z.Instances = append(z.Instances, id)
		}
		if parsed && resp.StatusCode == http.StatusOK {
			if z.Shows == nil {
				z.Shows = map[string]int{}
			}
			z.Shows[p.Show]++
			if z.Text == "" {
				z.Text = view.Recommendation(p.UserName, p.Show, p.Personalized)
			}
			if p.Personalized {
				z.Personalized++
			} else {
				z.Static++
				if p.Diagnostic != "" && len(z.Diagnostics) == 0 {
					z.Diagnostics = append(z.Diagnostics, p.Diagnostic)
				}
			}
		}
	}
	if before.Counters != nil {
		after, err := l.T.Lab.Counters(ctx)
		if err != nil {
			return Sample{}, err
		}
		k0, k1 := *before.Counters, after.LB
		s.Counters = &labclient.LBCounters{
			Requests: k1.Requests - k0.Requests, ELB5xx: k1.ELB5xx - k0.ELB5xx, ELB502: k1.ELB502 - k0.ELB502,
			ELB503: k1.ELB503 - k0.ELB503, ELB504: k1.ELB504 - k0.ELB504, Target5xx: k1.Target5xx - k0.Target5xx,
			FailOpen: k1.FailOpen - k0.FailOpen,
		}
	}
	letters := map[string]string{}
	for _, t := range before.Targets {
		letters[t.Zone] = t.Letter
	}
	// Every zone of the group has a row, with 0 when the load balancer sent it nothing.
	for _, z := range before.Zones {
		if zones[z.Name] == nil {
			zones[z.Name] = &ZoneSample{Zone: z.Name, Instances: []string{}, Codes: map[string]int{}}
		}
	}
	for _, z := range zones {
		z.Letter = letters[z.Zone]
		s.Zones = append(s.Zones, *z)
	}
	sort.Slice(s.Zones, func(i, j int) bool { return s.Zones[i].Zone < s.Zones[j].Zone })
	return s, nil
}
