package hid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kinderdeur/kiosk/hw"
)

// evIOCGrab is EVIOCGRAB, _IOW('E', 0x90, int).
const evIOCGrab = 0x40044590

// ByIDDir is where udev links input devices by stable name.
const ByIDDir = "/dev/input/by-id"

// Config configures a keyboard-wedge reader.
type Config struct {
	Name string
	// Device is an evdev path (/dev/input/event3) or a name in ByIDDir
	// (usb-Sycreader_RFID_Technology_Co.__Ltd_SYC_ID_IC_USB_Reader_08FF20140315-event-kbd).
	Device   string
	Format   Format
	Debounce time.Duration // the same UID again within this is the same tap, default 1s
	// WordSize is the kernel's long size in bytes (8 on arm64/amd64, 4 on
	// armhf); default: this program's.
	WordSize   int
	MaxBackoff time.Duration // re-open backoff cap, default 5s
	Logger     *slog.Logger
	Now        func() time.Time
}

// Reader is a keyboard-wedge reader. It implements hw.Reader.
type Reader struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	health hw.Health
}

var _ hw.Reader = (*Reader)(nil)

// New returns a reader; the device is opened by Run.
func New(cfg Config) (*Reader, error) {
	if cfg.Name == "" {
		return nil, errors.New("hid: reader name is empty")
	}
	if cfg.Device == "" {
		return nil, fmt.Errorf("hid: reader %q: no device", cfg.Name)
	}
	if cfg.Format == "" {
		cfg.Format = FormatAuto
	}
	if _, err := ParseUID("01020304", cfg.Format); err != nil && !errors.Is(err, ErrBadUID) {
		return nil, fmt.Errorf("hid: reader %q: %w", cfg.Name, err)
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = time.Second
	}
	if cfg.WordSize == 0 {
		cfg.WordSize = strconv.IntSize / 8
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Reader{cfg: cfg, log: cfg.Logger.With("reader", cfg.Name)}
	r.health = hw.Health{Reader: cfg.Name, Kind: "hid", Error: "not started", Since: cfg.Now()}
	return r, nil
}

// ResolveDevice turns a by-id name into its /dev/input/eventN path.
func ResolveDevice(dev string) (string, error) {
	p := dev
	if !strings.ContainsRune(dev, '/') {
		p = filepath.Join(ByIDDir, dev)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("hid: device %q: %w", dev, err)
	}
	return real, nil
}

// Name implements hw.Reader.
func (r *Reader) Name() string { return r.cfg.Name }

// Health implements hw.Reader.
func (r *Reader) Health() hw.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}

func (r *Reader) setHealth(ok bool, chip string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.health.OK != ok {
		r.health.Since = r.cfg.Now()
	}
	r.health.OK, r.health.Error = ok, ""
	if err != nil {
		r.health.Error = err.Error()
	}
	if chip != "" {
		r.health.Chip = chip
	}
}

// Run implements hw.Reader: it opens and grabs the device, sends a tap per
// typed UID and re-opens the device with a capped backoff when it goes away
// (unplugged). It returns nil when ctx ends.
func (r *Reader) Run(ctx context.Context, taps chan<- hw.Tap) error {
	backoff := 100 * time.Millisecond
	var last []byte
	var lastAt time.Time
	for ctx.Err() == nil {
		err := r.session(ctx, func(uid []byte) bool {
			now := r.cfg.Now()
			if bytes.Equal(uid, last) && now.Sub(lastAt) < r.cfg.Debounce {
				lastAt = now
				return true
			}
			last, lastAt = uid, now
			select {
			case taps <- hw.Tap{Reader: r.cfg.Name, UID: uid, At: now}:
				return true
			case <-ctx.Done():
				return false
			}
		})
		if ctx.Err() != nil {
			break
		}
		r.setHealth(false, "", err)
		r.log.Warn("keyboard reader down", "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
	}
	r.setHealth(false, "", errors.New("stopped"))
	return nil
}

// session reads one opened device until an error or ctx ends.
func (r *Reader) session(ctx context.Context, tap func([]byte) bool) error {
	path, err := ResolveDevice(r.cfg.Device)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("hid: open: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Mode()&fs.ModeCharDevice != 0 {
		if err := grab(f); err != nil {
			f.Close()
			return fmt.Errorf("hid: exclusive grab of %s: %w", path, err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owner of the blocking read: closing the file ends it
		defer wg.Done()
		select {
		case <-ctx.Done():
		case <-stop:
		}
		f.Close()
	}()
	defer func() { close(stop); wg.Wait() }()
	r.setHealth(true, filepath.Base(path), nil)
	dec := Decoder{Format: r.cfg.Format}
	br := bufioReader(f)
	for {
		e, err := ReadEvent(br, r.cfg.WordSize)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("hid: %s closed", path)
			}
			return fmt.Errorf("hid: read %s: %w", path, err)
		}
		uid, err := dec.Feed(e)
		if err != nil {
			r.log.Info("typed line ignored", "err", err)
			continue
		}
		if uid != nil && !tap(uid) {
			return nil
		}
	}
}

func grab(f *os.File) error {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), evIOCGrab, 1)
	if errno != 0 {
		return errno
	}
	return nil
}
