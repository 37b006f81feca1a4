package target

import "slices"

// knownRegions are the AWS Regions the project's AWS SDK for Go (v1.38) knows, from its
// partition data (internal/endpoints/awsrulesfn/partitions.json), which follows the list at
// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html.
// A name lookup that fails for one of these is a network fault, not a typo: the endpoint
// exists. A region launched later is not a typo either; it is only reported as unknown.
var knownRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"cn-north-1", "cn-northwest-1", "eusc-de-east-1", "us-gov-east-1", "us-gov-west-1",
	"us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-east-1", "us-isof-south-1",
}

// KnownRegion reports whether region is one of the AWS Regions labctl knows.
func KnownRegion(region string) bool { return slices.Contains(knownRegions, region) }
