package app

import (
	"net/http"
	"net/http/pprof"
)

// debugHandler is Go's profiler on its own mux, for the loopback-only
// listener of EBALLOT_DEBUG_ADDR (never mounted on the service's router:
// importing net/http/pprof for its side effect would register it on
// http.DefaultServeMux, which we do not use, but explicit is safer).
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
