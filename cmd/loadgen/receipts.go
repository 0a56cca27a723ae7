package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// The receipts file (-receipts FILE): one JSON line per event of a vote,
// appended, and synced to disk in batches (every receiptsBatch lines or
// receiptsEvery, whichever comes first, and at the end), so a crash of
// loadgen itself loses at most the lines of the last batch. Lines:
//
//	{"kind":"authorised","member":N,"tracker":HEX,"time":T,"repeated":B}
//	    member N (0-based line of -sessions) obtained its authorisation for
//	    the ballot with tracker HEX; repeated: the service answered a retry
//	    with the signature it had already issued.
//	{"kind":"receipt","member":N,"tracker":HEX,"index":I,"checkpoint_size":S,"time":T,"recovered":B}
//	    the receipt verified: the entry is at ledger index I under the
//	    signed checkpoint of size S; recovered: the cast's answer was lost
//	    and the receipt was fetched by tracker (GET /receipts/{tracker}).
//	{"kind":"gave_up","member":N,"tracker":HEX,"step":STEP,"error":KIND,"time":T}
//	    the vote stopped at STEP (authorise, cast or check) after its
//	    retries: an "authorised" line without a "receipt" line is an
//	    authorisation whose cast loadgen never saw complete.
//
// `loadgen drillcheck` reads it back. The file links a member's position
// in the sessions file to their tracker: it is a test instrument for demo
// ballots, never for a real one.
type receiptLine struct {
	Kind      string    `json:"kind"`
	Member    int       `json:"member"`
	Tracker   string    `json:"tracker"`
	Time      time.Time `json:"time"`
	Repeated  bool      `json:"repeated,omitempty"`
	Index     *int64    `json:"index,omitempty"`
	CPSize    int64     `json:"checkpoint_size,omitempty"`
	Recovered bool      `json:"recovered,omitempty"`
	Step      string    `json:"step,omitempty"`
	Error     string    `json:"error,omitempty"`
}

const (
	receiptsBatch = 64
	receiptsEvery = 200 * time.Millisecond
)

// receiptLog appends receipt lines; a nil *receiptLog writes nothing.
type receiptLog struct {
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	pending int
	err     error
	stop    chan struct{}
	done    chan struct{}
}

func openReceipts(name string) (*receiptLog, error) {
	if name == "" {
		return nil, nil
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	l := &receiptLog{f: f, w: bufio.NewWriterSize(f, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tk := time.NewTicker(receiptsEvery)
		defer tk.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tk.C:
				l.mu.Lock()
				l.syncLocked()
				l.mu.Unlock()
			}
		}
	}()
	return l, nil
}

func (l *receiptLog) add(line receiptLine) {
	if l == nil {
		return
	}
	b, err := json.Marshal(line)
	if err != nil {
		panic(err) // only strings, numbers and times
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	if _, err := l.w.Write(append(b, '\n')); err != nil {
		l.err = err
		return
	}
	if l.pending++; l.pending >= receiptsBatch {
		l.syncLocked()
	}
}

// syncLocked writes the buffered lines and syncs the file.
func (l *receiptLog) syncLocked() {
	if l.pending == 0 || l.err != nil {
		return
	}
	if err := l.w.Flush(); err != nil {
		l.err = err
		return
	}
	if err := l.f.Sync(); err != nil {
		l.err = err
		return
	}
	l.pending = 0
}

// close syncs the last lines and closes the file; the error is the first
// write or sync that failed.
func (l *receiptLog) close() error {
	if l == nil {
		return nil
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	l.syncLocked()
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = err
	}
	if l.err != nil {
		return fmt.Errorf("receipts: %w", l.err)
	}
	return nil
}

func (l *receiptLog) authorised(v *voter, repeated bool) {
	l.add(receiptLine{Kind: "authorised", Member: v.n, Tracker: hex.EncodeToString(v.tracker[:]), Time: time.Now().UTC(), Repeated: repeated})
}

func (l *receiptLog) receipt(v *voter, index, cpSize int64, recovered bool) {
	l.add(receiptLine{Kind: "receipt", Member: v.n, Tracker: hex.EncodeToString(v.tracker[:]), Time: time.Now().UTC(), Index: &index, CPSize: cpSize, Recovered: recovered})
}

func (l *receiptLog) gaveUp(v *voter, step string, err error) {
	l.add(receiptLine{Kind: "gave_up", Member: v.n, Tracker: hex.EncodeToString(v.tracker[:]), Time: time.Now().UTC(), Step: step, Error: errorKind(err)})
}
