package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/kinderdeur/kiosk/attendance/store"
)

func init() {
	commands["backup"] = command{summary: "write a consistent copy of the kiosk database (VACUUM INTO)", run: runBackup}
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	data := fs.String("data", "/var/lib/kinderdeur", "kioskd data directory")
	out := fs.String("out", "", "backup file to write (must not exist)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usageError{"-out is required"}
	}
	// Opening the store checks the pragmas; the daemon may keep running:
	// WAL lets this reader take a consistent snapshot while it writes. The
	// database is opened as it is: a kioskctl of another build than the
	// running kioskd must not migrate it under the daemon.
	st, err := store.OpenWith(filepath.Join(*data, "kiosk.db"), store.Options{AsItIs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *out); err != nil {
		return err
	}
	lastSeq, err := verifyBackup(ctx, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (events through seq %d, integrity ok)\n", *out, lastSeq)
	return nil
}

// verifyBackup checks the backup's integrity and returns the newest seq it
// holds (the live database may have moved on since).
func verifyBackup(ctx context.Context, path string) (int64, error) {
	b, err := store.OpenWith(path, store.Options{AsItIs: true})
	if err != nil {
		return 0, fmt.Errorf("verify backup: %w", err)
	}
	defer b.Close()
	if err := b.IntegrityCheck(ctx); err != nil {
		return 0, fmt.Errorf("verify backup: %w", err)
	}
	return b.LastSeq(), nil
}
