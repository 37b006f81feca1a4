// Package config reads and validates the CDK app's context (the -c flags and the defaults in
// cdk.json) in one place, so the stacks receive typed, checked values and never read context
// themselves.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
)

// Context keys, as written in cdk.json and on the command line (-c Key=value).
const (
	KeyServerCode      = "ServerCode"
	KeyNamingPrefix    = "NamingPrefix"
	KeyInstanceType    = "InstanceType"
	KeyDesiredCapacity = "DesiredCapacity"
	KeyAllowedCidr     = "AllowedCidr"
	KeyNatGateways     = "NatGateways"
	KeyAmiID           = "AmiId"
	KeyFaultInjection  = "FaultInjection"
	KeyLabID           = "LabId"
	KeyAsgHealthCheck  = "AsgHealthCheck"
)

// Bounds of the validated numbers. The lab runs three to six instances, at least one per zone.
const (
	MinCapacity    = 3
	MaxCapacity    = 6
	MaxNatGateways = 3
	// MaxLabIDLength keeps the names that carry a LabId within their services' limits.
	MaxLabIDLength = 16
)

// Config is the validated context of one synthesis.
type Config struct {
	ServerCode      lab.ServerCode
	NamingPrefix    string
	InstanceType    string
	DesiredCapacity int
	AllowedCidr     string
	NatGateways     int
	// AmiID pins the instances' image; empty means the latest Amazon Linux 2023, looked up
	// on every deploy.
	AmiID string
	// FaultInjection adds the AWS FIS experiment templates and their runbooks.
	FaultInjection bool
	// LabID tells side-by-side copies of the lab apart: every name that must be unique in
	// an account and region carries it (see labnames.Names). Empty means the lab's own names.
	LabID string
	// AsgHealthCheck is the Auto Scaling group's health check type: EC2 (the lab's choice)
	// or ELB (the trap: the deep health check then makes Auto Scaling replace instances).
	AsgHealthCheck lab.AsgHealthCheck
}

// Names are the account- and region-unique names this configuration gives the lab.
func (c Config) Names() labnames.Names { return labnames.Names{Prefix: c.NamingPrefix, LabID: c.LabID} }

// Defaults are the values used for keys that neither cdk.json nor -c sets; cdk.json repeats
// them so that they are visible where people look.
var Defaults = Config{
	ServerCode:      lab.CodeBasic,
	NamingPrefix:    lab.DefaultNamingPrefix,
	InstanceType:    "t3.micro",
	DesiredCapacity: 3,
	AllowedCidr:     "0.0.0.0/0",
	NatGateways:     1,
	AsgHealthCheck:  lab.AsgHealthCheckEC2,
}

// Getter returns a context value, or nil when the key is unset. A construct's
// Node().TryGetContext fits after a small adapter; tests pass a map.
type Getter func(key string) any

