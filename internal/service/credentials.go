package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// secretFields are the secret inputs of a credential, in a fixed order.
var secretFields = []string{api.SecretAPIKey, api.SecretAuthToken}

// CreateCredential validates, optionally verifies, encrypts and stores a new credential.
func (s *Service) CreateCredential(ctx context.Context, p Principal, in api.CredentialCreate, idem *IdempotencyKey) (api.Credential, bool, error) {
	if err := requireWrite(p); err != nil {
		return api.Credential{}, false, err
	}
	if err := scopeRefuses(p, in.ProjectID, scopeName(in.ProjectID)); err != nil {
		return api.Credential{}, false, err
	}
	plain := map[string]string{}
	if in.APIKey != nil && *in.APIKey != "" {
		plain[api.SecretAPIKey] = *in.APIKey
	}
	if in.AuthToken != nil && *in.AuthToken != "" {
		plain[api.SecretAuthToken] = *in.AuthToken
	}
	var fields []api.FieldError
	fields = append(fields, checkName(in.Name)...)
	fields = append(fields, checkDescription(in.Description)...)
	fields = append(fields, checkLabels(in.Labels)...)
	fields = append(fields, checkManagedBy(in.ManagedBy)...)
	fields = append(fields, checkID("project_id", in.ProjectID)...)
	fields = append(fields, checkSecretsAreNotMasks(plain, "")...)
	fields = append(fields, checkSecretShape(in.Provider, plain)...)
	rotation, rf, err := createRotationRules(p, in, plain[api.SecretAPIKey] != "")
	if err != nil {
		return api.Credential{}, false, err
	}
	fields = append(fields, rf...)
	managed := rotation != nil // its key is minted after the insert, so the catalog sees one coming
	fields = append(fields, catalog.ValidateCredential(in.Provider, in.Settings, plain[api.SecretAPIKey] != "" || managed, plain[api.SecretAuthToken] != "")...)
	period, pf := normalizePeriod(in.RotationPeriod)
	expires, ef := parseExpiry(in.ExpiresAt)
	fields = append(append(fields, pf...), ef...)
	if len(fields) > 0 {
		return api.Credential{}, false, invalid(fields...)
	}
	if in.ProjectID != "" {
		if err := s.checkProjectExists(ctx, p, in.ProjectID); err != nil {
			return api.Credential{}, false, err
		}
	}
	if managed {
		if s.adminAPI() == nil {
			return api.Credential{}, false, rotationUnavailable()
		}
		want := api.Credential{Name: in.Name, Provider: in.Provider, ProjectID: in.ProjectID, Settings: in.Settings, Rotation: rotation}
		if err := s.checkManagedCredential(ctx, p, want, ""); err != nil {
			return api.Credential{}, false, err
		}
	}

	// A retried create must not probe the provider again: answer it before verifying.
	if idem != nil {
		if id, ok, err := s.lookupIdempotency(ctx, p, idem, "credential"); err != nil {
			return api.Credential{}, false, err
		} else if ok {
			c, err := s.GetCredential(ctx, p, id)
			return c, true, err
		}
	}

	// A key is sent to its provider only if the scope's credential policy allows the credential. The
	// check in the write below is the one that holds (it sees a policy changed meanwhile), so without a
	// probe it is the only one: on SQLite a read on the writer's connection costs less than one on its own.
	verify := in.Verify == nil || *in.Verify
	if s.sendsKey(verify) {
		want := api.Credential{Provider: in.Provider, ProjectID: in.ProjectID, RotationPeriod: period, Verify: verify}
		if err := s.readOne(ctx, func(tx store.Tx) error { return s.checkCredentialPolicy(ctx, tx, p.OrgID, want) }); err != nil {
			return api.Credential{}, false, err
		}
	}

	prov, _ := catalog.Provider(in.Provider)
	id := idgen.New("cred") // before the probe: a keyless credential's assertion names it
	status, message, verifiedAt, err := s.verify(withCredentialID(withPurpose(ctx, in.Purpose), id), p.OrgID, prov, in.Settings, plain, verify && !managed)
	if err != nil {
		return api.Credential{}, false, err
	}
	if managed {
		status, message = api.StatusUnverified, "modelkeys is minting this credential's first key."
	}
	if status == api.StatusInvalid && !keylessKeepsRefusal(in.Provider, in.Settings) {
		return api.Credential{}, false, InvalidField(api.SecretAPIKey, "%s", message)
	}

	now := s.now()
	c := api.Credential{
		ID:                id,
		Name:              in.Name,
		Description:       in.Description,
		Provider:          in.Provider,
		ProjectID:         in.ProjectID,
		Settings:          nonNilMap(in.Settings),
		Labels:            nonNilMap(in.Labels),
		HasAPIKey:         plain[api.SecretAPIKey] != "",
		HasAuthToken:      plain[api.SecretAuthToken] != "",
		SecretHint:        hintOf(plain),
		SecretFingerprint: s.fp.Fingerprint(p.OrgID, plain),
		Status:            status,
		StatusMessage:     message,
		VerifiedAt:        verifiedAt,
		Verify:            verify,
		ConnectionIDs:     []string{},
		ManagedBy:         in.ManagedBy,
		Version:           1,
		CreatedAt:         now,
		UpdatedAt:         now,
		RotationPeriod:    period,
		ExpiresAt:         expires,
		RotatedAt:         now,
		Purpose:           catalog.PurposeOrDefault(in.Purpose),
		Rotation:          rotation,
	}
	recordDestination(&c, p, now)
	if len(plain) > 0 {
		c.SecretVersion = 1
	}
	id, replayed, err := s.insertOnce(ctx, p, idem, "credential", func(tx store.Tx) (string, error) {
		pol, err := s.effectiveCredentialPolicy(ctx, tx, p.OrgID, c.ProjectID)
		if err != nil {
			return "", err
		}
		if v := pol.violations(c); len(v) > 0 {
			return "", invalid(v...)
		}
		applyLifecycle(pol, &c, now) // the status stored is the one at creation: no transition to record
		if err := s.checkCredentialLimits(ctx, tx, p, c.Provider); err != nil {
			return "", err
		}
		if err := tx.InsertCredential(ctx, p.OrgID, c); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return "", s.nameTaken(ctx, tx, p, c.ProjectID, c.Name)
			}
			return "", err
		}
		if err := s.putSecrets(ctx, tx, p.OrgID, c.ID, plain); err != nil {
			return "", err
		}
		return c.ID, s.auditChanges(ctx, tx, p, "create", "credential", c.ID, createdFields(c, plain), catalog.DestinationMoves(c.Provider, nil, c.Settings))
	})
	if err != nil {
		return api.Credential{}, false, err
	}
	if replayed {
		c, err = s.GetCredential(ctx, p, id)
		return c, replayed, err
	}
	if managed {
		// The first key: minted, verified and switched to before the create answers. A failure
		// removes the credential again (its key, if one was made, is revoked by the rotation).
		if err := s.startRotation(ctx, p.OrgID, c, TriggerCreate, p.Actor); err != nil {
			if derr := s.tx(ctx, func(tx store.Tx) error { return tx.DeleteCredential(ctx, p.OrgID, c.ID) }); derr != nil {
				s.log.Warn("a managed credential whose first key failed could not be removed; the sweep mints one later", "credential", c.ID, "error", derr)
			}
			return api.Credential{}, false, err
		}
		c, err = s.GetCredential(ctx, p, c.ID)
	}
	return c, replayed, err
}

