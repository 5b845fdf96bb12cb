package readers

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/simreader"
)

const twoRC522 = `{"readers": [
  {"name": "entrance", "kind": "rc522", "spi": "SPI0.0", "irq": "GPIO24", "reset": "GPIO25", "role": "in",
   "buzzer": "GPIO18", "led": "GPIO23"},
  {"name": "exit", "kind": "rc522", "spi": "SPI0.1", "reset": "GPIO22", "role": "out",
   "poll_interval": "40ms", "debounce": "1s", "security": "ntag-original", "field_off": true},
  {"name": "office", "kind": "hid", "device": "usb-Sycreader_RFID-event-kbd", "format": "dec-le"},
  {"name": "demo", "kind": "sim", "debounce": "0s"}
]}`

func dur(d time.Duration) *Duration { v := Duration(d); return &v }

func TestParseConfig(t *testing.T) {
	got, err := ParseConfig(strings.NewReader(twoRC522))
	if err != nil {
		t.Fatal(err)
	}
	want := []Config{
		{Name: "entrance", Kind: "rc522", Role: attendance.ReaderIn, SPI: "SPI0.0", IRQ: "GPIO24", Reset: "GPIO25", SpeedHz: 4_000_000,
			Poll: Duration(10 * time.Millisecond), Debounce: dur(500 * time.Millisecond), Security: "no-random", Buzzer: "GPIO18", LED: "GPIO23"},
		{Name: "exit", Kind: "rc522", Role: attendance.ReaderOut, SPI: "SPI0.1", Reset: "GPIO22", SpeedHz: 4_000_000, FieldOff: true,
			Poll: Duration(40 * time.Millisecond), Debounce: dur(time.Second), Security: "ntag-original"},
		{Name: "office", Kind: "hid", Role: attendance.ReaderBoth, Device: "usb-Sycreader_RFID-event-kbd", Format: "dec-le",
			Debounce: dur(500 * time.Millisecond), Security: "no-random"},
		{Name: "demo", Kind: "sim", Role: attendance.ReaderBoth, Poll: Duration(10 * time.Millisecond),
			Debounce: dur(0), Security: "no-random"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, json, wantKey string
	}{
		{"unknown key", `{"readers":[{"name":"a","spi":"SPI0.0","irqq":"GPIO1"}]}`, `unknown field "irqq"`},
		{"no readers", `{"readers":[]}`, "readers:"},
		{"bad kind", `{"readers":[{"name":"a","kind":"nfc"}]}`, "readers[0].kind"},
		{"bad spi", `{"readers":[{"name":"a","spi":"/dev/spidev0.0"}]}`, "readers[0].spi"},
		{"missing spi", `{"readers":[{"name":"a"}]}`, "readers[0].spi"},
		{"bad irq", `{"readers":[{"name":"a","spi":"SPI0.0","irq":"24"}]}`, "readers[0].irq"},
		{"bad role", `{"readers":[{"name":"a","spi":"SPI0.0","role":"inout"}]}`, "readers[0].role"},
		{"bad security", `{"readers":[{"name":"a","spi":"SPI0.0","security":"high"}]}`, "readers[0].security"},
		{"bad speed", `{"readers":[{"name":"a","spi":"SPI0.0","speed_hz":20000000}]}`, "readers[0].speed_hz"},
		{"bad duration", `{"readers":[{"name":"a","spi":"SPI0.0","poll_interval":25}]}`, "readers[0].poll_interval"},
		{"bad debounce", `{"readers":[{"name":"a","spi":"SPI0.0","debounce":"soon"}]}`, "readers[0].debounce"},
		{"poll too fast", `{"readers":[{"name":"a","spi":"SPI0.0","poll_interval":"1ms"}]}`, "readers[0].poll_interval"},
		{"hid without device", `{"readers":[{"name":"a","kind":"hid"}]}`, "readers[0].device"},
		{"hid with ntag check", `{"readers":[{"name":"a","kind":"hid","device":"x","security":"ntag-original"}]}`, "readers[0].security"},
		{"hid bad format", `{"readers":[{"name":"a","kind":"hid","device":"x","format":"bcd"}]}`, "readers[0].format"},
		{"bad name", `{"readers":[{"name":"Front Door","spi":"SPI0.0"}]}`, "readers[0].name"},
		{"duplicate name", `{"readers":[{"name":"a","spi":"SPI0.0"},{"name":"a","spi":"SPI0.1"}]}`, "readers[1].name"},
		{"same chip select", `{"readers":[{"name":"a","spi":"SPI0.0"},{"name":"b","spi":"SPI0.0"}]}`, "readers[1].spi"},
		{"same GPIO", `{"readers":[{"name":"a","spi":"SPI0.0","irq":"GPIO24"},{"name":"b","spi":"SPI0.1","reset":"GPIO24"}]}`, "readers[1].reset"},
		{"wrong type", `{"readers":[{"name":"a","spi":"SPI0.0","field_off":"yes"}]}`, "readers[0].field_off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.json))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("error %q does not name %q", err, tt.wantKey)
			}
		})
	}
}

func TestOpenSim(t *testing.T) {
	r, err := Open(Config{Name: "demo", Kind: "sim", Poll: Duration(5 * time.Millisecond), Debounce: dur(0), Security: "any"})
	if err != nil {
		t.Fatal(err)
	}
	sim, ok := r.(*simreader.Reader)
	if !ok {
		t.Fatalf("Open(sim) = %T", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	taps := make(chan hw.Tap, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = r.Run(ctx, taps) }()
	defer func() { cancel(); wg.Wait() }()
	uid := []byte{0x04, 1, 2, 3, 4, 5, 6}
	if err := sim.Present(uid); err != nil {
		t.Fatal(err)
	}
	select {
	case tp := <-taps:
		if !cmp.Equal(tp.UID, uid) || tp.Reader != "demo" {
			t.Errorf("tap %s %x", tp.Reader, tp.UID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no tap")
	}
}

// On a machine without the SPI device (CI, a laptop) Open fails with an
// error naming the key, instead of starting a reader that can never work.
func TestOpenRC522WithoutHardware(t *testing.T) {
	_, err := Open(Config{Name: "entrance", Kind: "rc522", SPI: "SPI5.2"})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "readers[0].spi" {
		t.Fatalf("Open = %v; want a FieldError for readers[0].spi", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(twoRC522))
	f.Add([]byte(`{"readers":[{"name":"a","kind":"hid","device":"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfgs, err := ParseConfigBytes(b)
		if err != nil {
			return
		}
		for i, c := range cfgs {
			if err := c.Validate("x"); err != nil {
				t.Fatalf("accepted reader %d fails validation: %v", i, err)
			}
		}
	})
}
