package sqlstore

import "unicode/utf8"

// listQuery builds a list query on one table: the organisation, a scope filter, exact matches and
// keyset paging by id. Column names come from this package, never from callers.
type listQuery struct {
	alias string
	q     string
	args  []any
}

// newListQuery starts from a SELECT ending in "FROM table alias"; args hold the SELECT's own arguments
// followed by the organisation id.
func newListQuery(alias, selectSQL string, args []any) *listQuery {
	return &listQuery{alias: alias, q: selectSQL + " WHERE " + alias + ".org_id = ?", args: args}
}

// scope filters by project: "" does not filter, OrgScope selects organisation-wide rows.
func (l *listQuery) scope(projectID string) {
	switch projectID {
	case "":
	case OrgScope:
		l.q += " AND " + l.alias + ".project_id = ''"
	default:
		l.eq("project_id", projectID)
	}
}

// eq adds an exact match when value is set.
func (l *listQuery) eq(column, value string) {
	if value == "" {
		return
	}
	l.q += " AND " + l.alias + "." + column + " = ?"
	l.args = append(l.args, value)
}

// prefix keeps the rows whose column starts with value, byte for byte on both dialects (LIKE folds
// case on SQLite and would need escaping): substr(column, 1, n) = value, with n in characters.
func (l *listQuery) prefix(column, value string) {
	if value == "" {
		return
	}
	l.q += " AND substr(" + l.alias + "." + column + ", 1, ?) = ?"
	l.args = append(l.args, utf8.RuneCountInString(value), value)
}

// page finishes the query: rows after afterID, in id order, at most limit (DefaultLimit when <= 0).
func (l *listQuery) page(afterID string, limit int) (string, []any) {
	if afterID != "" {
		l.q += " AND " + l.alias + ".id > ?"
		l.args = append(l.args, afterID)
	}
	l.q += " ORDER BY " + l.alias + ".id LIMIT ?"
	return l.q, append(l.args, limitOrDefault(limit))
}