// Read builds a Config from context and reports every invalid value at once.
func Read(get Getter) (Config, error) {
	c := Defaults
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	if s, ok, err := str(get, KeyServerCode); ok || err != nil {
		add(err)
		if err == nil {
			code, perr := lab.ParseServerCode(s)
			add(perr)
			c.ServerCode = code
		}
	}
	if s, ok, err := str(get, KeyNamingPrefix); ok || err != nil {
		add(err)
		add(check(KeyNamingPrefix, s, validPrefix(s), "must be 1-32 letters, digits, '+=,.@_-' (it starts IAM role names)"))
		c.NamingPrefix = s
	}
	if s, ok, err := str(get, KeyInstanceType); ok || err != nil {
		add(err)
		add(check(KeyInstanceType, s, instanceTypeRE.MatchString(s), "must look like family.size, e.g. t3.micro or t4g.small"))
		c.InstanceType = s
	}
	if n, ok, err := integer(get, KeyDesiredCapacity); ok || err != nil {
		add(err)
		add(check(KeyDesiredCapacity, strconv.Itoa(n), err != nil || (n >= MinCapacity && n <= MaxCapacity),
			fmt.Sprintf("must be between %d and %d", MinCapacity, MaxCapacity)))
		c.DesiredCapacity = n
	}
	if s, ok, err := str(get, KeyAllowedCidr); ok || err != nil {
		add(err)
		p, perr := netip.ParsePrefix(s)
		add(check(KeyAllowedCidr, s, perr == nil && p.Addr().Is4() && p == p.Masked(), "must be an IPv4 network in CIDR form, e.g. 203.0.113.0/24"))
		c.AllowedCidr = s
	}
	if n, ok, err := integer(get, KeyNatGateways); ok || err != nil {
		add(err)
		add(check(KeyNatGateways, strconv.Itoa(n), err != nil || (n >= 1 && n <= MaxNatGateways),
			fmt.Sprintf("must be between 1 and %d (the instances need egress)", MaxNatGateways)))
		c.NatGateways = n
	}
	if s, ok, err := str(get, KeyAmiID); ok || err != nil {
		add(err)
		add(check(KeyAmiID, s, amiRE.MatchString(s), "must be an image id: ami- and 8 or 17 hexadecimal digits, e.g. ami-0123456789abcdef0"))
		c.AmiID = s
	}
	if b, ok, err := boolean(get, KeyFaultInjection); ok || err != nil {
		add(err)
		c.FaultInjection = b
	}
	if s, ok, err := str(get, KeyLabID); ok || err != nil {
		add(err)
		add(check(KeyLabID, s, labIDRE.MatchString(s),
			fmt.Sprintf("must be 1-%d lowercase letters, digits and inner hyphens, e.g. team7 (it ends stack, parameter and role names)", MaxLabIDLength)))
		c.LabID = s
	}
	if s, ok, err := str(get, KeyAsgHealthCheck); ok || err != nil {
		add(err)
		if err == nil {
			hc, perr := lab.ParseAsgHealthCheck(s)
			add(perr)
			c.AsgHealthCheck = hc
		}
	}
	// IAM role names are at most 64 characters, and the prefix and the id both go into them.
	if n := c.Names(); len(errs) == 0 && len(n.NoDDBRole()) > labnames.MaxIAMNameLength {
		add(fmt.Errorf("%s %q and %s %q make the role name %s, longer than IAM's %d characters: shorten either",
			KeyNamingPrefix, c.NamingPrefix, KeyLabID, c.LabID, n.NoDDBRole(), labnames.MaxIAMNameLength))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid context: %w", errors.Join(errs...))
	}
	return c, nil
}

// Arch is the CPU architecture of the instance type, "arm64" for Graviton families
// (t4g, m7g, c6gn, a1, …) and "amd64" otherwise, in GOARCH spelling. The AMI and the
// cross-compiled web server both follow it.
func (c Config) Arch() string { return ArchOf(c.InstanceType) }

// ArchOf is Arch for a bare instance-type name.
func ArchOf(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	m := familyRE.FindStringSubmatch(family)
	if family == "a1" || (m != nil && strings.Contains(m[1], "g")) {
		return "arm64"
	}
	return "amd64"
}

var (
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	// familyRE splits a family such as "c7gn" into its class, generation and the attribute
	// letters ("gn"); a "g" among the attributes means Graviton. A leading "g" is a GPU class.
	familyRE = regexp.MustCompile(`^[a-z]+[0-9]+([a-z-]*)$`)
	prefixRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,32}$`)
	amiRE    = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// labIDRE is lowercase only: IAM names are unique regardless of case, so "A" and "a"
	// would give two copies the same roles.
	labIDRE = regexp.MustCompile(fmt.Sprintf(`^[a-z0-9]([a-z0-9-]{0,%d}[a-z0-9])?$`, MaxLabIDLength-2))
)

func validPrefix(s string) bool { return prefixRE.MatchString(s) }

func check(key, value string, ok bool, rule string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s %q %s", key, value, rule)
}

// str reads a string value; ok is false when the key is unset.
func str(get Getter, key string) (string, bool, error) {
	v := get(key)
	switch v := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	default:
		return "", false, fmt.Errorf("%s must be a string, got %v", key, v)
	}
}

// boolean reads true or false given as a JSON boolean (cdk.json) or a string (-c).
func boolean(get Getter, key string) (bool, bool, error) {
	switch v := get(key).(type) {
	case nil:
		return false, false, nil
	case bool:
		return v, true, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true, nil
		case "false":
			return false, true, nil
		}
	}
	return false, false, fmt.Errorf("%s must be true or false, got %v", key, get(key))
}

// integer reads a whole number given as a JSON number (cdk.json) or a string (-c).
func integer(get Getter, key string) (int, bool, error) {
	switch v := get(key).(type) {
	case nil:
		return 0, false, nil
	case float64:
		if v != float64(int(v)) {
			return 0, false, fmt.Errorf("%s must be a whole number, got %v", key, v)
		}
		return int(v), true, nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, false, fmt.Errorf("%s must be a whole number, got %q", key, v)
		}
		return n, true, nil
	default:
		return 0, false, fmt.Errorf("%s must be a whole number, got %v", key, v)
	}
}
