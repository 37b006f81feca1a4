package awslocal

import "slices"

// Statement allows Actions ("service:Operation") on Resources (ARNs, or "*").
type Statement struct {
	Actions   []string
	Resources []string
}

// Policy holds each instance role's statements. The user may do everything; a role may do
// what one of its statements allows and nothing else, as IAM evaluates identity policies.
type Policy map[string][]Statement

// Allows reports whether who may perform action on resource.
func (p Policy) Allows(who Principal, action, resource string) bool {
	if who.Role == "" {
		return true
	}
	for _, s := range p[who.Role] {
		if slices.Contains(s.Actions, action) && (slices.Contains(s.Resources, "*") || slices.Contains(s.Resources, resource)) {
			return true
		}
	}
	return false
}
