// Command kioskd is the door daemon: it reads badge readers, decides each
// tap with the door rules, records it durably, shows it on the touch screen
// over a websocket and syncs attendance to central.
//
//	kioskd -demo                      # demo roster, simulated readers, UI on :8080
//	kioskd -config /etc/kinderdeur/kioskd.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/hw/readers"
)

// version is stamped by scripts/cross-build (-ldflags -X main.version=...).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

// flags are the command line; they override the config file.
type flags struct {
	config, listen, data, central, logLevel string
	demo, version                           bool
	// allowSim accepts kind "sim" readers without -demo: for tests that run
	// kioskd on their own roster. Never in production (see loadConfig).
	allowSim bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("kioskd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (JSON; see deploy/kioskd.example.json)")
	fs.StringVar(&f.listen, "listen", "", "address for the UI and API (default 127.0.0.1:8080)")
	fs.StringVar(&f.data, "data", "", "data directory for the database (demo default: ./kinderdeur-demo)")
	fs.StringVar(&f.central, "central", "", "central service URL to sync with")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fs.BoolVar(&f.demo, "demo", false, "demo roster with simulated readers")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.allowSim, "allow-sim-readers", false, "test only: accept kind \"sim\" readers without -demo (they serve the sim tap API)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.version {
		fmt.Fprintln(stdout, "kioskd", version)
		return nil
	}
	cfg, err := loadConfig(f)
	if err != nil {
		return err
	}
	d, err := newDaemon(ctx, cfg, f.demo, stderr)
	if err != nil {
		return err
	}
	if f.demo {
		fmt.Fprintf(stdout, "Kinderdeur demo: open http://%s (data in %s; demo cards in the README or GET /api/v1/sim/cards). Ctrl-C stops.\n",
			d.ln.Addr(), cfg.DataDir)
	}
	return d.run(ctx)
}

// loadConfig merges the defaults, the config file and the flags.
func loadConfig(f flags) (Config, error) {
	cfg := DefaultConfig()
	if f.config != "" {
		file, err := os.Open(f.config)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		defer file.Close()
		if cfg, err = ParseConfig(file); err != nil {
			return cfg, fmt.Errorf("%s: %w", f.config, err)
		}
	}
	if f.demo {
		if f.config == "" {
			cfg.DataDir = "kinderdeur-demo"
		}
		if len(cfg.Readers) == 0 {
			// Every simulated tap is a deliberate new presentation: no
			// debounce, so tapping the same card twice in a row is two taps.
			none := readers.Duration(0)
			cfg.Readers = []readers.Config{{Name: "entrance", Kind: "sim", Role: attendance.ReaderBoth, Debounce: &none}}
		}
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.data != "" {
		cfg.DataDir = f.data
	}
	if f.central != "" {
		cfg.Central.URL = f.central
	}
	if f.logLevel != "" {
		cfg.LogLevel = f.logLevel
	}
	if len(cfg.Readers) == 0 {
		return cfg, usageError{errors.New("no readers configured: give -config with readers, or -demo")}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if !f.demo && !f.allowSim {
		// A simulated reader serves POST /api/v1/sim/tap: whoever reaches
		// the listener could tap any card. Only the demo and tests want that.
		for i, r := range cfg.Readers {
			if r.Kind == "sim" {
				return cfg, fmt.Errorf(`config: key "readers[%d].kind": "sim" is for the demo and tests only (it serves the simulated tap API): use rc522 or hid, or run with -demo`, i)
			}
		}
	}
	return cfg, nil
}