func (s *Service) nameTaken(ctx context.Context, tx store.Tx, p Principal, projectID, name string) error {
	scope := "the organisation"
	if projectID != "" {
		scope = "project " + projectID
	}
	var ids []string
	if found, err := tx.ListCredentials(ctx, p.OrgID, store.CredentialFilter{ProjectID: scopeFilter(projectID), Name: name, Limit: 1}); err == nil {
		for _, c := range found {
			ids = append(ids, c.ID)
		}
	}
	return conflict(fmt.Sprintf("A credential named %q already exists in %s; names are unique per scope. Pick another name or import the existing one.", name, scope), ids...)
}

// scopeFilter turns a project id into a list filter that selects exactly that scope.
func scopeFilter(projectID string) string {
	if projectID == "" {
		return "-"
	}
	return projectID
}

// GetCredential reads one credential.
func (s *Service) GetCredential(ctx context.Context, p Principal, id string) (api.Credential, error) {
	var c api.Credential
	// One statement reads the credential and its scope's policies, so lifecycle asks for nothing more.
	err := s.readOne(ctx, func(tx store.Tx) error {
		var pols store.ScopeCredentialPolicies
		var err error
		if c, pols, err = tx.GetCredentialInScope(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "credential", id)
		}
		if err := scopeHides(p, c.ProjectID, "credential", id); err != nil {
			return err
		}
		lc := newLifecycleCache(s, tx, p.OrgID)
		lc.known(c.ProjectID, pols)
		return lc.fill(ctx, &c)
	})
	return c, err
}

