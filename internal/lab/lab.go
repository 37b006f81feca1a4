// Package lab holds every constant of the health-check lab in one place: resource names,
// table keys, the server codes, the target-group health-check settings and the seed data.
// The CDK stacks, the web server and the local lab all read these values.
package lab

import (
	"fmt"
	"strings"
	"time"
)

// Names of the resources and attributes the lab's documents use.
const (
	// ParameterName is the SSM parameter that switches the RecommendationService on and off.
	ParameterName = "RecommendationServiceEnabled"
	// DecoyTableName is the table queried while the service is disabled; it never exists,
	// so the call fails for real with ResourceNotFoundException.
	DecoyTableName = "dependencyShouldFail"

	// PartitionKey and SortKey form the RecommendationService table's key.
	PartitionKey = "ServiceAPI"
	SortKey      = "UserID"
	// ResultAttribute and UserNameAttribute are the item attributes a recommendation reads.
	ResultAttribute   = "Result"
	UserNameAttribute = "UserName"
	// ServiceAPI is the partition-key value of every item: the mocked API's name.
	ServiceAPI = "getRecommendation"

	// ProbeUserID is the row the deep health check reads; it must say ProbeValue twice.
	ProbeUserID = 0
	ProbeValue  = "test"
	// FirstUserID and LastUserID bound the users shown to visitors.
	FirstUserID = 1
	LastUserID  = 4

	// StaticUserName and StaticShow make the degraded answer given when the service fails.
	StaticUserName = "Valued Customer"
	StaticShow     = "I Love Lucy"

	// DefaultNamingPrefix prefixes the IAM role and instance-profile names.
	DefaultNamingPrefix = "WebApp1"
	// VPCStackName and ServiceStackName are the two stacks, named as in the lab.
	VPCStackName     = "WebApp1-VPC"
	ServiceStackName = "HealthCheckLab"

	// LivenessPath answers as long as the process runs; it touches no dependency.
	LivenessPath = "/livez"
	// WebPort is the port the web server listens on behind the load balancer.
	WebPort = 80
)

// Output keys of the HealthCheckLab stack. The stack declares them, and labctl and the local
// lab's CloudFormation endpoint read and answer the same keys.
const (
	OutputWebsiteURL           = "WebsiteURL"
	OutputHealthCheckURL       = "HealthCheckURL"
	OutputTargetGroupArn       = "TargetGroupArn"
	OutputAutoScalingGroupName = "AutoScalingGroupName"
	OutputParameterName        = "ParameterName"
	OutputNoDDBProfileName     = "NoDDBInstanceProfileName"
	OutputTableName            = "TableName"
	// OutputInstanceProfileName is the normal profile, which `labctl reset` re-attaches.
	OutputInstanceProfileName = "InstanceProfileName"
)

// The lab's faults as AWS Fault Injection Service experiments (stack context
// FaultInjection=true): each name is what `labctl fault NAME --via fis` takes, mapped to the
// output key holding its experiment template id.
const (
	// FaultDependencyLoss denies the zone-c subnet's traffic to DynamoDB.
	FaultDependencyLoss = "dependency-loss"
	// FaultStaleCredentials attaches the noDDB instance profile to the zone-c instance.
	FaultStaleCredentials = "stale-credentials"
	// FaultDependencyOutage sets the RecommendationServiceEnabled parameter to false.
	FaultDependencyOutage = "dependency-outage"
	// FaultInstanceLoss terminates the zone-c instance.
	FaultInstanceLoss = "instance-loss"
	// FaultZonePower is zone c losing power, after the FIS scenario "AZ Availability: Power
	// Interruption": the zone's instances stop, Auto Scaling cannot launch there, and the
	// zone's subnets lose all connectivity, until the window ends.
	FaultZonePower = "zone-power"

	OutputExperimentDependencyLoss   = "ExperimentDependencyLoss"
	OutputExperimentStaleCredentials = "ExperimentStaleCredentials"
	OutputExperimentDependencyOutage = "ExperimentDependencyOutage"
	OutputExperimentInstanceLoss     = "ExperimentInstanceLoss"
	OutputExperimentZonePower        = "ExperimentZonePower"
)

// FaultExperimentOutputs maps each fault name to the stack output with its experiment
// template id.
var FaultExperimentOutputs = map[string]string{
	FaultDependencyLoss:   OutputExperimentDependencyLoss,
	FaultStaleCredentials: OutputExperimentStaleCredentials,
	FaultDependencyOutage: OutputExperimentDependencyOutage,
	FaultInstanceLoss:     OutputExperimentInstanceLoss,
	FaultZonePower:        OutputExperimentZonePower,
}

// FaultDuration is how long an experiment holds its fault before undoing it (instance loss
// is undone by Auto Scaling's replacement instead).
const FaultDuration = 5 * time.Minute

