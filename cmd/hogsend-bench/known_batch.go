package main

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"time"
)

// introduceVisitors sends one event of every visitor of the batch
// scenarios who has a person (shape.anonymous says who has none), fifty
// visitors a request, so that the measured load is of known people, as
// -known-people does for the events scenario. It returns how many were
// introduced.
func introduceVisitors(addr string, conns, contacts int, shape batchShape) (int, time.Duration, error) {
	bodies, people := introductionBodies(contacts, shape)
	l := &batchLoad{addr: addr, conns: conns, bodies: bodies, events: batchPerBody}
	res, err := l.run(time.Hour, new(atomic.Int64))
	if err != nil {
		return 0, 0, err
	}
	if res.errors > 0 {
		return 0, 0, fmt.Errorf("introducing %d visitors: %d errors %v", people, res.errors, res.firstErrors)
	}
	return people, res.elapsed, nil
}

// introductionBodies is a /batch/ body for every fifty visitors with a
// person, in order, and how many visitors they hold.
func introductionBodies(contacts int, shape batchShape) ([][]byte, int) {
	var people []int
	for p := range contacts {
		if !shape.anonymous(p) {
			people = append(people, p)
		}
	}
	n := (len(people) + batchPerBody - 1) / batchPerBody
	return gzipBodiesInParallel(n, func(i int, js *bytes.Buffer) {
		writeBatchHeader(js, time.Now().UTC().Format(time.RFC3339Nano))
		for e, p := range people[i*batchPerBody : min((i+1)*batchPerBody, len(people))] {
			if e > 0 {
				js.WriteByte(',')
			}
			writeVisitorEvent(js, p, e, false)
		}
		js.WriteString(`]}`)
	}), len(people)
}
