module github.com/friendspizzahut/platform/orderapi

go 1.26.0

require (
	github.com/friendspizzahut/platform/shared v0.0.0
	github.com/friendspizzahut/platform/test v0.0.0
)

require (
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	go.mongodb.org/mongo-driver v1.17.10 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace github.com/friendspizzahut/platform/shared => ../shared

replace github.com/friendspizzahut/platform/test => ../test
