package jj

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestNoFusedMultiplyAdd builds jj for the platforms where Go fuses
// multiply-adds by default (arm64, ppc64le, riscv64) and checks that none
// of jj's own functions holds one (FMADD, FMSUB, FNMADD, FNMSUB and their
// forms). Go may fuse a product and a sum into one such instruction,
// which rounds once where the two operations round twice, unless the
// product is converted explicitly (float64(x*y)); it does on those
// platforms, and on amd64 built with GOAMD64=v3, never with the default
// GOAMD64=v1. A fused product made the skew, kurtosis, deviations and
// betweenness differ from amd64's in their last digits there (TestGolden
// and TestTiming failed with GOAMD64=v3): the same capture must give the
// same table on every platform.
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds jj for three platforms: not with -short")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	fused := regexp.MustCompile(`\s(FN?M(ADD|SUB)[A-Z]*|XSN?M(ADD|SUB)[A-Z]*)\s`)
	for _, arch := range []string{"arm64", "ppc64le", "riscv64"} {
		t.Run(arch, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "jj-"+arch)
			build := exec.Command(goTool, "build", "-o", bin, "./cmd/jj")
			build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			dis, err := exec.Command(goTool, "tool", "objdump", "-s", `^github\.com/jjflow/jj[/.]`, bin).Output()
			if err != nil {
				t.Fatalf("go tool objdump: %v", err)
			}
			var sym string
			funcs := 0
			for _, line := range strings.Split(string(dis), "\n") {
				if strings.HasPrefix(line, "TEXT ") {
					sym = strings.Fields(line)[1]
					funcs++
				} else if fused.MatchString(line) {
					t.Errorf("fused multiply-add in %s at %s: convert the product (float64(x*y)) so that it is rounded on its own", sym, strings.Fields(line)[0])
				}
			}
			if !strings.Contains(string(dis), "extract.centralMoments") {
				t.Fatalf("the disassembly of %d functions has no extract.centralMoments: the symbol pattern missed jj's functions", funcs)
			}
			t.Logf("%d of jj's functions disassembled", funcs)
		})
	}
}
