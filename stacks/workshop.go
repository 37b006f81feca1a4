package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
)

// The lab as an AWS Workshop Studio package: one entry stack that deploys with nothing but
// CloudFormation. The network and the service become nested stacks of it; every file asset
// (the nested templates, the web server, the two custom-resource functions) is read from
// the bucket and prefix the two parameters below name, which Workshop Studio fills in with
// its own assets bucket and an instructor fills in with a bucket of theirs. There is no
// `cdk bootstrap`: no bootstrap version rule, no CDK roles, no CDK staging bucket.

// Parameters of the workshop's entry template.
const (
	// ParamAssetsBucketName and ParamAssetsBucketPrefix locate the package's assets/ folder.
	ParamAssetsBucketName   = "AssetsBucketName"
	ParamAssetsBucketPrefix = "AssetsBucketPrefix"
	// ParamServerCode is the ServerCode the instances run: a stage is an update of this one
	// parameter, which changes the launch template only (and so replaces the instances one
	// by one, as `cdk deploy -c ServerCode=…` does).
	ParamServerCode = "ServerCode"
)

// WorkshopSynthesizer places file assets at ${AssetsBucketName}/${AssetsBucketPrefix}<hash>
// and adds no bootstrap version check.
func WorkshopSynthesizer() awscdk.IStackSynthesizer {
	return awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{
		FileAssetsBucketName:         jsii.String("${" + ParamAssetsBucketName + "}"),
		BucketPrefix:                 jsii.String("${" + ParamAssetsBucketPrefix + "}"),
		GenerateBootstrapVersionRule: jsii.Bool(false),
	})
}

// Workshop is the entry stack with its two nested stacks.
type Workshop struct {
	Config  config.Config
	Root    awscdk.Stack
	Network *NetworkStack
	Service *ServiceStack
}

// NewWorkshop validates the context of app and declares the workshop's entry stack, named
// like the lab's service stack (HealthCheckLab, or HealthCheckLab-<LabId>).
func NewWorkshop(app awscdk.App) (*Workshop, error) {
	cfg, err := ReadConfig(app)
	if err != nil {
		return nil, err
	}
	return DeclareWorkshop(app, cfg), nil
}

// DeclareWorkshop declares the workshop's entry stack for cfg under scope.
func DeclareWorkshop(scope constructs.Construct, cfg config.Config) *Workshop {
	names := cfg.Names()
	root := awscdk.NewStack(scope, jsii.String(names.ServiceStack()), &awscdk.StackProps{
		Synthesizer: WorkshopSynthesizer(),
		Description: jsii.String(serviceDescription + "; Workshop Studio package, nested network and service stacks"),
	})
	w := &Workshop{Config: cfg, Root: root}
	bucket := awscdk.NewCfnParameter(root, jsii.String(ParamAssetsBucketName), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		MinLength:   jsii.Number(3),
		Description: jsii.String("S3 bucket holding the package's assets/ folder (Workshop Studio: its assets bucket)"),
	})
	prefix := awscdk.NewCfnParameter(root, jsii.String(ParamAssetsBucketPrefix), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Default:     jsii.String(""),
		Description: jsii.String("Key prefix of the assets/ folder in that bucket, ending in / (empty for the bucket's root)"),
	})
	codes := make([]*string, len(lab.ServerCodes))
	for i, c := range lab.ServerCodes {
		codes[i] = jsii.String(string(c))
	}
	serverCode := awscdk.NewCfnParameter(root, jsii.String(ParamServerCode), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String(string(cfg.ServerCode)),
		AllowedValues: &codes,
		Description:   jsii.String("The web server version: basic, then errorhandling, then healthcheck (one update per lab stage)"),
	})

	// Each nested stack declares the same parameters, and the entry stack passes its values
	// on: the nested templates' assets are located through them too.
	nested := func(id, description string, extra map[string]*string) awscdk.NestedStack {
		params := map[string]*string{
			ParamAssetsBucketName:   bucket.ValueAsString(),
			ParamAssetsBucketPrefix: prefix.ValueAsString(),
		}
		for k, v := range extra {
			params[k] = v
		}
		stack := awscdk.NewNestedStack(root, jsii.String(id), &awscdk.NestedStackProps{
			Parameters:  &params,
			Description: jsii.String(description),
		})
		for k := range params {
			awscdk.NewCfnParameter(stack, jsii.String(k), &awscdk.CfnParameterProps{Type: jsii.String("String")})
		}
		return stack
	}

	w.Network = declareNetwork(nested("Network", networkDescription, nil), &NetworkStackProps{NatGateways: cfg.NatGateways})
	serviceStack := nested("Service", serviceDescription, map[string]*string{ParamServerCode: serverCode.ValueAsString()})
	w.Service = declareService(serviceStack, &ServiceStackProps{
		Vpc:        w.Network.Vpc,
		Config:     cfg,
		ServerCode: awscdk.Fn_Ref(jsii.String(ParamServerCode)),
	})
	suppressNetworkFindings(w.Network)

	// The entry stack answers with the service's outputs, so that labctl --stack and the
	// walkthrough's helpers read the same keys as from the stand-alone stack.
	for _, child := range *serviceStack.Node().Children() {
		out, ok := child.(awscdk.CfnOutput)
		if !ok {
			continue
		}
		value, _ := out.Value().(string)
		awscdk.NewCfnOutput(root, child.Node().Id(), &awscdk.CfnOutputProps{
			Value: jsii.String(value), Description: out.Description(),
		})
	}
	return w
}
