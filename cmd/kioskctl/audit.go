package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance/audit"
)

func init() {
	commands["audit"] = command{summary: "verify or export the hash-chained audit trail (verify, export, verify-export)", run: runAudit}
}

const auditUsage = `usage:
  kioskctl audit verify -db FILE|postgres://...   walk the chain; exit 1 at the first broken entry
  kioskctl audit export -db FILE|postgres://... [-out FILE]   write the trail as JSON Lines
  kioskctl audit verify-export -in FILE           check an exported trail offline`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{auditUsage}
	}
	sub, args := args[0], args[1:]
	fs := newFlags("audit "+sub, stderr)
	var dbFlag, out, in *string
	switch sub {
	case "verify", "export":
		dbFlag = fs.String("db", "", "SQLite database file or postgres:// URL")
		if sub == "export" {
			out = fs.String("out", "", "file to write (default stdout)")
		}
	case "verify-export":
		in = fs.String("in", "", "exported JSON Lines file ('-' for stdin)")
	default:
		return usageError{fmt.Sprintf("unknown audit command %q\n%s", sub, auditUsage)}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}

	if sub == "verify-export" {
		if *in == "" {
			return usageError{"-in is required"}
		}
		var r io.Reader = os.Stdin
		if *in != "-" {
			f, err := os.Open(*in)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		n, head, err := audit.VerifyExport(r)
		return reportVerify(stdout, n, head, err)
	}

	if *dbFlag == "" {
		return usageError{"-db is required"}
	}
	db, dialect, err := openAuditDB(*dbFlag)
	if err != nil {
		return err
	}
	defer db.Close()
	l := audit.New(db, dialect)
	switch sub {
	case "verify":
		n, err := l.Verify(ctx)
		_, head, herr := l.Head(ctx)
		if err == nil && herr != nil {
			err = herr
		}
		return reportVerify(stdout, n, head, err)
	default: // export
		w := stdout
		if *out != "" {
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		n, err := l.Export(ctx, w)
		if err != nil {
			return err
		}
		if *out != "" {
			fmt.Fprintf(stdout, "exported %d entries to %s\n", n, *out)
		}
		return nil
	}
}

func reportVerify(stdout io.Writer, n int64, head string, err error) error {
	var ce *audit.ChainError
	if errors.As(err, &ce) {
		fmt.Fprintf(stdout, "BROKEN at seq %d: %s (%d entries before it verified)\n", ce.Seq, ce.Reason, n)
		return fmt.Errorf("audit trail broken at seq %d", ce.Seq)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK %d entries verified (head %s)\n", n, head)
	return nil
}

// openAuditDB opens a postgres:// URL with pgx or a SQLite file read-only
// (a missing file is an error, not a new empty database).
func openAuditDB(target string) (*sql.DB, audit.Dialect, error) {
	if strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://") {
		db, err := sql.Open("pgx", target)
		if err != nil {
			return nil, 0, fmt.Errorf("open postgres: %w", err)
		}
		return db, audit.Postgres, nil
	}
	if _, err := os.Stat(target); err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", target, err)
	}
	db, err := sql.Open("sqlite3", "file:"+target+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", target, err)
	}
	return db, audit.SQLite, nil
}