// ListCredentials pages credentials. A lifecycle_status filter is applied here, after the status is
// computed, so it reads on through the store's pages until it has a page of matches.
func (s *Service) ListCredentials(ctx context.Context, p Principal, f store.CredentialFilter) (api.List[api.Credential], error) {
	if f.LifecycleStatus != "" && !slices.Contains(api.LifecycleStatuses, f.LifecycleStatus) {
		return api.List[api.Credential]{}, InvalidField("lifecycle_status", "lifecycle_status must be one of %s, not %q.", strings.Join(api.LifecycleStatuses, ", "), f.LifecycleStatus)
	}
	scope, err := scopedListFilter(p, f.ProjectID)
	if err != nil {
		return api.List[api.Credential]{}, err
	}
	f.ProjectID = scope
	limit := clampLimit(f.Limit)
	f.Limit = limit + 1
	out := api.List[api.Credential]{Items: []api.Credential{}}
	err = s.read(ctx, func(tx store.Tx) error {
		cache := newLifecycleCache(s, tx, p.OrgID)
		for {
			items, err := tx.ListCredentials(ctx, p.OrgID, f)
			if err != nil {
				return err
			}
			more := len(items) > limit
			if more {
				items = items[:limit]
			}
			for i := range items {
				if err := cache.fill(ctx, &items[i]); err != nil {
					return err
				}
				if f.LifecycleStatus != "" && items[i].LifecycleStatus != f.LifecycleStatus {
					continue
				}
				out.Items = append(out.Items, items[i])
				if len(out.Items) == limit && (more || i < len(items)-1) {
					out.NextPageToken = items[i].ID
					return nil
				}
			}
			if !more {
				return nil
			}
			f.AfterID = items[len(items)-1].ID
		}
	})
	return out, err
}

// UpdateCredential applies a patch. ifMatch, when not zero, is the version the caller last read.
func (s *Service) UpdateCredential(ctx context.Context, p Principal, id string, in api.CredentialPatch, ifMatch int64) (api.Credential, error) {
	if err := requireWrite(p); err != nil {
		return api.Credential{}, err
	}
	if err := s.credentialInScope(ctx, p, id); err != nil {
		return api.Credential{}, err
	}
	// Optimistic concurrency: read, decide, write if nothing changed since the read. Without If-Match a
	// lost race is retried with fresh data; with it, the caller hears of it (412).
	for attempt := 0; ; attempt++ {
		c, err := s.updateCredentialOnce(ctx, p, id, in, ifMatch)
		if errors.Is(err, store.ErrVersionMismatch) && ifMatch == 0 && attempt < 5 {
			continue
		}
		if errors.Is(err, store.ErrVersionMismatch) {
			cur, gerr := s.GetCredential(ctx, p, id)
			if gerr != nil {
				return api.Credential{}, gerr
			}
			return api.Credential{}, preconditionFailed("credential", id, ifMatch, cur.Version)
		}
		if err != nil {
			return api.Credential{}, err
		}
		return s.withLifecycle(ctx, p.OrgID, c)
	}
}

