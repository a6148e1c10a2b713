//go:build unix

package provider

import (
	"fmt"
	"syscall"
	"testing"
)

// deadEndpoint is a loopback address where nothing answers: a socket bound to a port but not listening,
// held until the test ends, so a connection is refused at once and no other listener of the test run
// (the replicas' servers and proxies open many) can take the port meanwhile, as it could after a
// listener's Close.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
