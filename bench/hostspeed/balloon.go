package main

import (
	"os"
	"path/filepath"
	"strings"
)

// freePageReporting reports whether a virtio balloon device under sysfs
// (normally /sys) has free page reporting on: the guest then hands blocks
// of free memory of 2 MiB or more back to the host a few seconds after
// they are freed, and a page of them taken again waits for the host to
// back it. On this project's host (bench/RESULTS.md, session 58) a huge
// page freed just before cost 0.25-0.65 µs a 4 KiB page to fault in
// again, and 7.7-8.5 µs once reported; writing a new file's page cache,
// 0.07-0.13 s a 512 MiB right after another file was deleted, and
// 0.69-0.97 s when 4 s had passed. A 4 KiB page fault costs 10-15 µs
// there whatever the page's past: that is the hypervisor's price of a
// fault, which the fresh-page figure measures.
//
// A device's "features" file holds one character a feature bit, '1' for
// those the driver and the device agreed on; the balloon is device 5 and
// free page reporting its bit 5 (VIRTIO_BALLOON_F_REPORTING).
func freePageReporting(sysfs string) bool {
	devs, _ := filepath.Glob(filepath.Join(sysfs, "bus", "virtio", "devices", "*"))
	for _, d := range devs {
		id, err := os.ReadFile(filepath.Join(d, "device"))
		if err != nil || strings.TrimSpace(string(id)) != "0x0005" {
			continue
		}
		f, err := os.ReadFile(filepath.Join(d, "features"))
		if err == nil && len(f) > balloonReporting && f[balloonReporting] == '1' {
			return true
		}
	}
	return false
}

// balloonReporting is VIRTIO_BALLOON_F_REPORTING's feature bit.
const balloonReporting = 5

// reportingSummary is what the line says when free page reporting is on.
const reportingSummary = "; free memory handed back to the host (virtio balloon free page reporting)"
