//go:build unix

package pgtest

import "syscall"

// detached starts a process in its own session, out of reach of signals sent to our process group.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
