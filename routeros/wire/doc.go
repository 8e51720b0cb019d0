// Package wire reads and writes the RouterOS API's framing: words with a
// one to five byte length prefix, and sentences ended by an empty word. It
// accepts every word a router or a client may send, including query words
// (`?name=x`) and the bare reason word of a `!fatal`, which the go-routeros
// reader rejects.
package wire
