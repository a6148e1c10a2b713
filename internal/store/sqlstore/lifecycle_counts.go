package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// lifecycleClassesSelect is every distinct (organisation, project, rotation_period) of the credentials
// with the policies of its scope, joined as credentialInScopeSelect joins them to one credential.
const lifecycleClassesSelect = `SELECT c.org_id, c.project_id, c.rotation_period, ` + policyColumnsPO + `, ` + policyColumnsPP + `
	FROM (SELECT DISTINCT org_id, project_id, rotation_period FROM credentials) c
	LEFT JOIN credential_policies po ON po.org_id = c.org_id AND po.project_id = ''
	LEFT JOIN credential_policies pp ON pp.org_id = c.org_id AND pp.project_id = c.project_id AND c.project_id <> ''
	ORDER BY c.org_id, c.project_id, c.rotation_period`

func (t *tx) CredentialLifecycleClasses(ctx context.Context) ([]store.CredentialLifecycleClass, error) {
	rows, err := t.query(ctx, lifecycleClassesSelect)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.CredentialLifecycleClass{}
	for rows.Next() {
		var c store.CredentialLifecycleClass
		var po, pp joinedPolicy
		if err := rows.Scan(append([]any{&c.OrgID, &c.ProjectID, &c.RotationPeriod}, append(po.dest(), pp.dest()...)...)...); err != nil {
			return nil, err
		}
		if c.Policies.Organization, err = po.policy(""); err != nil {
			return nil, err
		}
		if c.Policies.Project, err = pp.policy(c.ProjectID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// The thresholds arrive as one JSON parameter, a row per class, which each dialect's JSON table
// function turns into a table to join: one statement however many credentials and classes there are.
// Times are compared as text: the stored layout is fixed-width UTC, so text order is time order.
const (
	thresholdsSQLite = `SELECT json_extract(value, '$[0]') AS org_id, json_extract(value, '$[1]') AS project_id,
		json_extract(value, '$[2]') AS rotation_period, json_extract(value, '$[3]') AS expiring, json_extract(value, '$[4]') AS due
		FROM json_each(?)`
	thresholdsPostgres = `SELECT x->>0 AS org_id, x->>1 AS project_id, x->>2 AS rotation_period, x->>3 AS expiring, x->>4 AS due
		FROM jsonb_array_elements(CAST(? AS jsonb)) AS x`
	lifecycleCount = `) SELECT CASE
			WHEN c.expires_at IS NOT NULL AND c.expires_at <= ? THEN '` + api.LifecycleExpired + `'
			WHEN c.expires_at IS NOT NULL AND c.expires_at <= th.expiring THEN '` + api.LifecycleExpiring + `'
			WHEN th.due <> '' AND c.rotated_at <= th.due THEN '` + api.LifecycleRotationDue + `'
			ELSE '` + api.LifecycleOK + `' END AS lifecycle, COUNT(*)
		FROM credentials c
		JOIN th ON th.org_id = c.org_id AND th.project_id = c.project_id AND th.rotation_period = c.rotation_period
		GROUP BY lifecycle`
)

func (t *tx) CountCredentialsByLifecycle(ctx context.Context, now time.Time, thresholds []store.LifecycleThreshold) (map[string]int, error) {
	counts := map[string]int{}
	if len(thresholds) == 0 {
		return counts, nil
	}
	table := make([][5]string, len(thresholds))
	for i, th := range thresholds {
		table[i] = [5]string{th.OrgID, th.ProjectID, th.RotationPeriod, formatTime(th.ExpiringIfBefore), ""}
		if th.DueIfRotatedBefore != nil {
			table[i][4] = formatTime(*th.DueIfRotatedBefore)
		}
	}
	param, err := json.Marshal(table)
	if err != nil {
		return nil, err
	}
	q := `WITH th AS (` + thresholdsSQLite + lifecycleCount
	if t.d.name == DialectPostgres {
		q = `WITH th AS (` + thresholdsPostgres + lifecycleCount
	}
	rows, err := t.query(ctx, q, string(param), formatTime(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		counts[status] = n
	}
	return counts, rows.Err()
}
