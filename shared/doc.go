// Package shared is the module used by both services of the Friends Pizza Hut
// realtime platform: the domain-event contract (event), JWT issue and
// verification (auth), environment configuration (config), the Redis event
// bus (bus), the error vocabulary (apperr) and logging setup (logging).
//
// It holds no business logic: rules about orders live in orderapi, rules
// about sockets and rooms live in the gateway.
package shared
