package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/internal/lab"
)

// printStatus renders a status as text: a header, one row per target, and on the local
// lab the load balancer's counters.
func printStatus(out io.Writer, st labops.Status) {
	hc := st.HealthCheck
	fmt.Fprintf(out, "web site %s   ServerCode %s   %s=%s\n", st.URL, st.ServerCode, lab.ParameterName, st.Parameter)
	fmt.Fprintf(out, "health check %s every %gs, timeout %gs, healthy %d, unhealthy %d, deregistration delay %gs\n",
		hc.Path, hc.IntervalSeconds, hc.TimeoutSeconds, hc.HealthyThreshold, hc.UnhealthyThreshold, hc.DeregistrationDelay)
	if st.Busy != "" {
		fmt.Fprintln(out, st.Busy)
	}
	fmt.Fprintln(out)
	local := st.Counters != nil
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	header := "ZONE\tINSTANCE\tSTATE\tREASON\tROLE\tCODE"
	if local {
		header += "\tREQUESTS"
	}
	fmt.Fprintln(tw, header)
	for _, t := range st.Targets {
		reason := t.Reason
		if t.Description != "" && (t.State == "unhealthy" || t.State == "unused") {
			reason += " (" + t.Description + ")"
		}
		zone := t.Zone
		if t.Letter != "" {
			zone = t.Letter + " " + t.Zone
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", zone, t.InstanceID, t.State, reason, t.Role, t.ServerCode)
		if local {
			fmt.Fprintf(tw, "\t%d", t.Requests)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if k := st.Counters; k != nil {
		fmt.Fprintf(out, "\nrequests %d   load-balancer 5xx %d (502: %d, 503: %d, 504: %d)   target 5xx %d   routed while failing open %d\n",
			k.Requests, k.ELB5xx, k.ELB502, k.ELB503, k.ELB504, k.Target5xx, k.FailOpen)
	}
}

// printSample renders a sample: one row per zone, the shows served, any diagnostic, and on
// the local lab the load balancer's counters during the sample.
func printSample(out io.Writer, s labops.Sample) {
	fmt.Fprintf(out, "%d requests to %s\n\n", s.Requests, s.URL)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tINSTANCE\tREQUESTS\tSTATUS CODES\tPERSONALIZED\tSTATIC\tSHOWS")
	for _, z := range s.Zones {
		zone := z.Zone
		if z.Letter != "" {
			zone = z.Letter + " " + z.Zone
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\n", zone, strings.Join(z.Instances, ","), z.Requests, counts(z.Codes),
			z.Personalized, z.Static, counts(z.Shows))
	}
	tw.Flush()
	for _, z := range s.Zones {
		for _, d := range z.Diagnostics {
			fmt.Fprintf(out, "%s diagnostic: %s\n", z.Zone, d)
		}
	}
	if k := s.Counters; k != nil {
		fmt.Fprintf(out, "\nduring the sample: load-balancer 5xx %d (502: %d, 503: %d, 504: %d), target 5xx %d, routed while failing open %d\n",
			k.ELB5xx, k.ELB502, k.ELB503, k.ELB504, k.Target5xx, k.FailOpen)
	}
}

// counts renders counts by key as "200×8 502×2", keys in order.
func counts(m map[string]int) string {
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
