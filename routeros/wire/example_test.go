package wire_test

import (
	"bytes"
	"fmt"

	"github.com/failwatch/failwatch/routeros/wire"
)

// A reply as a router sends it: length-prefixed words, an empty word ending
// each sentence; a !fatal's reason is a bare word.
func ExampleReader_ReadSentence() {
	var b []byte
	b = wire.AppendSentence(b, "!re", "=.id=*1", "=address=192.0.2.7")
	b = wire.AppendSentence(b, "!fatal", "not logged in")
	rd := wire.NewReader(bytes.NewReader(b))
	for {
		words, err := rd.ReadSentence()
		if err != nil {
			break
		}
		s := wire.Parse(words)
		id, _ := s.Get(".id")
		fmt.Printf("%s id=%q bare=%q\n", s.Word, id, s.Bare)
	}
	// Output:
	// !re id="*1" bare=[]
	// !fatal id="" bare=["not logged in"]
}
