// Package deploy holds the Raspberry Pi appliance files (systemd units,
// install and update scripts, udev rules, Pi configuration, the example
// configuration) and no Go code of its own. Its tests keep
// kioskd.example.json valid for the reader configuration parser and in
// step with the configuration reference in README.md, and check that every
// Go package in the module has a package doc comment.
package deploy
