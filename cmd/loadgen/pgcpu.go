package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100
// on every Linux architecture Go runs on (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// treeCPUSeconds is the CPU time (user + system) of process pid and its
// children, from /proc (Linux): the process's own time, the time of its
// children that have ended and been waited for (cutime, cstime), and the
// time of its living children. Given the PostgreSQL postmaster, that is
// the whole server: backends, background writer, WAL writer, checkpointer
// and autovacuum, including backends that ended between two readings (the
// postmaster waits for them, so their time moves into its cutime).
func treeCPUSeconds(pid int) (float64, error) {
	self, _, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	total := self[0] + self[1] + self[2] + self[3]
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil || child == pid {
			continue
		}
		t, ppid, err := procStat(child)
		if err != nil || ppid != pid {
			continue // gone since the listing, or not a child
		}
		total += t[0] + t[1] + t[2] + t[3]
	}
	return float64(total) / clockTicks, nil
}

// procStat reads utime, stime, cutime and cstime (clock ticks) and the
// parent's pid from /proc/PID/stat.
func procStat(pid int) ([4]int64, int, error) {
	var t [4]int64
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return t, 0, err
	}
	// pid (comm) state ppid … : comm may hold spaces and parentheses, so
	// the fields are counted after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return t, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14–17.
	if len(f) < 15 {
		return t, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return t, 0, fmt.Errorf("/proc/%d/stat: ppid %q", pid, f[1])
	}
	for k := range t {
		if t[k], err = strconv.ParseInt(f[11+k], 10, 64); err != nil {
			return t, 0, fmt.Errorf("/proc/%d/stat: field %d %q", pid, 14+k, f[11+k])
		}
	}
	return t, ppid, nil
}
