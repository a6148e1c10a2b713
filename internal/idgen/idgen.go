// Package idgen mints the ids of stored objects: a prefix, "_", then 24 characters of lower-case
// base32hex, which sort in creation order.
package idgen

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// idEncoding is lower-case base32hex: its alphabet sorts the same as the bytes, so ids made later sort
// later, which keeps list pagination by id in creation order.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// New makes prefix_ followed by 48 bits of milliseconds and 72 random bits.
func New(prefix string) string {
	var b [15]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}
