package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
)

func ev(seq int64) attendance.Event {
	return attendance.Event{ID: "01937c5e-0000-7000-8000-00000000000" + string(rune('0'+seq%10)), DeviceID: "kiosk-a", Seq: seq,
		Type: attendance.ChildCheckIn, ChildID: "c-1", Wall: time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC), MonoNS: seq, BootID: "b"}
}

func batchOf(evs ...attendance.Event) []byte {
	b := Batch{Protocol: Version, DeviceID: "kiosk-a", Clock: ClockProbe{BootID: "b", Wall: time.Unix(0, 0).UTC()}}
	for _, e := range evs {
		raw, _ := json.Marshal(e)
		b.Events = append(b.Events, raw)
	}
	out, _ := json.Marshal(b)
	return out
}

func TestDecodeBatch(t *testing.T) {
	other := ev(2)
	other.DeviceID = "kiosk-b"
	neg := ev(1)
	neg.MonoNS = -1
	zero := ev(1)
	zero.Seq = 0
	tests := []struct {
		name     string
		body     []byte
		wantCode string // "" ok
		wantN    int
	}{
		{"empty batch", batchOf(), "", 0},
		{"three events", batchOf(ev(4), ev(5), ev(6)), "", 3},
		{"not json", []byte("{"), CodeMalformed, 0},
		{"array", []byte("[]"), CodeMalformed, 0},
		{"trailing", append(batchOf(ev(1)), '{'), CodeMalformed, 0},
		{"version", bytes.Replace(batchOf(ev(1)), []byte(`"protocol":1`), []byte(`"protocol":2`), 1), CodeUnsupported, 0},
		{"no device", bytes.Replace(batchOf(), []byte(`"device_id":"kiosk-a"`), []byte(`"device_id":""`), 1), CodeMalformed, 0},
		{"decreasing", batchOf(ev(2), ev(1)), CodeOutOfOrder, 0},
		{"repeated", batchOf(ev(1), ev(1)), CodeOutOfOrder, 0},
		{"hole", batchOf(ev(1), ev(3)), CodeOutOfOrder, 0},
		{"seq zero", batchOf(zero), CodeMalformed, 0},
		{"other device", batchOf(ev(1), other), CodeOtherDevice, 0},
		{"negative mono is the event's problem (Invalid), not the batch's", batchOf(neg), "", 1},
		{"string event", []byte(`{"protocol":1,"device_id":"kiosk-a","clock":{"wall":"2026-01-01T00:00:00Z"},"events":["x"]}`), CodeMalformed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, evs, err := DecodeBatch(bytes.NewReader(tt.body))
			var be *BatchError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantCode != "" && (!errors.As(err, &be) || be.Code != tt.wantCode):
				t.Fatalf("error %v, want code %s", err, tt.wantCode)
			}
			if len(evs) != tt.wantN {
				t.Errorf("%d events, want %d", len(evs), tt.wantN)
			}
		})
	}
	if _, _, err := DecodeBatch(strings.NewReader(strings.Repeat(" ", MaxBatchBytes+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
}

func TestInvalid(t *testing.T) {
	ok := ev(1)
	tests := []struct {
		name   string
		mutate func(*attendance.Event)
		raw    []byte
		want   string
	}{
		{"fine", func(*attendance.Event) {}, nil, ""},
		{"no type", func(e *attendance.Event) { e.Type = "" }, nil, "type missing or longer than 64"},
		{"negative mono", func(e *attendance.Event) { e.MonoNS = -5 }, nil, "mono_ns negative"},
		{"long boot id", func(e *attendance.Event) { e.BootID = strings.Repeat("b", 101) }, nil, "boot_id longer than 100"},
		{"year 1", func(e *attendance.Event) { e.Wall = time.Time{} }, nil, "wall 0001-01-01T00:00:00Z outside 1900..2200"},
		{"1969 is honest", func(e *attendance.Event) { e.Wall = time.Unix(-3600, 0) }, nil, ""},
		{"too large", func(*attendance.Event) {}, make([]byte, MaxEventBytes+1), "event over 16384 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.mutate(&e)
			if got := Invalid(e, tt.raw); got != tt.want {
				t.Errorf("Invalid = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"x":1}`)
	sign := func(at time.Time) http.Header {
		r, _ := http.NewRequest(http.MethodPost, "http://central/api/v1/device/events?a=b", bytes.NewReader(body))
		if err := Sign(r, "kiosk-a", key, body, at); err != nil {
			t.Fatal(err)
		}
		return r.Header
	}
	tests := []struct {
		name    string
		hdr     http.Header
		pub     ed25519.PublicKey
		method  string
		uri     string
		body    []byte
		wantErr error
	}{
		{"valid", sign(now), pub, "POST", "/api/v1/device/events?a=b", body, nil},
		{"other key", sign(now), otherPub, "POST", "/api/v1/device/events?a=b", body, ErrBadSignature},
		{"other body", sign(now), pub, "POST", "/api/v1/device/events?a=b", []byte(`{"x":2}`), ErrBadSignature},
		{"other path", sign(now), pub, "POST", "/api/v1/device/roster", body, ErrBadSignature},
		{"other method", sign(now), pub, "GET", "/api/v1/device/events?a=b", body, ErrBadSignature},
		{"old", sign(now.Add(-SignatureWindow - time.Second)), pub, "POST", "/api/v1/device/events?a=b", body, ErrClockSkew},
		{"future", sign(now.Add(SignatureWindow + time.Second)), pub, "POST", "/api/v1/device/events?a=b", body, ErrClockSkew},
		{"edge of window", sign(now.Add(-SignatureWindow)), pub, "POST", "/api/v1/device/events?a=b", body, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSigned(tt.hdr)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Verify(tt.pub, tt.method, tt.uri, tt.body, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
	h := sign(now)
	h.Set(HeaderDevice, "kiosk-b") // the signature covers the device id
	s, _ := ParseSigned(h)
	if err := s.Verify(pub, "POST", "/api/v1/device/events?a=b", body, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed device id: %v", err)
	}
	a, b := sign(now), sign(now)
	if a.Get(HeaderNonce) == b.Get(HeaderNonce) {
		t.Error("two signatures share a nonce")
	}
}

func TestParseSignedRefusesGarbage(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want error
	}{
		{"none", nil, ErrUnsigned},
		{"bad timestamp", map[string]string{HeaderTimestamp: "soon"}, ErrBadSignature},
		{"short nonce", map[string]string{HeaderNonce: "abc"}, ErrBadSignature},
		{"nonce not hex", map[string]string{HeaderNonce: strings.Repeat("z", 32)}, ErrBadSignature},
		{"signature not base64", map[string]string{HeaderSignature: "!!"}, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.set != nil {
				h.Set(HeaderDevice, "kiosk-a")
				h.Set(HeaderTimestamp, "1763283600000")
				h.Set(HeaderNonce, strings.Repeat("a", 32))
				h.Set(HeaderSignature, strings.Repeat("A", 86)+"==")
				for k, v := range tt.set {
					h.Set(k, v)
				}
			}
			if _, err := ParseSigned(h); !errors.Is(err, tt.want) {
				t.Errorf("ParseSigned = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	got := DecodeError(502, []byte("<html>bad gateway</html>"))
	if diff := cmp.Diff(&Error{Code: "http_502", Message: "<html>bad gateway</html>"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got = DecodeError(409, []byte(`{"error":"seq_gap","message":"m"}`))
	if got.Code != CodeSeqGap {
		t.Errorf("code %s", got.Code)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(batchOf())
	f.Add(batchOf(ev(1), ev(2)))
	f.Add(batchOf(ev(2), ev(1)))
	f.Add([]byte(`{"protocol":1,"device_id":"kiosk-a","clock":{"wall":"1970-01-01T00:00:00Z"},"events":[{}]}`))
	f.Add([]byte(`{"protocol":1,"device_id":"kiosk-a","events":[{"event_id":"x","seq":-1,"wall":"0001-01-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, evs, err := DecodeBatch(bytes.NewReader(body))
		if err != nil {
			return
		}
		// What passes must satisfy every rule the server relies on.
		if b.Protocol != Version || len(evs) != len(b.Events) || len(evs) > MaxBatchEvents {
			t.Fatalf("accepted a bad batch: %+v", b)
		}
		for i, e := range evs {
			if e.DeviceID != b.DeviceID || e.Seq < 1 || (i > 0 && e.Seq != evs[i-1].Seq+1) {
				t.Fatalf("accepted bad event %d: %+v", i, e)
			}
			if Invalid(e, b.Events[i]) == "" && (e.MonoNS < 0 || e.Wall.Year() < 1900 || e.Wall.Year() > 2200 || e.Type == "") {
				t.Fatalf("Invalid passed a bad event: %+v", e)
			}
		}
	})
}

func FuzzParseSigned(f *testing.F) {
	f.Add("kiosk-a", "1763283600000", strings.Repeat("a", 32), strings.Repeat("A", 86)+"==")
	f.Add("", "", "", "")
	f.Add("k", "-1", "00", "AA==")
	pub, _, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, dev, ts, nonce, sig string) {
		h := http.Header{}
		h.Set(HeaderDevice, dev)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderNonce, nonce)
		h.Set(HeaderSignature, sig)
		s, err := ParseSigned(h)
		if err != nil {
			return
		}
		// A random signature never verifies.
		if s.Verify(pub, "POST", "/", nil, time.Now()) == nil {
			t.Fatal("garbage verified")
		}
	})
}
