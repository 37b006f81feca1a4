// Package labnames derives the names one copy of the lab takes in an AWS account and region
// from the lab's own (package lab) and a LabId. It is apart from package lab because the web
// server does not need it: the server's asset hash covers the packages it is built from, and
// the names of side-by-side copies are no reason to replace a fleet.
package labnames

import "healthchecklab/internal/lab"

// Names are the names one copy of the lab takes in an AWS account and region: everything a
// second copy beside it would collide with. With no LabID they are exactly the lab's own
// (WebApp1-VPC, HealthCheckLab, RecommendationServiceEnabled, WebApp1-EC2-Role-HealthCheckLab);
// with a LabID each of them carries it, so that copies can share an account and region.
//
// The CDK stacks declare these names and publish them as outputs; everything that acts on a
// deployed copy (labctl, the tour, the README's shell helpers) reads them back from the
// outputs, never from here.
type Names struct {
	// Prefix starts the IAM role and instance-profile names (context NamingPrefix).
	Prefix string
	// LabID tells copies apart (context LabId); empty for the lab's own names.
	LabID string
}

// OutputLabID is the service stack's output with its LabId, declared only on a copy with one
// (so the lab's own template stays as it was): `labctl deploy` passes it back to the CDK app.
const OutputLabID = "LabId"

// MaxIAMNameLength is IAM's limit on role names (instance-profile names may be longer).
const MaxIAMNameLength = 64

// suffix is "-<id>", or nothing without an id.
func (n Names) suffix() string {
	if n.LabID == "" {
		return ""
	}
	return "-" + n.LabID
}

// RolePrefix is what lab.RoleName and lab.NoDDBRoleName take: the prefix, then the id, so
// that every role name still ends in the lab's own suffix (-EC2-Role-HealthCheckLab), by
// which the console step and labctl's view recognize the two roles.
func (n Names) RolePrefix() string { return n.Prefix + n.suffix() }

// VPCStack is the network stack's name.
func (n Names) VPCStack() string { return lab.VPCStackName + n.suffix() }

// ServiceStack is the HealthCheckLab stack's name.
func (n Names) ServiceStack() string { return lab.ServiceStackName + n.suffix() }

// Parameter is the RecommendationServiceEnabled parameter's name.
func (n Names) Parameter() string { return lab.ParameterName + n.suffix() }

// Role is the normal instance role's (and instance profile's) name.
func (n Names) Role() string { return lab.RoleName(n.RolePrefix()) }

// NoDDBRole is the name of the role (and instance profile) without DynamoDB access.
func (n Names) NoDDBRole() string { return lab.NoDDBRoleName(n.RolePrefix()) }
