package hid

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/hw"
)

var update = flag.Bool("update", false, "rewrite testdata recordings")

var charKeys = func() map[byte]uint16 {
	m := map[byte]uint16{}
	for code, c := range keyChars {
		if code < 71 { // main keyboard row, not keypad
			m[c] = code
		}
	}
	return m
}()

// typeLine renders what a wedge reader sends for s then Enter: for each key
// an MSC_SCAN, a press, a SYN, a release, a SYN, like evtest shows.
func typeLine(s string, t0 time.Time, shift bool) []Event {
	var ev []Event
	at := t0
	key := func(code uint16) {
		for _, v := range []int32{1, 0} {
			ev = append(ev,
				Event{at, 4, 4, 0x70000 + int32(code)}, // EV_MSC MSC_SCAN
				Event{at, evKey, code, v},
				Event{at, 0, 0, 0}) // EV_SYN
			at = at.Add(4 * time.Millisecond)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'F' {
			if shift {
				ev = append(ev, Event{at, evKey, keyLShift, 1})
			}
			key(charKeys[c+'a'-'A'])
			if shift {
				ev = append(ev, Event{at, evKey, keyLShift, 0})
			}
			continue
		}
		if c == '-' {
			key(keyMinus)
			continue
		}
		if code, ok := charKeys[c]; ok {
			key(code)
		} else {
			key(57 + 100) // an unexpected key
		}
	}
	key(keyEnter)
	return ev
}

type recording struct {
	name  string
	lines []string
	want  []string // hex UIDs, "!" for a rejected line
	word  int
}

var recordings = []recording{
	{"dec10_w64", []string{"0012345678", "3735928559"}, []string{"00bc614e", "deadbeef"}, 8},
	{"hex_mixed_w64", []string{"04A1B2C3D4E5F6", "DEADBEEF", "0102030405060708090A"}, []string{"04a1b2c3d4e5f6", "deadbeef", "0102030405060708090a"}, 8},
	{"armhf_w32", []string{"1122AABB", "0011223344"}, []string{"1122aabb", "00ab4130"}, 4},
	{"junk_w64", []string{"12345", "HELLO", "04-A1-B2-C3"}, []string{"!", "!", "04a1b2c3"}, 8},
}

func encode(evs []Event, word int) []byte {
	var b []byte
	for _, e := range evs {
		b = AppendEvent(b, e, word)
	}
	return b
}

func TestRecordings(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 7, 30, 0, 0, time.UTC)
	for _, rec := range recordings {
		t.Run(rec.name, func(t *testing.T) {
			path := filepath.Join("testdata", rec.name+".events")
			if *update {
				var evs []Event
				for i, l := range rec.lines {
					evs = append(evs, typeLine(l, t0.Add(time.Duration(i)*time.Second), i%2 == 0)...)
				}
				if err := os.WriteFile(path, encode(evs, rec.word), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw)%EventSize(rec.word) != 0 {
				t.Fatalf("%s: %d bytes is not a whole number of events", path, len(raw))
			}
			var got []string
			d := Decoder{}
			r := bytes.NewReader(raw)
			for {
				e, err := ReadEvent(r, rec.word)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				uid, err := d.Feed(e)
				switch {
				case errors.Is(err, ErrBadUID):
					got = append(got, "!")
				case err != nil:
					t.Fatal(err)
				case uid != nil:
					got = append(got, fmt.Sprintf("%x", uid))
				}
			}
			if diff := cmp.Diff(rec.want, got); diff != "" {
				t.Errorf("UIDs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseUID(t *testing.T) {
	tests := []struct {
		in      string
		f       Format
		want    string
		wantErr bool
	}{
		{"0012345678", FormatAuto, "00bc614e", false},
		{"0012345678", FormatDecLE, "4e61bc00", false},
		{"4294967295", FormatDec, "ffffffff", false},
		{"4294967296", FormatDec, "", true},
		{"deadbeef", FormatAuto, "deadbeef", false},
		{"12345678", FormatAuto, "12345678", false}, // 8 digits: hex
		{"04a1b2c3d4e5f6", FormatHex, "04a1b2c3d4e5f6", false},
		{"abc", FormatAuto, "", true},
		{"0102030405", FormatHex, "", true},
		{"", FormatDec, "", true},
		{"12", "morse", "", true},
	}
	for _, tt := range tests {
		got, err := ParseUID(tt.in, tt.f)
		if (err != nil) != tt.wantErr || fmt.Sprintf("%x", got) != tt.want {
			t.Errorf("ParseUID(%q, %q) = %x, %v; want %s (err %v)", tt.in, tt.f, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestRunFIFO runs the reader on a named pipe carrying input_event structs,
// which is how the kernel hands them out from /dev/input/eventN (minus the
// grab, which only applies to character devices).
func TestRunFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "event7")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mkfifo: %v", err)
		}
		t.Skipf("mkfifo not available here: %v", err)
	}
	link := filepath.Join(dir, "usb-Wedge_RFID_Reader-event-kbd")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Name: "door", Device: link, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	taps := make(chan hw.Tap, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Run(ctx, taps); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	var evs []Event
	for _, l := range []string{"DEADBEEF", "DEADBEEF", "04A1B2C3D4E5F6"} {
		evs = append(evs, typeLine(l, t0, true)...)
	}
	if _, err := w.Write(encode(evs, r.cfg.WordSize)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		select {
		case tp := <-taps:
			got = append(got, fmt.Sprintf("%s %x", tp.Reader, tp.UID))
		case <-time.After(5 * time.Second):
			t.Fatalf("taps so far %v", got)
		}
	}
	// The repeated DEADBEEF within the debounce is one tap.
	if diff := cmp.Diff([]string{"door deadbeef", "door 04a1b2c3d4e5f6"}, got); diff != "" {
		t.Errorf("taps (-want +got):\n%s", diff)
	}
	if h := r.Health(); !h.OK || h.Chip != "event7" {
		t.Errorf("health %+v", h)
	}
	w.Close() // unplugged: the reader reports it and waits for the device
	deadline := time.Now().Add(5 * time.Second)
	for r.Health().OK && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if h := r.Health(); h.OK || !strings.Contains(h.Error, "closed") {
		t.Errorf("health after unplug %+v", h)
	}
	cancel()
	// Run may be blocked opening the FIFO for its retry: give it a writer.
	if w2, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		defer w2.Close()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		case <-time.After(20 * time.Millisecond):
			if w2, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w2.Close()
			}
		}
	}
}

func TestResolveDevice(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "event3")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "usb-Reader-event-kbd")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	got, err := ResolveDevice(link)
	if err != nil || got != target {
		t.Errorf("ResolveDevice = %q, %v; want %q", got, err, target)
	}
	if _, err := ResolveDevice("no-such-reader-event-kbd"); err == nil {
		t.Error("ResolveDevice of a missing by-id name succeeded")
	}
}

// FuzzDecode feeds arbitrary bytes as input_event streams of both word
// sizes through a decoder of every format (and an unknown one): no panics,
// and anything decoded is a 4-, 7- or 10-byte UID.
func FuzzDecode(f *testing.F) {
	for _, rec := range recordings {
		if raw, err := os.ReadFile(filepath.Join("testdata", rec.name+".events")); err == nil {
			f.Add(raw, rec.word == 8)
		}
	}
	formats := []Format{"", FormatAuto, FormatHex, FormatDec, FormatDecLE, "bcd"}
	f.Fuzz(func(t *testing.T, raw []byte, wide bool) {
		word := 4
		if wide {
			word = 8
		}
		for _, format := range formats {
			d := Decoder{Format: format}
			r := bytes.NewReader(raw)
			for {
				e, err := ReadEvent(r, word)
				if err != nil {
					break
				}
				uid, err := d.Feed(e)
				if err == nil && uid != nil && len(uid) != 4 && len(uid) != 7 && len(uid) != 10 {
					t.Fatalf("format %q decoded a %d-byte UID", format, len(uid))
				}
			}
		}
	})
}
