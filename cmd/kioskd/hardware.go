package main

import (
	"fmt"
	"log/slog"

	"github.com/kinderdeur/kiosk/hw"
)

// openHardwareReader opens an RC522 or keyboard-wedge reader.
func openHardwareReader(rc ReaderConfig, log *slog.Logger) (hw.Reader, error) {
	return nil, fmt.Errorf("reader %q: kind %q is not available yet", rc.Name, rc.Kind)
}
