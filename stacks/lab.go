package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
)

// Lab is the whole app: both stacks, built from one validated Config.
type Lab struct {
	Config  config.Config
	Network *NetworkStack
	Service *ServiceStack
}

// ReadConfig reads the context of scope (cdk.json defaults and -c flags) through config.Read.
func ReadConfig(scope constructs.Construct) (config.Config, error) {
	node := scope.Node()
	return config.Read(func(key string) any { return node.TryGetContext(&key) })
}

// NewLab validates the context of app, declares the two stacks and checks them with cdk-nag's
// AwsSolutions rules. An invalid context value returns an error before anything is declared.
func NewLab(app awscdk.App, env *awscdk.Environment) (*Lab, error) {
	cfg, err := ReadConfig(app)
	if err != nil {
		return nil, err
	}
	l := &Lab{Config: cfg}
	l.Network = NewNetworkStack(app, lab.VPCStackName, &NetworkStackProps{
		StackProps: awscdk.StackProps{
			Env:         env,
			Description: jsii.String("HealthCheckLab network: a VPC over three Availability Zones"),
		},
		NatGateways: cfg.NatGateways,
	})
	l.Service = NewServiceStack(app, lab.ServiceStackName, &ServiceStackProps{
		StackProps: awscdk.StackProps{
			Env: env,
			Description: jsii.String("HealthCheckLab: web servers behind a load balancer, the RecommendationService " +
				"table and parameter, and the instance roles (Well-Architected lab: health checks and dependencies)"),
		},
		Vpc:    l.Network.Vpc,
		Config: cfg,
	})
	suppressNetworkFindings(l.Network)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return l, nil
}
