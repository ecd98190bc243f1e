package store

import (
	"errors"

	badger "github.com/dgraph-io/badger/v4"
)

// batch writes many keys through a chain of read-write transactions: when
// the current one reaches Badger's size limit (ErrTxnTooBig) it is committed
// and a new one started. Each transaction commits atomically and in order,
// so a crash keeps a prefix of the batch's writes.
type batch struct {
	db  *badger.DB
	txn *badger.Txn
}

func newBatch(db *badger.DB) *batch {
	return &batch{db: db, txn: db.NewTransaction(true)}
}

// set stores v under k. k and v must not be changed until commit.
func (b *batch) set(k, v []byte) error {
	return b.retry(func(txn *badger.Txn) error { return txn.Set(k, v) })
}

// delete removes k.
func (b *batch) delete(k []byte) error {
	return b.retry(func(txn *badger.Txn) error { return txn.Delete(k) })
}

func (b *batch) retry(op func(*badger.Txn) error) error {
	err := op(b.txn)
	if !errors.Is(err, badger.ErrTxnTooBig) {
		return err
	}
	if err := b.txn.Commit(); err != nil {
		return err
	}
	b.txn = b.db.NewTransaction(true)
	return op(b.txn)
}

// commit commits the last transaction.
func (b *batch) commit() error { return b.txn.Commit() }

// discard drops uncommitted writes; it is a no-op after commit.
func (b *batch) discard() { b.txn.Discard() }