func (s *Service) updateCredentialOnce(ctx context.Context, p Principal, id string, in api.CredentialPatch, ifMatch int64) (api.Credential, error) {
	cur, plain, err := s.readCredentialWithSecrets(ctx, p, id)
	if err != nil {
		return api.Credential{}, err
	}
	if ifMatch != 0 && ifMatch != cur.Version {
		return api.Credential{}, preconditionFailed("credential", id, ifMatch, cur.Version)
	}
	next := cur
	next.Settings = maps.Clone(cur.Settings)
	next.Labels = maps.Clone(cur.Labels)
	var changed []string
	var fields []api.FieldError

	if in.Provider != nil && *in.Provider != cur.Provider {
		fields = append(fields, api.FieldError{Field: "provider", Message: fmt.Sprintf("provider cannot change after create (it is %q); create a new credential instead (Terraform replaces it).", cur.Provider)})
	}
	if in.Name != nil && *in.Name != cur.Name {
		fields = append(fields, checkName(*in.Name)...)
		next.Name = *in.Name
		changed = append(changed, "name")
	}
	if in.Description != nil && *in.Description != cur.Description {
		fields = append(fields, checkDescription(*in.Description)...)
		next.Description = *in.Description
		changed = append(changed, "description")
	}
	if in.Settings != nil && !maps.Equal(*in.Settings, cur.Settings) {
		next.Settings = nonNilMap(*in.Settings)
		changed = append(changed, diffKeys("settings", cur.Settings, next.Settings)...)
	}
	if in.Labels != nil && !maps.Equal(*in.Labels, cur.Labels) {
		fields = append(fields, checkLabels(*in.Labels)...)
		next.Labels = nonNilMap(*in.Labels)
		changed = append(changed, diffKeys("labels", cur.Labels, next.Labels)...)
	}
	if in.RotationPeriod != nil {
		period, pf := normalizePeriod(*in.RotationPeriod)
		fields = append(fields, pf...)
		if len(pf) == 0 && period != cur.RotationPeriod {
			next.RotationPeriod = period
			changed = append(changed, "rotation_period")
		}
	}
	if in.ExpiresAt != nil {
		expires, ef := parseExpiry(*in.ExpiresAt)
		fields = append(fields, ef...)
		if len(ef) == 0 && !sameTime(expires, cur.ExpiresAt) {
			next.ExpiresAt = expires
			changed = append(changed, "expires_at")
		}
	}
	newPlain := maps.Clone(plain)
	for field, v := range map[string]*string{api.SecretAPIKey: in.APIKey, api.SecretAuthToken: in.AuthToken} {
		if v == nil {
			continue
		}
		if *v == "" {
			delete(newPlain, field)
		} else {
			newPlain[field] = *v
		}
	}
	sent := map[string]string{api.SecretAPIKey: deref(in.APIKey), api.SecretAuthToken: deref(in.AuthToken)}
	if len(in.SecretsResent) > 0 {
		// A yes or no about a stored secret: limited like POST .../secret-matches.
		if err := s.allowCompare(p); err != nil {
			return api.Credential{}, err
		}
		fields = append(fields, checkResentSecrets(in.SecretsResent, plain, sent)...)
	}
	moved := catalog.DestinationMoves(cur.Provider, cur.Settings, next.Settings)
	verifyOn := in.Verify != nil && *in.Verify && !cur.Verify
	fields = append(fields, checkSecretsForMove(moved, verifyOn, newPlain, sent)...)
	fields = append(fields, checkSecretsAreNotMasks(sent, cur.SecretHint)...)
	fields = append(fields, checkSecretShape(cur.Provider, sent)...)
	rotChanged, rf, err := patchRotationRules(p, cur, &next, in, in.APIKey != nil && *in.APIKey != "")
	if err != nil {
		return api.Credential{}, err
	}
	fields = append(fields, rf...)
	changed = append(changed, rotChanged...)
	fields = append(fields, catalog.ValidateCredential(cur.Provider, next.Settings, newPlain[api.SecretAPIKey] != "" || catalog.IsManaged(next.Rotation), newPlain[api.SecretAuthToken] != "")...)
	if len(fields) > 0 {
		return api.Credential{}, invalid(fields...)
	}
	if len(rotChanged) > 0 {
		if err := s.checkManagedCredential(ctx, p, next, adminIDOf(cur)); err != nil {
			return api.Credential{}, err
		}
	}
	if err := checkSenderSawDestination(p, cur, in, ifMatch); err != nil {
		return api.Credential{}, err
	}
	if len(moved) > 0 {
		recordDestination(&next, p, s.now())
	}

	if in.Verify != nil && *in.Verify != cur.Verify {
		next.Verify = *in.Verify
		changed = append(changed, "verify")
	}
	if in.ManagedBy != nil && *in.ManagedBy != cur.ManagedBy {
		if f := checkManagedBy(*in.ManagedBy); len(f) > 0 {
			return api.Credential{}, invalid(f...)
		}
		next.ManagedBy = *in.ManagedBy
		changed = append(changed, "managed_by")
	}
	secretChanged := !maps.Equal(plain, newPlain)
	if secretChanged {
		for _, f := range secretFields {
			if plain[f] != newPlain[f] {
				changed = append(changed, f)
			}
		}
		next.HasAPIKey = newPlain[api.SecretAPIKey] != ""
		next.HasAuthToken = newPlain[api.SecretAuthToken] != ""
		next.SecretHint = hintOf(newPlain)
		next.SecretFingerprint = s.fp.Fingerprint(p.OrgID, newPlain)
		next.SecretVersion = cur.SecretVersion + 1
		next.RotatedAt = s.now()
		if in.ExpiresAt == nil && cur.ExpiresAt != nil {
			// The expiry was the old key's; a new key without one has none.
			next.ExpiresAt = nil
			changed = append(changed, "expires_at")
		}
	}
	// A credential that a policy made stricter since refuses every change until it complies. As on
	// create, the check in the write is the one that holds; a probe is preceded by one of its own.
	settingsChanged := slices.ContainsFunc(changed, func(f string) bool { return strings.HasPrefix(f, "settings") })
	verify := next.Verify
	probe := secretChanged || settingsChanged || (next.Verify && !cur.Verify) // each is in changed
	if probe && s.sendsKey(verify) {
		if err := s.readOne(ctx, func(tx store.Tx) error { return s.checkCredentialPolicy(ctx, tx, p.OrgID, next) }); err != nil {
			return api.Credential{}, err
		}
	}
	if probe {
		prov, _ := catalog.Provider(cur.Provider)
		status, message, at, err := s.verify(withCredentialID(withPurpose(ctx, cur.Purpose), id), p.OrgID, prov, next.Settings, newPlain, verify)
		if err != nil {
			return api.Credential{}, err
		}
		if status == api.StatusInvalid && !keylessKeepsRefusal(cur.Provider, next.Settings) {
			return api.Credential{}, InvalidField(api.SecretAPIKey, "%s", message)
		}
		next.Status, next.StatusMessage, next.VerifiedAt = status, message, at
	}
	if len(changed) == 0 {
		return cur, nil // nothing to write: a no-change apply writes nothing
	}
	next.Version = cur.Version + 1
	next.UpdatedAt = s.now()
	err = s.tx(ctx, func(tx store.Tx) error {
		if err := s.checkCredentialPolicy(ctx, tx, p.OrgID, next); err != nil {
			return err
		}
		if err := tx.UpdateCredential(ctx, p.OrgID, next, cur.Version); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return s.nameTaken(ctx, tx, p, next.ProjectID, next.Name)
			}
			return storeErr(err, "credential", id)
		}
		if secretChanged {
			for _, f := range secretFields {
				if newPlain[f] == "" && plain[f] != "" {
					if err := tx.DeleteSecret(ctx, p.OrgID, id, f); err != nil {
						return err
					}
				}
			}
			changedSecrets := map[string]string{}
			for f, v := range newPlain {
				if plain[f] != v {
					changedSecrets[f] = v
				}
			}
			if err := s.putSecrets(ctx, tx, p.OrgID, id, changedSecrets); err != nil {
				return err
			}
		}
		return s.auditChanges(ctx, tx, p, "update", "credential", id, changed, moved)
	})
	if err != nil {
		return api.Credential{}, err
	}
	return next, nil
}

