module github.com/friendspizzahut/platform/test

go 1.26.0

require github.com/friendspizzahut/platform/shared v0.0.0

require (
	github.com/FerretDB/FerretDB v1.24.2 // indirect
	github.com/alicebob/miniredis/v2 v2.40.0 // indirect
	github.com/compose-spec/compose-go/v2 v2.16.2 // indirect
	github.com/yuin/gopher-lua v1.1.1 // indirect
	go.mongodb.org/mongo-driver v1.17.10 // indirect
)

replace github.com/friendspizzahut/platform/shared => ../shared
