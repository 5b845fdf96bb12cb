// Package datadir guards kioskd's data directory: one daemon at a time (an
// exclusive flock held for the life of the process, so a killed daemon
// leaves nothing that blocks the next one), and a directory that can take
// the next tap's write (writable, not full). Each failure gets a message
// that names the directory, because "no such file" from SQLite does not.
package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// LockName is the lock file in the data directory. It holds the pid of the
// kioskd that has it; the lock itself is the flock, not the file.
const LockName = "kioskd.lock"

// MinFree is the free space below which the data directory counts as full:
// far more than a morning's taps need, so staff hear of it before a tap is
// refused.
const MinFree = 50 << 20

var (
	// ErrInUse: another process holds the lock.
	ErrInUse = errors.New("datadir: in use")
	// ErrNotWritable: the directory cannot be created or written
	// (read-only file system, wrong owner or mode).
	ErrNotWritable = errors.New("datadir: not writable")
	// ErrFull: the file system has no room for a write.
	ErrFull = errors.New("datadir: full")
)

// Dir is a locked data directory. Close releases the lock.
type Dir struct {
	path   string
	lock   *os.File
	statfs func(path string, st *syscall.Statfs_t) error
}

// Open creates the directory if needed, takes its lock and checks that it
// takes a write (a small file, synced and removed).
func Open(path string) (_ *Dir, err error) {
	d := &Dir{path: path, statfs: syscall.Statfs}
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, d.writeErr(err)
	}
	d.lock, err = os.OpenFile(filepath.Join(path, LockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, d.writeErr(err)
	}
	defer func() {
		if err != nil {
			d.lock.Close()
		}
	}()
	if err := syscall.Flock(int(d.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &dirError{msg: fmt.Sprintf("another kioskd is using %s (pid %s)", path, d.holder()), kind: ErrInUse}
		}
		return nil, fmt.Errorf("data dir %s: lock: %w", path, err)
	}
	// The pid is for people (and the message above); a failed write here is
	// the first sign of a full or read-only disk.
	if err := d.lock.Truncate(0); err != nil {
		return nil, d.writeErr(err)
	}
	if _, err := d.lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return nil, d.writeErr(err)
	}
	if err := d.probe(); err != nil {
		return nil, d.writeErr(err)
	}
	return d, nil
}

// holder reads the pid in the lock file ("?" if unreadable).
func (d *Dir) holder() string {
	b, err := os.ReadFile(d.lock.Name())
	if pid := string(bytes.TrimSpace(b)); err == nil && pid != "" {
		return pid
	}
	return "?"
}

// probe writes, syncs and removes a small file: what a tap's commit needs
// from the directory, without touching the database.
func (d *Dir) probe() error {
	name := filepath.Join(d.path, ".write-probe")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(name)
	_, err = f.Write(make([]byte, 8192))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeErr names what is wrong with the directory.
func (d *Dir) writeErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		free := "?"
		if n, ferr := d.Free(); ferr == nil {
			free = strconv.FormatUint(n>>20, 10)
		}
		return &dirError{msg: fmt.Sprintf("data dir %s is full (%s MiB free)", d.path, free), kind: ErrFull, err: err}
	}
	return &dirError{msg: fmt.Sprintf("data dir %s is not writable", d.path), kind: ErrNotWritable, err: err}
}

// dirError is a message for people that also matches its sentinel and the
// system error with errors.Is.
type dirError struct {
	msg       string
	kind, err error
}

func (e *dirError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *dirError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// Free is the space the daemon may still use, in bytes.
func (d *Dir) Free() (uint64, error) {
	var st syscall.Statfs_t
	if err := d.statfs(d.path, &st); err != nil {
		return 0, fmt.Errorf("data dir %s: statfs: %w", d.path, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// Check is the health check: nil, or "disk_full: N MiB free" while less
// than MinFree is left.
func (d *Dir) Check() error {
	n, err := d.Free()
	if err != nil {
		return err
	}
	if n < MinFree {
		return fmt.Errorf("disk_full: %d MiB free", n>>20)
	}
	return nil
}

// Close releases the lock. The file stays: removing it could let a
// starting kioskd lock a file this one's successor no longer sees.
func (d *Dir) Close() error { return d.lock.Close() }
