// Package elbv2 speaks Elastic Load Balancing v2's Query protocol for the calls the lab
// makes: DescribeTargetHealth (states, reason codes and descriptions as ALB words them),
// DescribeTargetGroups, DescribeTargetGroupAttributes and DescribeLoadBalancers, over the
// load balancer a Backend holds.
package elbv2

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"healthchecklab/internal/awslocal/query"
)

// TargetGroup is a target group with its health-check settings.
type TargetGroup struct {
	ARN, Name, VpcID       string
	Port                   int
	LoadBalancerARNs       []string
	HealthCheckPath        string
	HealthCheckInterval    time.Duration
	HealthCheckTimeout     time.Duration
	HealthyThreshold       int
	UnhealthyThreshold     int
	SuccessCodes           string
	DeregistrationDelay    time.Duration
	LoadBalancingAlgorithm string // round_robin
}

// LoadBalancer is an Application Load Balancer.
type LoadBalancer struct {
	ARN, Name, DNSName, VpcID string
	Created                   time.Time
	Zones                     []ZoneSubnet
	SecurityGroups            []string
}

// ZoneSubnet is a zone the load balancer is enabled in, with its subnet.
type ZoneSubnet struct {
	Zone, SubnetID string
}

// TargetHealth is one target's health as DescribeTargetHealth reports it.
type TargetHealth struct {
	ID                         string
	Port                       int
	State, Reason, Description string
}

// Backend is the state the service answers from.
type Backend interface {
	TargetGroups() []TargetGroup
	LoadBalancers() []LoadBalancer
	// TargetHealth lists the registered targets of a group (draining ones included).
	TargetHealth(targetGroupARN string) []TargetHealth
}

// TargetChecker is an optional part of a Backend: TargetExists reports whether id names a
// target that could be registered (an instance of the account). DescribeTargetHealth then
// answers InvalidTarget for a named target that does not exist, and unused /
// Target.NotRegistered only for one that exists; without it, every unknown target is unused.
type TargetChecker interface {
	TargetExists(id string) bool
}

// Service returns Elastic Load Balancing v2's wire format over b.
func Service(b Backend) *query.Service {
	s := &query.Service{
		SigningName: "elasticloadbalancing",
		Version:     "2015-12-01",
		Namespace:   "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
	}
	h := handlers{b: b, s: s}
	s.Actions = map[string]query.Action{
		"DescribeTargetHealth":          h.describeTargetHealth,
		"DescribeTargetGroups":          h.describeTargetGroups,
		"DescribeTargetGroupAttributes": h.describeTargetGroupAttributes,
		"DescribeLoadBalancers":         h.describeLoadBalancers,
	}
	return s
}

type handlers struct {
	b Backend
	s *query.Service
}

