// Command go-verifier checks PushSeal's signed checkpoints and proofs with
// Go's golang.org/x/mod/sumdb/note and sumdb/tlog, an independent verifier
// of the same formats (C2SP signed-note and tlog-checkpoint, RFC 9162).
//
//	go run . VERIFIER_KEY NEW_CHECKPOINT OLD_CHECKPOINT INCLUSION_PROOF CONSISTENCY_PROOF
//
// It prints "ok" and exits 0 when everything verifies, and exits 1 saying
// what failed otherwise.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"encoding/base64"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type tree struct {
	origin string
	size   int64
	root   tlog.Hash
}

type proofFile struct {
	Type     string   `json:"type"`
	Record   int64    `json:"record"`
	TreeSize int64    `json:"tree_size"`
	Line     string   `json:"line"`
	OldSize  int64    `json:"old_size"`
	NewSize  int64    `json:"new_size"`
	Hashes   []string `json:"hashes"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-verifier: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

// open verifies the note with the log's key and parses its three lines.
func open(verifiers note.Verifiers, path string) tree {
	n, err := note.Open(read(path), verifiers)
	if err != nil {
		fail("%s: note.Open: %v", path, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		fail("%s: not a three-line checkpoint", path)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("%s: tree size: %v", path, err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("%s: root hash", path)
	}
	var root tlog.Hash
	copy(root[:], raw)
	return tree{lines[0], size, root}
}

func proof(path string) (proofFile, []tlog.Hash) {
	var p proofFile
	if err := json.Unmarshal(read(path), &p); err != nil {
		fail("%s: %v", path, err)
	}
	hashes := make([]tlog.Hash, len(p.Hashes))
	for i, h := range p.Hashes {
		raw, err := hex.DecodeString(h)
		if err != nil || len(raw) != tlog.HashSize {
			fail("%s: hash %d", path, i)
		}
		copy(hashes[i][:], raw)
	}
	return p, hashes
}

func main() {
	if len(os.Args) != 6 {
		fail("usage: go-verifier VERIFIER_KEY NEW_CHECKPOINT OLD_CHECKPOINT INCLUSION_PROOF CONSISTENCY_PROOF")
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(read(os.Args[1]))))
	if err != nil {
		fail("verifier key: %v", err)
	}
	verifiers := note.VerifierList(v)
	newTree, oldTree := open(verifiers, os.Args[2]), open(verifiers, os.Args[3])
	if newTree.origin != v.Name() || oldTree.origin != v.Name() {
		fail("origin is not the key's name")
	}

	inc, incHashes := proof(os.Args[4])
	if inc.Type != "inclusion" || inc.TreeSize != newTree.size {
		fail("inclusion proof is not for the new checkpoint")
	}
	leaf := tlog.RecordHash([]byte(inc.Line))
	if err := tlog.CheckRecord(incHashes, newTree.size, newTree.root, inc.Record, leaf); err != nil {
		fail("tlog.CheckRecord: %v", err)
	}

	cons, consHashes := proof(os.Args[5])
	if cons.Type != "consistency" || cons.OldSize != oldTree.size || cons.NewSize != newTree.size {
		fail("consistency proof is not for these checkpoints")
	}
	if err := tlog.CheckTree(consHashes, newTree.size, newTree.root, oldTree.size, oldTree.root); err != nil {
		fail("tlog.CheckTree: %v", err)
	}
	fmt.Println("ok")
}
