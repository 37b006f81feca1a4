package main

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
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/spf13/cobra"

	"healthchecklab/cmd/labctl/internal/locallab"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
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
	Instances    []string       `json:"instances"`
	Requests     int            `json:"requests"`
	Codes        map[string]int `json:"status_codes"`
	Personalized int            `json:"personalized"`
	Static       int            `json:"static"`
	Diagnostics  []string       `json:"diagnostics,omitempty"` // the first static answer's diagnostic
}

// Sample is the result of `labctl sample`.
type Sample struct {
	URL      string          `json:"url"`
	Requests int             `json:"requests"`
	Codes    map[string]int  `json:"status_codes"`
	Zones    []ZoneSample    `json:"zones"`
	Counters localb.Counters `json:"counters"` // load-balancer counters during the sample
}

func newSampleCmd(dial dialer) *cobra.Command {
	var (
		n      int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "sample [-n 30]",
		Short: "Send n requests through the load balancer; per zone: status codes, personalized vs static",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || n > 10000 {
				return fmt.Errorf("bad -n %d: use 1-10000", n)
			}
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			s, err := takeSample(cmd.Context(), c, n)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			printSample(cmd.OutOrStdout(), s)
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 30, "number of requests")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// takeSample sends n sequential GET / requests (Accept: application/json) and sorts the
// answers by zone: the page's metadata names it, and a load-balancer error carries the
// target's instance id in localb.TargetHeader.
func takeSample(ctx context.Context, c *locallab.Client, n int) (Sample, error) {
	before, err := c.Status(ctx)
	if err != nil {
		return Sample{}, err
	}
	zoneOf := map[string]string{}
	for _, t := range before.Targets {
		zoneOf[t.InstanceID] = t.Zone
	}
	client := &http.Client{Timeout: 10 * time.Second}
	s := Sample{URL: c.State.URL, Codes: map[string]int{}}
	zones := map[string]*ZoneSample{}
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.State.URL+"/", nil)
		if err != nil {
			return Sample{}, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return Sample{}, ctx.Err()
			}
			return Sample{}, fmt.Errorf("load balancer %s: %w", c.State.URL, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()

		var p page
		parsed := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Unmarshal(body, &p) == nil
		id := resp.Header.Get(localb.TargetHeader)
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
	after, err := c.Status(ctx)
	if err != nil {
		return Sample{}, err
	}
	k0, k1 := before.Counters, after.Counters
	s.Counters = localb.Counters{
		Requests: k1.Requests - k0.Requests, ELB5xx: k1.ELB5xx - k0.ELB5xx, ELB502: k1.ELB502 - k0.ELB502,
		ELB503: k1.ELB503 - k0.ELB503, ELB504: k1.ELB504 - k0.ELB504, Target5xx: k1.Target5xx - k0.Target5xx,
		FailOpen: k1.FailOpen - k0.FailOpen,
	}
	for _, z := range zones {
		s.Zones = append(s.Zones, *z)
	}
	sort.Slice(s.Zones, func(i, j int) bool { return s.Zones[i].Zone < s.Zones[j].Zone })
	return s, nil
}

func printSample(out io.Writer, s Sample) {
	fmt.Fprintf(out, "%d requests through %s\n\n", s.Requests, s.URL)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tINSTANCE\tREQUESTS\tSTATUS CODES\tPERSONALIZED\tSTATIC")
	for _, z := range s.Zones {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\n", z.Zone, strings.Join(z.Instances, ","), z.Requests, codes(z.Codes), z.Personalized, z.Static)
	}
	tw.Flush()
	for _, z := range s.Zones {
		for _, d := range z.Diagnostics {
			fmt.Fprintf(out, "%s diagnostic: %s\n", z.Zone, d)
		}
	}
	k := s.Counters
	fmt.Fprintf(out, "\nduring the sample: load-balancer 5xx %d (502: %d, 503: %d, 504: %d), target 5xx %d, routed while failing open %d\n",
		k.ELB5xx, k.ELB502, k.ELB503, k.ELB504, k.Target5xx, k.FailOpen)
}

// codes renders status-code counts as "200×8 502×2".
func codes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// setParameter writes RecommendationServiceEnabled through the SSM API of the lab's AWS
// endpoint, signed with the lab user's key pair, with the real SDK client, and returns the new version.
func setParameter(ctx context.Context, st locallab.State, value string) (int64, error) {
	client := ssm.New(ssm.Options{
		Region:       st.Region,
		BaseEndpoint: aws.String(st.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: st.AccessKeyID, SecretAccessKey: st.SecretAccessKey}, nil
		}),
		RetryMaxAttempts: 2,
	})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := client.PutParameter(ctx, &ssm.PutParameterInput{
		Name:      aws.String(lab.ParameterName),
		Value:     aws.String(value),
		Type:      types.ParameterTypeString,
		Overwrite: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("put-parameter %s: %w", lab.ParameterName, err)
	}
	return out.Version, nil
}
