package ddb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/account"
	"onboarding/shared/audit"
	"onboarding/shared/fault"
	"onboarding/shared/invite"
	"onboarding/shared/org"
	"onboarding/shared/quota"
)

// accountExists is the check, in an accept or an add, that the account
// being made a member still exists: erasure deletes it last, so no
// membership is made for a person erased meanwhile.
func (s *Store) accountExists(userID string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
		Key: key{userPK(userID), skProfile}.av(), ConditionExpression: aws.String("attribute_exists(PK)")}}
}

// InvitationsTo returns the invitations to email in every organisation:
// the keys from InviteeIndex, then the items (BatchGetItem, 100 at a time).
func (s *Store) InvitationsTo(ctx context.Context, email string) ([]invite.Invitation, error) {
	keys, err := s.inviteeKeys(ctx, email)
	if err != nil {
		return nil, err
	}
	items, err := s.batchGetAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := []invite.Invitation{}
	for _, k := range keys {
		it, ok := items[k.PK+"|"+k.SK]
		if !ok {
			continue // deleted since the index was read
		}
		var inv invite.Invitation
		if err := attributevalue.UnmarshalMap(it, &inv); err != nil {
			return nil, fmt.Errorf("unmarshal invitation: %w", err)
		}
		out = append(out, inv)
	}
	return out, nil
}

// inviteeKeys returns the keys of the invitations InviteeIndex finds by
// email.
func (s *Store) inviteeKeys(ctx context.Context, email string) ([]key, error) {
	var keys []key
	err := s.eachItem(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(IndexInvitee),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrInviteePK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(inviteePK(email))},
	}, func(it map[string]types.AttributeValue) error {
		var k key
		if err := attributevalue.UnmarshalMap(it, &k); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query invitations to an address: %w", err)
	}
	return keys, nil
}

