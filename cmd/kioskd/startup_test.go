package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes a kioskd config file into a fresh directory.
func writeConfig(t *testing.T, json string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "kioskd.json")
	if err := os.WriteFile(f, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSimReaderRefusedOutsideDemo: a production config with a simulated
// reader would serve the sim tap API (anyone who reaches the listener taps
// any card). kioskd refuses it at start-up, naming the key, unless -demo or
// the test-only -allow-sim-readers is given.
func TestSimReaderRefusedOutsideDemo(t *testing.T) {
	cfg := writeConfig(t, `{"readers":[{"name":"voordeur","kind":"rc522","spi":"SPI0.0"},{"name":"achterdeur","kind":"sim"}]}`)
	err := run(context.Background(), []string{"-config", cfg, "-data", t.TempDir(), "-listen", "127.0.0.1:0"}, io.Discard, io.Discard)
	for _, want := range []string{`readers[1].kind`, `"sim"`, "-demo"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("run with a sim reader and no -demo = %v, want an error containing %q", err, want)
		}
	}
	for _, args := range [][]string{{"-demo"}, {"-allow-sim-readers"}} {
		f, err := parseFlags(append(args, "-config", cfg), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(f); err != nil {
			t.Errorf("loadConfig(%v) = %v, want the sim reader accepted", args, err)
		}
	}
}
