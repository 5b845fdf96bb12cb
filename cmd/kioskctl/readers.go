package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/feedback"
	"github.com/kinderdeur/kiosk/hw/rc522"
	"github.com/kinderdeur/kiosk/hw/readers"
	"github.com/kinderdeur/kiosk/hw/simreader"
)

func init() {
	commands["readers"] = command{summary: "list badge readers, chip versions and live taps (installers)", run: runReaders}
}

// maskUID shows only the last two bytes of a UID: enough for an installer
// to tell cards apart, not enough to copy one.
func maskUID(uid []byte) string {
	parts := make([]string, len(uid))
	for i, b := range uid {
		if i >= len(uid)-2 {
			parts[i] = fmt.Sprintf("%02X", b)
		} else {
			parts[i] = "**"
		}
	}
	return strings.Join(parts, ":")
}

func runReaders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("readers", stderr)
	cfgPath := fs.String("config", "", "reader configuration file (JSON, {\"readers\": [...]})")
	sim := fs.Bool("sim", false, "use one simulated reader that is presented a random card every -sim-every")
	simEvery := fs.Duration("sim-every", time.Second, "with -sim: how often a card is tapped")
	duration := fs.Duration("duration", 0, "stop after this long (default: until Ctrl-C)")
	verbose := fs.Bool("v", false, "log reader internals to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if (*cfgPath == "") == !*sim {
		return usageError{"give exactly one of -config FILE or -sim"}
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	lvl := slog.LevelWarn
	if *verbose {
		lvl = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})))

	var out sync.Mutex
	printf := func(format string, a ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(stdout, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
	var set *readers.Set
	signal := func(reader string, p feedback.Pattern) {
		if set == nil {
			return
		}
		if fb := set.Feedback[reader]; fb != nil {
			fb.Signal(p)
		}
	}
	onEvent := func(e rc522.Event) {
		signal(e.Reader, feedback.Deny)
		switch e.Kind {
		case rc522.EventCollision:
			printf("%-10s two or more cards: one card at a time", e.Reader)
		default:
			printf("%-10s card refused: %v", e.Reader, e.Err)
		}
	}

	var cfgs []readers.Config
	if *sim {
		cfgs = []readers.Config{{Name: "sim", Kind: "sim", Security: "any"}}
	} else {
		f, err := os.Open(*cfgPath)
		if err != nil {
			return fmt.Errorf("readers: %w", err)
		}
		cfgs, err = readers.ParseConfig(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%-10s %-6s %-5s %s\n", "READER", "KIND", "ROLE", "WIRING")
	for _, c := range cfgs {
		c.Defaults()
		fmt.Fprintf(stdout, "%-10s %-6s %-5s %s\n", c.Name, c.Kind, c.Role, wiring(c))
	}
	opened, err := readers.OpenAll(cfgs, onEvent)
	if err != nil {
		return err
	}
	set = opened // before any reader runs: onEvent reads it
	defer set.Close()

	taps := make(chan hw.Tap, 16)
	var wg sync.WaitGroup
	for _, r := range set.Readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx, taps); err != nil {
				printf("%-10s stopped: %v", r.Name(), err)
			}
		}()
	}
	for name, fb := range set.Feedback {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fb.Run(ctx); err != nil {
				printf("%-10s buzzer/LED: %v", name, err)
			}
		}()
	}
	if *sim {
		wg.Add(1)
		go func() {
			defer wg.Done()
			simTapper(ctx, set.Readers[0].(*simreader.Reader), *simEvery)
		}()
	}
	health := map[string]hw.Health{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	fmt.Fprintln(stdout, "waiting for taps (Ctrl-C to stop)")
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case t := <-taps:
			signal(t.Reader, feedback.Success)
			printf("%-10s tap %s (%d bytes, role %s)", t.Reader, maskUID(t.UID), len(t.UID), set.Roles[t.Reader])
		case <-tick.C:
			for _, r := range set.Readers {
				h := r.Health()
				prev, seen := health[r.Name()]
				if seen && prev.OK == h.OK && prev.Error == h.Error && prev.Chip == h.Chip && prev.Degraded == h.Degraded {
					continue
				}
				health[r.Name()] = h
				switch {
				case h.OK && h.Degraded != "":
					printf("%-10s OK    %s (degraded: %s)", h.Reader, h.Chip, h.Degraded)
				case h.OK:
					printf("%-10s OK    %s", h.Reader, h.Chip)
				default:
					printf("%-10s DOWN  %s", h.Reader, h.Error)
				}
			}
		}
	}
}

func wiring(c readers.Config) string {
	switch c.Kind {
	case "rc522":
		s := c.SPI
		if c.IRQ != "" {
			s += " irq=" + c.IRQ
		} else {
			s += " irq=(polled)"
		}
		if c.Reset != "" {
			s += " rst=" + c.Reset
		}
		return s
	case "hid":
		return c.Device
	}
	return "simulated MFRC522"
}

// simTapper presents a random card (4, 7 or 10 bytes) every interval and
// removes it again, like a person tapping.
func simTapper(ctx context.Context, r *simreader.Reader, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	sizes := []int{4, 7, 10}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		uid := make([]byte, sizes[i%3])
		_, _ = rand.Read(uid)
		if uid[0] == 0x08 || uid[0] == 0x88 {
			uid[0] = 0x04
		}
		if err := r.Present(uid); err != nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every / 3):
		}
		r.Remove()
	}
}
