// Package stacks declares the lab's two CloudFormation stacks: the network (WebApp1-VPC) and
// the health-check lab itself (HealthCheckLab: data, roles and web tier).
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ZoneCount is the number of Availability Zones the lab spreads over: one instance per zone,
// and the third zone is the one whose instance the lab breaks.
const ZoneCount = 3

// NetworkStackProps configures the network stack.
type NetworkStackProps struct {
	awscdk.StackProps
	// NatGateways is the number of NAT gateways for the private subnets (1 keeps cost down;
	// 3 removes the single-zone egress dependency).
	NatGateways int
}

// NetworkStack is the VPC the web tier runs in.
type NetworkStack struct {
	awscdk.Stack
	Vpc awsec2.Vpc
}

// NewNetworkStack declares a VPC over exactly three zones: public subnets for the load
// balancer, private subnets with egress for the instances, and gateway endpoints so that the
// instances reach S3 (the server asset) and DynamoDB (the service) without the NAT gateway.
func NewNetworkStack(scope constructs.Construct, id string, props *NetworkStackProps) *NetworkStack {
	return declareNetwork(awscdk.NewStack(scope, &id, &props.StackProps), props)
}

// declareNetwork declares the network in stack (a stand-alone or a nested stack).
func declareNetwork(stack awscdk.Stack, props *NetworkStackProps) *NetworkStack {
	vpcProps := &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String("10.0.0.0/16")),
		NatGateways: jsii.Number(props.NatGateways),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(24)},
		},
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"S3":       {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
			"DynamoDB": {Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB()},
		},
	}
	if *awscdk.Token_IsUnresolved(stack.Region()) {
		// Without a region, the CDK would pick only two zones. Select the first three of the
		// deploy region at deploy time instead, as the lab's own template does.
		vpcProps.AvailabilityZones = zoneSelection()
	} else {
		vpcProps.MaxAzs = jsii.Number(ZoneCount)
	}
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), vpcProps)
	logRestrictDefaultSGToStack(stack)
	return &NetworkStack{Stack: stack, Vpc: vpc}
}

// zoneSelection is Fn::Select(i, Fn::GetAZs("")) for the first ZoneCount zones.
func zoneSelection() *[]*string {
	zones := make([]*string, ZoneCount)
	for i := range zones {
		zones[i] = awscdk.Fn_Select(jsii.Number(i), awscdk.Fn_GetAzs(jsii.String("")))
	}
	return &zones
}
