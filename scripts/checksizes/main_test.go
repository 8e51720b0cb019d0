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
	root := t.TempDir()
	write := func(name string, body string) { writeFile(t, root, name, body) }
	// funcOf is a function of n lines, from func to its closing brace.
	funcOf := func(name string, n int) string {
		return "func " + name + "() {\n" + strings.Repeat("\t_ = 0\n", n-2) + "}\n"
	}
	write("a/ok.go", "package a\n\n"+funcOf("atLimit", 10))
	write("a/long.go", "package a\n\n"+funcOf("overLimit", 11))
	write("b/big.go", "package b\n"+strings.Repeat("\n", 20))
	write("b/big_test.go", "package b\n"+strings.Repeat("\n", 40)+funcOf("inTest", 30))
	write("b/testdata/big.go", "package b\n"+strings.Repeat("\n", 40))
	write(".hidden/big.go", "package h\n"+strings.Repeat("\n", 40))

	over, _, err := check(root, 20, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(root, "a/long.go") + ":3: overLimit 11 lines (func)",
		filepath.Join(root, "b/big.go") + ": 21 lines (file)",
	}
	if !slices.Equal(over, want) {
		t.Errorf("over the limits:\n%s\nwant:\n%s", strings.Join(over, "\n"), strings.Join(want, "\n"))
	}
}

// Every call of time.Sleep in a test file is listed, by the name the file
// gives package time; a Sleep of another package, or outside tests, is not.
func TestSleeps(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"a/a_test.go": "package a\n\nimport \"time\"\n\nfunc f() {\n\ttime.Sleep(1)\n\tgo func() { time.Sleep(2) }()\n}\n",
		"a/b_test.go": "package a\n\nimport clock \"time\"\n\nfunc g() { clock.Sleep(1) }\n",
		"a/c_test.go": "package a\n\nimport \"other/time\"\n\nfunc h() { time.Sleep(1) }\n",
		"a/d.go":      "package a\n\nimport \"time\"\n\nfunc i() { time.Sleep(1) }\n",
	}
	for name, body := range files {
		writeFile(t, root, name, body)
	}
	_, sleeps, err := check(root, 500, 80)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(root, "a/a_test.go") + ":6: time.Sleep in a test",
		filepath.Join(root, "a/a_test.go") + ":7: time.Sleep in a test",
		filepath.Join(root, "a/b_test.go") + ":5: time.Sleep in a test",
	}
	if !slices.Equal(sleeps, want) {
		t.Errorf("sleeps:\n%s\nwant:\n%s", strings.Join(sleeps, "\n"), strings.Join(want, "\n"))
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
