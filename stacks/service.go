package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/assets"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
)

// ServiceStackProps configures the HealthCheckLab stack.
type ServiceStackProps struct {
	awscdk.StackProps
	// Vpc comes from the network stack.
	Vpc awsec2.IVpc
	// Config is the validated context.
	Config config.Config
	// SeedJSON overrides the seed data (assets/recommendations.json when nil).
	SeedJSON []byte
	// ServerCode, when set, replaces Config.ServerCode in the launch template: the workshop
	// package passes its ServerCode template parameter here.
	ServerCode *string
}

// ServiceStack is everything of the lab but the network: the mocked RecommendationService,
// the instance roles, the web server asset and the web tier.
type ServiceStack struct {
	awscdk.Stack
	Service *RecommendationService
	Roles   *InstanceRoles
	Web     *WebTier
	// Faults are the AWS FIS experiments, only with -c FaultInjection=true (nil otherwise).
	Faults *FaultInjection
}

// Output names of the HealthCheckLab stack (defined in package lab, which labctl also reads).
const (
	OutputWebsiteURL           = lab.OutputWebsiteURL
	OutputHealthCheckURL       = lab.OutputHealthCheckURL
	OutputTargetGroupArn       = lab.OutputTargetGroupArn
	OutputAutoScalingGroupName = lab.OutputAutoScalingGroupName
	OutputParameterName        = lab.OutputParameterName
	OutputNoDDBProfileName     = lab.OutputNoDDBProfileName
	OutputInstanceProfileName  = lab.OutputInstanceProfileName
	OutputTableName            = lab.OutputTableName
)

// NewServiceStack declares the HealthCheckLab stack.
func NewServiceStack(scope constructs.Construct, id string, props *ServiceStackProps) *ServiceStack {
	return declareService(awscdk.NewStack(scope, &id, &props.StackProps), props)
}

// declareService declares the lab's service in stack (a stand-alone or a nested stack).
func declareService(stack awscdk.Stack, props *ServiceStackProps) *ServiceStack {
	s := &ServiceStack{Stack: stack}
	names := props.Config.Names()
	serverCode := props.ServerCode
	if serverCode == nil {
		serverCode = jsii.String(string(props.Config.ServerCode))
	}

	seed := props.SeedJSON
	if seed == nil {
		seed = assets.RecommendationsJSON
	}
	s.Service = newRecommendationService(stack, "RecommendationService", names.Parameter(), seed)

	asset := NewWebServerAsset(stack, "WebServerBinary", &WebServerAssetProps{Arch: props.Config.Arch()})
	decoyArn := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Resource:     jsii.String("table"),
		ResourceName: jsii.String(lab.DecoyTableName),
	})
	s.Roles = newInstanceRoles(stack, "InstanceRoles", &instanceRolesProps{
		Names:          names,
		TableArns:      []*string{s.Service.Table.TableArn(), decoyArn},
		ParameterArn:   s.Service.Parameter.ParameterArn(),
		AssetObjectArn: asset.Bucket().ArnForObjects(asset.S3ObjectKey()),
		StackID:        stack.StackId(),
	})

	s.Web = newWebTier(stack, "Web", &webTierProps{
		Vpc:           props.Vpc,
		Config:        props.Config,
		ServerCode:    serverCode,
		Asset:         asset,
		Profile:       s.Roles.Profile,
		TableName:     s.Service.Table.TableName(),
		ParameterName: s.Service.Parameter.ParameterName(),
	})

	url := "http://" + *s.Web.LoadBalancer.LoadBalancerDnsName()
	output(stack, OutputWebsiteURL, url, "The lab's web site: refresh it to see recommendations and the serving zone")
	output(stack, OutputHealthCheckURL, url+lab.TargetGroupHealthCheck.Path, "What the load balancer's health check sees")
	output(stack, OutputTargetGroupArn, *s.Web.TargetGroup.TargetGroupArn(), "aws elbv2 describe-target-health --target-group-arn <this>")
	output(stack, OutputAutoScalingGroupName, *s.Web.Group.AutoScalingGroupName(), "The web servers' Auto Scaling group")
	output(stack, OutputParameterName, *s.Service.Parameter.ParameterName(), "Set to false to simulate the RecommendationService outage, true to end it")
	output(stack, OutputInstanceProfileName, *s.Roles.Profile.InstanceProfileName(), "The web servers' normal instance profile (attach it back to undo the stale-credentials fault)")
	output(stack, OutputNoDDBProfileName, *s.Roles.NoDDBProfile.InstanceProfileName(), "Attach to the zone-c instance to simulate stale credentials")
	output(stack, OutputTableName, *s.Service.Table.TableName(), "The RecommendationService table")
	if names.LabID != "" {
		output(stack, labnames.OutputLabID, names.LabID, "This copy's LabId: pass -c LabId=<this> to every cdk command on it")
	}

	if props.Config.FaultInjection {
		s.Faults = newFaultInjection(stack, "FaultInjection", &faultInjectionProps{
			DesiredCapacity: props.Config.DesiredCapacity,
			Names:           names,
			Vpc:             props.Vpc, Web: s.Web, Roles: s.Roles, Parameter: s.Service.Parameter,
		})
	}

	suppressServiceFindings(s)
	return s
}

func output(scope constructs.Construct, id, value, description string) {
	awscdk.NewCfnOutput(scope, &id, &awscdk.CfnOutputProps{Value: &value, Description: &description})
}
