package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/infra"
)

// Network token statuses as stored.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusDeleted   = "deleted"
)

// NetworkToken is a token provisioned at a card network. It is keyed on our
// id and findable by the network's own reference through gsi1; the token PAN
// is only in SealedTokenPAN. Version grows by one on every change and guards
// every write after the first.
type NetworkToken struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	GSI1PK         string `dynamodbav:"gsi1pk"`
	GSI1SK         string `dynamodbav:"gsi1sk"`
	ID             string `dynamodbav:"id"`
	MerchantID     string `dynamodbav:"merchantId"`
	CustomerID     string `dynamodbav:"customerId,omitempty"`
	CardTokenID    string `dynamodbav:"cardTokenId"`
	Network        string `dynamodbav:"network"`
	Reference      string `dynamodbav:"reference"`
	SealedTokenPAN []byte `dynamodbav:"sealedTokenPan"`
	TokenLast4     string `dynamodbav:"tokenLast4"`
	TokenExpMonth  int    `dynamodbav:"tokenExpMonth"`
	TokenExpYear   int    `dynamodbav:"tokenExpYear"`
	CardLast4      string `dynamodbav:"cardLast4"`
	CardExpMonth   int    `dynamodbav:"cardExpMonth"`
	CardExpYear    int    `dynamodbav:"cardExpYear"`
	PAR            string `dynamodbav:"par"`
	Status         string `dynamodbav:"status"`
	// SuspendedBy says who suspended a suspended token: "token_requestor"
	// (the merchant, through us) or "issuer". Only the same party resumes.
	SuspendedBy string `dynamodbav:"suspendedBy,omitempty"`
	// NetworkStatusAt is the newest status timestamp a network notification
	// carried; older or equal notifications are not applied again.
	NetworkStatusAt string `dynamodbav:"networkStatusAt,omitempty"`
	Version         int    `dynamodbav:"version"`
	CreatedAt       string `dynamodbav:"createdAt"`
	UpdatedAt       string `dynamodbav:"updatedAt"`
}

// CardLink ties a card token to the network token made from it, so that a
// card has at most one live network token. While provisioning is under way
// the link is "claimed" with a lease; once the token is written it is
// "linked"; deleting the token "releases" it.
type CardLink struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	NetworkTokenID string `dynamodbav:"networkTokenId"`
	State          string `dynamodbav:"state"`
	LeaseUntil     int64  `dynamodbav:"leaseUntil"`
}

// Card link states.
const (
	LinkClaimed  = "claimed"
	LinkLinked   = "linked"
	LinkReleased = "released"
)

