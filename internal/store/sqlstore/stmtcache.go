package sqlstore

import (
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a stmtCache. The store's query texts are fixed strings and a few list
// shapes (texts built per call, such as IN lists, bypass the cache), far fewer than this; anything
// beyond it runs unprepared.
const maxCachedStatements = 256

// stmtCache keeps one prepared statement per query text for a SQLite handle. Parsing and planning a
// query costs SQLite more than running it (a third of the server's CPU on credential reads), and an
// unprepared query is parsed on every run. database/sql prepares a cached statement on each
// connection the first time a transaction there runs it and reuses it from then on, and the driver
// keeps SQLite's statement handle between runs. (PostgreSQL's driver caches statements itself.)
type stmtCache struct {
	db *sql.DB

	mu sync.Mutex
	// stmts maps query text to its statement; nil marks a text SQLite refused to prepare, which then
	// always runs unprepared (and reports its error there).
	stmts   map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
	// preparing counts the background prepares, which close waits for: one still running would open
	// a connection (and SQLite's -wal and -shm files) after the store said it was closed.
	preparing sync.WaitGroup
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// stmt returns q's statement on the handle (a transaction takes it with StmtContext), or nil when q is
// not prepared yet. A first use prepares q in the background: preparing on the handle needs a free
// connection, and the caller holds one (all the writer has), so doing it here could wait forever.
func (c *stmtCache) stmt(q string) *sql.Stmt {
	c.mu.Lock()
	s, known := c.stmts[q]
	if !known && !c.pending[q] && !c.closed && len(c.stmts)+len(c.pending) < maxCachedStatements {
		c.pending[q] = true
		c.preparing.Add(1)
		go c.prepare(q)
	}
	c.mu.Unlock()
	return s
}

func (c *stmtCache) prepare(q string) {
	defer c.preparing.Done()
	s, err := c.db.Prepare(q)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
	switch {
	case c.closed:
		if err == nil {
			_ = s.Close()
		}
	case isBusy(err):
		// Another process held the database (changing its schema, say): try again on the next use.
	case err != nil:
		c.stmts[q] = nil
	default:
		c.stmts[q] = s
	}
}

// close waits for the background prepares and closes the cached statements; call it before closing
// the handle.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.preparing.Wait() // a prepare that ends now closes its own statement
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		if s != nil {
			_ = s.Close()
		}
	}
	c.stmts = map[string]*sql.Stmt{}
}
