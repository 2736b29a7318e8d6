//go:build !linux

package clustertest

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; Close (run
// by t.Cleanup) is what stops the processes.
func sysProcAttr() *syscall.SysProcAttr { return nil }
