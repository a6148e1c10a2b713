package console

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// minGzip is the smallest page worth compressing; below it the gzip header costs more than it saves.
const minGzip = 1024

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// compress gzips a page for a client that accepts it (pages are 5 to 60 KB of repetitive HTML and
// shrink about tenfold) and sets the headers; it returns the bytes to send. Vary tells caches that the
// answer depends on Accept-Encoding. The pages are no-store, and hold no secret a compression oracle
// (BREACH) could reveal: a page never reflects a secret, and the CSRF token is per session.
func compress(w http.ResponseWriter, r *http.Request, body []byte) []byte {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(body) < minGzip || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return body
	}
	var buf bytes.Buffer
	buf.Grow(len(body) / 4)
	zw, ok := gzipPool.Get().(*gzip.Writer)
	if !ok {
		return body
	}
	defer gzipPool.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(body); err != nil {
		return body
	}
	if err := zw.Close(); err != nil {
		return body
	}
	w.Header().Set("Content-Encoding", "gzip")
	return buf.Bytes()
}

// acceptsGzip reads an Accept-Encoding header: gzip listed without q=0.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