// OutboxEntry is an event waiting to be published. It is written in the
// same transaction as the state change it reports, so a change is never
// without its event; the relay deletes it once published.
type OutboxEntry struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	GSI1PK    string `dynamodbav:"gsi1pk"`
	GSI1SK    string `dynamodbav:"gsi1sk"`
	EventID   string `dynamodbav:"eventId"`
	Event     string `dynamodbav:"event"`
	CreatedAt string `dynamodbav:"createdAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// outboxRetention bounds how long an unpublished event is kept.
const outboxRetention = 14 * 24 * time.Hour

// NewOutboxEntry wraps an encoded event for the outbox.
func (s *Store) NewOutboxEntry(eventID string, eventJSON []byte) OutboxEntry {
	now := s.now().UTC()
	return OutboxEntry{
		PK:        prefixOutbox + eventID,
		SK:        "OUTBOX",
		GSI1PK:    "OUTBOX",
		GSI1SK:    now.Format(time.RFC3339Nano) + "#" + eventID,
		EventID:   eventID,
		Event:     string(eventJSON),
		CreatedAt: now.Format(time.RFC3339),
		ExpiresAt: now.Add(outboxRetention).Unix(),
	}
}

// ClaimCard takes the right to provision a network token for a card. It
// fails with fault.ErrConflict while another live claim or link holds the
// card; a claim whose lease ran out, or a released link, can be taken over.
func (s *Store) ClaimCard(ctx context.Context, cardID, ntID string, lease time.Duration) error {
	link := CardLink{
		PK: prefixCard + cardID, SK: "LINK", NetworkTokenID: ntID,
		State: LinkClaimed, LeaseUntil: s.now().Add(lease).Unix(),
	}
	av, err := attributevalue.MarshalMap(link)
	if err != nil {
		return fmt.Errorf("encoding card link: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item:      av,
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #state = :released OR " +
			"(#state = :claimed AND #lease <= :now)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrPK, "#state": "state", "#lease": "leaseUntil",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":released": &types.AttributeValueMemberS{Value: LinkReleased},
			":claimed":  &types.AttributeValueMemberS{Value: LinkClaimed},
			":now":      &types.AttributeValueMemberN{Value: s.nowEpoch()},
		},
	})
	err = conditional(err, "claiming card")
	if errors.Is(err, fault.ErrConflict) {
		// A put the SDK retried after its answer was lost finds its own claim.
		if cur, getErr := s.CardLink(ctx, cardID); getErr == nil &&
			cur.State == LinkClaimed && cur.NetworkTokenID == ntID {
			return nil
		}
	}
	return err
}

// CardLink returns the link of a card, or fault.ErrNotFound.
func (s *Store) CardLink(ctx context.Context, cardID string) (CardLink, error) {
	var link CardLink
	if err := s.get(ctx, key{PK: prefixCard + cardID, SK: "LINK"}, &link); err != nil {
		return CardLink{}, fmt.Errorf("card link: %w", err)
	}
	return link, nil
}

// ReleaseClaim gives up a claim that did not lead to a token. It does
// nothing if the claim is no longer ours.
func (s *Store) ReleaseClaim(ctx context.Context, cardID, ntID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(s.table),
		Key:                 key{PK: prefixCard + cardID, SK: "LINK"}.av(),
		ConditionExpression: aws.String("#nt = :nt AND #state = :claimed"),
		ExpressionAttributeNames: map[string]string{
			"#nt": "networkTokenId", "#state": "state",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nt":      &types.AttributeValueMemberS{Value: ntID},
			":claimed": &types.AttributeValueMemberS{Value: LinkClaimed},
		},
	})
	if err = conditional(err, "releasing claim"); errors.Is(err, fault.ErrConflict) {
		return nil
	}
	return err
}

// CreateNetworkToken writes a new token, turns the card's claim into a link
// and queues the events, all in one transaction. It fails with
// fault.ErrConflict if the claim is no longer this token's.
func (s *Store) CreateNetworkToken(ctx context.Context, nt NetworkToken, events ...OutboxEntry) error {
	nt.PK, nt.SK = prefixNetToken+nt.ID, "NT"
	nt.GSI1PK, nt.GSI1SK = prefixNetRef+nt.Network+"#"+nt.Reference, "NT"
	tx := s.newTx()
	tx.putNew(nt)
	tx.update(key{PK: prefixCard + nt.CardTokenID, SK: "LINK"},
		"SET #state = :linked", "#nt = :nt AND #state = :claimed",
		map[string]string{"#state": "state", "#nt": "networkTokenId"},
		map[string]types.AttributeValue{
			":linked":  &types.AttributeValueMemberS{Value: LinkLinked},
			":claimed": &types.AttributeValueMemberS{Value: LinkClaimed},
			":nt":      &types.AttributeValueMemberS{Value: nt.ID},
		})
	for _, e := range events {
		tx.putNew(e)
	}
	return tx.commit(ctx, "creating network token")
}

// NetworkToken returns a token by our id, or fault.ErrNotFound.
func (s *Store) NetworkToken(ctx context.Context, id string) (NetworkToken, error) {
	var nt NetworkToken
	if err := s.get(ctx, key{PK: prefixNetToken + id, SK: "NT"}, &nt); err != nil {
		return NetworkToken{}, fmt.Errorf("network token: %w", err)
	}
	return nt, nil
}

// NetworkTokenByReference finds a token by its network's reference, or
// returns fault.ErrNotFound.
func (s *Store) NetworkTokenByReference(ctx context.Context, network, ref string) (NetworkToken, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(infra.IndexGSI1),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk = :sk"),
		ExpressionAttributeNames: map[string]string{
			"#pk": infra.AttrGSI1PK, "#sk": infra.AttrGSI1SK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: prefixNetRef + network + "#" + ref},
			":sk": &types.AttributeValueMemberS{Value: "NT"},
		},
	})
	if err != nil {
		return NetworkToken{}, fmt.Errorf("querying by reference: %w", err)
	}
	if len(res.Items) == 0 {
		return NetworkToken{}, fmt.Errorf("network token by reference: %w", fault.ErrNotFound)
	}
	var nt NetworkToken
	if err := attributevalue.UnmarshalMap(res.Items[0], &nt); err != nil {
		return NetworkToken{}, fmt.Errorf("decoding network token: %w", err)
	}
	return nt, nil
}

// UpdateNetworkToken replaces a token whose stored version is still
// prevVersion (the caller sets nt.Version to prevVersion+1), queues the
// events, and when the token is now deleted releases its card's link, all in
// one transaction. A concurrent change makes it fail with fault.ErrConflict.
func (s *Store) UpdateNetworkToken(ctx context.Context, nt NetworkToken, prevVersion int,
	events ...OutboxEntry) error {
	nt.PK, nt.SK = prefixNetToken+nt.ID, "NT"
	nt.GSI1PK, nt.GSI1SK = prefixNetRef+nt.Network+"#"+nt.Reference, "NT"
	tx := s.newTx()
	tx.put(nt, "#v = :v", map[string]string{"#v": "version"},
		map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: strconv.Itoa(prevVersion)},
		})
	if nt.Status == StatusDeleted {
		tx.update(key{PK: prefixCard + nt.CardTokenID, SK: "LINK"},
			"SET #state = :released", "#nt = :nt",
			map[string]string{"#state": "state", "#nt": "networkTokenId"},
			map[string]types.AttributeValue{
				":released": &types.AttributeValueMemberS{Value: LinkReleased},
				":nt":       &types.AttributeValueMemberS{Value: nt.ID},
			})
	}
	for _, e := range events {
		tx.putNew(e)
	}
	return tx.commit(ctx, "updating network token")
}

// PendingOutbox returns up to limit queued events, oldest first.
func (s *Store) PendingOutbox(ctx context.Context, limit int32) ([]OutboxEntry, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		IndexName:                aws.String(infra.IndexGSI1),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": infra.AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "OUTBOX"},
		},
		Limit: aws.Int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("querying outbox: %w", err)
	}
	var entries []OutboxEntry
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &entries); err != nil {
		return nil, fmt.Errorf("decoding outbox: %w", err)
	}
	return entries, nil
}

// DeleteOutbox removes a published event from the outbox.
func (s *Store) DeleteOutbox(ctx context.Context, eventID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       key{PK: prefixOutbox + eventID, SK: "OUTBOX"}.av(),
	})
	if err != nil {
		return fmt.Errorf("deleting outbox entry: %w", err)
	}
	return nil
}
