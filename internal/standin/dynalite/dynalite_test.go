package dynalite

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"healthchecklab/internal/lab"
)

// TestStartSeedClose is the whole life of a stand-in DynamoDB: start, create and seed the lab
// table, read every seed row back, see the decoy table fail for real, and stop without orphans.
func TestStartSeedClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := Start(ctx, Options{Stderr: os.Stderr})
	if err != nil {
		t.Fatalf("Start: %v (CI runs `npm ci` first; so must you)", err)
	}
	pid := srv.Pid()

	if err := SetupLabTable(ctx, srv.URL, DefaultTableName); err != nil {
		t.Fatal(err)
	}
	c := NewClient(srv.URL, "us-east-1", "any")
	for _, want := range lab.Seed().Items {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(DefaultTableName),
			Key: map[string]types.AttributeValue{
				lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
				lab.SortKey:      &types.AttributeValueMemberN{Value: strconv.Itoa(want.UserID)},
			},
		})
		if err != nil {
			t.Fatalf("GetItem %d: %v", want.UserID, err)
		}
		got := out.Item[lab.UserNameAttribute].(*types.AttributeValueMemberS).Value + "/" +
			out.Item[lab.ResultAttribute].(*types.AttributeValueMemberS).Value
		if got != want.UserName+"/"+want.Result {
			t.Errorf("user %d = %q, want %q", want.UserID, got, want.UserName+"/"+want.Result)
		}
	}

	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(lab.DecoyTableName),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: "1"},
		},
	})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("GetItem on the decoy table: err = %v, want ResourceNotFoundException", err)
	}

	if err := CreateLabTable(ctx, c, DefaultTableName); err == nil {
		t.Error("creating the table twice succeeded")
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	assertGroupGone(t, pid)
}
