package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/term"
)

var errHelp = errors.New("help")

// parse parses flags anywhere among the arguments and returns the positional
// ones. --help prints the flags to stdout.
func (e *env) parse(fs *flag.FlagSet, args []string, synopsis string) ([]string, error) {
	fs.SetOutput(e.stderr)
	usage := func() {
		fmt.Fprintf(fs.Output(), "Usage: scrutineer %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	// Parse would print the usage itself on --help (to stderr) before we
	// print it to stdout: it is printed here, once.
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(e.stdout)
				usage()
				return nil, errHelp
			}
			return nil, fmt.Errorf("bad arguments (see --help)")
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func need(name, v string) error {
	if v == "" {
		return fmt.Errorf("--%s is required (see --help)", name)
	}
	return nil
}

// passphrase reads a passphrase from file, or from the terminal (twice when
// confirm is set). There is no other way: a passphrase is never a flag.
func (e *env) passphrase(file, prompt string, confirm bool) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read passphrase file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return "", errors.New("the passphrase file is empty")
		}
		return p, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to ask for the passphrase: use --passphrase-file")
	}
	fmt.Fprintf(e.stderr, "%s: ", prompt)
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	if len(p) == 0 {
		return "", errors.New("empty passphrase")
	}
	if confirm {
		fmt.Fprint(e.stderr, "Type it again: ")
		q, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		if string(p) != string(q) {
			return "", errors.New("the two passphrases differ")
		}
	}
	return string(p), nil
}

// sealPassphrase encrypts data with a passphrase (age scrypt recipient).
func (e *env) sealPassphrase(data []byte, pass string) ([]byte, error) {
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(e.scryptLogN)
	return seal(data, r)
}

// seal encrypts data to recipients, ASCII-armored.
func seal(data []byte, rs ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, rs...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// open decrypts an armored age file.
func open(path string, ids ...age.Identity) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := age.Decrypt(armor.NewReader(io.LimitReader(f, 1<<20)), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, 1<<20))
}

// openSecret decrypts a passphrase-protected file.
func (e *env) openSecret(path, passFile, what string) ([]byte, error) {
	pass, err := e.passphrase(passFile, "Passphrase for "+what+" "+path, false)
	if err != nil {
		return nil, err
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, err
	}
	b, err := open(path, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) || errors.Is(err, age.ErrIncorrectIdentity) {
			return nil, fmt.Errorf("wrong passphrase for %s %s (or it is not a passphrase-protected file)", what, path)
		}
		return nil, fmt.Errorf("open %s %s: %w", what, path, err)
	}
	return b, nil
}

// trusteeIdentity opens a trustee key file.
func (e *env) trusteeIdentity(path, passFile string) (*age.X25519Identity, error) {
	b, err := e.openSecret(path, passFile, "trustee key")
	if err != nil {
		return nil, err
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s is not a trustee key file: %w", path, err)
	}
	return id, nil
}

// writeFile writes data, refusing to overwrite unless force; secret files are
// private to the user.
func writeFile(path string, data []byte, secret bool) error {
	mode := os.FileMode(0o644)
	if secret {
		mode = 0o600
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists: not overwritten (move it away first)", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
