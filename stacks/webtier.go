package stacks

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/assets"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
)

// SignalTimeout is how long CloudFormation waits for each new instance's success signal.
const SignalTimeout = 10 * 60 // seconds

// Bounds of the instance bootstrap (assets/bootstrap.sh), in seconds. Together with the time an
// instance takes to launch, boot and install, they must fit in SignalTimeout (the tests check).
const (
	// BootPoll is the pause between two liveness or target-health polls, and the unit of the
	// success signal's back-off.
	BootPoll = 5
	// LivenessTimeout bounds the wait for the server to answer its liveness path on the host.
	LivenessTimeout = 120
	// SignalAttempts is how often the success signal is tried, BootPoll × attempt apart.
	SignalAttempts = 5
)

// ReadyTimeout bounds the wait for the load balancer to route to a new instance: a fresh
// target needs one interval to its first check plus HealthyThreshold passing checks; four
// times that leaves room for registration and a slow first answer.
var ReadyTimeout = 4 * (lab.TargetGroupHealthCheck.HealthyThreshold + 1) * int(lab.TargetGroupHealthCheck.Interval.Seconds())

// WebTier is the load balancer, its target group and the Auto Scaling group behind it.
type WebTier struct {
	LoadBalancer   elbv2.ApplicationLoadBalancer
	TargetGroup    elbv2.ApplicationTargetGroup
	Group          awsautoscaling.AutoScalingGroup
	LaunchTemplate awsec2.LaunchTemplate
	// InstanceSecurityGroup and LoadBalancerSecurityGroup are the two security groups.
	InstanceSecurityGroup, LoadBalancerSecurityGroup awsec2.SecurityGroup
}

// webTierProps wires the web tier to the rest of the stack.
type webTierProps struct {
	Vpc    awsec2.IVpc
	Config config.Config
	// ServerCode is the code the instances run (a literal, or the workshop's parameter).
	ServerCode *string
	Asset      awss3assets.Asset
	Profile    awsiam.IInstanceProfile
	// TableName and ParameterName are passed to the server.
	TableName, ParameterName *string
}