func validation(format string, args ...any) error {
	return query.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func targetGroupNotFound(arn string) error {
	if arn == "" {
		return query.Errorf(http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
	}
	return query.Errorf(http.StatusBadRequest, "TargetGroupNotFound", "Target groups '%s' not found", arn)
}

// checkARN answers ValidationError for something that is not an ARN of kind
// ("targetgroup" or "loadbalancer").
func checkARN(arn, kind string) error {
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":elasticloadbalancing:") || !strings.Contains(arn, ":"+kind+"/") {
		return validation("'%s' is not a valid %s ARN", arn, map[string]string{"targetgroup": "target group", "loadbalancer": "load balancer"}[kind])
	}
	return nil
}

func (h handlers) findGroup(arn string) (TargetGroup, error) {
	if arn == "" {
		return TargetGroup{}, h.s.Missing("TargetGroupArn")
	}
	if err := checkARN(arn, "targetgroup"); err != nil {
		return TargetGroup{}, err
	}
	for _, g := range h.b.TargetGroups() {
		if g.ARN == arn {
			return g, nil
		}
	}
	return TargetGroup{}, targetGroupNotFound(arn)
}

type describeTargetHealthResult struct {
	Descriptions []targetHealthDescription `xml:"TargetHealthDescriptions>member"`
}

type targetHealthDescription struct {
	Target          targetXML       `xml:"Target"`
	HealthCheckPort string          `xml:"HealthCheckPort"`
	TargetHealth    targetHealthXML `xml:"TargetHealth"`
}

type targetXML struct {
	ID   string `xml:"Id"`
	Port int    `xml:"Port"`
}

type targetHealthXML struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

// Reason and description of a target the group does not know, as ALB words them.
const (
	reasonNotRegistered      = "Target.NotRegistered"
	descriptionNotRegistered = "Target is not registered to the target group"
)

// invalidTarget is DescribeTargetHealth's error for an id that names no instance (ELB API
// reference, DescribeTargetHealth: "The specified target does not exist, is not in the same
// VPC as the target group, or has an unsupported instance type").
func invalidTarget(id string) error {
	return query.Errorf(http.StatusBadRequest, "InvalidTarget", "The following targets are not valid instances: '%s'", id)
}

func (h handlers) describeTargetHealth(_ context.Context, p query.Params) (any, error) {
	g, err := h.findGroup(p.Get("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	health := h.b.TargetHealth(g.ARN)
	var want []targetXML
	for i := 1; ; i++ {
		k := "Targets.member." + strconv.Itoa(i)
		if !p.Has(k + ".Id") {
			break
		}
		port := g.Port
		if p.Has(k + ".Port") {
			if port, err = strconv.Atoi(p.Get(k + ".Port")); err != nil {
				return nil, validation("Invalid port '%s'", p.Get(k+".Port"))
			}
		}
		want = append(want, targetXML{ID: p.Get(k + ".Id"), Port: port})
	}
	res := describeTargetHealthResult{Descriptions: []targetHealthDescription{}}
	add := func(t TargetHealth) {
		res.Descriptions = append(res.Descriptions, targetHealthDescription{
			Target: targetXML{ID: t.ID, Port: t.Port}, HealthCheckPort: strconv.Itoa(t.Port),
			TargetHealth: targetHealthXML{State: t.State, Reason: t.Reason, Description: t.Description},
		})
	}
	if len(want) == 0 {
		for _, t := range health {
			add(t)
		}
		return res, nil
	}
	for _, w := range want {
		found := false
		for _, t := range health {
			if t.ID == w.ID && t.Port == w.Port {
				add(t)
				found = true
			}
		}
		if !found {
			if c, ok := h.b.(TargetChecker); ok && !c.TargetExists(w.ID) {
				return nil, invalidTarget(w.ID)
			}
			add(TargetHealth{ID: w.ID, Port: w.Port, State: "unused", Reason: reasonNotRegistered, Description: descriptionNotRegistered})
		}
	}
	return res, nil
}

type describeTargetGroupsResult struct {
	TargetGroups []targetGroupXML `xml:"TargetGroups>member"`
	NextMarker   string           `xml:"NextMarker,omitempty"`
}

type targetGroupXML struct {
	TargetGroupArn             string   `xml:"TargetGroupArn"`
	TargetGroupName            string   `xml:"TargetGroupName"`
	Protocol                   string   `xml:"Protocol"`
	Port                       int      `xml:"Port"`
	VpcID                      string   `xml:"VpcId"`
	HealthCheckProtocol        string   `xml:"HealthCheckProtocol"`
	HealthCheckPort            string   `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool     `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int      `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int      `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int      `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int      `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string   `xml:"HealthCheckPath"`
	Matcher                    string   `xml:"Matcher>HttpCode"`
	LoadBalancerArns           []string `xml:"LoadBalancerArns>member"`
	TargetType                 string   `xml:"TargetType"`
	ProtocolVersion            string   `xml:"ProtocolVersion"`
	IPAddressType              string   `xml:"IpAddressType"`
}

// seconds rounds a duration up to whole seconds, as the API states them (the local lab's
// fast mode uses sub-second timeouts).
func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// pageSize reads PageSize (1 to 400); 0 when absent.
func pageSize(p query.Params) (int, error) {
	n, ok := p.Int("PageSize", 0)
	if !ok || (p.Has("PageSize") && (n < 1 || n > 400)) {
		return 0, validation("1 validation error detected: Value '%s' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", p.Get("PageSize"))
	}
	return n, nil
}

func page(n int, p query.Params) (start, end int, next string, err error) {
	size, err := pageSize(p)
	if err != nil {
		return 0, 0, "", err
	}
	start, end, next, ok := query.Page(n, p.Get("Marker"), size)
	if !ok {
		return 0, 0, "", validation("Invalid value '%s' for marker", p.Get("Marker"))
	}
	return start, end, next, nil
}

func (h handlers) describeTargetGroups(_ context.Context, p query.Params) (any, error) {
	arns, names, lbARN := p.List("TargetGroupArns.member"), p.List("Names.member"), p.Get("LoadBalancerArn")
	if n := btoi(len(arns) > 0) + btoi(len(names) > 0) + btoi(lbARN != ""); n > 1 {
		return nil, validation("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	for _, a := range arns {
		if err := checkARN(a, "targetgroup"); err != nil {
			return nil, err
		}
	}
	if lbARN != "" {
		if err := checkARN(lbARN, "loadbalancer"); err != nil {
			return nil, err
		}
		if !h.hasLoadBalancer(lbARN) {
			return nil, loadBalancerNotFound()
		}
	}
	all := h.b.TargetGroups()
	var picked []TargetGroup
	for _, g := range all {
		switch {
		case len(arns) > 0 && !slices.Contains(arns, g.ARN), len(names) > 0 && !slices.Contains(names, g.Name),
			lbARN != "" && !slices.Contains(g.LoadBalancerARNs, lbARN):
			continue
		}
		picked = append(picked, g)
	}
	if (len(arns) > 0 && len(picked) != len(query.Distinct(arns))) || (len(names) > 0 && len(picked) != len(query.Distinct(names))) {
		return nil, targetGroupNotFound("")
	}
	start, end, next, err := page(len(picked), p)
	if err != nil {
		return nil, err
	}
	res := describeTargetGroupsResult{NextMarker: next, TargetGroups: []targetGroupXML{}}
	for _, g := range picked[start:end] {
		res.TargetGroups = append(res.TargetGroups, targetGroupXML{
			TargetGroupArn: g.ARN, TargetGroupName: g.Name, Protocol: "HTTP", Port: g.Port, VpcID: g.VpcID,
			HealthCheckProtocol: "HTTP", HealthCheckPort: "traffic-port", HealthCheckEnabled: true,
			HealthCheckIntervalSeconds: seconds(g.HealthCheckInterval), HealthCheckTimeoutSeconds: seconds(g.HealthCheckTimeout),
			HealthyThresholdCount: g.HealthyThreshold, UnhealthyThresholdCount: g.UnhealthyThreshold,
			HealthCheckPath: g.HealthCheckPath, Matcher: g.SuccessCodes, LoadBalancerArns: g.LoadBalancerARNs,
			TargetType: "instance", ProtocolVersion: "HTTP1", IPAddressType: "ipv4",
		})
	}
	return res, nil
}

type attributesResult struct {
	Attributes []attributeXML `xml:"Attributes>member"`
}

type attributeXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func (h handlers) describeTargetGroupAttributes(_ context.Context, p query.Params) (any, error) {
	g, err := h.findGroup(p.Get("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	return attributesResult{Attributes: []attributeXML{
		{"deregistration_delay.timeout_seconds", strconv.Itoa(seconds(g.DeregistrationDelay))},
		{"load_balancing.algorithm.type", g.LoadBalancingAlgorithm},
		{"slow_start.duration_seconds", "0"},
		{"stickiness.enabled", "false"},
		{"stickiness.type", "lb_cookie"},
		{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1"},
		{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off"},
	}}, nil
}

type describeLoadBalancersResult struct {
	LoadBalancers []loadBalancerXML `xml:"LoadBalancers>member"`
	NextMarker    string            `xml:"NextMarker,omitempty"`
}

type loadBalancerXML struct {
	LoadBalancerArn       string    `xml:"LoadBalancerArn"`
	DNSName               string    `xml:"DNSName"`
	CanonicalHostedZoneID string    `xml:"CanonicalHostedZoneId"`
	CreatedTime           string    `xml:"CreatedTime"`
	LoadBalancerName      string    `xml:"LoadBalancerName"`
	Scheme                string    `xml:"Scheme"`
	VpcID                 string    `xml:"VpcId"`
	State                 string    `xml:"State>Code"`
	Type                  string    `xml:"Type"`
	AvailabilityZones     []zoneXML `xml:"AvailabilityZones>member"`
	SecurityGroups        []string  `xml:"SecurityGroups>member"`
	IPAddressType         string    `xml:"IpAddressType"`
}

type zoneXML struct {
	ZoneName string `xml:"ZoneName"`
	SubnetID string `xml:"SubnetId"`
}

func loadBalancerNotFound() error {
	return query.Errorf(http.StatusBadRequest, "LoadBalancerNotFound", "One or more load balancers not found")
}

func (h handlers) hasLoadBalancer(arn string) bool {
	for _, lb := range h.b.LoadBalancers() {
		if lb.ARN == arn {
			return true
		}
	}
	return false
}

func (h handlers) describeLoadBalancers(_ context.Context, p query.Params) (any, error) {
	arns, names := p.List("LoadBalancerArns.member"), p.List("Names.member")
	if len(arns) > 0 && len(names) > 0 {
		return nil, validation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	for _, a := range arns {
		if err := checkARN(a, "loadbalancer"); err != nil {
			return nil, err
		}
	}
	var picked []LoadBalancer
	for _, lb := range h.b.LoadBalancers() {
		if (len(arns) > 0 && !slices.Contains(arns, lb.ARN)) || (len(names) > 0 && !slices.Contains(names, lb.Name)) {
			continue
		}
		picked = append(picked, lb)
	}
	if (len(arns) > 0 && len(picked) != len(query.Distinct(arns))) || (len(names) > 0 && len(picked) != len(query.Distinct(names))) {
		return nil, loadBalancerNotFound()
	}
	start, end, next, err := page(len(picked), p)
	if err != nil {
		return nil, err
	}
	res := describeLoadBalancersResult{NextMarker: next, LoadBalancers: []loadBalancerXML{}}
	for _, lb := range picked[start:end] {
		x := loadBalancerXML{
			LoadBalancerArn: lb.ARN, DNSName: lb.DNSName, CanonicalHostedZoneID: "Z00LOCALLAB0000", CreatedTime: query.Time(lb.Created),
			LoadBalancerName: lb.Name, Scheme: "internet-facing", VpcID: lb.VpcID, State: "active", Type: "application",
			SecurityGroups: lb.SecurityGroups, IPAddressType: "ipv4",
		}
		for _, z := range lb.Zones {
			x.AvailabilityZones = append(x.AvailabilityZones, zoneXML{ZoneName: z.Zone, SubnetID: z.SubnetID})
		}
		res.LoadBalancers = append(res.LoadBalancers, x)
	}
	return res, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
