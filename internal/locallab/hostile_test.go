package locallab

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/standin/dynalite"
)

// sendHostileGetItem sends, through the lab's AWS endpoint and signed with the keys any local
// process can read from an instance's metadata stand-in, the request that once crashed the
// lab's DynamoDB: a GetItem whose key holds a list nested 2,000 deep. DynamoDB refuses it
// with 400 ValidationException, and so must the lab; a normal GetItem still answers after it.
func sendHostileGetItem(ctx context.Context, t *testing.T, l *Lab) {
	t.Helper()
	var keys labclient.RoleCredentials
	for role, c := range l.RoleCredentials() {
		if !strings.Contains(role, "noDDB") {
			keys = c
		}
	}
	if keys.AccessKeyID == "" {
		t.Fatal("the lab hands out no credentials for the normal instance role")
	}
	c := dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(l.Endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider(keys.AccessKeyID, keys.SecretAccessKey, keys.SessionToken),
	})
	var av types.AttributeValue = &types.AttributeValueMemberS{Value: "x"}
	for range 2000 {
		av = &types.AttributeValueMemberL{Value: []types.AttributeValue{av}}
	}
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(dynalite.DefaultTableName),
		Key:       map[string]types.AttributeValue{lab.PartitionKey: av, lab.SortKey: &types.AttributeValueMemberN{Value: "1"}},
	})
	var apiErr smithy.APIError
	var httpErr *awshttp.ResponseError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" ||
		!errors.As(err, &httpErr) || httpErr.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("GetItem with a key nested 2,000 deep: %v, want DynamoDB's 400 ValidationException", err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(dynalite.DefaultTableName),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("GetItem of user 1 after the hostile request: %v (item %v)", err, out)
	}
}
