package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"github.com/kinderdeur/kiosk/hw/feedback"
)

// brokenPin is a buzzer line whose every write fails, like a GPIO taken by
// another driver or a chip gone after a brown-out.
type brokenPin struct{}

func (brokenPin) String() string                        { return "GPIO18" }
func (brokenPin) Halt() error                           { return nil }
func (brokenPin) Name() string                          { return "GPIO18" }
func (brokenPin) Number() int                           { return 18 }
func (brokenPin) Function() string                      { return "Out" }
func (brokenPin) Out(gpio.Level) error                  { return errors.New("device or resource busy") }
func (brokenPin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM") }

// TestBrokenBuzzerDoesNotStopTheDoor: a buzzer's GPIO error is the
// buzzer's problem. The door keeps deciding and recording taps, and
// /healthz names the broken output (degraded, still 200: a silent buzzer
// must not roll back an update or stop a morning).
func TestBrokenBuzzerDoesNotStopTheDoor(t *testing.T) {
	addr := freeAddr(t)
	f, err := parseFlags([]string{"-demo", "-listen", addr, "-data", t.TempDir()}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := newDaemon(ctx, cfg, true, logs)
	if err != nil {
		t.Fatal(err)
	}
	d.feedback = map[string]*feedback.Feedback{"entrance": feedback.New(feedback.Config{Buzzer: brokenPin{}})}
	errc := make(chan error, 1)
	go func() { errc <- d.run(ctx) }()
	defer func() { cancel(); <-errc }()

	health := func() (int, map[string]any) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var h map[string]any
		json.NewDecoder(resp.Body).Decode(&h)
		return resp.StatusCode, h
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, h := health()
		fb, _ := h["feedback"].(map[string]any)
		if e, _ := fb["entrance"].(string); code == http.StatusOK && strings.Contains(e, "GPIO18") {
			break
		}
		select {
		case err := <-errc:
			errc <- err
			t.Fatalf("kioskd stopped on a buzzer error: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz = %d %v, want 200 with feedback.entrance naming GPIO18", code, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Three committed taps, each signalled on the broken buzzer (three
	// cards: a second tap of the same parent within undo_guard asks first).
	for i, uid := range []string{"2B3C4D5E", "1C2D3E4F", "E1A20B3C"} {
		if m := tap(t, addr, uid); m["committed"] != true {
			t.Fatalf("tap %d with a broken buzzer = %v", i, m)
		}
	}
	select {
	case err := <-errc:
		errc <- err
		t.Fatalf("kioskd stopped on a buzzer error: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if n := strings.Count(logs.String(), "GPIO18"); n == 0 {
		t.Errorf("the buzzer error is not in the logs:\n%s", logs)
	}
}