// AsgHealthCheck is the Auto Scaling group's health check type: which checks make Auto
// Scaling replace an instance (stack context AsgHealthCheck).
type AsgHealthCheck string

// The two health check types the lab offers.
const (
	// AsgHealthCheckEC2 replaces only instances EC2 reports impaired or not running: the
	// deep health check steers the load balancer and never triggers a replacement. The
	// lab's default, on purpose.
	AsgHealthCheckEC2 AsgHealthCheck = "EC2"
	// AsgHealthCheckELB also replaces instances whose target fails the load balancer's
	// health check, once the grace period has passed: with a deep health check, one
	// dependency outage makes Auto Scaling replace the whole fleet, again and again.
	AsgHealthCheckELB AsgHealthCheck = "ELB"
)

// AsgHealthChecks lists the valid health check types, the default first.
var AsgHealthChecks = []AsgHealthCheck{AsgHealthCheckEC2, AsgHealthCheckELB}

// ParseAsgHealthCheck validates s; the error names the valid values.
func ParseAsgHealthCheck(s string) (AsgHealthCheck, error) {
	names := make([]string, len(AsgHealthChecks))
	for i, c := range AsgHealthChecks {
		if string(c) == s {
			return c, nil
		}
		names[i] = string(c)
	}
	return "", fmt.Errorf("invalid AsgHealthCheck %q: must be one of %s", s, strings.Join(names, ", "))
}

// HealthCheckGracePeriod is how long Auto Scaling waits after an instance comes into service
// before it acts on the instance's health checks, with either health check type.
const HealthCheckGracePeriod = 5 * time.Minute

// ServerCodeTagKey is the tag every web instance carries with the ServerCode it runs.
const ServerCodeTagKey = "ServerCode"

// Actions the instance roles' policies grant on the lab's own resources. The stack's IAM
// policies and the local lab's authorizer read the same values, so both allow the same calls.
var (
	// RecommendationReadActions are granted to the normal role on the table (and the decoy name).
	RecommendationReadActions = []string{"dynamodb:GetItem"}
	// ParameterReadActions are granted to both roles on the lab parameter.
	ParameterReadActions = []string{"ssm:GetParameter"}
)

// RoleName is the normal instance role (and instance-profile) name for a prefix.
func RoleName(prefix string) string { return prefix + "-EC2-Role-HealthCheckLab" }

// NoDDBRoleName is the role (and instance-profile) without DynamoDB access, which the lab
// attaches by hand to one instance to simulate stale credentials.
func NoDDBRoleName(prefix string) string { return prefix + "-EC2-noDDB-Role-HealthCheckLab" }

// HealthCheck holds a target group's health-check and deregistration settings.
type HealthCheck struct {
	Path                string
	Interval            time.Duration
	Timeout             time.Duration
	HealthyThreshold    int
	UnhealthyThreshold  int
	SuccessCodes        string // as the ALB matcher writes them, e.g. "200"
	DeregistrationDelay time.Duration
}

// TargetGroupHealthCheck is the lab's target-group configuration, used by the ALB in the
// stack and by the local load balancer.
var TargetGroupHealthCheck = HealthCheck{
	Path:                "/healthcheck",
	Interval:            15 * time.Second,
	Timeout:             3 * time.Second,
	HealthyThreshold:    2,
	UnhealthyThreshold:  3,
	SuccessCodes:        "200",
	DeregistrationDelay: 10 * time.Second,
}

// IdleTimeout is the load balancer's idle timeout, ALB's default, which the stack keeps: a
// target that sends nothing for this long while a request waits on it gets that request
// answered 504 by the load balancer.
const IdleTimeout = 60 * time.Second

// ServerCode selects which of the lab's three web-server versions runs.
type ServerCode string

// The three server codes, in the order the lab deploys them.
const (
	CodeBasic         ServerCode = "basic"
	CodeErrorHandling ServerCode = "errorhandling"
	CodeHealthCheck   ServerCode = "healthcheck"
)

// ServerCodes lists the valid server codes in lab order.
var ServerCodes = []ServerCode{CodeBasic, CodeErrorHandling, CodeHealthCheck}

// ParseServerCode validates s; the error names the three valid values.
func ParseServerCode(s string) (ServerCode, error) {
	for _, c := range ServerCodes {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("invalid ServerCode %q: must be one of %s", s, serverCodeList())
}

func serverCodeList() string {
	names := make([]string, len(ServerCodes))
	for i, c := range ServerCodes {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// DegradesGracefully reports whether the code answers a failed dependency with the static
// response instead of dropping the connection.
func (c ServerCode) DegradesGracefully() bool { return c == CodeErrorHandling || c == CodeHealthCheck }

// DeepHealthCheck reports whether /healthcheck asks the dependency.
func (c ServerCode) DeepHealthCheck() bool { return c == CodeHealthCheck }
