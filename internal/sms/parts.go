package sms

import (
	"strings"
	"unicode/utf16"
)

// Encoding is the character set an SMS is sent in.
type Encoding string

// SMS encodings (3GPP TS 23.038).
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet (one septet each).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: each character costs two
// septets (ESC + code).
const gsmExtension = "\f^{}\\[~]|€"

// Segments describes how a message body is split into SMS parts.
type Segments struct {
	Encoding Encoding
	Units    int // septets (GSM-7) or UTF-16 code units (UCS-2)
	Parts    int
}

// CountSegments returns the encoding and number of parts of body: GSM-7
// when every character is in the default alphabet or its extension table
// (extension characters count double), 160 septets in one part or 153 per
// part when concatenated; otherwise UCS-2, 70 code units in one part or 67
// per part. An escape pair or a surrogate pair is never split across parts.
func CountSegments(body string) Segments {
	if body == "" {
		return Segments{Encoding: GSM7}
	}
	gsm := true
	for _, r := range body {
		if !strings.ContainsRune(gsmBasic, r) && !strings.ContainsRune(gsmExtension, r) {
			gsm = false
			break
		}
	}
	var costs []int
	single, multi := 160, 153
	enc := GSM7
	if gsm {
		for _, r := range body {
			if strings.ContainsRune(gsmExtension, r) {
				costs = append(costs, 2)
			} else {
				costs = append(costs, 1)
			}
		}
	} else {
		enc, single, multi = UCS2, 70, 67
		for _, r := range body {
			costs = append(costs, len(utf16.Encode([]rune{r})))
		}
	}
	total := 0
	for _, c := range costs {
		total += c
	}
	if total <= single {
		return Segments{Encoding: enc, Units: total, Parts: 1}
	}
	parts, used := 1, 0
	for _, c := range costs {
		if used+c > multi {
			parts++
			used = 0
		}
		used += c
	}
	return Segments{Encoding: enc, Units: total, Parts: parts}
}

// Parts returns how many SMS parts body is sent in (each part is billed;
// an empty body still costs one): [CountSegments]'s count.
func Parts(body string) int {
	if n := CountSegments(body).Parts; n > 0 {
		return n
	}
	return 1
}
