// Package outbox is the transactional outbox of orderapi: the one path by
// which domain events leave the service.
//
// A state change and its events are stored in the same single-document
// MongoDB write (FerretDB v1 has no multi-document transactions): the events
// sit in an array field named "outbox" on the changed document, pushed by
// the same update, or present in the inserted document. The Relay finds
// documents with pending events, publishes them in order per document on the
// bus, runs its OnPublished hooks, and then removes exactly the published
// records with an atomic $pullAll on that document. So an event is published
// at least once if and only if its change was committed; consumers
// deduplicate on the envelope id.
//
// What this package is not: it knows nothing about orders or users. Stores
// build Records with NewRecords and tell the relay which document changed.
package outbox

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/friendspizzahut/platform/shared/event"
)

// Field is the name of the array field that holds a document's pending events.
const Field = "outbox"

// Record is one pending event as stored in a document's outbox array. Data
// is the payload's JSON text, kept verbatim so the published envelope is
// byte-for-byte what was committed.
type Record struct {
	ID   string    `bson:"id"`
	Type string    `bson:"type"`
	At   time.Time `bson:"at"`
	Data string    `bson:"data"`
}

// NewRecords wraps each payload in a fresh envelope stamped at, and returns
// them as records ready to be written with the change that caused them.
func NewRecords(at time.Time, payloads ...event.Payload) ([]Record, error) {
	out := make([]Record, 0, len(payloads))
	for _, p := range payloads {
		env, err := event.New(p, at)
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		out = append(out, Record{ID: env.ID, Type: string(env.Type), At: env.At, Data: string(env.Data)})
	}
	return out, nil
}

// Envelope returns the envelope the record stands for.
func (r Record) Envelope() event.Envelope {
	return event.Envelope{V: event.Version, ID: r.ID, Type: event.Type(r.Type), At: r.At.UTC(), Data: json.RawMessage(r.Data)}
}
