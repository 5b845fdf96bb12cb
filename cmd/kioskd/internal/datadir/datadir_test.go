package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckReportsFreeSpace(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tt := range []struct {
		name  string
		avail uint64 // blocks of 4 KiB
		err   error
		want  string
	}{
		{"plenty", 1 << 20, nil, ""},
		{"just enough", MinFree / 4096, nil, ""},
		{"nearly full", 12 << 8, nil, "disk_full: 12 MiB free"},
		{"full", 0, nil, "disk_full: 0 MiB free"},
		{"statfs fails", 0, syscall.EIO, "statfs: input/output error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d.statfs = func(_ string, st *syscall.Statfs_t) error {
				st.Bavail, st.Bsize = tt.avail, 4096
				return tt.err
			}
			got := ""
			if err := d.Check(); err != nil {
				got = err.Error()
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Check() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new") // created by Open
	// A file left by a killed kioskd holds no flock: it does not block.
	os.MkdirAll(dir, 0o750)
	os.WriteFile(filepath.Join(dir, LockName), []byte("4242\n"), 0o640)
	d, err := Open(dir)
	if err != nil {
		t.Fatalf("Open over a stale lock file: %v", err)
	}
	_, err = Open(dir)
	want := fmt.Sprintf("another kioskd is using %s (pid %d)", dir, os.Getpid())
	if !errors.Is(err, ErrInUse) || err.Error() != want {
		t.Errorf("second Open = %v, want %q", err, want)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	d.Close()
	if _, err := os.Stat(filepath.Join(dir, ".write-probe")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the write probe was left behind: %v", err)
	}
}

func TestNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes through modes; cmd/kioskd's TestReadOnlyDataDirSaysSo mounts a read-only file system")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	_, err := Open(dir)
	if !errors.Is(err, ErrNotWritable) || !errors.Is(err, os.ErrPermission) || !strings.HasPrefix(err.Error(), "data dir "+dir+" is not writable: ") {
		t.Errorf("Open(0555 dir) = %v", err)
	}
}
