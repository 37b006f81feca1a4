package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"healthchecklab/internal/config"
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
	l := DeclareLab(app, cfg, env)
	CheckWithNag(app)
	return l, nil
}

// CheckWithNag adds cdk-nag's AwsSolutions checks to every stack under scope; once per app.
func CheckWithNag(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Stack descriptions, shared by the stand-alone stacks and the workshop's nested ones.
const (
	networkDescription = "HealthCheckLab network: a VPC over three Availability Zones"
	serviceDescription = "HealthCheckLab: web servers behind a load balancer, the RecommendationService " +
		"table and parameter, and the instance roles (Well-Architected lab: health checks and dependencies)"
)

// DeclareLab declares the two stacks of one copy of the lab, named after cfg.Names(), under
// scope (an app; several copies with different LabIds may share one).
func DeclareLab(scope constructs.Construct, cfg config.Config, env *awscdk.Environment) *Lab {
	names := cfg.Names()
	l := &Lab{Config: cfg}
	l.Network = NewNetworkStack(scope, names.VPCStack(), &NetworkStackProps{
		StackProps:  awscdk.StackProps{Env: env, Description: jsii.String(networkDescription)},
		NatGateways: cfg.NatGateways,
	})
	l.Service = NewServiceStack(scope, names.ServiceStack(), &ServiceStackProps{
		StackProps: awscdk.StackProps{Env: env, Description: jsii.String(serviceDescription)},
		Vpc:        l.Network.Vpc,
		Config:     cfg,
	})
	suppressNetworkFindings(l.Network)
	return l
}
