//go:build !linux

package sysclock

import "time"

func kernelAdjtimex() (Kernel, error) { return Kernel{}, ErrUnsupported }

func kernelSinceBoot() (time.Duration, error) { return 0, ErrUnsupported }
