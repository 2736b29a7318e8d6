package s3test

import "syscall"

// sysProcAttr makes the kernel kill the server if the test binary dies
// before stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
