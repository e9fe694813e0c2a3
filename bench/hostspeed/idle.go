package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// idleSummary says what an idle CPU of the machine does, from sysfs
// (normally /sys), or nothing where sysfs does not tell. On a virtual
// machine a vCPU that halts gives its core back to the host, and a thread
// woken on it waits for the host to run the vCPU again; the guest's
// haltpoll cpuidle driver can poll first, for up to guest_halt_poll_ns,
// so that a wake within that time needs no trip through the host. On
// this project's Zen 4 host (bench/RESULTS.md, session 63) it halted at
// once (guest_halt_poll_ns 0): a thread woke one blocked on the other
// vCPU in 16-37 µs (bench/corelat), and in 12-18 µs with a poll of up to
// 200 µs, with which two workers ran 1-12 % faster.
func idleSummary(sysfs string) string {
	drv, err := os.ReadFile(filepath.Join(sysfs, "devices", "system", "cpu", "cpuidle", "current_driver"))
	if err != nil {
		return ""
	}
	switch d := strings.TrimSpace(string(drv)); d {
	case "none", "":
		return "; an idle CPU halts at once (no cpuidle driver)"
	case "haltpoll":
		b, err := os.ReadFile(filepath.Join(sysfs, "module", "haltpoll", "parameters", "guest_halt_poll_ns"))
		ns, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		switch {
		case err != nil || perr != nil:
			return "; idle CPUs: cpuidle haltpoll"
		case ns == 0:
			return "; an idle CPU halts at once (cpuidle haltpoll, guest_halt_poll_ns 0)"
		default:
			return fmt.Sprintf("; an idle CPU polls for up to %s µs before it halts (cpuidle haltpoll)", strconv.FormatFloat(float64(ns)/1000, 'f', -1, 64))
		}
	default:
		return "; idle CPUs: cpuidle " + d
	}
}
