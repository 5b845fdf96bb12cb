package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// runUntil runs kioskd with args and returns its error, or fails the test
// if it is still running (or became healthy on addr) after a few seconds.
func runUntil(t *testing.T, addr string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, append(args, "-listen", addr), io.Discard, io.Discard) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		cancel()
		<-errc
		t.Fatalf("kioskd %v started instead of refusing", args)
		return nil
	}
}

// TestSecondKioskdOnTheSameDataDirRefused: two daemons on one database
// would both poll the readers and fight over the one writer; the second is
// refused at start-up, naming the first one's pid. The lock goes with the
// process: after a clean stop, and with a lock file left by a killed one,
// kioskd starts.
func TestSecondKioskdOnTheSameDataDirRefused(t *testing.T) {
	data := t.TempDir()
	// A lock file left behind by a kioskd that was killed holds no lock.
	if err := os.WriteFile(filepath.Join(data, "kioskd.lock"), []byte("999999\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	stop, _ := startDemo(t, freeAddr(t), data)
	err := runUntil(t, freeAddr(t), "-demo", "-data", data)
	want := fmt.Sprintf("another kioskd is using %s (pid %d)", data, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("second kioskd on %s = %v, want %q", data, err, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	startDemo(t, freeAddr(t), data) // released on exit
}

// tmpfs mounts a tmpfs of size bytes on a fresh directory (read-only if ro)
// and unmounts it when the test ends. It needs root: CI runs as root, so
// there the test fails rather than skip.
func tmpfs(t *testing.T, size int, ro bool) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0750", size), "tmpfs", dir).CombinedOutput(); err != nil {
		skip("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	if ro {
		if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
			t.Fatalf("remount ro: %v %s", err, out)
		}
	}
	return dir
}

// TestReadOnlyDataDirSaysSo: a data dir on a file system that went
// read-only (errors=remount-ro) or with the wrong owner is named as such at
// start-up, not reported as a missing file. As root (CI) permissions do not
// bind, so the directory is a read-only mount; otherwise it is mode 0555.
func TestReadOnlyDataDirSaysSo(t *testing.T) {
	var data string
	if os.Geteuid() == 0 {
		data = tmpfs(t, 8<<20, true)
	} else {
		data = t.TempDir()
		if err := os.Chmod(data, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(data, 0o755) })
	}
	err := runUntil(t, freeAddr(t), "-demo", "-data", data)
	want := fmt.Sprintf("data dir %s is not writable", data)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("kioskd on a read-only data dir = %v, want %q", err, want)
	}
}

// TestFullDataDir: a data dir that cannot take a write refuses start-up
// with the reason; one nearly full starts (taps still fit) but /healthz
// says disk_full with the space left, before the first tap fails.
func TestFullDataDir(t *testing.T) {
	t.Run("no space at all", func(t *testing.T) {
		data := tmpfs(t, 64<<10, false)
		fill(t, data)
		err := runUntil(t, freeAddr(t), "-demo", "-data", data)
		want := fmt.Sprintf("data dir %s is full", data)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("kioskd on a full data dir = %v, want %q", err, want)
		}
	})
	t.Run("nearly full", func(t *testing.T) {
		data := tmpfs(t, 20<<20, false)
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- run(ctx, []string{"-demo", "-listen", addr, "-data", data}, io.Discard, io.Discard) }()
		defer func() { cancel(); <-errc }()
		deadline := time.Now().Add(10 * time.Second)
		var last string
		for {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				var h map[string]any
				json.NewDecoder(resp.Body).Decode(&h)
				resp.Body.Close()
				disk, _ := h["disk"].(string)
				if resp.StatusCode == http.StatusServiceUnavailable && strings.HasPrefix(disk, "disk_full: ") && strings.HasSuffix(disk, " MiB free") {
					return
				}
				last = fmt.Sprintf("%d %v", resp.StatusCode, h)
			}
			select {
			case err := <-errc:
				errc <- err
				t.Fatalf("kioskd exited: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz on a nearly full disk = %s, want 503 with disk: disk_full: N MiB free", last)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// fill writes into dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.0.2.10:8080", false},
	} {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := loopbackOnly(a); got != tt.want {
			t.Errorf("loopbackOnly(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
