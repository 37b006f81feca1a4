package stacks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/assets"
	"healthchecklab/internal/lab"
)

// ParameterPattern is the allowed pattern of the RecommendationServiceEnabled parameter.
const ParameterPattern = "^(true|false)$"

// MaxSeedRows is the most rows the seeding writes: one TransactWriteItems takes 100 actions.
const MaxSeedRows = 100

// RecommendationService is the lab's mocked dependency: the table, its seed data and the
// parameter that switches it off.
type RecommendationService struct {
	Table     awsdynamodb.Table
	Parameter awsssm.StringParameter
	// Seed is the custom resource that writes the seed rows into Table.
	Seed customresources.AwsCustomResource
}

// newRecommendationService declares the table (removed with the stack), seeds it from
// assets/recommendations.json and declares the RecommendationServiceEnabled parameter under
// parameterName (lab.Names.Parameter).
func newRecommendationService(scope constructs.Construct, id, parameterName string, seedJSON []byte) *RecommendationService {
	c := constructs.NewConstruct(scope, &id)
	seed, err := lab.ParseSeed(seedJSON)
	if err != nil {
		panic(err)
	}

	table := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String(lab.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:       &awsdynamodb.Attribute{Name: jsii.String(lab.SortKey), Type: awsdynamodb.AttributeType_NUMBER},
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:    awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
	})

	// One TransactWriteItems puts every row, all or nothing: unlike BatchWriteItem it has no
	// UnprocessedItems to ignore, so the deploy either has every row or fails (the SDK retries
	// throttling first). The custom resource can make one call and cannot loop over leftovers,
	// so all-or-nothing is what makes one call enough. The rows are the call's parameters:
	// editing the file changes this resource and CloudFormation runs the call again on the next
	// deploy. Rows removed from the file stay in the table until the stack is replaced.
	if len(seed.Items) > MaxSeedRows {
		panic(fmt.Sprintf("seed data: %d rows, one transaction writes at most %d", len(seed.Items), MaxSeedRows))
	}
	puts := make([]any, 0, len(seed.Items))
	for _, it := range seed.Items {
		puts = append(puts, map[string]any{"Put": map[string]any{
			"TableName": *table.TableName(),
			"Item": map[string]any{
				lab.PartitionKey:      map[string]string{"S": seed.ServiceAPI},
				lab.SortKey:           map[string]string{"N": strconv.Itoa(it.UserID)},
				lab.UserNameAttribute: map[string]string{"S": it.UserName},
				lab.ResultAttribute:   map[string]string{"S": it.Result},
			},
		}})
	}
	sum := sha256.Sum256(seedJSON)
	call := &customresources.AwsSdkCall{
		Service:            jsii.String("DynamoDB"),
		Action:             jsii.String("TransactWriteItems"),
		Parameters:         map[string]any{"TransactItems": puts},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String("seed-" + hex.EncodeToString(sum[:8]))),
	}
	seedResource := customresources.NewAwsCustomResource(c, jsii.String("Seed"), &customresources.AwsCustomResourceProps{
		OnCreate: call,
		OnUpdate: call,
		// The seeding function may put items into this table, inside a transaction, and
		// nothing else: a transaction's Put is authorized as dynamodb:PutItem.
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("dynamodb:PutItem"),
				Resources: jsii.Strings(*table.TableArn()),
				Conditions: &map[string]any{
					"ForAnyValue:StringEquals": map[string]any{"dynamodb:EnclosingOperation": []string{"TransactWriteItems"}},
				},
			}),
		}),
		InstallLatestAwsSdk: jsii.Bool(false),
		// The function's logs go with the stack (the default group outlives it for two years).
		LogGroup: newFunctionLogGroup(c, "SeedLogs"),
	})

	param := awsssm.NewStringParameter(c, jsii.String("Enabled"), &awsssm.StringParameterProps{
		ParameterName:  jsii.String(parameterName),
		StringValue:    jsii.String("true"),
		AllowedPattern: jsii.String(ParameterPattern),
		Description: jsii.String("HealthCheckLab switch and emergency lever: true = the RecommendationService works; " +
			"false = every web server simulates a total outage of it (calls a table that does not exist)."),
	})

	return &RecommendationService{Table: table, Parameter: param, Seed: seedResource}
}

// seedJSON is the seed file the stack ships; a variable so that tests can check re-seeding.
var seedJSON = assets.RecommendationsJSON
