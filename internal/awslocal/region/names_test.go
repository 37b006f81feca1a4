package region_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
)

// TestNames: a copy with a LabId takes the names its AWS copy would (package labnames): both
// stacks, the service stack's outputs (LabId only on such a copy), the two profiles the
// instances get and ReplaceIamInstanceProfileAssociation accepts, and the instances' tags.
// The lab's own names are the default. Instance ids have EC2's form, "i-0" and 16 hex digits.
func TestNames(t *testing.T) {
	idForm := regexp.MustCompile(`^i-0[0-9a-f]{16}$`)
	for _, id := range []string{"", "alice"} {
		t.Run("LabId="+id, func(t *testing.T) {
			names := labnames.Names{Prefix: lab.DefaultNamingPrefix, LabID: id}
			r, s := newRegion(t, func(c *region.Config) {
				if id != "" {
					c.Names = names
				}
			})
			st := r.Stacks()
			if st[0].Name != names.VPCStack() || st[1].Name != names.ServiceStack() || !strings.Contains(st[1].ID, ":stack/"+names.ServiceStack()+"/") {
				t.Errorf("stacks %s (%s), %s", st[0].Name, st[1].ID, st[1].Name)
			}
			out := map[string]string{}
			for _, o := range st[1].Outputs {
				out[o.Key] = o.Value
			}
			if out[lab.OutputParameterName] != names.Parameter() || out[lab.OutputInstanceProfileName] != names.Role() ||
				out[lab.OutputNoDDBProfileName] != names.NoDDBRole() || out[labnames.OutputLabID] != id {
				t.Errorf("outputs %v", out)
			}
			if _, ok := out[labnames.OutputLabID]; ok != (id != "") {
				t.Errorf("output %s present: %v, want only with a LabId", labnames.OutputLabID, ok)
			}
			if got := r.Roles(); !slices.Equal(got, []string{names.Role(), names.NoDDBRole()}) {
				t.Errorf("roles %v", got)
			}
			for _, l := range s.Launched {
				if l.Role != names.Role() || !idForm.MatchString(l.ID) {
					t.Errorf("launch %s with profile %s", l.ID, l.Role)
				}
			}
			x := r.Instances()[0]
			tags := map[string]string{}
			for _, tg := range x.Tags {
				tags[tg.Key] = tg.Value
			}
			if tags["aws:cloudformation:stack-name"] != names.ServiceStack() || !strings.HasPrefix(tags["aws:autoscaling:groupName"], names.ServiceStack()+"-WebTierGroup") {
				t.Errorf("tags %v", tags)
			}
			if _, err := r.ReplaceAssociation(r.Associations()[0].ID, names.NoDDBRole(), ""); err != nil {
				t.Errorf("swap to %s: %v", names.NoDDBRole(), err)
			}
		})
	}
}
