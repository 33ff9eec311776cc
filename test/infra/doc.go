// Package infra starts the real backing servers that tests and the dev stack
// need: a redis-server process on a free loopback port and an embedded
// FerretDB (MongoDB wire protocol, SQLite storage), on which each test gets
// a database of its own.
//
// It is test-module code: nothing here is linked into the production
// binaries. Helpers taking a testing.TB fail the test on error and register
// their own cleanup; the Run* variants return errors for non-test callers.
package infra