// newWebTier declares the launch template, the Auto Scaling group and the load balancer.
func newWebTier(scope constructs.Construct, id string, props *webTierProps) *WebTier {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	w := &WebTier{}

	w.LoadBalancerSecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("HealthCheckLab load balancer: HTTP from AllowedCidr"),
		AllowAllOutbound: jsii.Bool(false),
	})
	w.LoadBalancerSecurityGroup.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(cfg.AllowedCidr)),
		awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from AllowedCidr"), nil)

	// The instances talk HTTPS to AWS APIs only (S3 and DynamoDB through the gateway
	// endpoints, SSM and CloudFormation through the NAT gateway); the load balancer's rule to
	// reach them on the web port is added when they become its targets.
	w.InstanceSecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("InstanceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("HealthCheckLab web servers: HTTP from the load balancer only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	w.InstanceSecurityGroup.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to AWS APIs"), nil)

	userData := awsec2.UserData_ForLinux(nil)
	w.LaunchTemplate = awsec2.NewLaunchTemplate(c, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		InstanceType: awsec2.NewInstanceType(jsii.String(cfg.InstanceType)),
		MachineImage: machineImage(cfg),
		// IMDSv2 only, one hop: only processes on the instance itself reach the metadata.
		RequireImdsv2:           jsii.Bool(true),
		HttpPutResponseHopLimit: jsii.Number(1),
		InstanceProfile:         props.Profile,
		SecurityGroup:           w.InstanceSecurityGroup,
		UserData:                userData,
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})

	desired := float64(cfg.DesiredCapacity)
	w.Group = awsautoscaling.NewAutoScalingGroup(c, jsii.String("Group"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:            props.Vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		LaunchTemplate: w.LaunchTemplate,
		// At least one instance per zone; one spare slot so that the rolling update can
		// launch a replacement before it terminates an old instance.
		MinCapacity:     jsii.Number(config.MinCapacity),
		DesiredCapacity: jsii.Number(desired),
		MaxCapacity:     jsii.Number(desired + 1),
		HealthChecks:    groupHealthChecks(cfg.AsgHealthCheck),
		// Each new instance signals once the load balancer routes to it (see
		// assets/bootstrap.sh); creation waits for all of them.
		Signals: awsautoscaling.Signals_WaitForAll(&awsautoscaling.SignalsOptions{
			Timeout: awscdk.Duration_Seconds(jsii.Number(SignalTimeout)),
		}),
		// A new launch template version (a ServerCode or server change) replaces the
		// instances one at a time: the next old instance goes only after its replacement
		// signalled, that is after the load balancer routes to it, so the capacity in
		// service never drops below the desired capacity.
		UpdatePolicy: awsautoscaling.UpdatePolicy_RollingUpdate(&awsautoscaling.RollingUpdateOptions{
			MaxBatchSize:          jsii.Number(1),
			MinInstancesInService: jsii.Number(desired),
			WaitOnResourceSignals: jsii.Bool(true),
			PauseTime:             awscdk.Duration_Seconds(jsii.Number(SignalTimeout)),
		}),
	})
	// The lab sets the size on every deploy on purpose: each stage starts from three instances.
	awscdk.Annotations_Of(w.Group).AcknowledgeWarning(jsii.String("@aws-cdk/aws-autoscaling:desiredCapacitySet"),
		jsii.String("the lab resets the group to its desired capacity on every deploy"))
	// Instances are named like the lab's (WebApp1), so the console steps read as written.
	for _, tagged := range []constructs.IConstruct{w.Group, w.LaunchTemplate} {
		awscdk.Tags_Of(tagged).Add(jsii.String("Name"), jsii.String(cfg.NamingPrefix), nil)
	}
	// Each instance says which server it runs (labctl status shows it). The tag goes through
	// the launch template's tag specifications, so it changes together with the user data
	// and every instance carries the value it was launched with.
	awscdk.Tags_Of(w.LaunchTemplate).Add(jsii.String(lab.ServerCodeTagKey), props.ServerCode, nil)

	w.LoadBalancer = elbv2.NewApplicationLoadBalancer(c, jsii.String("LoadBalancer"), &elbv2.ApplicationLoadBalancerProps{
		Vpc:                     props.Vpc,
		InternetFacing:          jsii.Bool(true),
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroup:           w.LoadBalancerSecurityGroup,
		DropInvalidHeaderFields: jsii.Bool(true),
	})
	listener := w.LoadBalancer.AddListener(jsii.String("Http"), &elbv2.BaseApplicationListenerProps{
		Port:     jsii.Number(80),
		Protocol: elbv2.ApplicationProtocol_HTTP,
		Open:     jsii.Bool(false), // the security group above decides who may connect
	})
	hc := lab.TargetGroupHealthCheck
	w.TargetGroup = listener.AddTargets(jsii.String("Web"), &elbv2.AddApplicationTargetsProps{
		Port:     jsii.Number(lab.WebPort),
		Protocol: elbv2.ApplicationProtocol_HTTP,
		Targets:  &[]elbv2.IApplicationLoadBalancerTarget{w.Group},
		HealthCheck: &elbv2.HealthCheck{
			Path:                    jsii.String(hc.Path),
			Interval:                awscdk.Duration_Seconds(jsii.Number(hc.Interval.Seconds())),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(hc.Timeout.Seconds())),
			HealthyThresholdCount:   jsii.Number(hc.HealthyThreshold),
			UnhealthyThresholdCount: jsii.Number(hc.UnhealthyThreshold),
			HealthyHttpCodes:        jsii.String(hc.SuccessCodes),
			Protocol:                elbv2.Protocol_HTTP,
		},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(hc.DeregistrationDelay.Seconds())),
	})
	// Instances launch once the load balancer is active and listening: a target group
	// health-checks its targets only then, and each instance waits for that before it
	// signals (on a first deploy, the load balancer takes minutes to provision).
	w.Group.Node().AddDependency(listener)

	stack := awscdk.Stack_Of(c)
	userData.AddCommands(jsii.String(bootstrapScript(map[string]string{
		"STACK":            *stack.StackName(),
		"RESOURCE":         *stack.GetLogicalId(w.Group.Node().DefaultChild().(awscdk.CfnElement)),
		"REGION":           *stack.Region(),
		"BUCKET":           *props.Asset.S3BucketName(),
		"KEY":              *props.Asset.S3ObjectKey(),
		"PORT":             strconv.Itoa(lab.WebPort),
		"LIVENESS":         lab.LivenessPath,
		"SERVER_CODE":      *props.ServerCode,
		"TABLE":            *props.TableName,
		"PARAMETER":        *props.ParameterName,
		"TARGET_GROUP":     *w.TargetGroup.TargetGroupArn(),
		"LIVENESS_TIMEOUT": strconv.Itoa(LivenessTimeout),
		"READY_TIMEOUT":    strconv.Itoa(ReadyTimeout),
		"POLL_SECONDS":     strconv.Itoa(BootPoll),
		"SIGNAL_ATTEMPTS":  strconv.Itoa(SignalAttempts),
	})))
	return w
}

