package idgen

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var idPattern = regexp.MustCompile(`^cred_[0-9a-v]{24}$`)

// 100k ids made in a tight loop, most of them in the same millisecond, each sort after the last.
func TestNewIsStrictlyIncreasing(t *testing.T) {
	prev := New("cred")
	for i := range 100_000 {
		id := New("cred")
		if !idPattern.MatchString(id) {
			t.Fatalf("id %q: want cred_ and 24 characters of 0-9a-v", id)
		}
		if id <= prev {
			t.Fatalf("id %d %q does not sort after %q", i, id, prev)
		}
		prev = id
	}
}

// Ids made from several goroutines at once are all different, and each goroutine's sort in the order
// it made them; together, sorted, they are what was made.
func TestNewIsStrictlyIncreasingAcrossGoroutines(t *testing.T) {
	const workers, each = 8, 12_500
	made := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				made[w] = append(made[w], New("cred"))
			}
		}()
	}
	wg.Wait()
	var all []string
	for w, ids := range made {
		if !slices.IsSorted(ids) {
			t.Errorf("goroutine %d: its ids are not in the order it made them", w)
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != workers*each {
		t.Errorf("%d distinct ids of %d", n, workers*each)
	}
}

// A clock that stands still or steps back does not reorder ids: they go on from the last one.
func TestNewKeepsOrderWhenTheClockStepsBack(t *testing.T) {
	clock := time.UnixMilli(1_700_000_000_000)
	g := &generator{now: func() time.Time { return clock }}
	first := g.new("p")
	clock = clock.Add(-time.Hour)
	second := g.new("p")
	clock = clock.Add(2 * time.Hour)
	third := g.new("p")
	if !(first < second && second < third) {
		t.Fatalf("ids %q %q %q are not in creation order", first, second, third)
	}
	// The time part is the clock's (a standing clock keeps it; the later clock shows).
	if first[:10] != second[:10] || third[:10] <= first[:10] {
		t.Errorf("time parts %q %q %q: want the first two equal and the third later", first[:10], second[:10], third[:10])
	}
}

// The random part carries into the time part rather than wrap around.
func TestAddStepCarries(t *testing.T) {
	var b [idBytes]byte
	b[5] = 0x01
	for i := 6; i < idBytes; i++ {
		b[i] = 0xff
	}
	addStep(&b, 1)
	want := [idBytes]byte{5: 0x02}
	if b != want {
		t.Errorf("got %x, want %x", b, want)
	}
}

// The format is the one ids always had: prefix, "_", 24 characters of lower-case base32hex, the first
// ten of which (48 bits and two of the random bits) read the creation millisecond.
func TestNewFormat(t *testing.T) {
	before := time.Now().UnixMilli()
	id := New("conn")
	after := time.Now().UnixMilli()
	body, ok := strings.CutPrefix(id, "conn_")
	if !ok || len(body) != 24 || strings.Trim(body, "0123456789abcdefghijklmnopqrstuv") != "" {
		t.Fatalf("id %q: want conn_ and 24 characters of 0-9a-v", id)
	}
	raw, err := idEncoding.DecodeString(body)
	if err != nil || len(raw) != idBytes {
		t.Fatalf("decode %q: %x %v", body, raw, err)
	}
	var ms int64
	for _, c := range raw[:6] {
		ms = ms<<8 | int64(c)
	}
	// The last id made may have run ahead of the clock by a carry, never by more than a millisecond.
	if ms < before || ms > after+1 {
		t.Errorf("id %q holds millisecond %d, made between %d and %d", id, ms, before, after)
	}
}
