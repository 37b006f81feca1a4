package region_test

import (
	"strings"
	"testing"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/region"
	rt "healthchecklab/internal/awslocal/region/regiontest"
)

var (
	t0      = rt.T0
	ok200   = rt.OK200
	bad503  = rt.Bad503
	timeout = rt.Timeout
	refused = rt.Refused
)

func newRegion(t *testing.T, edit func(*region.Config)) (*region.Region, *rt.Shell) {
	t.Helper()
	s := rt.New(t, edit)
	return s.R, s
}

func healthyLab(t *testing.T, edit func(*region.Config)) (*region.Region, *rt.Shell) {
	t.Helper()
	s := rt.Healthy(t, edit)
	return s.R, s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// in returns the EC2 view of one instance.
func in(t *testing.T, r *region.Region, id string) ec2.Instance {
	t.Helper()
	for _, x := range r.Instances() {
		if x.ID == id {
			return x
		}
	}
	t.Fatalf("no instance %s", id)
	return ec2.Instance{}
}

// member returns the Auto Scaling view of one instance: lifecycle and health, or "" when
// it is not in the group.
func member(r *region.Region, id string) string {
	for _, m := range r.Groups()[0].Instances {
		if m.ID == id {
			return m.LifecycleState + "/" + m.HealthStatus
		}
	}
	return ""
}

// inZone returns the ids of the group's members in zone letter l, in launch order.
func inZone(r *region.Region, l string) []string {
	var out []string
	for _, m := range r.Groups()[0].Instances {
		if m.Zone == region.ZoneName(l) {
			out = append(out, m.ID)
		}
	}
	return out
}

// only returns the one member in zone l.
func only(t *testing.T, r *region.Region, l string) string {
	t.Helper()
	ids := inZone(r, l)
	if len(ids) != 1 {
		t.Fatalf("zone %s has members %v, want one", l, ids)
	}
	return ids[0]
}

// health returns "state reason" of a target.
func health(r *region.Region, id string) string {
	h := r.Target(id)
	return strings.TrimSpace(string(h.State) + " " + h.Reason)
}

func zonesOf(specs []region.LaunchSpec) []string {
	var out []string
	for _, l := range specs {
		out = append(out, l.Letter)
	}
	return out
}