// groupHealthChecks is the group's health check type, with the lab's grace period either way.
//
// EC2 is the default, on purpose: the deep /healthcheck steers the load balancer only. With
// type ELB (-c AsgHealthCheck=ELB, the trap the lab lets you watch), a failing shared
// dependency (checkpoint 9: the parameter set to false) makes every target unhealthy, and
// Auto Scaling terminates and replaces the whole fleet, turning a dependency outage into a
// total one. With EC2, replacing a bad instance stays an operator's decision (checkpoint 8).
func groupHealthChecks(t lab.AsgHealthCheck) awsautoscaling.HealthChecks {
	grace := awscdk.Duration_Seconds(jsii.Number(lab.HealthCheckGracePeriod.Seconds()))
	if t == lab.AsgHealthCheckELB {
		return awsautoscaling.HealthChecks_WithAdditionalChecks(&awsautoscaling.AdditionalHealthChecksOptions{
			AdditionalTypes: &[]awsautoscaling.AdditionalHealthCheckType{awsautoscaling.AdditionalHealthCheckType_ELB},
			GracePeriod:     grace,
		})
	}
	return awsautoscaling.HealthChecks_Ec2(&awsautoscaling.Ec2HealthChecksOptions{GracePeriod: grace})
}

// machineImage is the AMI the instances run: the one -c AmiId pins, or else the latest Amazon
// Linux 2023 for the instance type's architecture, which CloudFormation looks up on every
// deploy (so a new AMI release replaces the fleet on the next deploy).
func machineImage(cfg config.Config) awsec2.IMachineImage {
	if cfg.AmiID != "" {
		return &pinnedImage{id: cfg.AmiID}
	}
	cpu := awsec2.AmazonLinuxCpuType_X86_64
	if cfg.Arch() == "arm64" {
		cpu = awsec2.AmazonLinuxCpuType_ARM_64
	}
	return awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: cpu})
}

// pinnedImage is one fixed Linux AMI in any region the stack deploys to. (The CDK's own
// generic image wants a region-to-AMI map, which an environment-agnostic stack cannot key.)
// A pointer receiver, as jsii needs for Go implementations of its interfaces.
type pinnedImage struct{ id string }

// GetImage implements awsec2.IMachineImage.
func (p *pinnedImage) GetImage(constructs.Construct) *awsec2.MachineImageConfig {
	return &awsec2.MachineImageConfig{
		ImageId:  jsii.String(p.id),
		OsType:   awsec2.OperatingSystemType_LINUX,
		UserData: awsec2.UserData_ForLinux(nil),
	}
}

var placeholderRE = regexp.MustCompile(`@[A-Z_]+@`)

// bootstrapScript is assets/bootstrap.sh with its placeholders filled in and the
// systemd unit inlined. Values may be CDK tokens; they resolve in the template.
func bootstrapScript(values map[string]string) string {
	pairs := []string{"@UNIT@", strings.TrimRight(assets.WebServerUnit, "\n")}
	for k, v := range values {
		pairs = append(pairs, "@"+k+"@", v)
	}
	out := strings.NewReplacer(pairs...).Replace(assets.BootstrapScript)
	if m := placeholderRE.FindString(out); m != "" {
		panic("bootstrap script: no value for placeholder " + m)
	}
	return out
}
