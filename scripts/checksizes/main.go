// Command checksizes lists every non-test Go file over the file limit and
// every function over the function limit under the given directory, and
// every time.Sleep in tests when there are more than the sleep limit, and
// exits 1 if there is any: a file or function past them holds more than one
// concern, and a test that sleeps waits for time instead of for what it
// awaits (issue 24). scripts/check-sizes runs it with the project's limits.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	maxFile := flag.Int("file", 500, "most lines a non-test .go file may have")
	maxFunc := flag.Int("func", 80, "most lines a function may have, from func to its closing brace")
	maxSleeps := flag.Int("sleeps", 10, "most calls of time.Sleep all _test.go files may hold together")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	over, sleeps, err := check(root, *maxFile, *maxFunc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check-sizes:", err)
		os.Exit(2)
	}
	if len(sleeps) > *maxSleeps {
		over = append(over, sleeps...)
	}
	for _, line := range over {
		fmt.Println(line)
	}
	if len(over) > 0 {
		fmt.Fprintf(os.Stderr, "check-sizes: %d over the limits (files %d lines, functions %d lines, time.Sleep in tests %d; tests sleep in %d places)\n",
			len(over), *maxFile, *maxFunc, *maxSleeps, len(sleeps))
		os.Exit(1)
	}
}

// check walks root as the go command does (testdata, vendor and directories
// starting with . or _ are not Go packages) and returns one line per file or
// function over its limit, and one per time.Sleep in a test file, in walk
// order.
func check(root string, maxFile, maxFunc int) (over, sleeps []string, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || name == "node_modules" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if strings.HasSuffix(name, "_test.go") {
			sleeps = append(sleeps, sleepsIn(fset, f, path)...)
			return nil
		}
		if n := fset.File(f.Pos()).LineCount(); n > maxFile {
			over = append(over, fmt.Sprintf("%s: %d lines (file)", path, n))
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
			if n := end.Line - start.Line + 1; n > maxFunc {
				over = append(over, fmt.Sprintf("%s:%d: %s %d lines (func)", path, start.Line, funcName(fn), n))
			}
		}
		return nil
	})
	return over, sleeps, err
}

// sleepsIn lists the calls of time.Sleep in a file, by whatever name it
// imports package time.
func sleepsIn(fset *token.FileSet, f *ast.File, path string) []string {
	pkg := ""
	for _, imp := range f.Imports {
		if imp.Path.Value != `"time"` {
			continue
		}
		pkg = "time"
		if imp.Name != nil {
			pkg = imp.Name.Name
		}
	}
	if pkg == "" || pkg == "_" {
		return nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Sleep" {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
			out = append(out, fmt.Sprintf("%s:%d: time.Sleep in a test", path, fset.Position(call.Pos()).Line))
		}
		return true
	})
	return out
}

// funcName names a method as Type.Method, the way the issue names them.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch r := t.(type) {
	case *ast.IndexExpr:
		t = r.X
	case *ast.IndexListExpr:
		t = r.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