// eachItem runs a query to its last page, handing each item to each.
func (s *Store) eachItem(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := each(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// partition queries the keys of a partition's items (with prefix, if not
// "") for deletion.
func (s *Store) partition(ctx context.Context, pk, prefix string) ([]key, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk"), ProjectionExpression: aws.String("PK, SK"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("PK = :pk AND begins_with(SK, :sk)")
		in.ExpressionAttributeValues[":sk"] = str(prefix)
	}
	var keys []key
	err := s.eachItem(ctx, in, func(it map[string]types.AttributeValue) error {
		var k key
		if err := attributevalue.UnmarshalMap(it, &k); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	return keys, err
}

// sessionSecrets are the attributes of a session item an export leaves
// out: keys, and anything that is or derives from a token.
func sessionSecret(name string) bool {
	n := strings.ToLower(name)
	return name == attrPK || name == attrSK || name == attrTTL || name == attrType || strings.HasPrefix(name, "GSI") ||
		strings.Contains(n, "hash") || strings.Contains(n, "token") || strings.Contains(n, "secret")
}

// ExportSessions returns the person's sessions as stored (USER#<user> SESSION#),
// without their keys and token hashes.
func (s *Store) ExportSessions(ctx context.Context, userID string) ([]map[string]any, error) {
	out := []map[string]any{}
	err := s.eachItem(ctx, &dynamodb.QueryInput{TableName: &s.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(userID)), ":sk": str(sessionSK(""))},
	}, func(it map[string]types.AttributeValue) error {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			return err
		}
		for name := range m {
			if sessionSecret(name) {
				delete(m, name)
			}
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query sessions of %s: %w", userID, err)
	}
	return out, nil
}

// auditEntries hands each of an organisation's audit entries that p finds
// to be about the person to each, the entry as stored and as pseudonymised.
// It reads the whole trail: entries are not indexed by person.
func (s *Store) auditEntries(ctx context.Context, orgID string, p audit.Pseudonymisation, each func(stored, changed audit.Entry) error) error {
	err := s.eachItem(ctx, &dynamodb.QueryInput{TableName: &s.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgPK(orgID)), ":sk": str(auditPrefix)},
	}, func(it map[string]types.AttributeValue) error {
		var e audit.Entry
		if err := attributevalue.UnmarshalMap(it, &e); err != nil {
			return err
		}
		if changed, about := p.Apply(e); about {
			return each(e, changed)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the audit of %s: %w", orgID, err)
	}
	return nil
}

// AuditAbout returns the organisation's audit entries about the person.
func (s *Store) AuditAbout(ctx context.Context, orgID string, p audit.Pseudonymisation) ([]audit.Entry, error) {
	out := []audit.Entry{}
	err := s.auditEntries(ctx, orgID, p, func(stored, _ audit.Entry) error {
		out = append(out, stored)
		return nil
	})
	return out, err
}

// PseudonymiseAudit rewrites the organisation's entries about the person:
// actor, target, before and after; the event, its time and its TTL stay.
func (s *Store) PseudonymiseAudit(ctx context.Context, orgID string, p audit.Pseudonymisation) error {
	return s.auditEntries(ctx, orgID, p, func(stored, changed audit.Entry) error {
		u := expression.Set(expression.Name("actorId"), expression.Value(changed.ActorID)).
			Set(expression.Name("targetId"), expression.Value(changed.TargetID))
		for name, v := range map[string]map[string]any{"before": changed.Before, "after": changed.After} {
			if v != nil {
				u = u.Set(expression.Name(name), expression.Value(v))
			}
		}
		expr, err := expression.NewBuilder().WithUpdate(u).
			WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
		if err != nil {
			return fmt.Errorf("build audit pseudonymisation: %w", err)
		}
		_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table,
			Key: key{orgPK(orgID), auditSK(stored.At, stored.ID)}.av(), ConditionExpression: expr.Condition(),
			UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
		if isConditionFailed(err) {
			return nil // expired (TTL) meanwhile
		}
		if err != nil {
			return fmt.Errorf("pseudonymise audit entry %s: %w", stored.ID, err)
		}
		return nil
	})
}

// Pseudonym is "erased-" and an HMAC-SHA256 of the user id under a key
// derived from the table's cursor key (32 random bytes made once): stable,
// so an organisation's entries about one erased person still read as one
// person's, and not to be computed from a user id by anyone without the key
// (a partner or former admin who kept an id cannot confirm who was erased).
func (s *Store) Pseudonym(ctx context.Context, userID string) (string, error) {
	root, err := s.CursorKey(ctx)
	if err != nil {
		return "", err
	}
	derive := hmac.New(sha256.New, root)
	derive.Write([]byte("erasure pseudonyms"))
	mac := hmac.New(sha256.New, derive.Sum(nil))
	mac.Write([]byte(userID))
	return "erased-" + hex.EncodeToString(mac.Sum(nil)[:16]), nil
}

// EraseMembership ends m as a removal does (the member if as read, the
// admin count never below one, the monitoring profile) with e.
func (s *Store) EraseMembership(ctx context.Context, m org.Member, e audit.Entry) error {
	err := s.RemoveMember(ctx, m, e)
	if fault.CodeOf(err) != fault.Conflict || err == errLastAdmin {
		return err
	}
	// m came from an index that may lag a change (a new name, a new role):
	// read the membership itself and try once more.
	fresh, rerr := s.Member(ctx, m.OrgID, m.UserID)
	if rerr != nil {
		return errors.Join(err, rerr)
	}
	if fresh == nil {
		return nil // ended meanwhile
	}
	return s.RemoveMember(ctx, *fresh, e)
}

// EraseInvitation deletes inv if its status is as read, with its tokens,
// its leave link's token and, while pending (stored so: expired ones not yet
// swept too), its guard; e, required then, records it.
func (s *Store) EraseInvitation(ctx context.Context, inv invite.Invitation, e *audit.Entry) error {
	var t txn
	t.add("invitation", s.deleteInvitationAsRead(inv))
	t.add("tokens", s.deleteTokens(inv)...)
	if err := s.addInvitationEntries(&t, &inv, nil); err != nil {
		return err
	}
	if inv.LeaveTokenHash != "" {
		t.add("leave token", s.deleteLeaveToken(inv.LeaveTokenHash))
	}
	if inv.Status == invite.Pending {
		if e == nil {
			return fmt.Errorf("erase invitation %s: a pending invitation ends with an audit entry", inv.ID)
		}
		return s.ending(ctx, inv, t, *e, "erase invitation "+inv.ID)
	}
	if e != nil {
		if err := s.withAudit(&t, *e); err != nil {
			return err
		}
	}
	return s.conditional(ctx, t, "erase invitation "+inv.ID)
}

// EraseDigestEntries deletes the entries naming email in the
// organisation's expiry digests not yet sent (each names an invitee, and a
// digest waits until its admin is emailed), each with one less in its
// digest's total; a digest left with none goes too.
func (s *Store) EraseDigestEntries(ctx context.Context, orgID, email string) error {
	var entries []key
	err := s.eachItem(ctx, &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgPK(orgID)), ":sk": str(digestPrefix)},
	}, func(it map[string]types.AttributeValue) error {
		var e struct {
			key
			invite.DigestEntry
			Type string `dynamodbav:"type"`
		}
		if err := attributevalue.UnmarshalMap(it, &e); err != nil {
			return err
		}
		if e.Type == "digestEntry" && e.Email == email {
			entries = append(entries, e.key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the digests of %s: %w", orgID, err)
	}
	for _, k := range entries {
		digest := digestOfEntry(k)
		var t txn
		t.add("entry", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: k.av(),
			ConditionExpression: aws.String("attribute_exists(PK)")}})
		t.add("digest", types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: digest.av(),
			UpdateExpression: aws.String("ADD #total :minus"), ConditionExpression: aws.String("attribute_exists(PK)"),
			ExpressionAttributeNames:  map[string]string{"#total": "total"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)}}})
		err := s.transact(ctx, t)
		if t.failed(err, "entry") || t.failed(err, "digest") {
			continue // sent (and deleted) meanwhile
		}
		if err != nil {
			return fmt.Errorf("erase a digest entry of %s: %w", orgID, err)
		}
		_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: digest.av(),
			ConditionExpression:       aws.String("#total <= :zero"),
			ExpressionAttributeNames:  map[string]string{"#total": "total"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0)}})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("delete an emptied digest of %s: %w", orgID, err)
		}
	}
	return nil
}

