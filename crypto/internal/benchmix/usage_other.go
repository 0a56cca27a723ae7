//go:build !unix

package main

import "time"

type resources struct {
	cpu    time.Duration
	maxRSS int64
}

// usage is not measured on this platform.
func usage() resources { return resources{} }
