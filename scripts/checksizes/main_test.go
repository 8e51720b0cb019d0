package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A file and a function one line over their limits are listed; ones at the
// limits, test files and what the go command does not build are not.
func TestCheck(t *testing.T) {
	// funcOf is a function of n lines, from func to its closing brace.
	funcOf := func(name string, n int) string {
		return "func " + name + "() {\n" + strings.Repeat("\t_ = 0\n", n-2) + "}\n"
	}
	over, _ := checkTree(t, map[string]string{
		"a/ok.go":           "package a\n\n" + funcOf("atLimit", 10),
		"a/long.go":         "package a\n\n" + funcOf("overLimit", 11),
		"b/big.go":          "package b\n" + strings.Repeat("\n", 20),
		"b/big_test.go":     "package b\n" + strings.Repeat("\n", 40) + funcOf("inTest", 30),
		"b/testdata/big.go": "package b\n" + strings.Repeat("\n", 40),
		".hidden/big.go":    "package h\n" + strings.Repeat("\n", 40),
	}, 20, 10)
	wantListed(t, "over the limits", over, []string{
		"a/long.go:3: overLimit 11 lines (func)",
		"b/big.go: 21 lines (file)",
	})
}

// Every call of time.Sleep in a test file is listed, by the name the file
// gives package time; a Sleep of another package, or outside tests, is not.
func TestSleeps(t *testing.T) {
	_, sleeps := checkTree(t, map[string]string{
		"a/a_test.go": "package a\n\nimport \"time\"\n\nfunc f() {\n\ttime.Sleep(1)\n\tgo func() { time.Sleep(2) }()\n}\n",
		"a/b_test.go": "package a\n\nimport clock \"time\"\n\nfunc g() { clock.Sleep(1) }\n",
		"a/c_test.go": "package a\n\nimport \"other/time\"\n\nfunc h() { time.Sleep(1) }\n",
		"a/d.go":      "package a\n\nimport \"time\"\n\nfunc i() { time.Sleep(1) }\n",
	}, 500, 80)
	wantListed(t, "sleeps", sleeps, []string{
		"a/a_test.go:6: time.Sleep in a test",
		"a/a_test.go:7: time.Sleep in a test",
		"a/b_test.go:5: time.Sleep in a test",
	})
}

// checkTree writes files (name: body) under a new directory, checks it with
// the given limits, and returns what check lists with the directory taken
// off the front of each line; a line that does not start with it (check
// names each file by its full path) fails the test.
func checkTree(t *testing.T, files map[string]string, maxFile, maxFunc int) (over, sleeps []string) {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		writeFile(t, root, name, body)
	}
	over, sleeps, err := check(root, maxFile, maxFunc)
	if err != nil {
		t.Fatal(err)
	}
	relative := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			rel, ok := strings.CutPrefix(l, root+string(filepath.Separator))
			if !ok {
				t.Errorf("%q does not name its file by its path under %s", l, root)
			}
			out[i] = rel
		}
		return out
	}
	return relative(over), relative(sleeps)
}

// wantListed fails the test unless got is want, line for line in order.
func wantListed(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// writeFile writes body to name under root, making its directories.
func writeFile(t *testing.T, root, name, body string) {
	t.Helper()
	path := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
