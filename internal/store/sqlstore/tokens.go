package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (t *tx) InsertToken(ctx context.Context, tk store.Token) error {
	_, err := t.write(ctx, `INSERT INTO tokens (id, org_id, name, role, hash, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tk.ID, tk.OrgID, tk.Name, tk.Role, tk.Hash, formatTime(tk.CreatedAt), formatTimePtr(tk.RevokedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", tk.OrgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, "token")
}

const tokenColumns = "id, org_id, name, role, hash, created_at, revoked_at"

// TokenByHash finds a token of any organisation, revoked ones included (the caller checks RevokedAt).
func (t *tx) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	rows, err := t.query(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ?", hash)
	if err != nil {
		return store.Token{}, err
	}
	tks, err := scanTokens(rows)
	if err != nil {
		return store.Token{}, err
	}
	if len(tks) == 0 {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return tks[0], nil
}

// ListTokens lists every organisation's tokens (for the command line), by organisation then id.
func (t *tx) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := t.query(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY org_id, id")
	if err != nil {
		return nil, err
	}
	return scanTokens(rows)
}

func scanTokens(rows *sql.Rows) ([]store.Token, error) {
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		var tk store.Token
		var created string
		var revoked sql.NullString
		if err := rows.Scan(&tk.ID, &tk.OrgID, &tk.Name, &tk.Role, &tk.Hash, &created, &revoked); err != nil {
			return nil, err
		}
		var err error
		if tk.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if tk.RevokedAt, err = parseTimePtr(revoked); err != nil {
			return nil, err
		}
		out = append(out, tk)
	}
	return out, rows.Err()
}

// RevokeToken marks the token revoked at at. Revoking a revoked token keeps the first time.
func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.exec(ctx, "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", formatTime(at), id)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	return nil
}
