package clustertest

import "syscall"

// sysProcAttr makes the kernel SIGKILL a cluster process when the test
// binary dies, even without running cleanups (a -timeout panic). The
// signal follows the OS thread that started the process; Go only ends
// threads of goroutines locked to them, which this package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
