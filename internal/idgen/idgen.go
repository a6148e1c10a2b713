// Package idgen mints the ids of stored objects: a prefix, "_", then 24 characters of lower-case
// base32hex, which sort in creation order. The server and the store both take their ids from here.
package idgen

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// idEncoding is lower-case base32hex: its alphabet sorts the same as the bytes, so ids made later sort
// later, which keeps list pagination by id in creation order.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// idBytes is 48 bits of milliseconds then 72 bits that start random.
const idBytes = 15

// generator makes ids that increase strictly, however many are made in one millisecond and even when
// the clock steps back: it remembers the last id, and when the clock has not moved past that id's
// millisecond, it adds a random amount to it instead of drawing new random bits. A carry out of the
// random bits runs into the time bits, which keeps the order.
type generator struct {
	now  func() time.Time
	mu   sync.Mutex
	last [idBytes]byte
}

var std = &generator{now: time.Now}

// New makes prefix_ followed by 48 bits of milliseconds and 72 random bits. Ids made later in this
// process sort after earlier ones.
func New(prefix string) string { return std.new(prefix) }

func (g *generator) new(prefix string) string {
	var fresh [idBytes]byte
	if _, err := rand.Read(fresh[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	ms := uint64(g.now().UnixMilli())
	g.mu.Lock()
	b := g.last
	if ms > binary.BigEndian.Uint64(b[:8])>>16 {
		var t [8]byte
		binary.BigEndian.PutUint64(t[:], ms<<16)
		copy(fresh[:6], t[:6])
		b = fresh
	} else {
		// A step of 1 to 2^32 keeps the next id hard to guess and overflows the 72 bits only after
		// 2^40 ids in one millisecond.
		addStep(&b, uint64(binary.BigEndian.Uint32(fresh[11:]))+1)
	}
	g.last = b
	g.mu.Unlock()
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// addStep adds step to the 120-bit big-endian number b, carrying from the last byte up.
func addStep(b *[idBytes]byte, step uint64) {
	for i := idBytes - 1; i >= 0 && step > 0; i-- {
		step += uint64(b[i])
		b[i] = byte(step)
		step >>= 8
	}
}