// VerifyCredential probes the provider again and records the result.
func (s *Service) VerifyCredential(ctx context.Context, p Principal, id string) (api.Credential, error) {
	if err := requireWrite(p); err != nil {
		return api.Credential{}, err
	}
	if err := s.credentialInScope(ctx, p, id); err != nil {
		return api.Credential{}, err
	}
	c, err := s.reverify(ctx, p.OrgID, id)
	if err != nil {
		return api.Credential{}, err
	}
	return s.withLifecycle(ctx, p.OrgID, c)
}

// reverify probes a stored credential and records the status without changing its version: a status is
// an observation, not a change of configuration, so it must not break a client's If-Match.
func (s *Service) reverify(ctx context.Context, orgID, id string) (api.Credential, error) {
	cur, plain, err := s.readCredentialWithSecrets(ctx, Principal{OrgID: orgID}, id)
	if err != nil {
		return api.Credential{}, err
	}
	prov, _ := catalog.Provider(cur.Provider)
	// An egress refusal is recorded like an outage: status kept, the reason in status_message.
	status, message, at, err := s.verify(withCredentialID(withPurpose(ctx, cur.Purpose), id), orgID, prov, cur.Settings, plain, true)
	if err != nil && !isEgressRefusal(err) {
		return api.Credential{}, err
	}
	next := cur
	next.Status, next.StatusMessage = status, message
	if at != nil {
		next.VerifiedAt = at
	} else {
		// No verdict (an outage, a timeout, no verifier): keep the last status, record why.
		next.Status = cur.Status
	}
	err = s.tx(ctx, func(tx store.Tx) error {
		return storeErr(tx.UpdateCredential(ctx, orgID, next, cur.Version), "credential", id)
	})
	return next, err
}

