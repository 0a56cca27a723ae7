//go:build unix

package main

import (
	"syscall"
	"time"
)

type resources struct {
	cpu    time.Duration
	maxRSS int64 // bytes
}

func usage() resources {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return resources{}
	}
	return resources{
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		maxRSS: ru.Maxrss * 1024, // Linux reports KiB
	}
}
