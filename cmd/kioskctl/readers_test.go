package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMaskUID(t *testing.T) {
	tests := []struct {
		uid  []byte
		want string
	}{
		{[]byte{0x11, 0x22, 0x33, 0x44}, "**:**:33:44"},
		{[]byte{0x04, 1, 2, 3, 4, 0x5E, 0xF6}, "**:**:**:**:**:5E:F6"},
	}
	for _, tt := range tests {
		if got := maskUID(tt.uid); got != tt.want {
			t.Errorf("maskUID(%x) = %q, want %q", tt.uid, got, tt.want)
		}
	}
}

func TestReadersSim(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"readers", "-sim", "-sim-every", "60ms", "-duration", "500ms"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"sim        sim    both  simulated MFRC522", "OK    MFRC522 v2.0 (0x92)", " tap **:**:"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestReadersUsageAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "readers.json")
	if err := os.WriteFile(bad, []byte(`{"readers":[{"name":"a","spi":"SPI0.0","irq":"pin24"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"readers"}, 2, "exactly one of"},
		{[]string{"readers", "-sim", "-config", bad}, 2, "exactly one of"},
		{[]string{"readers", "-config", bad}, 1, "readers[0].irq"},
		{[]string{"readers", "-config", filepath.Join(dir, "missing.json")}, 1, "no such file"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &errb); code != tt.code || !strings.Contains(errb.String(), tt.inStderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.inStderr)
		}
	}
}