// addressQuotas are the rate counters named by an address (their keys hold
// it): every quota kind with an address for subject belongs here.
func addressQuotas(email string, orgIDs []string) []quota.Name {
	names := []quota.Name{{Kind: quota.SignInAddress, Subject: email}, {Kind: quota.ResetAddress, Subject: email},
		{Kind: quota.AddressEmails, Subject: email}}
	for _, orgID := range orgIDs {
		names = append(names, quota.Name{Kind: quota.OrgRecipient, Org: orgID, Subject: email})
	}
	return names
}

// userQuotas are the rate counters named by a user id (their keys hold it,
// outside USER#<user>): every quota kind with a user id for subject belongs
// here.
func userQuotas(userID string) []quota.Name {
	return []quota.Name{{Kind: quota.EmailChangeUser, Subject: userID}, {Kind: quota.ExportUser, Subject: userID}}
}

// EraseAccount deletes what is stored under the person's user id and email:
// the USER# partition but the account first (sessions and whatever else the
// account keeps), the sign-in throttles and counters of the address and of
// the user id, the organisations' counts of emails to it, then the account and its email
// guard in one transaction (last, so that a failure before leaves a person
// who can ask again).
func (s *Store) EraseAccount(ctx context.Context, a account.Account, orgIDs []string) error {
	var doomed []key
	for _, part := range []struct{ pk, prefix string }{
		{userPK(a.UserID), ""},
		{signInPK(a.Email), ""},
	} {
		keys, err := s.partition(ctx, part.pk, part.prefix)
		if err != nil {
			return fmt.Errorf("erase account %s: %w", a.UserID, err)
		}
		for _, k := range keys {
			if k.SK != skProfile {
				doomed = append(doomed, k)
			}
		}
	}
	for _, q := range append(addressQuotas(a.Email, orgIDs), userQuotas(a.UserID)...) {
		name, err := quotaName(q)
		if err != nil {
			return err
		}
		keys, err := s.partition(ctx, quotaPK(name), "")
		if err != nil {
			return fmt.Errorf("erase account %s: %w", a.UserID, err)
		}
		doomed = append(doomed, keys...)
	}
	// A few items (sessions, throttles, counters): one DeleteItem each.
	for _, k := range doomed {
		if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: k.av()}); err != nil {
			return fmt.Errorf("erase account %s: delete %s: %w", a.UserID, k, err)
		}
	}
	var t txn
	t.add("account", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{userPK(a.UserID), skProfile}.av()}})
	t.add("email", types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key{emailPK(a.Email), skAccount}.av(),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR userId = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": str(a.UserID)}}})
	err := s.transact(ctx, t)
	if t.failed(err, "email") {
		return fault.New(fault.Conflict, "the address belongs to another account")
	}
	if err != nil {
		return fmt.Errorf("erase account %s: %w", a.UserID, err)
	}
	return nil
}
