package service

import (
	"context"
	"errors"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// IdempotencyKey is a POST's Idempotency-Key with a keyed hash of what was asked, so a retry of the same
// request gets the first answer and a different request under a used key is refused.
type IdempotencyKey struct {
	Key  string
	Hash string
}

// NewIdempotencyKey is key with a keyed hash of the request it came with (method, path and body): the
// hash is keyed so that the stored value says nothing of a body that held secrets.
func (s *Service) NewIdempotencyKey(key, method, path string, body []byte) *IdempotencyKey {
	return &IdempotencyKey{Key: key, Hash: s.fp.Keyed("idempotency", append([]byte(method+" "+path+"\n"), body...))}
}

// createOnce runs create in a transaction that also records the idempotency key, so the object and the
// key commit together. A key seen before returns the id it created (replayed = true). Two racing
// requests with one key meet at the key's unique constraint: the loser's transaction rolls back and it
// answers with the winner's object.
func (s *Service) createOnce(ctx context.Context, p Principal, idem *IdempotencyKey, objectType string,
	create func(tx store.Tx) (string, error)) (id string, replayed bool, err error) {
	if idem != nil {
		if id, ok, err := s.lookupIdempotency(ctx, p, idem, objectType); err != nil || ok {
			return id, ok, err
		}
	}
	return s.insertOnce(ctx, p, idem, objectType, create)
}

// insertOnce is createOnce for a caller that has looked the key up already (a credential create does,
// before it verifies the key): it runs create and records the key in one transaction.
func (s *Service) insertOnce(ctx context.Context, p Principal, idem *IdempotencyKey, objectType string,
	create func(tx store.Tx) (string, error)) (id string, replayed bool, err error) {
	err = s.tx(ctx, func(tx store.Tx) error {
		var err error
		if id, err = create(tx); err != nil {
			return err
		}
		if idem == nil {
			return nil
		}
		return tx.InsertIdempotency(ctx, store.Idempotency{
			OrgID: p.OrgID, Key: idem.Key, RequestHash: idem.Hash, ObjectType: objectType, ObjectID: id, CreatedAt: s.now(),
		})
	})
	if idem != nil && err != nil {
		// Lost the race for the key (or the create failed because the winner made the same name):
		// answer as the winner did when the key is recorded now.
		id, ok, lerr := s.lookupIdempotency(ctx, p, idem, objectType)
		if lerr == nil && ok {
			return id, true, nil
		}
		// The winner used the key for another request: answer as a later retry would (422).
		if _, isAPI := AsError(lerr); isAPI {
			return "", false, lerr
		}
	}
	return id, false, err
}

func (s *Service) lookupIdempotency(ctx context.Context, p Principal, idem *IdempotencyKey, objectType string) (string, bool, error) {
	var rec store.Idempotency
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.GetIdempotency(ctx, p.OrgID, idem.Key)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, err
	case rec.RequestHash != idem.Hash || rec.ObjectType != objectType:
		return "", false, &Error{Status: StatusUnprocessable, Title: "Idempotency key reused",
			Detail: "This Idempotency-Key was already used for a different request; send a new key for a new request."}
	}
	return rec.ObjectID, true, nil
}
