package store

import (
	"fmt"
	"syscall"
)

// freeBytes is the space left for an unprivileged writer in dir's file
// system (a variable: tests make a disk look full).
var freeBytes = func(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