// sendsKey says whether verify sends the key to its provider: it does when verification is wanted and
// the server has a verifier.
func (s *Service) sendsKey(wanted bool) bool {
	return wanted && s.cfg.Verifier != nil
}

// verify runs the configured probe, in one of the organisation's probe slots (a 429 error when they
// stay full). An outage keeps status unverified with the error recorded; a refusal is invalid. A
// destination the egress policy refuses is an egressError (422) with status unverified and the
// reason as message. Messages come from the verifier, which never includes the key.
func (s *Service) verify(ctx context.Context, orgID string, prov api.Provider, settings, plain map[string]string, wanted bool) (string, string, *time.Time, error) {
	if catalog.IsKeyless(prov.ID, settings) {
		return s.verifyKeyless(ctx, orgID, prov, settings, wanted)
	}
	if !s.sendsKey(wanted) {
		if !wanted {
			return api.StatusUnverified, "Verification was skipped (verify = false).", nil, nil
		}
		return api.StatusUnverified, "This server has no verifier configured; the key was not checked.", nil, nil
	}
	var r api.VerifyResult
	if err := s.probe(ctx, orgID, func() { r = s.verifierFor(ctx).Verify(ctx, prov, settings, plain) }); err != nil {
		return "", "", nil, err
	}
	now := s.now()
	switch {
	case r.OK:
		return api.StatusVerified, r.Message, &now, nil
	case r.Blocked:
		return api.StatusUnverified, "The key was not checked and nothing was sent: " + r.Message + ".", nil, egressRefused(settings, r.Message)
	case r.Refused:
		return api.StatusInvalid, fmt.Sprintf("%s refused the key: %s", prov.DisplayName, r.Message), &now, nil
	}
	return api.StatusUnverified, "Could not reach the provider to check the key: " + r.Message, nil, nil
}

func createdFields(c api.Credential, plain map[string]string) []string {
	out := []string{"name", "provider"}
	if c.Description != "" {
		out = append(out, "description")
	}
	if c.ProjectID != "" {
		out = append(out, "project_id")
	}
	if c.ManagedBy != "" {
		out = append(out, "managed_by")
	}
	for _, f := range secretFields {
		if plain[f] != "" {
			out = append(out, f)
		}
	}
	if c.RotationPeriod != "" {
		out = append(out, "rotation_period")
	}
	if c.ExpiresAt != nil {
		out = append(out, "expires_at")
	}
	for _, k := range slices.Sorted(maps.Keys(c.Settings)) {
		out = append(out, "settings."+k)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		out = append(out, "labels."+k)
	}
	return out
}

// diffKeys names the keys of a map attribute that were added, removed or changed.
func diffKeys(prefix string, a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, prefix+"."+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, prefix+"."+k)
		}
	}
	sort.Strings(out)
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
