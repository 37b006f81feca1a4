package dynalite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin"
)

// DefaultTableName is the table name the local lab and the tests use. The deployed stack gets a
// generated name; nothing may depend on this one except local set-ups.
const DefaultTableName = "RecommendationService"

// NewClient returns a DynamoDB client for endpoint (dynalite or a proxy in front of it) that
// signs with the credentials of role, as the stand-in IMDS would hand them out.
func NewClient(endpoint, region, role string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{
				AccessKeyID:     standin.AccessKeyID(role),
				SecretAccessKey: standin.SecretAccessKey(role),
				Source:          "standin",
			}, nil
		})),
	})
}

// CreateLabTable creates the RecommendationService table with the lab's key (partition
// ServiceAPI string, sort UserID number), on demand, as the stack declares it. It returns once
// the table is ACTIVE. An existing table is an error.
func CreateLabTable(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(lab.PartitionKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(lab.SortKey), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(lab.PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(lab.SortKey), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond // dynalite runs with createTableMs 0
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	return nil
}

// Item returns the DynamoDB item of one seed row.
func Item(serviceAPI string, r lab.Recommendation) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		lab.PartitionKey:      &types.AttributeValueMemberS{Value: serviceAPI},
		lab.SortKey:           &types.AttributeValueMemberN{Value: strconv.Itoa(r.UserID)},
		lab.ResultAttribute:   &types.AttributeValueMemberS{Value: r.Result},
		lab.UserNameAttribute: &types.AttributeValueMemberS{Value: r.UserName},
	}
}

// SeedTable writes every row of seed into table (PutItem, so seeding twice is harmless).
func SeedTable(ctx context.Context, c *dynamodb.Client, table string, seed lab.SeedData) error {
	if len(seed.Items) == 0 {
		return errors.New("seed: no items")
	}
	for _, r := range seed.Items {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item:      Item(seed.ServiceAPI, r),
		}); err != nil {
			return fmt.Errorf("seed %s user %d: %w", table, r.UserID, err)
		}
	}
	return nil
}

// SetupLabTable creates table in the DynamoDB API at endpoint and seeds it with lab.Seed().
// It signs as the lab's normal role, so it works through ddbauth too.
func SetupLabTable(ctx context.Context, endpoint, table string) error {
	return setupLabTable(ctx, NewClient(endpoint, "us-east-1", lab.RoleName(lab.DefaultNamingPrefix)), table)
}

// SetupLabTable creates table in this dynalite and seeds it, with the server's token if it
// has one.
func (s *Server) SetupLabTable(ctx context.Context, table string) error {
	c := NewClient(s.URL, "us-east-1", lab.RoleName(lab.DefaultNamingPrefix))
	if s.token != "" {
		c = dynamodb.New(c.Options(), dynamodb.WithAPIOptions(smithyhttp.AddHeaderValue(TokenHeader, s.token)))
	}
	return setupLabTable(ctx, c, table)
}

func setupLabTable(ctx context.Context, c *dynamodb.Client, table string) error {
	if err := CreateLabTable(ctx, c, table); err != nil {
		return err
	}
	return SeedTable(ctx, c, table, lab.Seed())
}
