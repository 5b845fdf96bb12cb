//go:build linux

package sysclock

import (
	"syscall"
	"time"
	"unsafe"
)

// Clock ids from <linux/time.h>; the syscall package does not export them.
const (
	clockMonotonic = 1
	clockBoottime  = 7
)

// kernelAdjtimex asks the kernel for its NTP state without changing it
// (modes = 0 needs no privilege).
func kernelAdjtimex() (Kernel, error) {
	var tx syscall.Timex
	state, err := syscall.Adjtimex(&tx)
	if err != nil {
		return Kernel{}, err
	}
	return Kernel{Status: int(tx.Status), State: state}, nil
}

// kernelSinceBoot reads CLOCK_BOOTTIME, falling back to CLOCK_MONOTONIC on
// kernels that refuse it. Uses the raw system call because the syscall
// package has no clock_gettime wrapper and golang.org/x/sys is not a direct
// dependency of this module.
func kernelSinceBoot() (time.Duration, error) {
	d, err := clockGettime(clockBoottime)
	if err == syscall.EINVAL {
		return clockGettime(clockMonotonic)
	}
	return d, err
}

func clockGettime(id uintptr) (time.Duration, error) {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, errno
	}
	return time.Duration(ts.Nano()), nil
}
