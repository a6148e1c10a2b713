package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// groupCommit runs SQLite write transactions that arrive together as one database transaction, each
// in its own savepoint, so that one fsync commits them all. With synchronous=FULL the fsync is most of
// a write's cost, and SQLite runs one writer at a time anyway: merging keeps every commit durable
// while creates no longer queue for a disk flush each.
//
// Each caller's fn still sees a transaction of its own: an error or a panic rolls back its savepoint
// only, and it returns after the commit that made its writes durable. If that commit fails, every
// transaction of the batch fails.
type groupCommit struct {
	db       *sql.DB
	d        dialect
	reqs     chan *writeReq // unbuffered: a request is either taken by the loop or not sent at all
	stop     chan struct{}
	stopOnce sync.Once
	stopped  sync.WaitGroup
	maxBatch int
	stmts    *stmtCache
}

type writeReq struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan writeResult
}

type writeResult struct {
	err      error
	panicked bool
	panicVal any
}

var errClosed = errors.New("store is closed")

func newGroupCommit(db *sql.DB, d dialect, stmts *stmtCache) *groupCommit {
	g := &groupCommit{db: db, d: d, reqs: make(chan *writeReq), stop: make(chan struct{}), maxBatch: 64, stmts: stmts}
	g.stopped.Add(1)
	go g.loop()
	return g
}

// do runs fn in the next batch and waits for the batch's commit. fn runs on the batch's goroutine: it
// must return or panic, never call runtime.Goexit (t.FailNow in a test), which would stop the loop.
func (g *groupCommit) do(ctx context.Context, fn func(store.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	select {
	case g.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errClosed
	}
	res := <-r.done // fn may be running: wait for the outcome even if ctx ends
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

func (g *groupCommit) close() {
	g.stopOnce.Do(func() { close(g.stop) })
	g.stopped.Wait()
}

func (g *groupCommit) loop() {
	defer g.stopped.Done()
	for {
		var first *writeReq
		select {
		case first = <-g.reqs:
		case <-g.stop:
			return
		}
		batch := []*writeReq{first}
	gather:
		for len(batch) < g.maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		g.run(batch)
	}
}

func (g *groupCommit) run(batch []*writeReq) {
	results := make([]writeResult, len(batch))
	reply := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	failAll := func(err error) {
		for i := range results {
			if !results[i].panicked && results[i].err == nil {
				results[i].err = err // a caller that failed on its own keeps its own error
			}
		}
		reply()
	}
	// The transaction spans several callers, so it is not bound to any one caller's context; each fn's
	// statements still use its own.
	sqlTx, err := g.db.BeginTx(context.Background(), g.d.txOpts)
	if err != nil {
		failAll(fmt.Errorf("begin transaction: %w", err))
		return
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		if _, err := sqlTx.Exec("SAVEPOINT caller"); err != nil {
			_ = sqlTx.Rollback()
			failAll(fmt.Errorf("savepoint: %w", err))
			return
		}
		results[i] = runFn(r.fn, &tx{tx: sqlTx, d: g.d, shared: true, stmts: g.stmts})
		end := "RELEASE SAVEPOINT caller"
		if results[i].err != nil || results[i].panicked {
			end = "ROLLBACK TO SAVEPOINT caller; RELEASE SAVEPOINT caller"
		}
		if _, err := sqlTx.Exec(end); err != nil {
			_ = sqlTx.Rollback()
			failAll(fmt.Errorf("end savepoint: %w", err))
			return
		}
	}
	if err := sqlTx.Commit(); err != nil {
		failAll(fmt.Errorf("commit: %w", g.d.mapErr(err, "")))
		return
	}
	reply()
}

// runFn calls fn, turning a panic into a result that do re-raises in the caller's goroutine.
func runFn(fn func(store.Tx) error, t *tx) (res writeResult) {
	defer func() {
		if v := recover(); v != nil {
			res = writeResult{panicked: true, panicVal: v}
		}
	}()
	return writeResult{err: fn(t)}
}
