package main

// Helpers of the threshold, blind and receipt vectors (SHAKE-256 seeded).

import (
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"

	"github.com/cloudflare/circl/group"
)

// seeded returns a deterministic reader: SHAKE-256("eballot-vectors/" ‖ label).
func seeded(label string) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write([]byte("eballot-vectors/" + label))
	return h
}

func hx(b []byte) string { return hex.EncodeToString(b) }

// get returns v, or exits on err.
func get[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func raw(v any) json.RawMessage { return get(json.Marshal(v)) }

func elemHex(e group.Element) string { return hx(get(e.MarshalBinary())) }
