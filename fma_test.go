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
	// A program whose one product and sum Go fuses: the pattern must find
	// that multiply-add, or a change in the disassembler's names would
	// leave the test nothing it could fail on.
	control := t.TempDir()
	if err := os.WriteFile(filepath.Join(control, "go.mod"), []byte("module control\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := "package main\n\n//go:noinline\nfunc fma(x, y, z float64) float64 { return x*y + z }\n\nfunc main() { println(fma(1, 2, 3)) }\n"
	if err := os.WriteFile(filepath.Join(control, "main.go"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	disassemble := func(t *testing.T, arch, dir, pkg, syms string) string {
		bin := filepath.Join(t.TempDir(), "bin-"+arch)
		build := exec.Command(goTool, "build", "-o", bin, pkg)
		build.Dir = dir
		build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		dis, err := exec.Command(goTool, "tool", "objdump", "-s", syms, bin).Output()
		if err != nil {
			t.Fatalf("go tool objdump: %v", err)
		}
		return string(dis)
	}
	for _, arch := range []string{"arm64", "ppc64le", "riscv64"} {
		t.Run(arch, func(t *testing.T) {
			if !fused.MatchString(disassemble(t, arch, control, ".", `^main\.fma$`)) {
				t.Fatalf("no multiply-add found in x*y + z: the pattern %v misses this platform's", fused)
			}
			dis := disassemble(t, arch, ".", "./cmd/jj", `^github\.com/jjflow/jj[/.]`)
			var sym string
			funcs := 0
			for _, line := range strings.Split(dis, "\n") {
				if strings.HasPrefix(line, "TEXT ") {
					sym = strings.Fields(line)[1]
					funcs++
				} else if fused.MatchString(line) {
					t.Errorf("fused multiply-add in %s at %s: convert the product (float64(x*y)) so that it is rounded on its own", sym, strings.Fields(line)[0])
				}
			}
			if !strings.Contains(dis, "extract.centralMoments") {
				t.Fatalf("the disassembly of %d functions has no extract.centralMoments: the symbol pattern missed jj's functions", funcs)
			}
			t.Logf("%d of jj's functions disassembled", funcs)
		})
	}
}
