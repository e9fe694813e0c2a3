package prefetch

// hasPrefetchW is whether the processor has PREFETCHW (CPUID leaf
// 0x80000001, ECX bit 8: PRFCHW), which Write3 uses.
var hasPrefetchW = func() bool {
	if top, _ := cpuid(0x80000000); top < 0x80000001 {
		return false
	}
	_, ecx := cpuid(0x80000001)
	return ecx&(1<<8) != 0
}()

// cpuid returns EAX and ECX of CPUID leaf, subleaf 0.
func cpuid(leaf uint32) (eax, ecx uint32)
