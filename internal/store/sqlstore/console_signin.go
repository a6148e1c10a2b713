package sqlstore

// The console's single sign-on (store.ConsoleSignIn).

import (
	"context"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (t *tx) SignInIdentityProviders(ctx context.Context, limit int) ([]store.SignInIdentityProvider, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := t.query(ctx, `SELECT p.id, p.name, o.name FROM identity_providers p
		JOIN organizations o ON o.id = p.org_id
		WHERE p.client_id <> ''
		ORDER BY o.name, p.name, p.id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.SignInIdentityProvider
	for rows.Next() {
		var p store.SignInIdentityProvider
		if err := rows.Scan(&p.ID, &p.Name, &p.OrgName); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
