package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
)

// ErrNotFound is returned by Find when no config file is in the search path.
var ErrNotFound = errors.New("no config file found")

// SearchPathEnv names the environment variable that, when set, replaces the
// search path: a list of files separated by colons, tried in order (empty:
// none). Tests set it so that a config on the machine is never read.
const SearchPathEnv = "FAILWATCH_CONFIG_PATH"

// SystemPath is the config the .deb installs and its units read.
const SystemPath = "/etc/failwatch/config.yaml"

// SearchPath lists where a config is looked for when -c is not given:
// ./failwatch.yaml, $XDG_CONFIG_HOME/failwatch/config.yaml (by default
// ~/.config), failwatch/config.yaml in each of $XDG_CONFIG_DIRS (by default
// /etc/xdg), then /etc/failwatch/config.yaml; or what $FAILWATCH_CONFIG_PATH
// lists instead.
func SearchPath() []string {
	if list, ok := os.LookupEnv(SearchPathEnv); ok {
		return slices.DeleteFunc(filepath.SplitList(list), func(p string) bool { return p == "" })
	}
	paths := []string{"failwatch.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		paths = append(paths, filepath.Join(dir, "failwatch", "config.yaml"))
	}
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, dir := range filepath.SplitList(dirs) {
		// The XDG base directory spec ignores relative entries.
		if filepath.IsAbs(dir) {
			paths = append(paths, filepath.Join(dir, "failwatch", "config.yaml"))
		}
	}
	return append(paths, SystemPath)
}

// SearchPathDoc is the search path as help and the man page say it.
var SearchPathDoc = []string{"./failwatch.yaml", "$XDG_CONFIG_HOME/failwatch/config.yaml",
	"$XDG_CONFIG_DIRS/failwatch/config.yaml", SystemPath}

// Find returns the first config file of the search path that exists.
func Find() (string, error) {
	paths := SearchPath()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("%w ($%s is set and empty; give one with -c FILE)", ErrNotFound, SearchPathEnv)
	}
	return "", fmt.Errorf("%w (looked for %s; give one with -c FILE)", ErrNotFound, strings.Join(paths, ", "))
}

// Load reads and validates a config file, the router's password included.
// A validation failure returns Errors, one entry per problem, each with its
// position.
func Load(path string) (*Config, error) {
	return load(path, true)
}

// LoadWithoutPassword reads a config for a command that never logs in to
// the router (report, sim): the password is neither looked up nor warned
// about.
func LoadWithoutPassword(path string) (*Config, error) {
	return load(path, false)
}

func load(path string, password bool) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := parse(path, data, password)
	if err != nil {
		return nil, err
	}
	if r := cfg.Router; password && r.Password != "" && r.PasswordEnv == "" && r.PasswordFile == "" {
		if fi, err := os.Stat(path); err == nil {
			if who := readableByOthers(fi); who != "" {
				cfg.Warnings = append(cfg.Warnings, fmt.Sprintf(
					"%s holds a password and is readable by %s (mode %04o): chmod 600 %s, or use router.password_file",
					path, who, fi.Mode().Perm(), path))
			}
		}
	}
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError places a YAML syntax error. The parser's own line is often
// that of the enclosing block, or missing: the line given is the first at
// which the file, read up to it, fails as the whole file does, and the
// column is where that line's text starts.
func yamlError(file string, data []byte, err error) *Error {
	msg := yamlProblem(err)
	e := &Error{File: file, Msg: "yaml: " + msg}
	lines := bytes.SplitAfter(data, []byte("\n"))
	// The shortest failing prefix, by halving: a prefix that holds the
	// problem fails with it.
	lo, hi := 1, len(lines)
	for lo < hi {
		mid := (lo + hi) / 2
		if perr := syntaxError(bytes.Join(lines[:mid], nil)); perr != nil && yamlProblem(perr) == msg {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if perr := syntaxError(bytes.Join(lines[:lo], nil)); perr != nil && yamlProblem(perr) == msg {
		l := bytes.TrimRight(lines[lo-1], "\r\n")
		e.Line, e.Col = lo, len(l)-len(bytes.TrimLeft(l, " "))+1
	}
	return e
}

// yamlProblem is a YAML error without the parser's "yaml: line N: ".
func yamlProblem(err error) string {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// syntaxError is the first error reading every YAML document of data.
func syntaxError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// MaxFileSize bounds a config file: a real one is a few KB, and a path
// given by mistake (a log, a disk image) must not be read into memory.
const MaxFileSize = 4 << 20

// readConfigFile reads a regular file of at most MaxFileSize: a FIFO or a
// device would block or never end.
func readConfigFile(path string) ([]byte, error) {
	// Opened without blocking (a FIFO would wait for a writer), then
	// checked on the open file itself.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read config: %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read config: %s is larger than %d MiB: not a failwatch config", path, MaxFileSize>>20)
	}
	return data, nil
}

// Parse validates a config held in memory; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	return parse(file, data, true)
}

func parse(file string, data []byte, password bool) (*Config, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, Errors{yamlError(file, data, err)}
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case err == nil:
		return nil, Errors{{File: file, Line: second.Line, Col: second.Column,
			Msg: "a second YAML document (after ---): failwatch reads one; put everything in the first"}}
	case err != io.EOF:
		return nil, Errors{yamlError(file, data, err)}
	}
	d := &decoder{file: file, password: password, index: map[string]place{}}
	cfg := Defaults()
	cfg.Path = file
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Line: 1, Col: 1, Msg: "the file is empty; see failwatch.example.yaml"}}
	}
	d.config(doc.Content[0], &cfg)
	if len(d.errs) == 0 {
		d.validate(&cfg)
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, d.errs
	}
	cfg.Warnings = append(cfg.Warnings, d.warnings...)
	return &cfg, nil
}

// resolvePath expands a leading ~/ and reads a relative path as relative to
// the config file, which is where its author was looking.
func (c *Config) resolvePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(p) && c.Path != "" {
		return filepath.Join(filepath.Dir(c.Path), p)
	}
	return p
}
