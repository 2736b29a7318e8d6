package mempool

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Fractions of a process's memory limit. Operators count the bytes of the
// data they hold, not the Go heap's overhead around it (garbage between
// collections, fragmentation, goroutine stacks, decoders' buffers), so the
// pool gets a part of the limit and the GC target sits between the two.
const (
	// PoolFraction of the process limit is what operators may reserve.
	PoolFraction = 0.6
	// GCFraction of the process limit is the Go runtime's soft memory
	// limit (GOMEMLIMIT): the GC runs harder as the heap nears it.
	GCFraction = 0.85
	// DefaultFraction of the machine's (or the container's) memory is
	// the process limit when none is given.
	DefaultFraction = 0.75
)

// ParseBytes reads a size such as "1GiB", "512MiB", "2G", "300MB",
// "65536" (bytes) or "0" (no limit). Units are binary (K, M, G, T and
// their KiB/KB forms all mean powers of 1024), case-insensitive.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	num := strings.TrimRightFunc(t, func(r rune) bool { return r >= 'a' && r <= 'z' })
	unit := strings.TrimSpace(t[len(num):])
	num = strings.TrimSpace(num)
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
		"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 {
		return 0, fmt.Errorf("invalid memory size %q (want e.g. 512MiB, 4GiB or 0 for no limit)", s)
	}
	return int64(v * mult), nil
}

// SystemMemory is the memory this process may use: the cgroup limit of
// its container if one is set, else the machine's physical memory; 0 if
// neither can be read.
func SystemMemory() int64 {
	phys := physicalMemory()
	if c := cgroupLimit(); c > 0 && (phys == 0 || c < phys) {
		return c
	}
	return phys
}

// DefaultLimit is DefaultFraction of SystemMemory (0, no limit, when that
// is unknown).
func DefaultLimit() int64 {
	return int64(float64(SystemMemory()) * DefaultFraction)
}

// ForProcess returns the pool for a process limit of limit bytes (0 or
// less: no limit) and sets the Go runtime's soft memory limit to
// GCFraction of it.
func ForProcess(limit int64) *Pool {
	if limit <= 0 {
		return New(0)
	}
	debug.SetMemoryLimit(int64(float64(limit) * GCFraction))
	return New(int64(float64(limit) * PoolFraction))
}

func cgroupLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil && n > 0 && n < 1<<60 {
			return n
		}
	}
	return 0
}

func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
